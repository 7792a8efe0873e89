"""``neighbourhood serve``, ``neighbourhood audit verify`` and ``neighbourhood manage``:
the web application, started from the command line (Django stays inside ``care``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from neighbourhood.cli.options import DataOption, JsonOption
from neighbourhood.cli.output import console, error_line, print_json
from neighbourhood.config import resolve_data_dir
from neighbourhood.errors import UserError

audit_app = typer.Typer(help="The audit trail of the web application.", no_args_is_help=True)

HostOption = Annotated[str, typer.Option("--host", help="Address to listen on.")]
PortOption = Annotated[int, typer.Option("--port", help="Port to listen on.", min=1, max=65535)]
WorkersOption = Annotated[
    int, typer.Option("--workers", help="Worker processes (0: one per core).", min=0)
]


def start(data_dir: Path, production: bool = False, serving: bool = True) -> Any:
    from neighbourhood.care import server

    server.configure(data_dir.resolve(), production)
    server.prepare(collect_static=serving)
    return server


def serve_command(
    data: DataOption = None,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    workers: WorkersOption = 0,
    production: Annotated[
        bool,
        typer.Option(
            "--production", help="Production settings: TLS only, secret key from the environment."
        ),
    ] = False,
) -> None:
    """Serve the web application (gunicorn; static files served) until Ctrl-C."""
    server = start(resolve_data_dir(data), production)
    run(server, host, port, workers)


def run(server: Any, host: str, port: int, workers: int) -> None:
    count = server.server_workers(workers)
    console.print(
        f"Serving on [bold]http://{host}:{port}/[/bold] with {count} workers. Ctrl-C stops."
    )
    server.serve(host, port, count)


def print_demo_users(users: list[Any], host: str, port: int) -> None:
    table = Table(title=f"Sign in at http://{host}:{port}/ as one of these demo users")
    # Usernames and passwords are never cut short, however narrow the terminal.
    widest = max((len(u.password) for u in users), default=8)
    table.add_column("Username", no_wrap=True, min_width=max(len(u.username) for u in users))
    table.add_column("Password", no_wrap=True, min_width=widest)
    for column in ("Role", "Name", "Teams"):
        table.add_column(column, overflow="fold")
    for user in users:
        table.add_row(user.username, user.password, user.role, user.name, user.teams)
    console.print(table)
    console.print(
        "Passwords are new on every run of 'neighbourhood demo'. A second factor is "
        "optional here; outside the demo, the roles that see people's records set one up "
        "when they first sign in."
    )


@audit_app.command("verify")
def audit_verify(
    data: DataOption = None,
    as_json: JsonOption = False,
    checkpoints: Annotated[
        Path | None,
        typer.Option(
            "--checkpoints",
            help="Verify against a copy of the checkpoint file kept elsewhere (read only).",
        ),
    ] = None,
) -> None:
    """Check the audit trail: any edited, deleted, reordered, cut or recomputed entry is
    named, and the trail is compared with every signed checkpoint kept outside the
    database. An intact trail's head is anchored with a new checkpoint."""
    if checkpoints is not None and not checkpoints.is_file():
        raise UserError(f"{checkpoints} is not a file: name a copy of the checkpoint file")
    server = start(resolve_data_dir(data), serving=False)
    result = server.verify_audit(checkpoints)
    if as_json:
        print_json(
            {
                "checked": result.checked,
                "intact": result.intact,
                "checkpoints": result.checkpoints,
                "anchored": result.anchored.seq if result.anchored else None,
                "breaks": [
                    {"entry": b.seq, "checkpoint_line": b.line or None, "problem": b.problem}
                    for b in result.breaks
                ],
            }
        )
    elif result.intact:
        console.print(
            f"The audit trail is intact: {result.checked:,} entries checked against "
            f"{result.checkpoints:,} checkpoint{'' if result.checkpoints == 1 else 's'}."
        )
        if result.anchored is not None:
            console.print(
                f"Its head (entry {result.anchored.seq:,}) is anchored in "
                f"{server.checkpoints_path()}: keep a copy of that file elsewhere."
            )
    else:
        for found in result.breaks[:50]:
            error_line(f"{found.where}: {found.problem}")
        console.print(
            f"{len(result.breaks):,} breaks in {result.checked:,} entries: the trail was "
            "tampered with. Keep a copy of the database and of the checkpoint file, and "
            "tell your IG lead."
        )
    if not result.intact:
        raise typer.Exit(1)


def reviews_command(data: DataOption = None, as_json: JsonOption = False) -> None:
    """Raise a review of each care plan whose person had an emergency admission or an A&E
    attendance since their last review, moved to a worse frailty category or has a new
    long-term condition, as the current published refresh says: a task for their care
    coordinator, naming the event. Run it after each 'neighbourhood publish'; the web
    application also runs it when it starts on a version not yet scanned. Each event
    raises one review, however often this runs."""
    server = start(resolve_data_dir(data), serving=False)
    raised = server.raise_reviews()
    if as_json:
        print_json({"raised": raised})
    else:
        console.print(
            f"Raised {raised:,} review{'' if raised == 1 else 's'} from the published refresh."
        )


