"""Every test here runs against the shared published ICS, on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _application(data_dir: Path, jinja_rendered_signal: None) -> None:
    """The application reads the shared published ICS; its pages tell the test client
    what they were drawn with."""
