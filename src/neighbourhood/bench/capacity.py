"""``neighbourhood bench capacity``: the capacity model's speed, side by side with a bare
SimPy M/M/c model doing the same number of events, then at neighbourhood and ICS size.

1. Events a second: a bare SimPy M/M/c model (a process per referral, a ``Resource``),
   our model on its plain path (one service, one pool: the dispatcher without choices),
   and our model with skill matching (a neighbourhood's seven services sharing its pools);
   the first two run the same arrivals, contact times and horizon, so the same events.
2. One neighbourhood-year (the first of the first data directory), 100 replications
   across the cores.
3. Every neighbourhood of the largest data directory, 10 replications each.

Peak memory per worker is the largest resident set any worker process reached.

A data directory published before the workforce map existed gets its synthetic ICS's
staff (written again from its seed and size, as ``synth`` writes them, read through the
extract parser): the time to do so is not counted.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import simpy
from rich.console import Console
from rich.table import Table

from neighbourhood.capacity import demand as demand_mod
from neighbourhood.capacity import run as capacity
from neighbourhood.capacity.model import INF, Config, Pool, ServicePlan, simulate
from neighbourhood.capacity.scenario import SCHEMA, parse
from neighbourhood.capacity.workforce import parse as parse_extract
from neighbourhood.errors import UserError
from neighbourhood.ingest.reference import read_table

TARGET_RATIO = 0.5  # our plain path at least half bare SimPy's events a second
TARGET_NEIGHBOURHOOD_SECONDS = 300.0  # 100 replications of a neighbourhood-year
TARGET_ICS_SECONDS = 1800.0  # every neighbourhood of 2,000,000 people, 10 replications
TARGET_WORKER_MB = 1024.0
RUNS = ("one_neighbourhood", "every_neighbourhood")


def bare_simpy(arrivals: float, mean: float, servers: int, hours: float, seed: int) -> int:
    """The textbook SimPy M/M/c model; its events (arrivals and completions)."""
    env = simpy.Environment()
    staff = simpy.Resource(env, servers)
    rng = random.Random(seed)
    done = [0]

    def referral() -> Any:
        with staff.request() as request:
            yield request
            yield env.timeout(rng.expovariate(1 / mean))
        done[0] += 1

    def source() -> Any:
        while True:
            yield env.timeout(rng.expovariate(arrivals))
            done[0] += 1
            env.process(referral())

    env.process(source())
    env.run(until=hours)
    return done[0]


def plain(arrivals: float, mean: float, servers: int, hours: float) -> Config:
    plan = ServicePlan(
        "s", arrivals, (0.0, 1, 1, 1, 1, 1), mean, 0.0, 0.0, 1.0, INF, (0,), "exponential"
    )
    return Config((plan,), (Pool("district_nurse", "ZC1", frozenset(), servers),), hours, 0.0)


def engines(hours: float = 60_000.0) -> dict[str, Any]:
    """Events a second, bare SimPy against our plain path, then with skill matching."""
    arrivals, mean, servers = 8.0, 0.5, 5
    began = time.perf_counter()
    bare_events = bare_simpy(arrivals, mean, servers, hours, 1)
    bare = time.perf_counter() - began
    began = time.perf_counter()
    ours = simulate(plain(arrivals, mean, servers, hours), 1, 0)
    ours_seconds = time.perf_counter() - began
    return {
        "bare_simpy": {"events": bare_events, "seconds": bare, "per_second": bare_events / bare},
        "plain": {
            "events": ours.events,
            "seconds": ours_seconds,
            "per_second": ours.events / ours_seconds,
        },
    }


def skill_matching(config: Config) -> dict[str, Any]:
    began = time.perf_counter()
    result = simulate(config, 1, 0)
    seconds = time.perf_counter() - began
    return {"events": result.events, "seconds": seconds, "per_second": result.events / seconds}


def staff_for(data_dir: Path, scratch: Path) -> dict[str, list[capacity.Staff]]:
    """The published workforce map, or the synthetic ICS's staff written again."""
    try:
        return capacity.workforce(data_dir)
    except UserError:
        pass
    from neighbourhood.synth.geography import build_geography
    from neighbourhood.synth.names import name_bank
    from neighbourhood.synth.workforce import SOURCES, write_workforce

    manifest = json.loads((data_dir / "extracts" / "manifest.json").read_text(encoding="utf-8"))
    people, seed = int(manifest["people"]), int(manifest["seed"])
    size = int(manifest.get("neighbourhood_size", 50_000))
    geo = build_geography(people, size, seed, name_bank())
    write_workforce(geo, people, seed, scratch)
    rows: list[tuple[str, str, str, str, float]] = []
    for _, sector, fmt, folder in SOURCES:
        for path in sorted((scratch / "workforce" / folder).glob("*.csv")):
            header, table = read_table(path)
            out = parse_extract(path, fmt, header, table, sector)
            rows += [
                (team, role, employer, skills or "", fte * share)
                for team, role, employer, skills, fte, share, vacant in zip(
                    out["team"],
                    out["role"],
                    out["employer"],
                    out["skills"],
                    out["fte"],
                    out["int_share"],
                    out["vacancy"],
                    strict=True,
                )
                if team and not vacant
            ]
    return capacity.staff_by_team(rows)


