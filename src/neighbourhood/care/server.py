"""Starting the web application from the command line: settings, database, static files,
demo users, the WSGI server, and verifying the audit trail.

The CLI calls these; it never imports Django itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from neighbourhood.errors import UserError

SETTINGS = "neighbourhood.care.settings"
PRODUCTION_SETTINGS = "neighbourhood.care.settings.production"


def server_workers(requested: int) -> int:
    """One worker process a core unless told otherwise: a page is CPU work (templates, the
    ORM, DuckDB in process) with sub-millisecond database round trips, so more processes
    than cores only contend for them (ADR 13 has the measurements)."""
    return requested or (os.cpu_count() or 1)


def configure(data_dir: Path, production: bool = False) -> None:
    """Point Django at this data directory and set it up (once per process)."""
    import django

    os.environ["NEIGHBOURHOOD_DATA"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = PRODUCTION_SETTINGS if production else SETTINGS
    django.setup()


def prepare(collect_static: bool = True) -> None:
    """Bring the database up to date and gather static files; refuse to start without
    the NHS.UK frontend, with the command that installs it."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    css = Path(settings.NHSUK_FRONTEND) / "nhsuk-frontend.min.css"
    if collect_static and not css.exists():
        raise UserError(
            f"the NHS.UK frontend is not installed ({css} is missing): run 'npm ci' in the "
            "project's folder, or set NEIGHBOURHOOD_FRONTEND to the node_modules folder "
            "that has it"
        )
    from neighbourhood.care.audit import anchor

    anchor.check()  # the audit key and checkpoint file, before any page is audited
    call_command("migrate", interactive=False, verbosity=0)
    if collect_static:
        call_command("collectstatic", interactive=False, verbosity=0)
        raise_reviews(only_if_new=True)  # a version published while the server was down
    from neighbourhood.care import published

    connections.close_all()  # no connection may cross the fork into the workers
    published.close()


def serve(host: str, port: int, workers: int) -> None:
    """Run the application under gunicorn until interrupted."""
    from gunicorn.app.base import BaseApplication

    from neighbourhood.care.wsgi import application

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options = {
                "bind": f"{host}:{port}",
                "workers": workers,
                "accesslog": None,  # URLs carry person ids: we audit instead of logging
                "errorlog": "-",
                "loglevel": "warning",
                "timeout": 60,
                "post_worker_init": _deliver_in_background,
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return application

    Server().run()


def _deliver_in_background(worker: Any) -> None:
    """Each worker delivers subscription notifications on a thread of its own: they take
    turns by subscription (a locked row is skipped), so two never send the same one."""
    import threading

    from neighbourhood.care.fhirapi import notify

    threading.Thread(target=notify.run_forever, name="fhir-notifications", daemon=True).start()


def verify_audit(checkpoints: Path | None = None) -> Any:
    from neighbourhood.care.audit.chain import verify

    return verify(checkpoints)


def checkpoints_path() -> Path:
    from neighbourhood.care.audit.anchor import checkpoints_path as path

    return path()


def raise_reviews(only_if_new: bool = False) -> int | None:
    """Raise a review task for each plan with events since its last review in the current
    published refresh; None when ``only_if_new`` and this version was scanned already."""
    from neighbourhood.care.plans import reviews

    return reviews.scan_if_new() if only_if_new else reviews.raise_reviews()


def setup_demo() -> list[Any]:
    from neighbourhood.care.teams.demo import setup_demo as setup

    return setup()


def setup_demo_partner() -> dict[str, Any]:
    """The demo's example partner system on the FHIR API, and where its key is."""
    from django.conf import settings

    from neighbourhood.care.fhirapi import demo

    return demo.setup(Path(settings.DATA_DIR) / "keys")


def register_api_client(
    *, name: str, organisation: str, teams: list[str], scopes: list[str], keys: Path
) -> Any:
    """Register a partner's system from the command line (the IG lead's page does the same)."""
    import json

    from neighbourhood.care.fhirapi import clients
    from neighbourhood.care.teams.models import Organisation, Team

    found = Organisation.objects.filter(ods_code=organisation).first()
    if found is None:
        raise UserError(f"no organisation has the ODS code {organisation!r}")
    chosen = []
    for name_ in teams:
        team = Team.objects.filter(name=name_).first()
        if team is None:
            raise UserError(f"no team is called {name_!r}")
        chosen.append(team)
    try:
        jwks = json.loads(keys.read_text(encoding="utf-8"))
    except OSError as error:
        raise UserError(f"cannot read {keys}: {error.strerror}") from None
    except ValueError as error:
        raise UserError(f"{keys} is not JSON: {error}") from None
    return clients.register(
        name=name,
        organisation=found,
        teams=chosen,
        scopes=scopes,
        jwks=jwks,
        by="neighbourhood fhir",
    )


def api_clients() -> list[Any]:
    from neighbourhood.care.fhirapi.models import Client

    return list(Client.objects.select_related("organisation").order_by("name"))


def deliver_notifications(once: bool, every: float) -> None:
    """Deliver subscription notifications: once, or every ``every`` seconds until stopped."""
    from neighbourhood.care.fhirapi import notify

    notify.run(every, once)


def manage(arguments: list[str]) -> None:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["neighbourhood manage", *arguments])


def import_directory(path: Path, options: Any) -> Any:
    """Import an Open Referral UK file into the directory of services (all or nothing)."""
    from neighbourhood.care.referrals import directory

    return directory.import_file(path, options)


def write_csds_returns(folder: Path, first: Any, last: Any) -> Any:
    """The period's urgent community response and virtual ward activity, as CSDS CSVs."""
    from neighbourhood.care.urgent import returns

    with _published_needed():
        return returns.write(folder, first, last, by="neighbourhood returns")


def export_activity(data_dir: Path) -> Any:
    """The teams' record as the operational feed, into the extracts (sources.toml too)."""
    from neighbourhood.care import export

    with _published_needed():
        return export.export(data_dir, by="operational export")


def import_readings(path: Path) -> Any:
    """Remote monitoring readings onto open virtual ward stays (all or nothing)."""
    from neighbourhood.care.urgent import monitoring

    with _published_needed():
        return monitoring.import_file(path)


@contextmanager
def _published_needed() -> Iterator[None]:
    """A command that reads people from the published refresh says so when there is none."""
    from neighbourhood.care import published

    try:
        yield
    except published.NotPublished:
        raise UserError(
            "no published refresh in this data directory: run 'neighbourhood refresh' and "
            "'neighbourhood publish' first"
        ) from None


def directory_options(**given: Any) -> Any:
    from neighbourhood.care.referrals import directory

    return directory.Options(**given)
