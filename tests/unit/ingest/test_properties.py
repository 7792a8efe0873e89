"""Property tests of the parsers and validators: never crash on junk, agree with each other."""

from __future__ import annotations

import ibis
from hypothesis import given, settings
from hypothesis import strategies as st

from neighbourhood.ingest.csv_rows import nhs_number_valid
from neighbourhood.ingest.fhir import Batch, process_batch
from neighbourhood.standards import nhs_number

numbers = st.one_of(
    st.text(alphabet="0123456789", min_size=10, max_size=10),
    st.integers(0, 10**9 - 1).map(
        lambda n: f"{n:09d}" + str(nhs_number.check_digit(f"{n:09d}") % 10)
    ),
    st.text(max_size=12),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(numbers, min_size=1, max_size=40))
def test_the_sql_modulus_11_check_agrees_with_python(values: list[str]) -> None:
    table = ibis.memtable({"n": values})
    result = table.select(ok=nhs_number_valid(table.n)).execute()["ok"].fillna(False).tolist()
    assert result == [nhs_number.is_valid(v) and v.isdigit() and len(v) == 10 for v in values]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=300), min_size=1, max_size=5))
def test_fhir_junk_is_quarantined_never_a_crash(lines: list[bytes]) -> None:
    rows = process_batch(Batch("acute", None, [(n, "", x) for n, x in enumerate(lines, start=1)]))
    assert rows.accepted + len(rows.quarantine["line"]) == rows.records_in == len(lines)


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["id", "birthDate", "gender", "name", "identifier"]),
        st.one_of(
            st.text(max_size=12),
            st.integers(),
            st.none(),
            st.lists(st.text(max_size=5), max_size=2),
        ),
    )
)
def test_any_patient_shaped_object_is_accepted_or_quarantined(fields: dict[str, object]) -> None:
    import json

    raw = json.dumps({"resourceType": "Patient", **fields}).encode()
    rows = process_batch(Batch("general_practice", "Patient", [(1, "", raw)]))
    assert len(rows.records["line"]) + len(rows.quarantine["line"]) == 1 == rows.records_in
