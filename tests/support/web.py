"""The web application's test set-up: a throwaway PostgreSQL 15 server, and a small
published refresh made by the real pipeline (synth, ingest, link, refresh, publish).

The session-wide fixtures are made only when a test asks for them; the per-test ones
are used by the conftest of each layer that tests the application.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from neighbourhood import keyfiles
from neighbourhood.bench.postgres import Server, running
from tests.support.synthetic import published_ics

# Playwright's sync API runs an event loop in the test's thread; the ORM calls the tests
# make there are synchronous all the same.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Server]:
    # Not under pytest's temporary folders: as root those are closed to the postgres user.
    with running() as server:
        yield server


@pytest.fixture(scope="session")
def django_db_modify_db_settings(postgres_server: Server) -> None:
    from django.conf import settings
    from django.db import connections

    config = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "neighbourhood",
        "USER": postgres_server.user,
        "HOST": postgres_server.host,
        "PORT": str(postgres_server.port),
        "PASSWORD": "",
        "CONN_MAX_AGE": 0,
        "OPTIONS": {},
        "TEST": {"NAME": "test_neighbourhood"},
    }
    default = settings.DATABASES["default"]  # the very dict the connection holds
    default.clear()
    default.update(config)
    connections.configure_settings(settings.DATABASES)  # Django's defaults, in place
    connections["default"].close()
    del connections["default"]  # the next use makes a PostgreSQL connection


@pytest.fixture(scope="session")
def published_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shared by every test of the application: read it, never write to it (copy_of)."""
    return published_ics(tmp_path_factory.mktemp("care-ics"))


@pytest.fixture
def data_dir(settings: Any, published_dir: Path) -> Path:
    """The application's data directory, for a test of its pages."""
    settings.DATA_DIR = published_dir
    return published_dir


@pytest.fixture
def jinja_rendered_signal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tell Django's test client what a Jinja2 page was drawn with, as Django's test
    set-up does for its own engine, so a test can read ``response.context``."""
    from django.template.backends import jinja2 as backend
    from django.test.signals import template_rendered

    draw = backend.Template.render

    def render(self: Any, context: Any = None, request: Any = None) -> Any:
        template_rendered.send(sender=self, template=self, context=dict(context or {}))
        return draw(self, context, request)

    monkeypatch.setattr(backend.Template, "render", render)


@pytest.fixture
def audit_anchor(settings: Any, tmp_path: Path) -> Path:
    """A test's own audit key and checkpoint file: the database is emptied after every
    test, and so must its anchor be."""
    key = tmp_path / "keys" / "audit-chain.key"
    keyfiles.random_key(key, "audit key")  # made here: a named key file must exist
    checkpoints = tmp_path / "audit" / "checkpoints.log"
    settings.AUDIT_KEY_FILE, settings.AUDIT_CHECKPOINTS = str(key), str(checkpoints)
    return checkpoints


@pytest.fixture(autouse=True)
def application(
    data_dir: Path, jinja_rendered_signal: None, audit_anchor: Path, settings: Any
) -> None:
    """For a layer whose every test uses the application (imported by its conftest): it
    reads the shared published ICS, its audit trail has its own key and anchor, and its
    pages tell the test client what they were drawn with. A second factor is optional, as
    in the demo; the tests of two-factor sign-in require it."""
    settings.TWO_FACTOR_REQUIRED = False
