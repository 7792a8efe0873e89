"""``neighbourhood bench``: the command line of the benchmarks in ``neighbourhood.bench``.

Each command reads its options, runs its benchmark and prints the figures as a table
or as JSON; what is measured, and against which target, lives in the benchmark.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from neighbourhood.bench import fhir, ingest, link, refresh, synth, web
from neighbourhood.bench.measure import engine_sizes, parse_sizes
from neighbourhood.cli.options import JsonOption, ScratchOption
from neighbourhood.cli.output import console, print_json
from neighbourhood.errors import UserError

app = typer.Typer(help="Benchmarks: figures and ratios measured in one run.", no_args_is_help=True)

NEIGHBOURHOOD, ICS = synth.NEIGHBOURHOOD, synth.ICS
BOTH_SIZES = f"{NEIGHBOURHOOD},{ICS}"


def _reuse(help_text: str) -> object:
    return typer.Option("--from", help=help_text, exists=True, file_okay=False)


@app.command("synth")
def bench_synth(
    sizes: Annotated[
        str, typer.Option("--sizes", help="Populations to time, comma-separated.")
    ] = BOTH_SIZES,
    workers: Annotated[
        int, typer.Option("--workers", help="Worker processes (default: one per core).", min=0)
    ] = 0,
    scratch: ScratchOption = None,
    as_json: JsonOption = False,
) -> None:
    """Time `synth` at neighbourhood and ICS size: people per second and peak memory.

    Each size runs in a fresh process, so its peak memory is its own.
    """
    payload = synth.run(sizes=parse_sizes(sizes), workers=workers, scratch=scratch)
    if as_json:
        print_json(payload)
    else:
        console.print(synth.table(payload))


@app.command("ingest")
def bench_ingest(
    people: Annotated[
        int, typer.Option("--people", help="People in the synthetic ICS to ingest.", min=100)
    ] = ICS,
    fhir_feeds: Annotated[
        int,
        typer.Option(
            "--fhir-feeds",
            help="NDJSON feeds to time for FHIR (the first GP and acute ones).",
            min=1,
        ),
    ] = 2,
    reuse: Annotated[
        Path | None,
        _reuse(
            "A data directory synth has already written (its extracts are read, not "
            "copied or changed); --people is then ignored."
        ),
    ] = None,
    scratch: ScratchOption = None,
    as_json: JsonOption = False,
) -> None:
    """Time ingest beside the bare engines, on one synthetic ICS, in one run.

    CSV: every CSV feed, our ingest (validation and loading included) against
    DuckDB's read_csv loading the same files into a table (and counting them). FHIR:
    whole NDJSON feeds, our ingest (fhir.resources validation and loading) against a
    bare orjson parse. Then every feed end to end.
    """
    payload = ingest.run(people=people, fhir_feeds=fhir_feeds, reuse=reuse, scratch=scratch)
    if as_json:
        print_json(payload)
        return
    table, memory = ingest.table(payload)
    console.print(table)
    console.print(memory)


@app.command("link")
def bench_link(
    sizes: Annotated[
        str, typer.Option("--sizes", help="Populations to link, comma-separated.")
    ] = BOTH_SIZES,
    spark_sizes: Annotated[
        str,
        typer.Option(
            "--spark-sizes", help="Of those, the ones also linked on Spark (empty for none)."
        ),
    ] = f"{NEIGHBOURHOOD}",
    reuse: Annotated[
        list[Path] | None,
        _reuse(
            "A data directory synth wrote and ingest filled but nobody has linked, for "
            "its size (repeatable); its warehouse is copied, never changed."
        ),
    ] = None,
    scratch: ScratchOption = None,
    as_json: JsonOption = False,
) -> None:
    """Time `link` at neighbourhood and ICS size: records/s, comparisons, time, memory.

    Each run is its own process, so its peak memory is its own; Spark runs after
    DuckDB on the same warehouse, so both link the same records.
    """
    _on_both_engines(link, sizes, spark_sizes, reuse or [], scratch, as_json)


@app.command("refresh")
def bench_refresh(
    sizes: Annotated[
        str, typer.Option("--sizes", help="Populations to refresh, comma-separated.")
    ] = BOTH_SIZES,
    spark_sizes: Annotated[
        str,
        typer.Option(
            "--spark-sizes", help="Of those, the ones also refreshed on Spark (empty for none)."
        ),
    ] = BOTH_SIZES,
    reuse: Annotated[
        list[Path] | None,
        _reuse(
            "A data directory already ingested and linked, for its size (repeatable); "
            "read, never changed."
        ),
    ] = None,
    scratch: ScratchOption = None,
    as_json: JsonOption = False,
) -> None:
    """Time `refresh` (measures, risk model training and scoring) at neighbourhood and ICS
    size on DuckDB and on Spark in local mode, in one run."""
    _on_both_engines(refresh, sizes, spark_sizes, reuse or [], scratch, as_json)


# The options of the benchmarks that serve the web application.
ServedSizesOption = Annotated[
    str, typer.Option("--sizes", help="Populations to publish and serve, comma-separated.")
]
PublishedOption = Annotated[
    list[Path] | None,
    _reuse(
        "A data directory with a published refresh, for its size (repeatable); read, never changed."
    ),
]
ServerWorkersOption = Annotated[
    int, typer.Option("--workers", help="Server workers (0: one per core, as serve).", min=0)
]


@app.command("web")
def bench_web(
    sizes: ServedSizesOption = BOTH_SIZES,
    reuse: PublishedOption = None,
    users: Annotated[int, typer.Option("--users", help="Simultaneous users.", min=1)] = 50,
    seconds: Annotated[int, typer.Option("--seconds", help="How long the load runs.", min=1)] = 60,
    workers: ServerWorkersOption = 0,
    mix: Annotated[
        str,
        typer.Option(
            "--mix",
            help="Whose work: 'care' (care coordinators: case finding, plans, tasks, MDT, "
            "referrals) or 'urgent' (the single point of access: calls, claims, triage, the "
            "board with 2,000 open responses, set-offs, visits).",
        ),
    ] = "care",
    scratch: ScratchOption = None,
    as_json: JsonOption = False,
) -> None:
    """p50 and p95 latency, requests/s, errors and lost updates of the web application
    under a bounded load on loopback, at neighbourhood and ICS size."""
    if mix not in web.MIXES:
        raise UserError(f"--mix {mix!r} is not a mix: one of {', '.join(web.MIXES)}")
    payload = web.run(
        sizes=parse_sizes(sizes),
        reuse=reuse or [],
        users=users,
        seconds=seconds,
        workers=workers,
        scratch=scratch,
        mix=mix,
    )
    if as_json:
        print_json(payload)
    else:
        web.show(payload, console)


@app.command("fhir")
def bench_fhir(
    sizes: ServedSizesOption = BOTH_SIZES,
    reuse: PublishedOption = None,
    seconds: Annotated[
        int, typer.Option("--seconds", help="How long each phase runs.", min=1)
    ] = 30,
    readers: Annotated[
        int, typer.Option("--readers", help="Simultaneous clients reading and searching.", min=1)
    ] = 8,
    workers: ServerWorkersOption = 0,
    scratch: ScratchOption = None,
    as_json: JsonOption = False,
) -> None:
    """Reads per second, search and write latency, errors and lost updates of the FHIR
    API, with the same care plans read through the web pages beside it, at neighbourhood
    and ICS size (100,000 care plans and 500,000 tasks)."""
    payload = fhir.run(
        sizes=parse_sizes(sizes),
        reuse=reuse or [],
        seconds=seconds,
        readers=readers,
        workers=workers,
        scratch=scratch,
    )
    if as_json:
        print_json(payload)
    else:
        fhir.show(payload, console)


@app.command("capacity")
def bench_capacity(
    reuse: PublishedOption = None,
    replications: Annotated[
        int, typer.Option("--replications", help="Replications of one neighbourhood.", min=2)
    ] = 100,
    ics_replications: Annotated[
        int,
        typer.Option("--ics-replications", help="Replications of every neighbourhood.", min=2),
    ] = 10,
    workers: Annotated[
        int, typer.Option("--workers", help="Worker processes (0: one per core).", min=0)
    ] = 0,
    as_json: JsonOption = False,
) -> None:
    """The capacity model's events a second beside a bare SimPy M/M/c model, then 100
    replications of a neighbourhood-year (the first data directory) and every
    neighbourhood of the ICS (the last), with peak memory per worker; without --from, the
    data directory."""
    from neighbourhood.bench import capacity
    from neighbourhood.config import resolve_data_dir

    payload = capacity.run(
        reuse=reuse or [resolve_data_dir(None)],
        replications=replications,
        ics_replications=ics_replications,
        workers=workers,
    )
    if as_json:
        print_json(payload)
    else:
        capacity.show(payload, console)


@app.command("evaluate")
def bench_evaluate(
    reuse: PublishedOption = None,
    spark: Annotated[
        bool,
        typer.Option("--spark/--no-spark", help="Also run the outcome extraction on Spark."),
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """A full evaluation protocol (every design, outcome and group) on each published ICS
    made with synth --rollout, on DuckDB; the matched comparison of 20,000 enrolled people
    alone; the outcome extraction on DuckDB and Spark side by side (the last ICS). Without
    --from, the data directory."""
    from neighbourhood.bench import evaluate
    from neighbourhood.config import resolve_data_dir

    payload = evaluate.run(reuse or [resolve_data_dir(None)], spark)
    if as_json:
        print_json(payload)
    else:
        evaluate.show(payload, console)


def _on_both_engines(
    bench: Any, sizes: str, spark_sizes: str, reuse: list[Path], scratch: Path | None, as_json: bool
) -> None:
    """A benchmark run on DuckDB at every size and on Spark at some (link, refresh)."""
    people_sizes, on_spark = engine_sizes(sizes, spark_sizes)
    payload = bench.run(sizes=people_sizes, on_spark=sorted(on_spark), reuse=reuse, scratch=scratch)
    if as_json:
        print_json(payload)
    else:
        bench.show(payload, console)
