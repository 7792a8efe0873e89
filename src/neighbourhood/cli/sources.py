"""``neighbourhood sources``, ``ingest`` and ``quality``: the data manager's commands."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from neighbourhood import registry
from neighbourhood.cli.options import DataOption, EngineName, EngineOption, JsonOption
from neighbourhood.cli.output import console, err_console, figure, print_json, progress_bar
from neighbourhood.config import resolve_data_dir
from neighbourhood.errors import UserError

if TYPE_CHECKING:  # the warehouse stack (Ibis, DuckDB) loads only for commands that use it
    from neighbourhood.ingest.run import FileAccount, IngestReport
    from neighbourhood.linkage.run import LinkReport

sources_app = typer.Typer(
    help="The source registry: feeds and their data sharing agreements.", no_args_is_help=True
)


@sources_app.command("list")
def list_sources(data: DataOption = None, as_json: JsonOption = False) -> None:
    """List the registered feeds and when their agreements expire."""
    sources = registry.load(resolve_data_dir(data))
    if as_json:
        print_json(
            {
                "sources": [
                    {
                        "id": s.id,
                        "partner_ods": s.partner_ods,
                        "sector": s.sector,
                        "format": s.format,
                        "path": s.path,
                        "agreement": s.agreement.reference if s.agreement else None,
                        "expires": s.agreement.expires.isoformat() if s.agreement else None,
                    }
                    for s in sources
                ]
            }
        )
        return
    table = Table(title="Registered sources")
    for column in ("source", "partner", "sector", "format", "agreement", "expires"):
        table.add_column(column)
    today = dt.date.today()
    for s in sources:
        expires = "[red]none[/red]"
        if s.agreement:
            expired = s.agreement.expires < today
            expires = f"{'[red]' if expired else ''}{s.agreement.expires:%d %b %Y}{'[/red]' if expired else ''}"
        table.add_row(
            s.id,
            s.partner_ods,
            s.sector,
            s.format,
            s.agreement.reference if s.agreement else "[red]none[/red]",
            expires,
        )
    console.print(table)


@sources_app.command("add")
def add_source(
    source_id: Annotated[str, typer.Option("--id", help="A short name for the feed.")],
    partner_ods: Annotated[str, typer.Option("--partner-ods", help="The partner's ODS code.")],
    sector: Annotated[str, typer.Option("--sector", help=f"One of {', '.join(registry.SECTORS)}.")],
    fmt: Annotated[str, typer.Option("--format", help=f"One of {', '.join(registry.FORMATS)}.")],
    path: Annotated[
        str,
        typer.Option(
            "--path", help="The feed's directory or file (relative to the data directory)."
        ),
    ],
    agreement: Annotated[
        str | None, typer.Option("--agreement", help="Data sharing agreement reference.")
    ] = None,
    purpose: Annotated[
        str | None, typer.Option("--purpose", help="The agreement's purpose.")
    ] = None,
    expires: Annotated[
        str | None, typer.Option("--expires", help="The agreement's expiry, YYYY-MM-DD.")
    ] = None,
    partner_name: Annotated[str, typer.Option("--partner-name", help="The partner's name.")] = "",
    csv_spec: Annotated[
        Path | None,
        typer.Option(
            "--csv-spec", help="A TOML file with the CSV layout ([csv] table as in sources.toml)."
        ),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace a source of the same id.")
    ] = False,
    data: DataOption = None,
) -> None:
    """Register a feed with the data sharing agreement it arrives under."""
    entry: dict[str, Any] = {
        "id": source_id,
        "partner_ods": partner_ods,
        "partner_name": partner_name,
        "sector": sector,
        "format": fmt,
        "path": path,
    }
    if agreement or purpose or expires:
        entry["agreement"] = {"reference": agreement, "purpose": purpose, "expires": expires}
    if csv_spec is not None:
        try:
            entry["csv"] = tomllib.loads(csv_spec.read_text(encoding="utf-8")).get("csv")
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise UserError(f"cannot read the CSV layout {csv_spec}: {error}") from error
    data_dir = resolve_data_dir(data)
    parsed = registry.parse_entry(entry)
    written = registry.add(data_dir, parsed, replace=replace)
    if parsed.agreement is None:
        err_console.print(
            f"[yellow]warning:[/yellow] '{source_id}' has no data sharing agreement; "
            "ingest will refuse it until one is added"
        )
    console.print(f"Registered '{source_id}' in {written}")


@sources_app.command("check")
def check_source_command(
    source_id: Annotated[str, typer.Argument(help="The source to check, by its id.")],
    data: DataOption = None,
    as_json: JsonOption = False,
) -> None:
    """Try a CSV feed's declaration against its files before ingesting them.

    Names each mismatch with its file, line and column and what was expected. Exits with
    code 2 if ingest would refuse a file; mismatches that would only flag or quarantine
    some records are listed, and the exit code is 0.
    """
    from neighbourhood.ingest.check import check_source

    data_dir = resolve_data_dir(data)
    (source,) = registry.find(registry.load(data_dir), [source_id])
    checks = check_source(source, data_dir)
    refused = any(c.refused for c in checks)
    if as_json:
        print_json(
            {
                "source": source.id,
                "files": [
                    {
                        "path": c.path,
                        "kind": c.kind,
                        "rows": c.rows,
                        "refused": c.refused,
                        "mismatches": [m.as_dict() for m in c.mismatches],
                    }
                    for c in checks
                ],
            }
        )
    else:
        _print_checks(source.id, checks)
    if refused:
        raise typer.Exit(2)


def _print_checks(source_id: str, checks: list[Any]) -> None:
    for check in checks:
        name = Path(check.path).name
        if not check.mismatches:
            console.print(f"[green]✓[/green] {name}: {check.rows:,} rows fit the declaration")
            continue
        table = Table(title=f"{source_id}: {name}")
        for column in ("line", "column", "problem", "rows like it"):
            table.add_column(column)
        for m in check.mismatches:
            table.add_row(
                "–" if m.line is None else str(m.line), m.column or "–", m.problem, f"{m.count:,}"
            )
        console.print(table)
        if check.refused:
            err_console.print(
                f"[bold red]error:[/bold red] ingest would refuse {name}: fix the file or the "
                f"declaration of '{source_id}' in sources.toml",
                highlight=False,
            )
        else:
            console.print(
                f"{name}: {check.rows:,} rows would load; the rows above would be flagged or "
                "quarantined, with their reasons"
            )


def ingest_command(
    sources: Annotated[
        list[str] | None,
        typer.Argument(help="Sources to ingest (default: all).", show_default=False),
    ] = None,
    data: DataOption = None,
    workers: Annotated[
        int, typer.Option("--workers", help="Processes validating FHIR, 0 for one per core.", min=0)
    ] = 0,
    replay: Annotated[
        str | None,
        typer.Option(
            "--replay-quarantine",
            metavar="SOURCE",
            help="Read the FHIR source's quarantined records again (after its declaration or "
            "the platform is fixed), moving those that now pass.",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Load partners' extracts into the warehouse, accounting for every record.

    Exits with code 2 if any file was refused (nothing of it is loaded).
    """
    if replay is not None:
        _replay(resolve_data_dir(data), replay, as_json)
        return
    report = run_ingest(resolve_data_dir(data), sources, workers, as_json)
    if as_json:
        print_json(report.as_dict())
    else:
        _print_accounts(report.files)
        totals = report.totals()
        console.print(
            f"{totals['records_in']:,} records in: {totals['accepted']:,} accepted "
            f"({totals['flagged']:,} with a field flagged), {totals['quarantined']:,} "
            f"quarantined, {totals['not_used']:,} of types not used yet, in "
            f"{report.seconds:.1f} s"
        )
        for f in report.files:
            if f.not_used:
                console.print(f"  {Path(f.path).name}: not used yet: {f.not_used_text()}")
    exit_if_refused(report)


