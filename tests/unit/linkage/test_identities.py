"""Stable person ids, on tiny hand-written clusters."""

from __future__ import annotations

import re
from collections.abc import Iterator

from neighbourhood.linkage.identities import assign, random_person_ids


def numbered() -> Iterator[str]:
    return (f"T{n}" for n in range(1, 1000))


def test_new_people_get_new_ids_in_a_stable_order() -> None:
    ids = assign({"c1": ["a", "b"], "c2": ["c"]}, {}, numbered)
    assert ids.person_of == {"a": "T1", "b": "T1", "c": "T2"}
    assert ids.changes == []


def test_new_ids_are_random_and_never_reuse_one_in_use() -> None:
    ids = assign({f"c{i}": [f"r{i}"] for i in range(500)}, {}).person_of
    assert len(set(ids.values())) == 500
    assert all(re.fullmatch(r"P[0-9A-HJKMNP-TV-Z]{12}", pid) for pid in ids.values())
    first = next(random_person_ids())
    again = assign({"x": ["new"]}, {"old": "T1"}, lambda: iter(["T1", first])).person_of
    assert again == {"new": first}  # T1 belongs to someone already


def test_a_person_keeps_their_id_when_a_record_joins() -> None:
    previous = {"a": "N000000007", "b": "N000000007"}
    ids = assign({"x": ["a", "b", "new"]}, previous, numbered)
    assert set(ids.person_of.values()) == {"N000000007"}
    assert ids.changes == []


def test_a_merge_keeps_the_larger_persons_id_and_is_recorded() -> None:
    previous = {"a": "N1", "b": "N1", "c": "N2"}
    ids = assign({"x": ["a", "b", "c"]}, previous, numbered)
    assert set(ids.person_of.values()) == {"N1"}
    assert ids.changes == [("merge", "N1", "N2", 1)]


def test_a_split_keeps_the_id_on_the_larger_part_and_is_recorded() -> None:
    previous = {"a": "N1", "b": "N1", "c": "N1"}
    ids = assign({"x": ["a", "b"], "y": ["c"]}, previous, numbered)
    assert ids.person_of["a"] == ids.person_of["b"] == "N1"
    assert ids.person_of["c"] == "T1"
    assert ids.changes == [("split", "N1", "T1", 1)]
