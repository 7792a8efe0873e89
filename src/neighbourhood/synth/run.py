"""Writing a synthetic ICS: chunks of people generated in parallel, streamed to disk in order.

Each chunk has its own random stream (seed, chunk number), so the output is the
same byte for byte whatever the number of worker processes.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
import multiprocessing
import resource
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from neighbourhood.costs import unit_costs
from neighbourhood.errors import UserError
from neighbourhood.ingest import registry
from neighbourhood.synth import catalogue as cat
from neighbourhood.synth.activity import ActivityModel, Events, hospital_cost
from neighbourhood.synth.csv_extracts import event_rows, header, people_rows, to_text
from neighbourhood.synth.dates import format_days
from neighbourhood.synth.feeds import (
    CSV,
    FHIR_BUNDLE,
    SECTOR_ACTIVITIES,
    Feed,
    plan_feeds,
    to_sources,
)
from neighbourhood.synth.fhir import FhirWriter, bundles
from neighbourhood.synth.geography import Geography, build_geography
from neighbourhood.synth.names import name_bank
from neighbourhood.synth.options import SynthOptions
from neighbourhood.synth.population import (
    FloatArray,
    IntArray,
    Period,
    Population,
    allocate_nhs_numbers,
    build_population,
    calibrate_intercepts,
)
from neighbourhood.synth.records import SourceRecords, build_records

logger = logging.getLogger(__name__)
MANIFEST = "manifest.json"
MARKER = ".written-by-neighbourhood-synth"
PATIENTS_PER_BUNDLE = 500
FHIR_MALFORMED = ("truncated", "impossible_date")
BUNDLE_MALFORMED = ("impossible_date",)
CSV_MALFORMED = ("extra_column", "impossible_date")
TRUTH_PERSON_COLUMNS = (
    "person_id",
    "nhs_number",
    "given_name",
    "middle_name",
    "family_name",
    "birth_family_name",
    "sex",
    "date_of_birth",
    "age",
    "ethnicity",
    "ethnic_group",
    "lsoa",
    "neighbourhood",
    "place",
    "imd_decile",
    "practice",
    "complex_needs",
    "frailty",
    "long_term_conditions",
    "conditions",
    "palliative_care_from",
    "date_of_death",
    "moved_on",
    "surname_changed_on",
    "national_data_opt_out",
    "reasonable_adjustment",
    "hospital_cost_gbp",
)
TRUTH_RECORD_COLUMNS = ("feed", "record_type", "record_id", "person_id", "duplicate", "defects")


@dataclass
class SynthSummary:
    """What was written, for the command line and for tests."""

    people: int
    seed: int
    out: Path
    truth: Path
    places: int
    neighbourhoods: int
    lsoas: int
    practices: int
    feeds: int
    records: dict[str, int] = field(default_factory=dict)
    resources: dict[str, int] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    defects: dict[str, int] = field(default_factory=dict)
    complex_needs: int = 0
    deaths: int = 0
    hospital_cost_gbp: float = 0.0
    complex_hospital_cost_gbp: float = 0.0
    seconds: float = 0.0
    peak_memory_mb: float = 0.0

    @property
    def complex_share(self) -> float:
        return self.complex_needs / self.people

    @property
    def complex_cost_share(self) -> float:
        return (
            self.complex_hospital_cost_gbp / self.hospital_cost_gbp
            if self.hospital_cost_gbp
            else 0.0
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "people": self.people,
            "seed": self.seed,
            "out": str(self.out),
            "truth": str(self.truth),
            "places": self.places,
            "neighbourhoods": self.neighbourhoods,
            "lsoas": self.lsoas,
            "practices": self.practices,
            "feeds": self.feeds,
            "records": dict(sorted(self.records.items())),
            "fhir_resources": dict(sorted(self.resources.items())),
            "events": dict(sorted(self.events.items())),
            "defects": dict(sorted(self.defects.items())),
            "complex_needs": self.complex_needs,
            "complex_needs_share": round(self.complex_share, 4),
            "complex_needs_hospital_cost_share": round(self.complex_cost_share, 4),
            "hospital_cost_gbp": round(self.hospital_cost_gbp),
            "deaths": self.deaths,
            "seconds": round(self.seconds, 2),
            "people_per_second": round(self.people / self.seconds) if self.seconds else None,
            "peak_memory_mb": round(self.peak_memory_mb),
        }


@dataclass
class ChunkOutput:
    index: int
    people: int
    appends: dict[str, bytes] = field(default_factory=dict)
    whole_files: list[tuple[str, bytes]] = field(default_factory=list)
    records: Counter[str] = field(default_factory=Counter)
    resources: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    defects: Counter[str] = field(default_factory=Counter)
    complex_needs: int = 0
    deaths: int = 0
    hospital_cost: float = 0.0
    complex_hospital_cost: float = 0.0


@dataclass
class World:
    """What every chunk shares: the options, the places, the feeds, the NHS numbers."""

    options: SynthOptions
    geo: Geography
    feeds: list[Feed]
    period: Period
    intercepts: FloatArray
    nhs_numbers: IntArray

    def pack(self, data: str) -> bytes:
        raw = data.encode("utf-8")
        return gzip.compress(raw, compresslevel=1, mtime=0) if self.options.compress else raw

    def suffix(self, name: str) -> str:
        return name + ".gz" if self.options.compress else name


_WORLD: World | None = None


def run_synth(options: SynthOptions, progress: Callable[[int], None] | None = None) -> SynthSummary:
    """Write a synthetic ICS to ``options.out`` and its ground truth to ``options.truth``."""
    began = time.perf_counter()
    _check_directory(options.out, "extracts")
    _check_directory(options.truth, "ground truth")
    if options.registry is not None and (options.registry / registry.REGISTRY_FILE).exists():
        registry.load(options.registry)  # a broken registry stops us now, not after the work
    _reset_directory(options.out)
    _reset_directory(options.truth)
    names = name_bank()
    geo = build_geography(options.people, options.neighbourhood_size, options.seed, names)
    world = World(
        options,
        geo,
        plan_feeds(geo),
        Period.of(options),
        calibrate_intercepts(options.seed),
        allocate_nhs_numbers(options.people, options.seed),
    )
    _write_reference(world)
    summary = SynthSummary(
        people=options.people,
        seed=options.seed,
        out=options.out,
        truth=options.truth,
        places=len(geo.places),
        neighbourhoods=len(geo.neighbourhoods),
        lsoas=len(geo.lsoa_codes),
        practices=len(geo.orgs("gp_practice")),
        feeds=len(world.feeds),
    )
    totals: dict[str, Counter[str]] = {
        k: Counter() for k in ("records", "resources", "events", "defects")
    }
    for chunk in _chunks(world):
        _append(world, chunk)
        for key, counter in totals.items():
            counter.update(getattr(chunk, key))
        summary.complex_needs += chunk.complex_needs
        summary.deaths += chunk.deaths
        summary.hospital_cost_gbp += chunk.hospital_cost
        summary.complex_hospital_cost_gbp += chunk.complex_hospital_cost
        logger.debug(
            "chunk %d written: %d people, %d records",
            chunk.index,
            chunk.people,
            sum(chunk.records.values()),
        )
        if progress:
            progress(chunk.people)
    summary.records, summary.resources = dict(totals["records"]), dict(totals["resources"])
    summary.events, summary.defects = dict(totals["events"]), dict(totals["defects"])
    summary.seconds = time.perf_counter() - began
    summary.peak_memory_mb = peak_memory_mb(options.workers)
    _write_manifest(world, summary)
    if options.registry is not None:
        _write_registry(world, options.registry)
    logger.info(
        "synthetic ICS written: %d people, %d feeds, %d records in %.1f s",
        summary.people,
        summary.feeds,
        sum(summary.records.values()),
        summary.seconds,
    )
    return summary


def peak_memory_mb(workers: int) -> float:
    """An upper bound of the memory of this process and its workers together, in MB:
    its own peak resident set plus, for each worker, the largest any worker reached."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + (child * workers if workers > 1 else 0)) / 1024