def _scenario(replications: int, workers: int, neighbourhoods: tuple[str, ...] = ()) -> Any:
    return parse(
        {
            "schema": SCHEMA,
            "name": "Benchmark",
            "replications": replications,
            "workers": workers,
            "neighbourhoods": list(neighbourhoods),
        }
    )


def run(
    *, reuse: list[Path], replications: int, ics_replications: int, workers: int
) -> dict[str, Any]:
    if not reuse:
        raise UserError("give at least one published data directory with --from")
    out: dict[str, Any] = {"benchmark": "capacity", "engines": engines(), "sizes": []}
    with tempfile.TemporaryDirectory() as tmp:
        for k, data_dir in enumerate(reuse):
            began = time.perf_counter()
            demand = demand_mod.learn(data_dir)
            learn_seconds = time.perf_counter() - began
            staff = staff_for(data_dir, Path(tmp) / f"staff-{k}")
            first = demand.neighbourhoods[0]
            scenario = _scenario(replications, workers, (first,))
            levers = capacity.levers_for(scenario, scenario.seed, 0)
            config = capacity.config_for(scenario, demand, first, staff[first], levers)
            if k == 0:
                out["engines"]["skill_matching"] = skill_matching(config)
            row: dict[str, Any] = {
                "data": str(data_dir),
                "people": sum(demand.people.values()),
                "neighbourhoods": len(demand.neighbourhoods),
                "learn_seconds": learn_seconds,
            }
            if k == 0:
                began = time.perf_counter()
                result = capacity.run(data_dir, scenario, None, demand, staff)
                row["one_neighbourhood"] = {
                    "replications": replications,
                    "seconds": time.perf_counter() - began,
                    "events": result["neighbourhoods"][first]["events"],
                    "peak_mb": result["peak_worker_mb"],
                }
            if k == len(reuse) - 1:
                everyone = _scenario(ics_replications, workers)
                began = time.perf_counter()
                result = capacity.run(data_dir, everyone, None, demand, staff)
                row["every_neighbourhood"] = {
                    "replications": ics_replications,
                    "seconds": time.perf_counter() - began,
                    "events": sum(f["events"] for f in result["neighbourhoods"].values()),
                    "peak_mb": result["peak_worker_mb"],
                }
            out["sizes"].append(row)
    out["peak_worker_mb"] = max(
        row[key]["peak_mb"] for row in out["sizes"] for key in RUNS if key in row
    )
    return out


def show(payload: dict[str, Any], console: Console) -> None:
    e = payload["engines"]
    table = Table(title="Capacity model: events a second, one run", title_justify="left")
    for column in ("model", "events", "seconds", "events/s", "against bare SimPy"):
        table.add_column(column, justify="left" if column == "model" else "right")
    bare = e["bare_simpy"]["per_second"]
    for key, label in (
        ("bare_simpy", "bare SimPy M/M/c"),
        ("plain", "ours, plain path (same M/M/c)"),
        ("skill_matching", "ours, skill matching (a neighbourhood)"),
    ):
        if key in e:
            x = e[key]
            table.add_row(
                label,
                f"{x['events']:,}",
                f"{x['seconds']:.2f}",
                f"{x['per_second']:,.0f}",
                f"{x['per_second'] / bare:.2f}x",
            )
    console.print(table)
    ratio = e["plain"]["per_second"] / bare
    console.print(
        f"Plain path at {ratio:.2f}x bare SimPy (target at least {TARGET_RATIO:g}x): "
        f"{'met' if ratio >= TARGET_RATIO else 'NOT met'}"
    )
    sizes = Table(title="Replications across the cores", title_justify="left")
    for column in ("data", "people", "areas", "demand s", "run", "events", "s", "target"):
        sizes.add_column(column, justify="left" if column in ("data", "run") else "right")
    for row in payload["sizes"]:
        for key, target, what in (
            ("one_neighbourhood", TARGET_NEIGHBOURHOOD_SECONDS, "1 area"),
            ("every_neighbourhood", TARGET_ICS_SECONDS, "every area"),
        ):
            if key in row:
                x = row[key]
                sizes.add_row(
                    "/".join(Path(row["data"]).parts[-2:]),
                    f"{row['people']:,}",
                    str(row["neighbourhoods"]),
                    f"{row['learn_seconds']:.1f}",
                    f"{what} x {x['replications']}",
                    f"{x['events'] / 1e6:.1f}M",
                    f"{x['seconds']:.1f}",
                    f"<{target:.0f} {'met' if x['seconds'] < target else 'NOT met'}",
                )
    console.print(sizes)
    console.print("(an area is a neighbourhood; each replication a year after a 28-day warm-up)")
    mb = payload["peak_worker_mb"]
    console.print(
        f"Peak memory per worker: {mb:,.0f} MB (target under {TARGET_WORKER_MB:,.0f} MB: "
        f"{'met' if mb < TARGET_WORKER_MB else 'NOT met'})"
    )
