"""The population health method's arithmetic that needs no population: disclosure
control, the ethnic group in SQL against Python, and the codelists' provenance."""

from __future__ import annotations

import ibis
from hypothesis import given, settings
from hypothesis import strategies as st

from neighbourhood.phm.codelists import codelists
from neighbourhood.phm.measures import ethnic_group
from neighbourhood.phm.report import protect, rate
from neighbourhood.standards import ethnicity, snomed


def test_codelists_are_versioned_valid_snomed_with_provenance() -> None:
    lists = codelists()
    assert {"long_term_conditions", "frailty_deficits", "cohort_markers"} <= set(lists)
    for codelist in lists.values():
        assert codelist.version and codelist.published and codelist.source and codelist.method
        assert all(snomed.is_valid_sctid(row["code"]) for row in codelist.rows)
    deficits = {row["deficit"] for row in lists["frailty_deficits"].rows}
    assert len(deficits) >= 20  # of the eFI's 36


@given(st.integers(min_value=0, max_value=10_000_000))
def test_protect_never_publishes_1_to_7_and_rounds_to_5(n: int) -> None:
    shown = protect(n)
    if 1 <= n <= 7:
        assert shown is None
    else:
        assert shown is not None and shown % 5 == 0 and abs(shown - n) <= 2
        assert shown != 0 or n == 0


def test_a_rate_is_suppressed_with_its_count() -> None:
    assert rate(None, 100) is None and rate(10, None) is None and rate(10, 0) is None
    assert rate(15, 60) == 25.0


SQL = ibis.duckdb.connect()


@settings(deadline=None, max_examples=80)
@given(
    st.one_of(
        st.sampled_from([*ethnicity.NHS_CODES, "a", " h ", "z"]),
        st.sampled_from(
            [
                "White: Irish",
                "Asian or Asian British: Indian",
                "Black, Black British, Caribbean or African: African",
                "Other ethnic group: Arab",
                "Mixed or Multiple: White and Asian",
                "Not a group: x",
            ]
        ),
        st.text(alphabet="ABCHSZahsz: \t,-Whiteor", max_size=14),
    )
)
def test_the_sql_ethnic_group_agrees_with_python(recorded: str) -> None:
    table = ibis.memtable({"recorded": [recorded]})
    assert SQL.execute(ethnic_group(table.recorded)).iloc[0] == ethnicity.broad_group(recorded)
