from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest

from neighbourhood.ingest.run import ingest
from tests.support.extracts import truth_rows
from tests.support.synthetic import synthesise


def test_ingest_logs_never_hold_an_nhs_number_or_a_name(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    summary = synthesise(tmp_path, 400)
    with caplog.at_level(logging.DEBUG):
        ingest(tmp_path, workers=1, today=dt.date(2026, 11, 24))
    assert "accepted" in caplog.text
    for person in truth_rows(summary.truth, "persons"):
        assert person["nhs_number"] not in caplog.text
        assert person["family_name"] not in caplog.text.split()
