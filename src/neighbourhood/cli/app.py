"""The ``neighbourhood`` command line.

User errors (bad paths, numbers or options) end as one red line and exit code 2;
only bugs show a traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from neighbourhood.cli import bench as bench_commands
from neighbourhood.cli import capacity as capacity_commands
from neighbourhood.cli import care as care_commands
from neighbourhood.cli import evaluate as evaluate_commands
from neighbourhood.cli import fhir as fhir_commands
from neighbourhood.cli import phm as phm_commands
from neighbourhood.cli import sources as source_commands
from neighbourhood.cli.options import DataOption, JsonOption
from neighbourhood.cli.output import console, error_line, figures_table, print_json, progress_bar
from neighbourhood.config import extracts_dir, resolve_data_dir, truth_dir
from neighbourhood.errors import UserError
from neighbourhood.private import OWNER_ONLY
from neighbourhood.synth import DefectRates, SynthOptions, SynthSummary, run_synth
from neighbourhood.synth.options import Rollout

app = typer.Typer(
    name="neighbourhood",
    help="Population health, case finding and care coordination for integrated neighbourhood teams.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(bench_commands.app, name="bench")
app.add_typer(source_commands.sources_app, name="sources")
app.command("ingest")(source_commands.ingest_command)
app.command("quality")(source_commands.quality_command)
app.add_typer(source_commands.link_app, name="link")
app.command("refresh")(phm_commands.refresh_command)
app.command("report")(phm_commands.report_command)
app.command("publish")(phm_commands.publish_command)
app.command("serve")(care_commands.serve_command)
app.add_typer(care_commands.audit_app, name="audit")
app.command("reviews")(care_commands.reviews_command)
app.add_typer(care_commands.directory_app, name="directory")
app.add_typer(care_commands.returns_app, name="returns")
app.add_typer(care_commands.wards_app, name="wards")
app.add_typer(fhir_commands.fhir_app, name="fhir")
app.add_typer(capacity_commands.capacity_app, name="capacity")
app.command("evaluate")(evaluate_commands.evaluate_command)
app.command("manage", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(
    care_commands.manage_command
)

DEMO_PEOPLE = 50_000
DEMO_SEED = 42


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


@app.command()
def synth(
    people: Annotated[int, typer.Option("--people", help="How many people live in the ICS.")],
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed: the same seed gives the same files.")
    ] = 1,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Where to write the extracts (default: DATA/extracts).",
            show_default=False,
        ),
    ] = None,
    truth: Annotated[
        Path | None,
        typer.Option(
            "--truth",
            help="Where to write the ground truth (default: DATA/truth).",
            show_default=False,
        ),
    ] = None,
    data: DataOption = None,
    years: Annotated[int, typer.Option("--years", help="Years of activity to generate.")] = 3,
    neighbourhood_size: Annotated[
        int, typer.Option("--neighbourhood-size", help="People per neighbourhood.")
    ] = 50_000,
    defect: Annotated[
        list[str] | None,
        typer.Option(
            "--defect",
            help="Override a defect rate, NAME=RATE (repeatable); nhs_number_missing.SECTOR=RATE for one sector.",
        ),
    ] = None,
    defect_scale: Annotated[
        float,
        typer.Option(
            "--defect-scale", help="Multiply every defect rate (0 for clean data).", min=0.0
        ),
    ] = 1.0,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            help="Worker processes, 0 for one per core (output does not depend on it).",
            min=0,
        ),
    ] = 0,
    compress: Annotated[
        bool,
        typer.Option("--compress/--no-compress", help="gzip the FHIR output and the ground truth."),
    ] = True,
    rollout: Annotated[
        bool,
        typer.Option(
            "--rollout/--no-rollout",
            help="Roll the model of care out across neighbourhoods during the period, with a "
            "known effect, and write the teams' record as a feed of its own.",
        ),
    ] = False,
    effect: Annotated[
        float,
        typer.Option(
            "--effect",
            help="With --rollout: the rate ratio of enrolled people's emergency admissions, "
            "A&E attendances and care home admissions (1 for no effect).",
        ),
    ] = 0.85,
    effect_most_deprived: Annotated[
        float | None,
        typer.Option(
            "--effect-most-deprived",
            help="With --rollout: a different rate ratio in the most deprived IMD quintile.",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Write a synthetic integrated care system as its partners would send it."""
    data_dir = resolve_data_dir(data)
    rates = DefectRates().with_settings(defect or []).scaled(defect_scale)
    if not rollout and (effect != 0.85 or effect_most_deprived is not None):
        raise UserError("--effect and --effect-most-deprived need --rollout")
    plan = Rollout(effect=effect, effect_most_deprived=effect_most_deprived) if rollout else None
    options = SynthOptions(
        people=people,
        seed=seed,
        out=out or extracts_dir(data_dir),
        truth=truth or truth_dir(data_dir),
        years=years,
        neighbourhood_size=neighbourhood_size,
        workers=workers or default_workers(),
        compress=compress,
        defects=rates,
        registry=data_dir,
        rollout=plan,
    )
    summary = _run_synth(options, as_json)
    if as_json:
        print_json(summary.as_dict())
    else:
        _print_synth_summary(summary)