def _replay(data_dir: Path, source_id: str, as_json: bool) -> None:
    from neighbourhood.ingest.replay import replay_quarantine

    result = replay_quarantine(data_dir, source_id)
    if as_json:
        print_json(result.as_dict())
        return
    console.print(
        f"{source_id}: {result.replayed:,} quarantined records read again: "
        f"{result.accepted:,} accepted, {result.not_used:,} of types not used yet, "
        f"{result.still_quarantined:,} still quarantined (with today's reasons: "
        "'neighbourhood quality')"
    )


def run_ingest(
    data_dir: Path, sources: list[str] | None, workers: int, quiet: bool
) -> IngestReport:
    from neighbourhood.ingest.run import ingest

    total = len(registry.find(registry.load(data_dir), sources or []))
    with progress_bar("Ingesting files", total, quiet) as bar:
        return ingest(
            data_dir, sources, workers=workers, progress=lambda _a: bar.advance(bar.task_ids[0])
        )


def exit_if_refused(report: IngestReport) -> None:
    """One red line per refused file, then exit code 2."""
    for refused in report.refused:
        err_console.print(
            f"[bold red]error:[/bold red] {refused.message}", highlight=False, soft_wrap=True
        )
    if report.refused:
        raise typer.Exit(2)


def print_ingest_by_source(report: IngestReport) -> None:
    table = Table(title="Ingested into the warehouse")
    for column in ("source", "files", "in", "accepted", "flagged", "quarantined"):
        table.add_column(column, justify="left" if column == "source" else "right")
    by_source: dict[str, list[FileAccount]] = {}
    for f in report.files:
        by_source.setdefault(f.source_id, []).append(f)
    for source, files in by_source.items():
        table.add_row(
            source,
            str(len(files)),
            *(
                f"{sum(getattr(f, k) for f in files):,}"
                for k in ("records_in", "accepted", "flagged", "quarantined")
            ),
        )
    console.print(table)
    already = sum(f.status == "already ingested" for f in report.files)
    if already:
        console.print(f"{already} file(s) were ingested before and added nothing.")


