from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from neighbourhood.ingest.run import IngestReport, ingest
from neighbourhood.synth import DefectRates, SynthSummary
from tests.conftest import synthesise


@dataclass
class Ingested:
    data: Path
    synth: SynthSummary
    report: IngestReport


@pytest.fixture(scope="session")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Ingested:
    """A synthetic ICS with 2% malformed records, ingested once."""
    data = tmp_path_factory.mktemp("ingested")
    summary = synthesise(
        data,
        1_500,
        neighbourhood_size=100,
        chunk_size=600,
        defects=DefectRates().with_settings(["malformed_record=0.02"]),
    )
    report = ingest(data, workers=2, today=dt.date(2026, 11, 24))
    return Ingested(data, summary, report)