@app.command()
def demo(
    data: DataOption = None,
    people: Annotated[
        int, typer.Option("--people", help="People in the demonstration ICS.")
    ] = DEMO_PEOPLE,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = DEMO_SEED,
    host: care_commands.HostOption = "127.0.0.1",
    port: care_commands.PortOption = 8000,
    serve: Annotated[
        bool,
        typer.Option("--serve/--no-serve", help="Serve the web application at the end."),
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """Run the whole job on a neighbourhood-sized synthetic ICS, then serve it.

    Generate the synthetic ICS into the data directory, ingest every feed into the
    warehouse, link records into people (measured against the ground truth), refresh
    the population health outputs, publish them, compare two example capacity scenarios,
    make the teams and demo users of the web application, and serve it (Ctrl-C stops).
    """
    data_dir = resolve_data_dir(data)
    options = SynthOptions(
        people=people,
        seed=seed,
        out=extracts_dir(data_dir),
        truth=truth_dir(data_dir),
        workers=default_workers(),
        registry=data_dir,
    )
    summary = _run_synth(options, as_json)
    report = source_commands.run_ingest(data_dir, None, 0, as_json)
    source_commands.exit_if_refused(report)
    linked, measured = source_commands.run_link_and_evaluate(data_dir, options.truth, as_json)
    refreshed = phm_commands.run_refresh(data_dir, None, seed, as_json)
    published = phm_commands.run_publish(data_dir, as_json)
    compared = capacity_commands.run_examples(data_dir, as_json)
    # The demo's users sign in with the printed password alone; any of them may still
    # set up a second factor. Everywhere else it is required (ADR 21).
    os.environ.setdefault("NEIGHBOURHOOD_TWO_FACTOR", "optional")
    server = care_commands.start(data_dir)
    users = server.setup_demo()
    partner = server.setup_demo_partner()
    if as_json:
        print_json(
            {
                "synth": summary.as_dict(),
                "ingest": report.as_dict(),
                "link": linked.as_dict(),
                "evaluation": measured,
                "refresh": refreshed.as_dict(),
                "publish": published.as_dict(),
                "capacity": compared,
                "web": {
                    "address": f"http://{host}:{port}/",
                    "users": [u.__dict__ for u in users],
                },
                "fhir": {"base": f"http://{host}:{port}/fhir/", **partner},
            }
        )
        if serve:
            care_commands.run(server, host, port, 0)
        return
    _print_synth_summary(summary)
    console.print(
        f"Extracts are in [bold]{options.out}[/bold]; the ground truth is in "
        f"[bold]{options.truth}[/bold], kept apart for measuring linkage."
    )
    source_commands.print_ingest_by_source(report)
    overall = measured["overall"]
    console.print(
        f"Linked {linked.records:,} records into {linked.persons:,} people in "
        f"{linked.seconds:.1f} s: pairwise precision {overall['pairwise_precision']}, recall "
        f"{overall['pairwise_recall']}, F1 {overall['f1']} against the ground truth (lowest "
        f"group F1 {measured['lowest_group_f1']}; 'neighbourhood link --evaluate' for all groups)."
    )
    phm_commands.print_refresh(refreshed)
    phm_commands.print_publish(published)
    console.print(
        "Also: 'neighbourhood report --html report.html' for the figures by group "
        "(disclosure-controlled, opted-out people left out)."
    )
    capacity_commands.print_examples(compared)
    care_commands.print_demo_users(users, host, port)
    console.print(
        f"The FHIR API is at http://{host}:{port}/fhir/ (its CapabilityStatement at /fhir/metadata). "
        f"The example partner '{partner['client_id']}' gets a token with: neighbourhood fhir token "
        f"--client-id {partner['client_id']} --key {partner['key']} --url "
        f"http://{host}:{port}/fhir/token",
        soft_wrap=True,
    )
    if serve:
        care_commands.run(server, host, port, 0)


def _run_synth(options: SynthOptions, quiet: bool) -> SynthSummary:
    with progress_bar("Generating people", options.people, quiet) as bar:
        task = bar.task_ids[0]
        return run_synth(options, progress=lambda n: bar.advance(task, n))


def _print_synth_summary(s: SynthSummary) -> None:
    figures = s.as_dict()
    rows = [
        ("People", f"{s.people:,}"),
        ("Places / neighbourhoods / LSOAs", f"{s.places} / {s.neighbourhoods} / {s.lsoas:,}"),
        ("GP practices", f"{s.practices:,}"),
        ("Partner feeds", f"{s.feeds}"),
        ("Person records across feeds", f"{sum(s.records.values()):,}"),
        ("FHIR resources", f"{sum(s.resources.values()):,}"),
        ("Events", f"{sum(s.events.values()):,}"),
        ("People with complex needs", f"{s.complex_needs:,} ({s.complex_share:.1%})"),
        ("Their share of hospital cost", f"{s.complex_cost_share:.1%}"),
        ("Deaths in the period", f"{s.deaths:,}"),
        *([("Enrolled by the model of care's rollout", f"{s.enrolled:,}")] if s.enrolled else []),
        ("Defects planted in records", f"{sum(s.defects.values()):,}"),
        ("Time", f"{s.seconds:.1f} s ({figures['people_per_second']:,} people/s)"),
        ("Peak memory, all processes (upper bound)", f"{s.peak_memory_mb:,.0f} MB"),
    ]
    console.print(figures_table(f"Synthetic ICS (seed {s.seed})", rows))


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning user errors into one line and exit code 2."""
    # Everything a command makes (the data directory, databases, keys, extracts, published
    # files, checkpoints) is readable by its owner only: they hold identifiable data.
    os.umask(OWNER_ONLY)
    try:
        code = app(args=argv, prog_name="neighbourhood", standalone_mode=False)
    except UserError as error:
        error_line(str(error))
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        error_line("interrupted")
        sys.exit(130)
    except Exception as error:
        if not _is_usage_error(error):
            raise
        if type(error).__name__ == "NoArgsIsHelpError":  # the help, asked for by no arguments
            typer.echo(error.format_message())  # type: ignore[attr-defined]
            sys.exit(0)
        ctx = getattr(error, "ctx", None)
        hint = f" (try '{ctx.command_path} --help')" if ctx else ""
        error_line(f"{error.format_message()}{hint}")  # type: ignore[attr-defined]
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)


def _is_usage_error(error: Exception) -> bool:
    """A mistake on the command line, as Click reports it (an unknown option, a missing
    argument, a bad value). Typer bundles its own Click, privately, so its exceptions are
    known by the interface every Click exception has rather than imported."""
    return callable(getattr(error, "format_message", None)) and isinstance(
        getattr(error, "exit_code", None), int
    )


if __name__ == "__main__":
    main()
