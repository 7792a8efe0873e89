"""``neighbourhood refresh``: the population health outputs, rebuilt atomically."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from neighbourhood.cli.options import DataOption, EngineName, EngineOption, JsonOption
from neighbourhood.cli.output import console, figures_table, print_json, progress_bar
from neighbourhood.config import resolve_data_dir
from neighbourhood.errors import UserError
from neighbourhood.phm.publish import PublishReport
from neighbourhood.phm.refresh import RefreshReport
from neighbourhood.phm.report_html import lower_first
from neighbourhood.phm.vocabulary import COHORTS


def refresh_command(
    data: DataOption = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Measure as of this date, YYYY-MM-DD (default: the latest event).",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed, kept with the refresh.")] = 1,
    engine: EngineOption = EngineName.duckdb,
    as_json: JsonOption = False,
) -> None:
    """Segment and stratify every linked person, find the cohorts with complex needs,
    and rank a case-finding list per neighbourhood, with the reasons in words.

    The new outputs are built beside the current ones and switched in one step.
    """
    data_dir = resolve_data_dir(data)
    when = _date(as_of) if as_of else None
    report = run_refresh(data_dir, when, seed, as_json, engine.value)
    if as_json:
        print_json(report.as_dict())
        return
    print_refresh(report)


def run_refresh(
    data_dir: Path, as_of: dt.date | None, seed: int, quiet: bool, engine: str = "duckdb"
) -> RefreshReport:
    from neighbourhood.phm.refresh import refresh

    with progress_bar("Refreshing population health", 1, quiet) as bar:
        report = refresh(data_dir, as_of, seed, engine)
        bar.advance(bar.task_ids[0])
    return report


def print_refresh(r: RefreshReport) -> None:
    share = r.complex_needs / max(r.people, 1)
    rows = [
        ("Refresh", f"version {r.version}, as of {r.as_of}, on {r.engine}"),
        ("People", f"{r.people:,}"),
        ("With complex needs (case-finding list)", f"{r.complex_needs:,} ({share:.1%})"),
    ]
    rows += [(f"  {COHORTS[name]}", f"{n:,}") for name, n in r.cohorts.items()]
    rows += [(f"Segment: {name}", f"{n:,}") for name, n in r.segments.items()]
    rows.append(
        (
            "Emergency admission risk model, AUROC",
            f"{r.risk_auroc} (baseline, previous admissions then age: {r.baseline_auroc})",
        )
    )
    if r.cost_forecast:
        f = r.cost_forecast
        rows.append(
            (
                "Cost forecast, mean absolute error a person",
                f"£{f['mae_gbp']:,.0f} (baseline, last year's cost: £{f['baseline_mae_gbp']:,.0f})",
            )
        )
    rows.append(("Time", f"{r.seconds:.1f} s"))
    console.print(figures_table("Population health refresh", rows))


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise UserError(f"--as-of should be a date as YYYY-MM-DD (got '{text}')") from error


def report_command(
    data: DataOption = None,
    html_file: Annotated[
        Path | None,
        typer.Option(
            "--html",
            help="Also write the report, with charts, as one HTML page to this file.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Population, segments, cohorts, risk and cost by neighbourhood, deprivation,
    ethnic group, age band, sex, disability and inclusion health group.

    A planning output: people who opted out are left out, and every count is
    disclosure-controlled (1 to 7 suppressed, others rounded to the nearest 5).
    """
    from neighbourhood.phm.report import build

    data_dir = resolve_data_dir(data)
    if html_file is not None and not html_file.absolute().parent.is_dir():
        raise UserError(f"cannot write {html_file}: {html_file.parent} is not a directory")
    report = build(data_dir)
    if html_file is not None:
        from neighbourhood.phm.report_html import render

        html_file.write_text(render(report), encoding="utf-8")
    if as_json:
        print_json(report)
        return
    print_report(report, html_file)


def print_report(report: dict[str, object], html_file: Path | None) -> None:
    from rich.table import Table

    dimensions = report["dimensions"]
    assert isinstance(dimensions, dict)
    for dimension in dimensions.values():
        table = Table(title=f"By {lower_first(dimension['label'])}")
        for column in ("Group", "People", "Complex needs", "%", "High risk", "%", "AUROC"):
            table.add_column(column, justify="left" if column == "Group" else "right")
        for g in dimension["groups"]:
            table.add_row(
                g["group"],
                _shown(g["people"]),
                _shown(g["complex_needs"]),
                _shown(g["complex_needs_pct"]),
                _shown(g["high_risk"]),
                _shown(g["high_risk_pct"]),
                _shown(g["model"]["auroc"]),
            )
        total = dimension["total"]
        table.add_row(
            "Total (cells shown)",
            _shown(total["people"]),
            _shown(total["complex_needs"]),
            "",
            _shown(total["high_risk"]),
            "",
            "",
        )
        console.print(table)
    console.print(f"Disclosure control: {report['disclosure_control']}. '–' is suppressed.")
    if html_file is not None:
        console.print(f"The report with charts: {html_file}")


def _shown(value: object) -> str:
    if value is None:
        return "–"
    return f"{value:,}" if isinstance(value, int) else str(value)


def publish_command(data: DataOption = None, as_json: JsonOption = False) -> None:
    """Publish the current refresh: the case-finding list, person profiles and timelines
    for direct care, and a pseudonymised table for planning (opted-out people left out).

    The pseudonymisation key lives outside the warehouse (DATA/keys/, or the file
    NEIGHBOURHOOD_PSEUDONYMISATION_KEY names) and is made on first use.
    """
    report = run_publish(resolve_data_dir(data), as_json)
    if as_json:
        print_json(report.as_dict())
        return
    print_publish(report)


def run_publish(data_dir: Path, quiet: bool) -> PublishReport:
    from neighbourhood.phm.publish import publish

    with progress_bar("Publishing", 1, quiet) as bar:
        report = publish(data_dir)
        bar.advance(bar.task_ids[0])
    return report


def print_publish(r: PublishReport) -> None:
    rows = [
        ("Published", f"version {r.version}, from refresh {r.refresh} (as of {r.as_of})"),
        ("Case-finding list (direct care)", f"{r.case_finding:,} people"),
        ("Person profiles (direct care)", f"{r.profiles:,}"),
        ("Timeline events (direct care)", f"{r.timeline_events:,}"),
        ("Planning table (pseudonymised)", f"{r.planning_people:,} people"),
        ("Left out of planning (national data opt-out)", f"{r.opted_out_excluded:,}"),
        ("Time", f"{r.seconds:.1f} s"),
    ]
    console.print(figures_table("Publish", rows))