def _check_directory(path: Path, what: str) -> None:
    """Refuse a file, or a directory of someone else's files, before anything is removed."""
    if path.exists() and not path.is_dir():
        raise UserError(f"{path} is a file; the {what} need a directory there")
    written_by_synth = any(
        (path / name).exists() for name in (MARKER, MANIFEST, "persons.csv.gz", "persons.csv")
    )
    if path.is_dir() and any(path.iterdir()) and not written_by_synth:
        raise UserError(
            f"{path} is not empty and was not written by 'neighbourhood synth'; "
            "choose another directory or empty it"
        )


def _reset_directory(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot create {path}: {error.strerror}") from error
    # Marks the directory as synth's before anything else is written, so that a run cut
    # short can be run again into the same place.
    (path / MARKER).write_text("written by 'neighbourhood synth'; safe to delete\n")


def _chunks(world: World) -> Iterator[ChunkOutput]:
    size = world.options.chunk_size
    starts = list(range(0, world.options.people, size))
    jobs = [(i, s, min(size, world.options.people - s)) for i, s in enumerate(starts)]
    _share(world)
    if world.options.workers == 1 or len(jobs) == 1:
        for job in jobs:
            yield _synth_chunk(job)
        return
    # Workers start from a clean server process, never a fork of this one: forking a
    # process whose libraries run threads (DuckDB, Arrow) can deadlock the child.
    context = multiprocessing.get_context("forkserver")
    with context.Pool(min(world.options.workers, len(jobs)), _share, (world,)) as pool:
        yield from pool.imap(_synth_chunk, jobs)


def _share(world: World) -> None:
    """Make the world every chunk needs available in this process."""
    global _WORLD
    _WORLD = world


def _synth_chunk(job: tuple[int, int, int]) -> ChunkOutput:
    index, first, n = job
    world = _WORLD
    assert world is not None
    rng = np.random.default_rng(np.random.SeedSequence([world.options.seed, 100, index]))
    pop = build_population(
        world.geo,
        world.options,
        world.period,
        world.intercepts,
        name_bank(),
        first,
        world.nhs_numbers[first : first + n],
        rng,
    )
    events = ActivityModel(pop, world.period, rng).all()
    cost = hospital_cost(events, len(pop))
    out = ChunkOutput(
        index,
        n,
        complex_needs=int(pop.complex_needs.sum()),
        deaths=int((pop.death_date >= 0).sum()),
        hospital_cost=float(cost.sum()),
        complex_hospital_cost=float(cost[pop.complex_needs].sum()),
    )
    out.events.update({k: len(v) for k, v in events.items()})
    truth_records: list[list[str]] = []
    place = world.geo.lsoa_place[pop.lsoa]
    for feed in world.feeds:
        records = _feed_records(world, feed, pop, events, place, rng)
        if records is None:
            continue
        out.records[feed.feed_id] = len(records)
        for labels in records.defects.tolist():
            out.defects.update(x for x in labels.split(";") if x)
        if feed.format == CSV:
            record_ids = _write_csv_feed(world, feed, pop, records, events, rng, out)
        else:
            record_ids = _write_fhir_feed(world, feed, pop, records, events, rng, out, index)
        person_ids = pop.person_id[records.person]
        record_type = "client" if feed.format == CSV else "Patient"
        truth_records += [
            [feed.feed_id, record_type, rid, str(pid), str(int(d)), str(defects)]
            for rid, pid, d, defects in zip(
                record_ids, person_ids, records.duplicate, records.defects, strict=True
            )
        ]
    out.appends[world.suffix("truth/records.csv")] = world.pack(_csv_text(truth_records))
    out.appends[world.suffix("truth/persons.csv")] = world.pack(_truth_persons(world, pop, cost))
    carers = pop.person_id[pop.carers] if len(pop.carers) else np.empty((0, 2), dtype=object)
    carer_rows = [
        [str(a), str(b), "1" if pop.age[c] < 18 else "0"]
        for (a, b), c in zip(carers.tolist(), pop.carers[:, 0].tolist(), strict=True)
    ]
    out.appends[world.suffix("truth/carers.csv")] = world.pack(_csv_text(carer_rows))
    opted = pop.nhs_number[pop.opt_out].tolist()
    out.appends["extracts/national/national_data_opt_out.csv"] = "".join(
        f"{x}\r\n" for x in opted
    ).encode()
    return out


def _feed_records(
    world: World,
    feed: Feed,
    pop: Population,
    events: dict[str, Events],
    place: IntArray,
    rng: np.random.Generator,
) -> SourceRecords | None:
    if feed.sector == "general_practice":
        codes = np.array([o.ods_code for o in world.geo.organisations], dtype=object)
        person = np.flatnonzero(np.isin(codes[pop.practice], feed.practices))
        as_of = np.full(len(person), world.period.end)
    else:
        kinds = SECTOR_ACTIVITIES[feed.sector]
        people = np.concatenate([events[k].person for k in kinds])
        dates = np.concatenate([events[k].start for k in kinds])
        here = np.isin(place[people], feed.places)
        people, dates = people[here], dates[here]
        if not len(people):
            return None
        last = np.full(len(pop), -1, dtype=np.int64)
        np.maximum.at(last, people, dates)
        person = np.flatnonzero(last >= 0)
        as_of = last[person]
    kinds_broken = (
        CSV_MALFORMED
        if feed.format == CSV
        else BUNDLE_MALFORMED
        if feed.format == FHIR_BUNDLE
        else FHIR_MALFORMED
    )
    return build_records(
        pop,
        person,
        as_of,
        world.options.defects,
        feed.sector,
        feed.salt,
        rng,
        kinds_broken,
        world.geo,
    )


def _write_fhir_feed(
    world: World,
    feed: Feed,
    pop: Population,
    records: SourceRecords,
    events: dict[str, Events],
    rng: np.random.Generator,
    out: ChunkOutput,
    chunk: int,
) -> list[str]:
    bundle = feed.format == FHIR_BUNDLE
    writer = FhirWriter(
        world.geo, pop, records, rng, feed.partner_ods, "urn:uuid:" if bundle else "Patient/"
    )
    codes = [o.ods_code for o in world.geo.organisations]
    writer.patients(
        lambda person: codes[int(pop.practice[person])],
        with_deaths=feed.sector == "general_practice",
    )
    mine = np.zeros(len(pop), dtype=bool)
    mine[records.person] = True
    for kind in SECTOR_ACTIVITIES[feed.sector]:
        ev = _subset(events[kind], mine)
        if kind.startswith("gp_") and kind != "gp_appointment":
            continue
        writer.encounters(ev, kind)
    if feed.sector == "general_practice":
        writer.conditions(world.period.end)
        writer.observations({k: _subset(events[k], mine) for k in SECTOR_ACTIVITIES[feed.sector]})
        writer.carers_and_flags()
    for rtype, lines in writer.out.lines.items():
        out.resources[rtype] += len(lines)
    if bundle:
        timestamp = format_days(np.array([world.period.end + 1]), "%Y-%m-%dT00:00:00Z")[0]
        for k, text in enumerate(bundles(writer.out, rng, PATIENTS_PER_BUNDLE, timestamp)):
            name = world.suffix(f"extracts/{feed.feed_id}/Bundle-{chunk + 1:04d}-{k + 1:03d}.json")
            out.whole_files.append((name, world.pack(text)))
    else:
        for rtype, lines in writer.out.lines.items():
            name = world.suffix(f"extracts/{feed.feed_id}/{rtype}.ndjson")
            out.appends[name] = world.pack("".join(line + "\n" for line in lines))
    return writer.patient_ids


def _subset(ev: Events, mine: np.ndarray[Any, np.dtype[np.bool_]]) -> Events:
    keep = mine[ev.person]
    return Events(
        ev.kind, ev.person[keep], ev.start[keep], ev.end[keep], ev.code[keep], ev.value[keep]
    )


def _write_csv_feed(
    world: World,
    feed: Feed,
    pop: Population,
    records: SourceRecords,
    events: dict[str, Events],
    rng: np.random.Generator,
    out: ChunkOutput,
) -> list[str]:
    layout = feed.layout
    assert layout is not None
    mine = np.zeros(len(pop), dtype=bool)
    mine[records.person] = True
    subset = {k: _subset(events[k], mine) for k in SECTOR_ACTIVITIES[feed.sector]}
    people = people_rows(feed.sector, layout, world.geo, pop, records)
    rows = event_rows(
        feed.sector,
        layout,
        records,
        subset,
        SECTOR_ACTIVITIES[feed.sector],
        rng,
        world.options.defects.malformed_record,
    )
    out.appends[f"extracts/{feed.feed_id}/{layout.people_file}"] = to_text(people, layout).encode(
        layout.encoding.replace("-sig", "")
    )
    out.appends[f"extracts/{feed.feed_id}/{layout.events_file}"] = to_text(rows, layout).encode(
        layout.encoding.replace("-sig", "")
    )
    return [row[0] for row in people]


def _csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def _truth_persons(world: World, pop: Population, cost: FloatArray) -> str:
    geo = world.geo

    def iso(days: IntArray) -> list[str]:
        return format_days(np.maximum(days, 0), "%Y-%m-%d")

    dob, death = iso(pop.dob), iso(pop.death_date)
    pal, moved, married = iso(pop.palliative_date), iso(pop.move_date), iso(pop.surname_change_date)
    neigh = geo.lsoa_neighbourhood[pop.lsoa]
    place = geo.lsoa_place[pop.lsoa]
    ltc = pop.n_long_term
    keys = [c.key for c in cat.CONDITIONS]
    person_id = pop.person_id
    rows = []
    for i in range(len(pop)):
        eth = cat.ETHNICITIES[int(pop.ethnicity[i])]
        rows.append(
            [
                person_id[i],
                str(pop.nhs_number[i]),
                pop.given[i],
                pop.middle[i],
                pop.family[i],
                pop.birth_family[i],
                "female" if pop.sex_female[i] else "male",
                dob[i],
                str(pop.age[i]),
                eth.key,
                eth.group,
                geo.lsoa_codes[pop.lsoa[i]],
                geo.neighbourhoods[neigh[i]][0],
                geo.places[place[i]][0],
                str(pop.imd_decile[i]),
                geo.organisations[int(pop.practice[i])].ods_code,
                str(int(pop.complex_needs[i])),
                cat.FRAILTY_LEVELS[int(pop.frailty[i])],
                str(ltc[i]),
                ";".join(k for k, has in zip(keys, pop.conditions[i].tolist(), strict=True) if has),
                pal[i] if pop.palliative_date[i] >= 0 else "",
                death[i] if pop.death_date[i] >= 0 else "",
                moved[i] if pop.move_date[i] >= 0 else "",
                married[i] if pop.surname_change_date[i] >= 0 else "",
                str(int(pop.opt_out[i])),
                str(int(pop.reasonable_adjustment[i])),
                f"{cost[i]:.0f}",
            ]
        )
    return _csv_text(rows)


def _write_reference(world: World) -> None:
    """Headers of the appended files, and the public reference data partners share."""
    out, truth, geo = world.options.out, world.options.truth, world.geo
    world_root = {"extracts": out, "truth": truth}
    heads = {
        world.suffix("truth/records.csv"): _csv_text([list(TRUTH_RECORD_COLUMNS)]),
        world.suffix("truth/persons.csv"): _csv_text([list(TRUTH_PERSON_COLUMNS)]),
        world.suffix("truth/carers.csv"): _csv_text(
            [["carer_person_id", "cared_for_person_id", "young_carer"]]
        ),
        "extracts/national/national_data_opt_out.csv": "nhs_number\r\n",
    }
    for feed in world.feeds:
        layout = feed.layout
        if layout:
            for name, columns in (
                (layout.people_file, layout.people_columns),
                (layout.events_file, layout.event_columns),
            ):
                path = _resolve(world_root, f"extracts/{feed.feed_id}/{name}")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(header(columns, layout).encode(layout.encoding))
        else:
            _resolve(world_root, f"extracts/{feed.feed_id}/x").parent.mkdir(
                parents=True, exist_ok=True
            )
    for name, text in heads.items():
        path = _resolve(world_root, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode()
        path.write_bytes(
            gzip.compress(data, compresslevel=1, mtime=0) if name.endswith(".gz") else data
        )
    ref = out / "reference"
    ref.mkdir(exist_ok=True)
    _write_table(
        ref / "organisations.csv",
        ["ods_code", "name", "kind", "parent", "place", "gp_system"],
        [[o.ods_code, o.name, o.kind, o.parent, o.place, o.gp_system] for o in geo.organisations],
    )
    _write_table(
        ref / "lsoas.csv",
        [
            "lsoa",
            "ward",
            "ward_name",
            "neighbourhood",
            "neighbourhood_name",
            "place",
            "place_name",
            "imd_decile",
        ],
        [
            [
                code,
                geo.wards[w][0],
                geo.wards[w][1],
                geo.neighbourhoods[geo.wards[w][2]][0],
                geo.neighbourhoods[geo.wards[w][2]][1],
                geo.places[geo.neighbourhoods[geo.wards[w][2]][2]][0],
                geo.places[geo.neighbourhoods[geo.wards[w][2]][2]][1],
                str(d),
            ]
            for code, w, d in zip(
                geo.lsoa_codes, geo.lsoa_ward.tolist(), geo.lsoa_imd_decile.tolist(), strict=True
            )
        ],
    )
    _write_table(ref / "postcodes.csv", ["postcode", "lsoa", "imd_decile"], _postcode_rows(geo))
    _write_table(
        ref / "integrators.csv",
        ["place", "name", "host_ods_code", "partners"],
        [[i.place, i.name, i.host_ods_code, ";".join(i.partners)] for i in geo.integrators],
    )
    _write_table(
        ref / "unit_costs.csv",
        ["activity", "sector", "unit", "cost_gbp", "source"],
        [
            [u.activity, u.sector, u.unit, f"{u.cost_gbp:g}", u.source]
            for u in unit_costs().values()
        ],
    )


def _postcode_rows(geo: Any) -> list[list[str]]:
    """A postcode directory, as ONS's NSPL: each postcode's LSOA and its IMD decile
    (a postcode drawn for two LSOAs belongs to the first)."""
    seen: dict[str, list[str]] = {}
    for code, decile, postcodes in zip(
        geo.lsoa_codes, geo.lsoa_imd_decile.tolist(), geo.lsoa_postcodes, strict=True
    ):
        for postcode in postcodes:
            seen.setdefault(postcode, [postcode, code, str(decile)])
    return sorted(seen.values())


def _write_table(path: Path, head: list[str], rows: list[list[str]]) -> None:
    path.write_text(_csv_text([head, *rows]), encoding="utf-8")


def _resolve(roots: dict[str, Path], name: str) -> Path:
    top, _, rest = name.partition("/")
    return roots[top] / rest


def _append(world: World, chunk: ChunkOutput) -> None:
    roots = {"extracts": world.options.out, "truth": world.options.truth}
    for name, data in chunk.appends.items():
        with _resolve(roots, name).open("ab") as handle:
            handle.write(data)
    for name, data in chunk.whole_files:
        _resolve(roots, name).write_bytes(data)


def _write_manifest(world: World, summary: SynthSummary) -> None:
    options = world.options
    manifest = {
        "generator": "neighbourhood synth",
        "ics": world.geo.ics_name,
        "seed": options.seed,
        "people": options.people,
        "period": {"start": options.start_date.isoformat(), "end": options.end_date.isoformat()},
        "defect_rates": options.defects.as_dict(),
        "feeds": [
            feed.describe()
            | {"files": sorted(p.name for p in (options.out / feed.feed_id).iterdir())}
            for feed in world.feeds
        ],
    }
    (options.out / MANIFEST).write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    (options.truth / "summary.json").write_bytes(
        orjson.dumps(_reproducible(summary.as_dict()), option=orjson.OPT_INDENT_2)
    )


def _write_registry(world: World, data_dir: Path) -> None:
    """Declare synth's feeds in the data directory's sources.toml, replacing its earlier ones."""
    out = world.options.out.resolve()
    try:
        extracts = out.relative_to(data_dir.resolve()).as_posix()
    except ValueError:
        extracts = out.as_posix()
    expires = world.options.end_date.replace(year=world.options.end_date.year + 3, day=1)
    mine = to_sources(world.feeds, extracts, expires)
    ids = {source.id for source in mine}
    path = data_dir / registry.REGISTRY_FILE
    existing = registry.load(data_dir) if path.exists() else []
    # This run's feeds replace any of the same name, or from the same extracts directory.
    others = [s for s in existing if s.id not in ids and not s.path.startswith(extracts + "/")]
    registry.save(data_dir, others + mine)


def _reproducible(figures: dict[str, Any]) -> dict[str, Any]:
    """The summary without what differs from run to run (timings, paths)."""
    varying = {"seconds", "people_per_second", "peak_memory_mb", "out", "truth"}
    return {k: v for k, v in figures.items() if k not in varying}
