"""Logs carry counts and timings, never a person's NHS number or name."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.support.extracts import truth_rows
from tests.support.synthetic import synthesise


def test_no_log_line_holds_an_nhs_number_or_a_name(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        summary = synthesise(tmp_path, 800, chunk_size=200, workers=1)
    persons = truth_rows(summary.truth, "persons")
    assert "synthetic ICS written: 800 people" in caplog.text
    assert len(caplog.records) >= 5
    for person in persons:
        assert person["nhs_number"] not in caplog.text
        assert f"{person['given_name']} {person['family_name']}" not in caplog.text
