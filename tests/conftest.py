"""Fixtures shared by every kind of test."""

from __future__ import annotations

from pathlib import Path

import pytest

from neighbourhood.synth import DefectRates, SynthOptions, SynthSummary, run_synth


def synthesise(tmp: Path, people: int, seed: int = 7, **kwargs: object) -> SynthSummary:
    """A synthetic ICS in ``tmp`` as a data directory: extracts, truth and sources.toml."""
    options = SynthOptions(
        people=people,
        seed=seed,
        out=tmp / "extracts",
        truth=tmp / "truth",
        registry=tmp,
        **kwargs,  # type: ignore[arg-type]
    )
    return run_synth(options)


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
