"""Fixtures every layer may ask for; each is made only when a test asks for it.

What goes where: TESTING.md."""

from __future__ import annotations

from tests.support.web import (  # noqa: F401  (fixtures, registered by being here)
    audit_anchor,
    data_dir,
    django_db_modify_db_settings,
    jinja_rendered_signal,
    postgres_server,
    published_dir,
)
