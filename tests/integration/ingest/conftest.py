"""One synthetic ICS with 2% malformed records, ingested once for the tests here that
only read it."""

from __future__ import annotations

import pytest

from tests.support.synthetic import Ingested, ingested_ics


@pytest.fixture(scope="session")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Ingested:
    return ingested_ics(tmp_path_factory.mktemp("ingested"))
