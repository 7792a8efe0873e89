"""Standardisation and comparison levels on tiny hand-made records, with exact answers.

Each record goes into a real warehouse as ingest would leave it, is standardised as
linkage does, and each pair is scored by Splink with our comparisons: the level a pair
lands in for each field is the specification, written out."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from splink import DuckDBAPI, Linker

from neighbourhood.errors import UserError
from neighbourhood.linkage.config import LinkageConfig
from neighbourhood.linkage.model import MAX_PRIOR, comparisons, prior, settings
from neighbourhood.linkage.records import name_forms, standardised
from neighbourhood.warehouse import open_warehouse
from neighbourhood.warehouse.schema import TABLES


def source_record(key: str, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(TABLES["source_records"].names)
    return row | {"source_id": "feed", "file_id": 1, "line": 2, "record_key": key} | fields


def standardise_table(tmp: Path, *rows: dict[str, Any]) -> pa.Table:
    wh = open_warehouse(tmp)
    try:
        wh.append_rows(
            "source_records",
            {k: [_text(r[k]) for r in rows] for k in rows[0]},
        )
        return standardised(wh)
    finally:
        wh.close()


def standardise(tmp: Path, *rows: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["record_key"]: r for r in standardise_table(tmp, *rows).to_pylist()}


def _text(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def test_names_addresses_and_postcodes_are_put_in_one_form(tmp_path: Path) -> None:
    out = standardise(
        tmp_path,
        source_record(
            "a",
            given_name="Mary Ann",
            family_name="O'Neill-Smith",
            address="12a St. John's  Rd, Ashcombe",
            postcode="qa1 2ab",
            date_of_birth=dt.date(1956, 11, 4),
        ),
        source_record(
            "b",
            given_name="mary",
            family_name="ONEILL SMITH",
            house_number="12A",
            street="St Johns Road",
            locality="ashcombe",
            postcode="2250",
        ),
    )
    a, b = out["a"], out["b"]
    assert (a["given"], a["family"]) == ("MARY", "ONEILLSMITH") == (b["given"], b["family"])
    assert (a["house_number"], a["street"], a["locality"]) == ("12A", "ST JOHNS ROAD", None)
    assert (b["house_number"], b["street"], b["locality"]) == ("12A", "ST JOHNS ROAD", "ASHCOMBE")
    assert (a["postcode"], a["postcode_sector"], a["postcode_district"]) == (
        "QA12AB",
        "QA12",
        "QA1",
    )
    assert (b["postcode"], b["postcode_sector"], b["postcode_district"]) == ("2250", None, None)
    assert (a["dob_key"], a["initials"], a["names"]) == ("1956-4-11", "MO", "MARY ONEILLSMITH")
    assert "MARY" in a["given_forms"] and "MARILYN" in a["given_forms"]


def test_a_familiar_name_shares_a_form_with_the_full_name() -> None:
    assert name_forms("BILL") == ["BILL", "ROBERT", "WILL", "WILLIAM", "WILLIS"]
    assert "MARGARET" in name_forms("MAGGIE")
    assert name_forms("ZEBEDEE") == ["ZEBEDEE"]


PAIRS = [
    # (field, left, right, the level the pair lands in)
    ("given", {"given_name": "Bill"}, {"given_name": "William"}, "Familiar form of the same name"),
    (
        "given",
        {"given_name": "Smith", "family_name": "John"},
        {"given_name": "John", "family_name": "Smith"},
        "Given and family names swapped",
    ),
    (
        "family",
        {"family_name": "Stephens"},
        {"family_name": "Stephen"},
        "Levenshtein distance of family <= 1",
    ),
    (
        "dob",
        {"date_of_birth": dt.date(1956, 3, 4)},
        {"date_of_birth": dt.date(1956, 4, 3)},
        "Day and month swapped",
    ),
    (
        "dob",
        {"date_of_birth": dt.date(1956, 3, 14)},
        {"date_of_birth": dt.date(1965, 3, 14)},
        "A character or two mistyped or transposed",
    ),
    (
        "given",
        {"given_name": "Stephanie"},
        {"given_name": "Stefanie"},
        "Levenshtein distance of given <= 2",
    ),
    ("dob", {"date_of_birth": dt.date(1956, 3, 14)}, {"date_of_birth": None}, "dob is NULL"),
    (
        "postcode",
        {"postcode": "2250"},
        {"postcode": "2205"},
        "Two characters mistyped or transposed",
    ),
    (
        "postcode",
        {"postcode": "2250"},
        {"postcode": "2251"},
        "One character mistyped",
    ),
    ("postcode", {"postcode": "QA1 2AB"}, {"postcode": "QA1 2XY"}, "Same sector"),
    ("postcode", {"postcode": "QA1 2AB"}, {"postcode": "QA1 7XY"}, "Same district"),
    ("postcode", {"postcode": "2250"}, {"postcode": "3066"}, "All other comparisons"),
    ("street", {"address": "12 Acacia Rd"}, {"address": "4 Acacia Road"}, "Exact match on street"),
    (
        "street",
        {"address": "12 Acacia Road"},
        {"address": "12 Acacai Road"},
        "Levenshtein distance of street <= 2",
    ),
    (
        "house_number",
        {"address": "12 Acacia Road"},
        {"house_number": "12"},
        "Exact match on house_number",
    ),
    (
        "locality",
        {"locality": "Woollahra"},
        {"locality": "Wollahra"},
        "Levenshtein distance of locality <= 1",
    ),
]


@pytest.mark.parametrize(("field", "left", "right", "level"), PAIRS)
def test_each_pair_lands_in_the_level_its_error_belongs_to(
    tmp_path: Path, field: str, left: dict[str, Any], right: dict[str, Any], level: str
) -> None:
    table = standardise_table(tmp_path, source_record("l", **left), source_record("r", **right))
    model = settings(LinkageConfig(), 0.01)
    model.retain_intermediate_calculation_columns = True
    db_api = DuckDBAPI(connection=duckdb.connect())
    linker = Linker(db_api.register(table), model, log_level=logging.ERROR)
    left, right = (db_api.register(table.slice(i, 1)) for i in (0, 1))
    scored = linker.inference.score_pair(left, right).as_pandas_dataframe()
    gamma = int(scored[f"gamma_{field}"][0])
    comparison = next(
        c.get_comparison("duckdb")
        for c in comparisons()
        if c.get_comparison("duckdb").output_column_name == field
    )
    by_gamma = {
        lvl.comparison_vector_value: lvl.label_for_charts for lvl in comparison.comparison_levels
    }
    assert by_gamma[gamma] == level


def keyed(**columns: list[Any]) -> pa.Table:
    return pa.table(
        {"unique_id": [str(i) for i in range(len(next(iter(columns.values()))))]} | columns
    )


def test_the_prior_counts_the_pairs_any_rule_finds_once() -> None:
    # four records: rule 1 finds (0, 1); rule 2 finds (0, 1) again and (2, 3)
    records = keyed(
        nhs_number=["1", "1", None, None],
        dob=["d", "d", "e", "e"],
        given=["A", "A", "B", "B"],
        family=["X", "X", "Y", "Y"],
        postcode=[None] * 4,
        house_number=[None] * 4,
    )
    config = LinkageConfig(
        prior_rules=(("nhs_number", "dob"), ("given", "family", "dob")), prior_recall=0.5
    )
    assert prior(records, config) == pytest.approx(2 / 0.5 / 6)


def test_a_prior_of_zero_or_one_never_reaches_splink() -> None:
    apart = keyed(nhs_number=[None, None, None], dob=["a", "b", "c"])
    with pytest.raises(
        UserError, match=r"agree on any prior rule .*nhs_number\+dob.*set prior_rules"
    ):
        prior(apart, LinkageConfig(prior_rules=(("nhs_number", "dob"),)))
    # two records of one person: every pair matches, so lambda is held just below 1
    alike = keyed(nhs_number=["1", "1"], dob=["a", "a"])
    assert prior(alike, LinkageConfig(prior_rules=(("nhs_number", "dob"),))) == MAX_PRIOR < 1
