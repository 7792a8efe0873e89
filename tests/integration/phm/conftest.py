"""One synthetic ICS, ingested, linked and refreshed once for the tests here that only
read it; a test that refreshes or publishes again does so on its own copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.synthetic import copy_of, refreshed_ics


@pytest.fixture(scope="package")
def refreshed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return refreshed_ics(tmp_path_factory.mktemp("phm"))


@pytest.fixture
def own_refreshed(refreshed: Path, tmp_path: Path) -> Path:
    """This test's own copy of the refreshed ICS, to refresh or publish again."""
    return copy_of(refreshed, tmp_path)
