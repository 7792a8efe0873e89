"""The same seed and options give byte-identical output, however many workers run."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.support.synthetic import synthesise


def digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_byte_identical_files_with_one_or_two_workers(tmp_path: Path) -> None:
    synthesise(tmp_path / "one", 1_200, seed=3, chunk_size=400, neighbourhood_size=300, workers=1)
    synthesise(tmp_path / "two", 1_200, seed=3, chunk_size=400, neighbourhood_size=300, workers=2)
    one, two = digests(tmp_path / "one"), digests(tmp_path / "two")
    assert len(one) > 20
    assert one == two


def test_another_seed_gives_other_people(tmp_path: Path) -> None:
    synthesise(tmp_path / "a", 500, seed=1)
    synthesise(tmp_path / "b", 500, seed=2)
    a, b = digests(tmp_path / "a"), digests(tmp_path / "b")
    assert a["truth/persons.csv.gz"] != b["truth/persons.csv.gz"]


def test_rerunning_into_the_same_directory_replaces_the_previous_output(tmp_path: Path) -> None:
    synthesise(tmp_path, 400, seed=5)
    first = digests(tmp_path)
    synthesise(tmp_path, 400, seed=5)
    assert digests(tmp_path) == first