def manage_command(
    context: typer.Context,
    data: DataOption = None,
    production: Annotated[
        bool, typer.Option("--production", help="With the production settings.")
    ] = False,
) -> None:
    """Run one of Django's management commands (e.g. 'createsuperuser', 'check --deploy')."""
    from neighbourhood.care import server

    server.configure(resolve_data_dir(data).resolve(), production)
    server.manage(list(context.args))


directory_app = typer.Typer(help="The directory of services referrals go to.", no_args_is_help=True)


@directory_app.command("import")
def directory_import_command(
    file: Annotated[Path, typer.Argument(help="An Open Referral UK (HSDS) JSON file.")],
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help="Every service of this kind (e.g. vcfse, reablement); by default from each "
            "service's taxonomy terms, else vcfse.",
            show_default=False,
        ),
    ] = None,
    catchment: Annotated[
        str,
        typer.Option(
            "--catchment", help="Neighbourhood codes served, comma-separated (default: all)."
        ),
    ] = "",
    respond_hours: Annotated[
        int | None,
        typer.Option("--respond-hours", min=1, help="Hours promised from receipt to a decision."),
    ] = None,
    contact_hours: Annotated[
        int | None,
        typer.Option("--contact-hours", min=1, help="Hours promised from acceptance to contact."),
    ] = None,
    data: DataOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import services from an Open Referral UK file (either profile; a service, a list or a
    page of them). Services are matched by their id, so importing again updates them. One
    bad service and nothing is imported: every problem is named by its place in the file."""
    server = start(resolve_data_dir(data), serving=False)
    options = server.directory_options(
        kind=kind,
        catchment=tuple(c.strip() for c in catchment.split(",") if c.strip()),
        respond_hours=respond_hours,
        contact_hours=contact_hours,
    )
    made = server.import_directory(file, options)
    if as_json:
        print_json(
            {"created": made.created, "updated": made.updated, "organisations": made.organisations}
        )
    else:
        console.print(
            f"Imported {made.created:,} new and {made.updated:,} updated services; "
            f"{made.organisations:,} new organisations."
        )


returns_app = typer.Typer(
    help="National returns of the care record's activity.", no_args_is_help=True
)


@returns_app.command("csds")
def returns_csds_command(
    first: Annotated[str, typer.Option("--from", help="First day of the period (YYYY-MM-DD).")],
    last: Annotated[str, typer.Option("--to", help="Last day of the period (YYYY-MM-DD).")],
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write the two CSV files into.")
    ] = Path("returns"),
    data: DataOption = None,
    as_json: JsonOption = False,
) -> None:
    """Urgent community response referrals and virtual ward stays of a period, in the shape
    of the Community Services Data Set: two CSV files, described column by column in the
    project's reference docs. They are identifiable: send them only by your submission route."""
    period = (_day(first, "--from"), _day(last, "--to"))
    server = start(resolve_data_dir(data), serving=False)
    written = server.write_csds_returns(out, *period)
    if as_json:
        print_json(
            {
                "responses": written.responses,
                "stays": written.stays,
                "files": [str(p) for p in written.files],
            }
        )
        return
    console.print(
        f"Wrote {written.responses:,} urgent community response referrals and "
        f"{written.stays:,} virtual ward stays:"
    )
    for path in written.files:
        console.print(f"  {path}")


@returns_app.command("activity")
def returns_activity_command(data: DataOption = None, as_json: JsonOption = False) -> None:
    """The teams' own work (enrolments, assessments, care plans, MDT decisions, referrals,
    urgent community response visits, virtual ward admissions) as the operational feed,
    written into the data directory's extracts and declared in sources.toml, for the
    next 'neighbourhood ingest' and evaluation. Each export is the whole history."""
    data_dir = resolve_data_dir(data)
    server = start(data_dir, serving=False)
    written = server.export_activity(data_dir)
    if as_json:
        print_json(
            {"people": written.people, "activity": written.activity, "folder": str(written.folder)}
        )
        return
    console.print(
        f"Wrote the activity of {written.people:,} people to {written.folder}: "
        + ", ".join(f"{n:,} {k.lower()}" for k, n in sorted(written.activity.items()))
    )


def _day(text: str, option: str) -> Any:
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{option} takes a date like 2026-11-01, not {text!r}") from None


wards_app = typer.Typer(help="Virtual wards (hospital at home).", no_args_is_help=True)


@wards_app.command("readings")
def wards_readings_command(
    file: Annotated[Path, typer.Argument(help="A remote monitoring platform's CSV of readings.")],
    data: DataOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record remote monitoring readings (NHS number, when taken, the NEWS2 parameters) on
    the people's open virtual ward stays, each scored and escalated. One bad row and
    nothing is recorded: every problem is named by its line and column."""
    server = start(resolve_data_dir(data), serving=False)
    done = server.import_readings(file)
    if as_json:
        print_json({"readings": done.readings, "escalations": done.escalations})
    else:
        console.print(
            f"Recorded {done.readings:,} sets of readings; {done.escalations:,} need a "
            "clinician's review or response (see each ward's board)."
        )
