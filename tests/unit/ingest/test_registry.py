from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from neighbourhood import registry
from neighbourhood.errors import InvalidOptionsError, UserError
from neighbourhood.registry import Source
from tests.support.handmade import AGREEMENT, SPEC


def test_the_registry_round_trips(tmp_path: Path) -> None:
    sources = [
        Source("gp", "Z001", "A practice", "general_practice", "fhir-ndjson", "gp", AGREEMENT),
        Source("cc", "ZC1", "Community", "community", "csv", "cc", AGREEMENT, SPEC),
    ]
    registry.save(tmp_path, sources)
    assert registry.load(tmp_path) == sources


def test_every_problem_in_the_registry_is_reported_at_once(tmp_path: Path) -> None:
    (tmp_path / "sources.toml").write_text(
        '[[source]]\nid = "a"\nsector = "moon"\nformat = "xml"\npath = "a"\n'
        '[source.agreement]\nreference = "X"\npurpose = "p"\nexpires = "soon"\n'
    )
    with pytest.raises(InvalidOptionsError) as caught:
        registry.load(tmp_path)
    text = str(caught.value)
    assert "'partner_ods' is required" in text and "sector must be one of" in text
    assert "format must be one of" in text and "'expires' must be a date" in text


def test_a_missing_registry_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="neighbourhood sources add"):
        registry.load(tmp_path)


def test_agreements_are_checked_against_today() -> None:
    source = Source("gp", "Z001", "", "general_practice", "fhir-ndjson", "gp", AGREEMENT)
    source.check_agreement(dt.date(2029, 12, 31))
    with pytest.raises(UserError, match="expired on 01 January 2030"):
        source.check_agreement(dt.date(2030, 1, 2))
