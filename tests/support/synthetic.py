"""Synthetic ICSs made by our own ``synth``, for the integration and system layers: as a
data directory, ingested, or carried through the whole pipeline to a publish."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

from neighbourhood.config import published_dir as published_folder
from neighbourhood.ingest.run import IngestReport, ingest
from neighbourhood.linkage.run import run_link
from neighbourhood.phm.publish import publish
from neighbourhood.phm.refresh import refresh
from neighbourhood.synth import DefectRates, SynthOptions, SynthSummary, run_synth

TODAY = dt.date(2026, 11, 24)


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


@dataclass
class Ingested:
    data: Path
    synth: SynthSummary
    report: IngestReport


def ingested_ics(data: Path) -> Ingested:
    """1,500 people with 2% malformed records, ingested."""
    summary = synthesise(
        data,
        1_500,
        neighbourhood_size=100,
        chunk_size=600,
        defects=DefectRates().with_settings(["malformed_record=0.02"]),
    )
    return Ingested(data, summary, ingest(data, workers=2, today=TODAY))


def refreshed_ics(data: Path) -> Path:
    """8,000 people, ingested, linked and refreshed: enough for the method's statistics."""
    synthesise(data, 8_000, seed=21, workers=2)
    ingest(data, workers=2, today=TODAY)
    run_link(data)
    refresh(data)
    return data


def published_ics(
    root: Path, people: int = 1_200, seed: int = 11, neighbourhood_size: int = 400
) -> Path:
    """By default 1,200 people in three neighbourhoods, through the whole pipeline to a
    publish."""
    synthesise(root, people, seed=seed, neighbourhood_size=neighbourhood_size, workers=2)
    ingest(root, workers=2, today=TODAY)
    run_link(root)
    refresh(root, seed=seed)
    publish(root)
    return root


def copy_of(data: Path, into: Path, *, only_published: bool = False) -> Path:
    """A test's own copy of a shared data directory, so what it changes no other test sees.

    The extracts and the truth, which nothing writes to, are linked rather than copied."""
    target = into / "data"
    if only_published:
        shutil.copytree(published_folder(data), published_folder(target))
        return target
    shutil.copytree(data, target, ignore=shutil.ignore_patterns("extracts", "truth"))
    for shared in ("extracts", "truth"):
        if (data / shared).is_dir():
            (target / shared).symlink_to((data / shared).resolve(), target_is_directory=True)
    return target
