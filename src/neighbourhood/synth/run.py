"""Writing a synthetic ICS: chunks of people generated in parallel, streamed to disk in order.

Each chunk has its own random stream (seed, chunk number), so the output is the
same byte for byte whatever the number of worker processes.
"""

from __future__ import annotations

import logging
import multiprocessing
import resource
import time
from collections import Counter
from collections.abc import Callable, Iterator

import numpy as np

from neighbourhood import operational, registry
from neighbourhood.private import owner_only_files
from neighbourhood.synth.activity import ActivityModel, Events, hospital_cost
from neighbourhood.synth.feeds import (
    CSV,
    plan_feeds,
)
from neighbourhood.synth.geography import build_geography
from neighbourhood.synth.names import name_bank
from neighbourhood.synth.options import SynthOptions
from neighbourhood.synth.output import (
    check_directory,
    reset_directory,
    write_manifest,
    write_registry,
)
from neighbourhood.synth.population import (
    Period,
    Population,
    allocate_nhs_numbers,
    build_population,
    calibrate_intercepts,
)
from neighbourhood.synth.reference import write_reference
from neighbourhood.synth.rollout import (
    Planted,
    go_live_days,
    operational_rows,
    plant,
    team_codes,
    truth_rows,
    write_rollout_start,
)
from neighbourhood.synth.truth import truth_persons
from neighbourhood.synth.workforce import write_workforce
from neighbourhood.synth.world import ChunkOutput, SynthSummary, World, resolve
from neighbourhood.synth.writers import csv_text, feed_records, write_csv_feed, write_fhir_feed

logger = logging.getLogger(__name__)


_WORLD: World | None = None


@owner_only_files
def run_synth(options: SynthOptions, progress: Callable[[int], None] | None = None) -> SynthSummary:
    """Write a synthetic ICS to ``options.out`` and its ground truth to ``options.truth``."""
    began = time.perf_counter()
    check_directory(options.out, "extracts")
    check_directory(options.truth, "ground truth")
    if options.registry is not None and (options.registry / registry.REGISTRY_FILE).exists():
        registry.load(options.registry)  # a broken registry stops us now, not after the work
    reset_directory(options.out)
    reset_directory(options.truth)
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
    if options.rollout is not None:
        world.live_on = go_live_days(
            len(geo.neighbourhoods), world.period, options.rollout, options.seed
        )
        write_rollout_start(world)
    write_reference(world)
    staff = write_workforce(geo, options.people, options.seed, options.out)
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
        summary.enrolled += chunk.enrolled
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
    summary.staff = staff
    summary.events, summary.defects = dict(totals["events"]), dict(totals["defects"])
    summary.seconds = time.perf_counter() - began
    summary.peak_memory_mb = peak_memory_mb(options.workers)
    write_manifest(world, summary)
    if options.registry is not None:
        write_registry(world, options.registry)
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
    planted = _roll_out(world, pop, events, index)
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
    if planted is not None:
        out.enrolled = len(planted.enrolled)
        _rollout_appends(world, pop, planted, index, out)
    truth_records: list[list[str]] = []
    place = world.geo.lsoa_place[pop.lsoa]
    for feed in world.feeds:
        records = feed_records(world, feed, pop, events, place, rng)
        if records is None:
            continue
        out.records[feed.feed_id] = len(records)
        for labels in records.defects.tolist():
            out.defects.update(x for x in labels.split(";") if x)
        if feed.format == CSV:
            record_ids = write_csv_feed(world, feed, pop, records, events, rng, out)
        else:
            record_ids = write_fhir_feed(world, feed, pop, records, events, rng, out, index)
        person_ids = pop.person_id[records.person]
        record_type = "client" if feed.format == CSV else "Patient"
        truth_records += [
            [feed.feed_id, record_type, rid, str(pid), str(int(d)), str(defects)]
            for rid, pid, d, defects in zip(
                record_ids, person_ids, records.duplicate, records.defects, strict=True
            )
        ]
    out.appends[world.suffix("truth/records.csv")] = world.pack(csv_text(truth_records))
    out.appends[world.suffix("truth/persons.csv")] = world.pack(truth_persons(world, pop, cost))
    carers = pop.person_id[pop.carers] if len(pop.carers) else np.empty((0, 2), dtype=object)
    carer_rows = [
        [str(a), str(b), "1" if pop.age[c] < 18 else "0"]
        for (a, b), c in zip(carers.tolist(), pop.carers[:, 0].tolist(), strict=True)
    ]
    out.appends[world.suffix("truth/carers.csv")] = world.pack(csv_text(carer_rows))
    opted = pop.nhs_number[pop.opt_out].tolist()
    out.appends["extracts/national/national_data_opt_out.csv"] = "".join(
        f"{x}\r\n" for x in opted
    ).encode()
    return out


def _roll_out(
    world: World, pop: Population, events: dict[str, Events], index: int
) -> Planted | None:
    """The model of care's rollout and its planted effect, on its own random stream (so
    a run without a rollout writes the same files as before there was one)."""
    rollout = world.options.rollout
    if rollout is None or world.live_on is None:
        return None
    rng = np.random.default_rng(np.random.SeedSequence([world.options.seed, 200, index]))
    return plant(
        pop, events, world.geo.lsoa_neighbourhood, world.live_on, world.period, rollout, rng
    )


def _rollout_appends(
    world: World, pop: Population, planted: Planted, index: int, out: ChunkOutput
) -> None:
    rng = np.random.default_rng(np.random.SeedSequence([world.options.seed, 201, index]))
    codes = team_codes(world.geo)
    people, activity = operational_rows(pop, planted, codes, world.period, rng)
    folder = f"extracts/{operational.SOURCE_ID}"
    out.appends[f"{folder}/{operational.PEOPLE_FILE}"] = people.encode()
    out.appends[f"{folder}/{operational.EVENTS_FILE}"] = activity.encode()
    enrolled, removed = truth_rows(pop, planted, codes)
    out.appends[world.suffix("truth/evaluation_enrolled.csv")] = world.pack(enrolled)
    out.appends[world.suffix("truth/evaluation_prevented.csv")] = world.pack(removed)


def _append(world: World, chunk: ChunkOutput) -> None:
    roots = {"extracts": world.options.out, "truth": world.options.truth}
    for name, data in chunk.appends.items():
        with resolve(roots, name).open("ab") as handle:
            handle.write(data)
    for name, data in chunk.whole_files:
        resolve(roots, name).write_bytes(data)
