"""Source records, standardised for comparison: one row per record, its latest version."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from neighbourhood.warehouse import Warehouse

# Precedence for a person's resolved demographics: the GP record first (ADR 7).
SECTOR_PRECEDENCE = {
    "general_practice": 1,
    "acute": 2,
    "community": 3,
    "mental_health": 4,
    "social_care": 5,
    "public_health": 6,
    "vcfse": 7,
}


def _name(value: ir.StringValue) -> ir.StringValue:
    """Upper case, letters only: hyphens, apostrophes and spaces do not make names differ."""
    return value.upper().re_replace(r"[^A-Z\p{L}]", "").nullif("")


def _swap_proof(dob: ir.DateValue) -> ir.StringValue:
    """Year, then day and month smaller first: a day and month swapped still block together."""
    month, day = dob.month(), dob.day()
    return (
        dob.year().cast("string")
        + "-"
        + ibis.least(month, day).cast("string")
        + "-"
        + ibis.greatest(month, day).cast("string")
    )


def standardised(wh: Warehouse) -> pa.Table:
    records = wh.table("source_records")
    latest = records.mutate(
        _n=ibis.row_number().over(
            group_by=[records.source_id, records.record_key], order_by=ibis.desc(records.file_id)
        )
    ).filter(lambda r: r._n == 0)
    postcode = latest.postcode.upper().replace(" ", "").nullif("")
    return (
        latest.select(
            unique_id=latest.source_id + "|" + latest.record_key,
            source_id=latest.source_id,
            record_key=latest.record_key,
            nhs_number=latest.nhs_number,
            given=_name(latest.given_name),
            family=_name(latest.family_name),
            dob=latest.date_of_birth,
            birth_year=latest.date_of_birth.year().cast("string"),
            dob_key=_swap_proof(latest.date_of_birth),
            given_initial=_name(latest.given_name).substr(0, 1),
            family_initial=_name(latest.family_name).substr(0, 1),
            given_start=_name(latest.given_name).substr(0, 2),
            family_start=_name(latest.family_name).substr(0, 2),
            sex=latest.sex,
            postcode=postcode,
            postcode_district=postcode.re_extract(
                r"^([A-Z]{1,2}[0-9][A-Z0-9]?)[0-9][A-Z]{2}$", 1
            ).nullif(""),
        )
        .order_by("unique_id")
        .to_pyarrow()
    )
