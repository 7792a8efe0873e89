"""The quality report measures what synth planted, feed by feed."""

from __future__ import annotations

import pytest

from neighbourhood import registry
from neighbourhood.ingest.quality import quality_report
from neighbourhood.warehouse import open_warehouse
from tests.support.extracts import truth_rows
from tests.support.synthetic import Ingested


@pytest.fixture(scope="module")
def report(ingested: Ingested) -> dict[str, dict[str, object]]:
    wh = open_warehouse(ingested.data, read_only=True)
    try:
        return quality_report(wh, registry.load(ingested.data))["feeds"]  # type: ignore[no-any-return]
    finally:
        wh.close()


def test_nhs_number_completeness_reflects_each_sector(
    report: dict[str, dict[str, object]], ingested: Ingested
) -> None:
    planted: dict[str, list[bool]] = {}
    quarantined = ("malformed:truncated", "malformed:extra_column")  # never accepted
    for row in truth_rows(ingested.synth.truth, "records"):
        if not any(kind in row["defects"] for kind in quarantined):
            planted.setdefault(row["feed"], []).append("nhs_number_missing" in row["defects"])
    checked = 0
    for feed, figures in report.items():
        for prefix in ("gp-", "social-care-", "vcfse-"):
            if feed.startswith(prefix):
                # what synth planted in the records of this feed that ingest accepted
                missing = planted[feed]
                assert figures["nhs_number_complete"] == pytest.approx(
                    1 - sum(missing) / len(missing), abs=0.0001
                ), feed
                checked += 1
    assert checked >= 6


def test_validity_and_quarantine_reasons_are_reported(report: dict[str, dict[str, object]]) -> None:
    gp = [f for name, f in report.items() if name.startswith("gp-")]
    assert all(0.95 < float(f["nhs_number_valid"]) <= 1 for f in gp)  # type: ignore[arg-type]
    assert all(f["code_validity"] == 1.0 for f in gp)
    reasons = {r for f in report.values() for r in f["quarantine_reasons"]}  # type: ignore[attr-defined]
    assert any("not valid JSON" in r for r in reasons)
    assert any("more fields than the header" in r for r in reasons)
    assert all("'" not in r for r in reasons), "values are masked so reasons group together"
    for figures in report.values():
        assert figures["records_in"] == figures["accepted"] + figures["quarantined"]  # type: ignore[operator]


def test_a_field_a_feed_does_not_collect_is_not_reported_as_missing(
    report: dict[str, dict[str, object]],
) -> None:
    public_health = next(f for name, f in report.items() if name.startswith("public-health"))
    social_care = next(f for name, f in report.items() if name.startswith("social-care"))
    assert public_health["ethnicity_complete"] is None  # its extract has no ethnicity column
    assert social_care["ethnicity_complete"] == 1.0
