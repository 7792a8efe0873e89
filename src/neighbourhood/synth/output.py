"""What synth leaves in its directories besides the data: a marker (so a run never
removes someone else's files), the manifest of what was written, and the feeds'
entries in the source registry."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import orjson

from neighbourhood import operational, registry
from neighbourhood.errors import UserError
from neighbourhood.synth.feeds import (
    to_sources,
)
from neighbourhood.synth.world import SynthSummary, World

MANIFEST = "manifest.json"


MARKER = ".written-by-neighbourhood-synth"


def check_directory(path: Path, what: str) -> None:
    """Refuse a file, or a directory of someone else's files, before anything is removed."""
    if path.exists() and not path.is_dir():
        raise UserError(f"{path} is a file; the {what} need a directory there")
    written_by_synth = any(
        (path / name).exists() for name in (MARKER, MANIFEST, "persons.csv.gz", "persons.csv")
    )
    if path.is_dir() and any(path.iterdir()) and not written_by_synth:
        raise UserError(
            f"{path} is not empty and was not written by 'neighbourhood synth'; "
            "choose another directory or empty it"
        )


def reset_directory(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot create {path}: {error.strerror}") from error
    # Marks the directory as synth's before anything else is written, so that a run cut
    # short can be run again into the same place.
    (path / MARKER).write_text("written by 'neighbourhood synth'; safe to delete\n")


def write_manifest(world: World, summary: SynthSummary) -> None:
    options = world.options
    manifest = {
        "generator": "neighbourhood synth",
        "ics": world.geo.ics_name,
        "seed": options.seed,
        "people": options.people,
        "period": {"start": options.start_date.isoformat(), "end": options.end_date.isoformat()},
        "defect_rates": options.defects.as_dict(),
        "feeds": [
            feed.describe()
            | {"files": sorted(p.name for p in (options.out / feed.feed_id).iterdir())}
            for feed in world.feeds
        ],
    }
    (options.out / MANIFEST).write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    (options.truth / "summary.json").write_bytes(
        orjson.dumps(_reproducible(summary.as_dict()), option=orjson.OPT_INDENT_2)
    )


def write_registry(world: World, data_dir: Path) -> None:
    """Declare synth's feeds in the data directory's sources.toml, replacing its earlier ones."""
    out = world.options.out.resolve()
    try:
        extracts = out.relative_to(data_dir.resolve()).as_posix()
    except ValueError:
        extracts = out.as_posix()
    expires = world.options.end_date.replace(year=world.options.end_date.year + 3, day=1)
    mine = to_sources(world.feeds, extracts, expires)
    if world.options.rollout is not None:
        mine.append(
            operational.source(
                f"{extracts}/{operational.SOURCE_ID}",
                "ZZ0",
                "Integrated neighbourhood teams' record (synthetic)",
                expires,
            )
        )
    ids = {source.id for source in mine}
    path = data_dir / registry.REGISTRY_FILE
    existing = registry.load(data_dir) if path.exists() else []
    # This run's feeds replace any of the same name, or from the same extracts directory.
    others = [s for s in existing if s.id not in ids and not s.path.startswith(extracts + "/")]
    registry.save(data_dir, others + mine)


def _reproducible(figures: dict[str, Any]) -> dict[str, Any]:
    """The summary without what differs from run to run (timings, paths)."""
    varying = {"seconds", "people_per_second", "peak_memory_mb", "out", "truth"}
    return {k: v for k, v in figures.items() if k not in varying}
