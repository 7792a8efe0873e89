"""Each partner's feed of one chunk of people, written in the partner's format: FHIR
(NDJSON or Bundles) or CSV, with the defects the options plant."""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np

from neighbourhood.synth.activity import Events
from neighbourhood.synth.csv_extracts import event_rows, people_rows, to_text
from neighbourhood.synth.dates import format_days
from neighbourhood.synth.feeds import (
    CSV,
    FHIR_BUNDLE,
    SECTOR_ACTIVITIES,
    Feed,
)
from neighbourhood.synth.fhir import FhirWriter, bundles
from neighbourhood.synth.population import (
    IntArray,
    Population,
)
from neighbourhood.synth.records import SourceRecords, build_records
from neighbourhood.synth.world import ChunkOutput, World

PATIENTS_PER_BUNDLE = 500


FHIR_MALFORMED = ("truncated", "impossible_date")


BUNDLE_MALFORMED = ("impossible_date",)


CSV_MALFORMED = ("extra_column", "impossible_date")


def feed_records(
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


def write_fhir_feed(
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


def write_csv_feed(
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


def csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()