def _print_accounts(files: list[FileAccount]) -> None:
    table = Table(title="Ingest: every record accounted for")
    counts = ("in", "accepted", "flagged", "quarantined", "not used")
    for column in ("source", "file", *counts, "status"):
        table.add_column(column, justify="right" if column in counts else "left")
    for f in files:
        table.add_row(
            f.source_id,
            Path(f.path).name,
            f"{f.records_in:,}",
            f"{f.accepted:,}",
            f"{f.flagged:,}",
            f"{f.quarantined:,}",
            f"{f.not_used:,}",
            f.status,
        )
    console.print(table)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def quality_command(data: DataOption = None, as_json: JsonOption = False) -> None:
    """Data quality per feed: completeness, validity, and why records were quarantined."""
    from neighbourhood.ingest.quality import quality_report
    from neighbourhood.warehouse import open_warehouse

    data_dir = resolve_data_dir(data)
    wh = open_warehouse(data_dir, read_only=True)
    sources = registry.load(data_dir) if (data_dir / registry.REGISTRY_FILE).exists() else []
    try:
        report = quality_report(wh, sources)
    finally:
        wh.close()
    if as_json:
        print_json(report)
        return
    table = Table(title="Data quality by feed")
    for column in (
        "feed",
        "records",
        "NHS no.",
        "NHS no. valid",
        "DOB",
        "postcode",
        "ethnicity",
        "codes valid",
        "events, no record",
        "quarantined",
        "not used",
    ):
        table.add_column(column, justify="left" if column == "feed" else "right")
    for feed, f in report["feeds"].items():
        table.add_row(
            feed,
            f"{f.get('records', 0):,}",
            _pct(f.get("nhs_number_complete")),
            _pct(f.get("nhs_number_valid")),
            _pct(f.get("date_of_birth_complete")),
            _pct(f.get("postcode_complete")),
            _pct(f.get("ethnicity_complete")),
            _pct(f.get("code_validity")),
            f"{f.get('events_without_a_record') or 0:,}",
            f"{f.get('quarantined') or 0:,}",
            f"{f.get('not_used') or 0:,}",
        )
    console.print(table)
    for feed, f in report["feeds"].items():
        for reason, n in sorted(f.get("quarantine_reasons", {}).items(), key=lambda kv: -kv[1]):
            console.print(f"  {feed}: {n:,} × {reason}", highlight=False)


link_app = typer.Typer(
    help="Resolve every accepted source record to a person, and review the uncertain pairs.",
    invoke_without_command=True,
)


@link_app.callback()
def link_command(
    ctx: typer.Context,
    data: DataOption = None,
    evaluate: Annotated[
        bool, typer.Option("--evaluate", help="Measure the linkage against a ground truth.")
    ] = False,
    truth: Annotated[
        Path | None,
        typer.Option(
            "--truth",
            help="synth's truth directory (default: DATA/truth), or a CSV file with columns "
            "source, record_key, entity_id and any group columns "
            "(docs/reference/linkage-truth.md).",
            show_default=False,
        ),
    ] = None,
    engine: EngineOption = EngineName.duckdb,
    as_json: JsonOption = False,
) -> None:
    """Link records: NHS number with date of birth first, then Splink for the rest.

    With --evaluate, print blocking recall (the share of true pairs ever compared) and
    pairwise precision, recall and F1 against a ground truth, overall and by group: synth's
    ethnic group, deprivation quintile, age band and sex, or a truth file's own groups.
    """
    if ctx.invoked_subcommand is not None:
        return
    import logging

    from neighbourhood.config import truth_dir
    from neighbourhood.linkage.evaluate import evaluate as measure
    from neighbourhood.linkage.run import run_link

    logging.getLogger("splink").setLevel(logging.ERROR)
    data_dir = resolve_data_dir(data)
    with progress_bar(f"Linking records on {engine.value}", 1, as_json) as bar:
        report = run_link(data_dir, engine=engine.value)
        bar.advance(bar.task_ids[0])
    payload: dict[str, Any] = {"link": report.as_dict()}
    if evaluate:
        payload["evaluation"] = measure(data_dir, truth or truth_dir(data_dir))
    if as_json:
        print_json(payload)
        return
    console.print(
        f"Linked {report.records:,} record{'' if report.records == 1 else 's'} into "
        f"{report.persons:,} {'person' if report.persons == 1 else 'people'} "
        f"({report.comparisons:,} comparisons after blocking; {report.merges} merges, "
        f"{report.splits} splits since the last run; {report.to_review} pairs to review) "
        f"in {report.seconds:.1f} s"
    )
    if evaluate:
        _print_evaluation(payload["evaluation"])


