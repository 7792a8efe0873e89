"""One synthetic ICS, ingested, linked and refreshed once for every population health test."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from neighbourhood.ingest.run import ingest
from neighbourhood.linkage.run import run_link
from neighbourhood.phm.refresh import refresh
from tests.conftest import synthesise


@pytest.fixture(scope="package")
def refreshed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("phm")
    synthesise(data, 8_000, seed=21, workers=2)
    ingest(data, workers=2, today=dt.date(2026, 11, 24))
    run_link(data)
    refresh(data)
    return data
