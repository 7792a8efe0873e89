"""The timeline's words: every concept the synthetic catalogue codes events with has its
term in the shipped codelists, spelt as the catalogue spells it."""

from __future__ import annotations

from typing import Any

from neighbourhood.phm.codelists import codelists
from neighbourhood.phm.vocabulary import term, terms
from neighbourhood.synth import catalogue


def _concepts(value: Any) -> list[Any]:
    if isinstance(value, catalogue.Concept | catalogue.Condition):
        return [value]
    if isinstance(value, tuple | list | set):
        return [c for item in value for c in _concepts(item)]
    if isinstance(value, dict):
        return [c for item in value.values() for c in _concepts(item)]
    return []


def test_every_catalogue_concept_has_its_term() -> None:
    concepts = [c for name in dir(catalogue) for c in _concepts(getattr(catalogue, name))]
    assert len({c.code for c in concepts}) >= 50
    assert {c.code: term(c.code) for c in concepts} == {c.code: c.display for c in concepts}


def test_terms_come_from_the_validated_codelists() -> None:
    listed = {row["code"]: row["term"] for c in codelists().values() for row in c.rows}
    assert terms() == listed  # the same files, checked as SNOMED CT ids by codelists()
    assert term(None) == "" and term("not-a-code") == ""