def run_link_and_evaluate(
    data_dir: Path, truth: Path, quiet: bool
) -> tuple[LinkReport, dict[str, Any]]:
    """Link, then measure against the ground truth (the demo's last steps)."""
    import logging

    from neighbourhood.linkage.evaluate import evaluate as measure
    from neighbourhood.linkage.run import run_link

    logging.getLogger("splink").setLevel(logging.ERROR)
    with progress_bar("Linking records", 1, quiet) as bar:
        report = run_link(data_dir)
        bar.advance(bar.task_ids[0])
    return report, measure(data_dir, truth)


@link_app.command("review")
def review_command(
    data: DataOption = None,
    same: Annotated[
        str | None,
        typer.Option("--same", help="Decide that pair PAIR is one person.", metavar="PAIR"),
    ] = None,
    different: Annotated[
        str | None,
        typer.Option("--different", help="Decide that pair PAIR is two people.", metavar="PAIR"),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List record pairs the model was unsure of, or record a decision on one.

    Decisions persist and win over the model on the next 'neighbourhood link'.
    """
    from neighbourhood.linkage.run import decide, pending_review

    data_dir = resolve_data_dir(data)
    if same and different:
        raise UserError("give --same or --different, not both")
    if same or different:
        decide(data_dir, str(same or different), same_person=bool(same))
        console.print(
            f"Recorded: pair {same or different} is "
            f"{'one person' if same else 'two people'}; run 'neighbourhood link' to apply it"
        )
        return
    pairs = pending_review(data_dir)
    if as_json:
        print_json({"pairs": pairs})
        return
    table = Table(title=f"{len(pairs)} pair(s) to review")
    for column in ("pair", "probability", "first record", "second record"):
        table.add_column(column)
    for p in pairs:
        table.add_row(
            p["pair"],
            probability_text(p["match_probability"]),
            describe_record(p["left"]),
            describe_record(p["right"]),
        )
    console.print(table)


MISSING = "(missing)"


def probability_text(value: float) -> str:
    """Four places, cut rather than rounded: 0.89996 reads 0.8999, never the 0.9 threshold."""
    from neighbourhood.linkage.evaluate import cut

    return f"{cut(value):.4f}"


def describe_record(record: dict[str, Any]) -> str:
    """One record as a reviewer reads it; a field the partner left empty says so."""

    def shown(key: str) -> str:
        value = record.get(key)
        return MISSING if value is None or str(value).strip() == "" else str(value)

    name = f"{shown('given_name')} {shown('family_name')}"
    if record.get("given_name") is None and record.get("family_name") is None:
        name = "name (missing)"
    return (
        f"{name}, born {shown('date_of_birth')}, postcode {shown('postcode')}, "
        f"address {shown('address')} ({record['record'].split('|')[0]})"
    )


def _print_evaluation(result: dict[str, Any]) -> None:
    table = Table(title="Linkage against the ground truth")
    for column in (
        "group",
        "records",
        "people",
        "true pairs",
        "blocking recall",
        "precision",
        "recall",
        "F1",
    ):
        table.add_column(column, justify="left" if column == "group" else "right")

    def row(label: str, m: dict[str, Any]) -> None:
        table.add_row(
            label,
            f"{m['records']:,}",
            f"{m['true_people']:,}",
            f"{m['true_pairs']:,}",
            figure(m["blocking_recall"]),
            figure(m["pairwise_precision"]),
            figure(m["pairwise_recall"]),
            figure(m["f1"]),
        )

    row("overall", result["overall"])
    for group, values in result["by_group"].items():
        for value, metrics in values.items():
            row(f"{group}: {value}", metrics)
    console.print(table)
    naive = result.get("naive_baseline")
    if naive:
        console.print(
            f"How hard the data is: linking on {naive['rule']} alone gives precision "
            f"{figure(naive['pairwise_precision'])}, recall {figure(naive['pairwise_recall'])}, "
            f"F1 {figure(naive['f1'])}."
        )
    if result.get("truth_records_not_linked"):
        console.print(
            f"{result['truth_records_not_linked']:,} record(s) in the truth are not in the "
            "warehouse and were left out (check their source and record_key)."
        )
