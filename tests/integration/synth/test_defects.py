"""Defects are planted at the rates asked for, and none when asked for none."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from neighbourhood.errors import InvalidOptionsError
from neighbourhood.synth import DefectRates, SynthSummary
from tests.support.extracts import manifest, truth_rows
from tests.support.synthetic import synthesise


def rates_by_sector(summary: SynthSummary, defect: str) -> dict[str, float]:
    sector = {f["feed"]: f["sector"] for f in manifest(summary.out)["feeds"]}
    seen: Counter[str] = Counter()
    hit: Counter[str] = Counter()
    for r in truth_rows(summary.truth, "records"):
        if r["duplicate"] == "1":
            continue
        seen[sector[r["feed"]]] += 1
        hit[sector[r["feed"]]] += defect in r["defects"].split(";")
    return {s: hit[s] / seen[s] for s in seen}


def test_nhs_numbers_are_missing_most_in_social_care_and_vcfse(large_ics: SynthSummary) -> None:
    measured = rates_by_sector(large_ics, "nhs_number_missing")
    expected = DefectRates().nhs_number_missing
    for sector, rate in measured.items():
        assert rate == pytest.approx(expected[sector], abs=0.03 + 0.1 * expected[sector]), sector
    assert measured["social_care"] > 5 * measured["general_practice"]


def test_every_kind_of_defect_is_planted(large_ics: SynthSummary) -> None:
    planted = set(large_ics.defects)
    assert {
        "nhs_number_missing",
        "nhs_number_invalid",
        "nickname",
        "given_name_typo",
        "family_name_typo",
        "dob_day_month_swapped",
        "given_name_ocr",
        "family_name_phonetic",
        "names_swapped",
        "given_name_missing",
        "dob_typo",
        "dob_missing",
        "postcode_typo",
        "postcode_missing",
        "street_abbreviated",
        "address_typo",
        "house_number_missing",
        "surname_changed",
        "address_changed",
        "duplicate_registration",
        "malformed:truncated",
        "malformed:impossible_date",
        "malformed:extra_column",
    } <= planted


def test_rates_given_on_the_command_line_are_the_rates_measured(tmp_path: Path) -> None:
    rates = DefectRates().with_settings(["name_typo=0.2", "nhs_number_missing.community=0.5"])
    summary = synthesise(tmp_path, 4_000, defects=rates)
    records = [r for r in truth_rows(summary.truth, "records") if r["duplicate"] == "0"]
    typos = sum("name_typo" in r["defects"] for r in records) / len(records)
    assert typos == pytest.approx(0.2, abs=0.02)
    assert rates_by_sector(summary, "nhs_number_missing")["community"] == pytest.approx(
        0.5, abs=0.05
    )


def test_defect_scale_zero_gives_clean_data(tmp_path: Path) -> None:
    summary = synthesise(tmp_path, 1_000, defects=DefectRates().scaled(0))
    assert summary.defects == {}
    assert all(r["defects"] == "" for r in truth_rows(summary.truth, "records"))


def test_every_problem_with_defect_settings_is_reported_at_once() -> None:
    with pytest.raises(InvalidOptionsError) as caught:
        DefectRates().with_settings(["typo=0.1", "name_typo=2", "nhs_number_missing.moon=0.1"])
    assert len(caught.value.problems) == 3
    assert "unknown defect 'typo'" in str(caught.value)


def test_some_people_have_several_duplicate_records_in_one_feed(large_ics: SynthSummary) -> None:
    copies: Counter[tuple[str, str]] = Counter(
        (r["feed"], r["person_id"])
        for r in truth_rows(large_ics.truth, "records")
        if r["record_type"] == "Patient" or r["feed"].split("-")[0] not in ("gp", "acute")
    )
    most = Counter(copies.values())
    assert most[2] > most[3] > most[4] > 0 and max(most) <= 5


def test_gp_records_always_have_a_date_of_birth(large_ics: SynthSummary) -> None:
    gp = [r for r in truth_rows(large_ics.truth, "records") if r["feed"].startswith("gp-")]
    assert gp and not any("dob_missing" in r["defects"] for r in gp)
