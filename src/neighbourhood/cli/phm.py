"""``neighbourhood refresh``: the population health outputs, rebuilt atomically."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from neighbourhood.cli.options import DataOption, JsonOption
from neighbourhood.cli.output import console, figures_table, print_json, progress_bar
from neighbourhood.config import resolve_data_dir
from neighbourhood.errors import UserError
from neighbourhood.phm.measures import COHORTS
from neighbourhood.phm.refresh import RefreshReport


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
    as_json: JsonOption = False,
) -> None:
    """Segment and stratify every linked person, find the cohorts with complex needs,
    and rank a case-finding list per neighbourhood, with the reasons in words.

    The new outputs are built beside the current ones and switched in one step.
    """
    data_dir = resolve_data_dir(data)
    when = _date(as_of) if as_of else None
    report = run_refresh(data_dir, when, seed, as_json)
    if as_json:
        print_json(report.as_dict())
        return
    print_refresh(report)


def run_refresh(data_dir: Path, as_of: dt.date | None, seed: int, quiet: bool) -> RefreshReport:
    from neighbourhood.phm.refresh import refresh

    with progress_bar("Refreshing population health", 1, quiet) as bar:
        report = refresh(data_dir, as_of, seed)
        bar.advance(bar.task_ids[0])
    return report


def print_refresh(r: RefreshReport) -> None:
    share = r.complex_needs / max(r.people, 1)
    rows = [
        ("Refresh", f"version {r.version}, as of {r.as_of}"),
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
    rows.append(("Time", f"{r.seconds:.1f} s"))
    console.print(figures_table("Population health refresh", rows))


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise UserError(f"--as-of should be a date as YYYY-MM-DD (got '{text}')") from error
