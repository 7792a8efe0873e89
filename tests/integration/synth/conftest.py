"""Synthetic ICSs of two sizes, made once for every test of synth's output."""

from __future__ import annotations

import pytest

from neighbourhood.synth import DefectRates, SynthSummary
from tests.support.synthetic import synthesise


@pytest.fixture(scope="session")
def small_ics(tmp_path_factory: pytest.TempPathFactory) -> SynthSummary:
    """1,500 people in three places (so two acute trusts), small enough to validate every resource."""
    root = tmp_path_factory.mktemp("small-ics")
    return synthesise(
        root,
        1_500,
        neighbourhood_size=100,
        chunk_size=600,
        defects=DefectRates().with_settings(["malformed_record=0.02"]),
    )


@pytest.fixture(scope="session")
def large_ics(tmp_path_factory: pytest.TempPathFactory) -> SynthSummary:
    """30,000 people: enough for epidemiology within stated tolerances."""
    root = tmp_path_factory.mktemp("large-ics")
    return synthesise(root, 30_000, seed=11, workers=2)
