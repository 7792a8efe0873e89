"""Each CSV partner writes its own way, and says how in the manifest."""

from __future__ import annotations

import re

from neighbourhood.synth import SynthSummary
from tests.support.extracts import csv_rows, manifest

DATE_SHAPES = {
    "%d/%m/%Y": r"\d\d/\d\d/\d{4}",
    "%Y-%m-%d": r"\d{4}-\d\d-\d\d",
    "%Y%m%d": r"\d{8}",
    "%d/%m/%y": r"\d\d/\d\d/\d\d",
}


def feeds(summary: SynthSummary, sector: str) -> list[dict[str, object]]:
    return [f for f in manifest(summary.out)["feeds"] if f["sector"] == sector]


def test_social_care_writes_a_byte_order_mark_and_uk_dates(small_ics: SynthSummary) -> None:
    feed = feeds(small_ics, "social_care")[0]
    raw = (small_ics.out / str(feed["feed"]) / "people.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\xef\xbb\xbf") == 1
    header, *rows = csv_rows(small_ics.out, feed, "people")
    dob = header.index("Date of Birth")
    well_formed = [r for r in rows if len(r) == len(header)]
    assert (
        sum(bool(re.fullmatch(r"\d\d/\d\d/\d{4}", r[dob])) for r in well_formed)
        >= len(well_formed) - 2
    )


def test_each_sector_has_its_own_columns_and_date_format(small_ics: SynthSummary) -> None:
    headers = set()
    for sector in ("community", "mental_health", "social_care", "public_health", "vcfse"):
        feed = feeds(small_ics, sector)[0]
        layout = feed["csv"]
        header, *rows = csv_rows(small_ics.out, feed, "events")
        headers.add(tuple(header))
        date_column = header.index(layout["event_columns"]["date"])
        pattern = DATE_SHAPES[layout["event_date_format"]]
        dated = [r[date_column] for r in rows if len(r) == len(header)]
        assert dated, sector
        good = sum(bool(re.fullmatch(pattern, d)) for d in dated)
        assert good >= 0.95 * len(dated), sector
    assert len(headers) == 5


def test_planted_malformed_rows_are_the_only_ones_with_a_wrong_column_count(
    small_ics: SynthSummary,
) -> None:
    extra = 0
    for feed in manifest(small_ics.out)["feeds"]:
        if feed["format"] == "csv":
            header, *rows = csv_rows(small_ics.out, feed, "people")
            extra += sum(len(r) == len(header) + 1 for r in rows)
            assert all(len(r) in (len(header), len(header) + 1) for r in rows)
    assert extra == small_ics.defects.get("malformed:extra_column", 0)
