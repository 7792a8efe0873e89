"""Stable person ids, on tiny hand-written clusters."""

from __future__ import annotations

from neighbourhood.linkage.identities import assign


def test_new_people_get_new_ids_in_a_stable_order() -> None:
    ids = assign({"c1": ["a", "b"], "c2": ["c"]}, {}, 1)
    assert ids.person_of == {"a": "N000000001", "b": "N000000001", "c": "N000000002"}
    assert ids.changes == []


def test_a_person_keeps_their_id_when_a_record_joins() -> None:
    previous = {"a": "N000000007", "b": "N000000007"}
    ids = assign({"x": ["a", "b", "new"]}, previous, 8)
    assert set(ids.person_of.values()) == {"N000000007"}
    assert ids.changes == []


def test_a_merge_keeps_the_larger_persons_id_and_is_recorded() -> None:
    previous = {"a": "N1", "b": "N1", "c": "N2"}
    ids = assign({"x": ["a", "b", "c"]}, previous, 3)
    assert set(ids.person_of.values()) == {"N1"}
    assert ids.changes == [("merge", "N1", "N2", 1)]


def test_a_split_keeps_the_id_on_the_larger_part_and_is_recorded() -> None:
    previous = {"a": "N1", "b": "N1", "c": "N1"}
    ids = assign({"x": ["a", "b"], "y": ["c"]}, previous, 2)
    assert ids.person_of["a"] == ids.person_of["b"] == "N1"
    assert ids.person_of["c"] == "N000000002"
    assert ids.changes == [("split", "N1", "N000000002", 1)]
