"""The published refresh as the application reads it: what a version gave is kept, and
given again, only until a newer version is published."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb

from neighbourhood.care import published
from neighbourhood.config import published_dir as folder_of
from tests.support.people import listed


def _copy(published_dir: Path, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(folder_of(published_dir), folder_of(data))
    return data


def test_a_kept_answer_is_a_copy_and_a_new_version_replaces_it(
    published_dir: Path, tmp_path: Path, settings: Any
) -> None:
    data = _copy(published_dir, tmp_path)
    settings.DATA_DIR = data
    person = listed(published_dir, "ZU0001")[0]["person_id"]
    first = published.profile(person)
    assert first is not None
    first["family_name"] = "Changed by a view"
    again = published.profile(person)
    assert again is not None and again["family_name"] != "Changed by a view"

    pointer = folder_of(data) / "current.json"
    current = json.loads(pointer.read_text(encoding="utf-8"))
    newer = "v9999.duckdb"
    shutil.copy(folder_of(data) / current["file"], folder_of(data) / newer)
    with duckdb.connect(str(folder_of(data) / newer)) as con:
        con.execute(
            "UPDATE person_profiles SET family_name = 'Republished' WHERE person_id = ?", [person]
        )
    pointer.write_text(json.dumps({**current, "file": newer}), encoding="utf-8")
    latest = published.profile(person)
    assert latest is not None and latest["family_name"] == "Republished"
