"""Source records, standardised for comparison: one row per record, its latest version.

Names, dates of birth, postcodes and addresses are put in one form whoever sent them: a
partner's middle names, punctuation, spacing and abbreviated street types do not make
two records differ (ADR 15)."""

from __future__ import annotations

from functools import cache

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

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
# Street types as partners abbreviate them (Royal Mail's and common clerical forms), each
# written out in full when it ends the street name.
STREET_TYPES = {
    "RD": "ROAD",
    "ST": "STREET",
    "STR": "STREET",
    "AVE": "AVENUE",
    "AV": "AVENUE",
    "CL": "CLOSE",
    "LN": "LANE",
    "GDNS": "GARDENS",
    "GDN": "GARDENS",
    "GR": "GROVE",
    "GRV": "GROVE",
    "CRES": "CRESCENT",
    "CRESC": "CRESCENT",
    "CR": "CRESCENT",
    "TER": "TERRACE",
    "TERR": "TERRACE",
    "PL": "PLACE",
    "DR": "DRIVE",
    "WK": "WALK",
    "CT": "COURT",
    "SQ": "SQUARE",
    "PDE": "PARADE",
    "HL": "HILL",
    "PK": "PARK",
}


@ibis.udf.scalar.builtin
def strip_accents(value: str) -> str:  # type: ignore[empty-body]
    """DuckDB's: 'Zoë' is 'Zoe'. Names compared in ASCII are measured the same on both
    engines (DuckDB counts edits in bytes, Spark in characters)."""


def _name(value: ir.StringValue) -> ir.StringValue:
    """Upper case, letters A to Z only: accents, hyphens, apostrophes and spaces do not
    make names differ."""
    return strip_accents(value).upper().re_replace(r"[^A-Z]", "").nullif("")


def _first_name(value: ir.StringValue) -> ir.StringValue:
    """The first of a person's given names: one partner sends 'Mary Ann', another 'Mary'."""
    return _name(value.strip().re_extract(r"^([^\s]+)", 1))


def _words(value: ir.StringValue) -> ir.StringValue:
    """Upper case letters and digits, single spaces: 'St. John's  Rd' is 'ST JOHNS RD'."""
    cleaned = strip_accents(value).upper().re_replace(r"['’.]", "")
    cleaned = cleaned.re_replace(r"[^A-Z0-9]+", " ")
    return cleaned.strip().nullif("")


def _street(value: ir.StringValue) -> ir.StringValue:
    """A street with its house number taken off and its type written out in full."""
    words = _words(value.re_replace(r"^\s*\d+[A-Za-z]?\b[,\s]*", ""))
    last = words.re_extract(r"([A-Z]+)$", 1)
    full = ibis.literal(STREET_TYPES, type="map<string, string>").get(last.fill_null(""))
    stem = words.re_replace(r"\s*[A-Z]+$", "")
    return ibis.ifelse(full.notnull(), (stem + " " + full).strip(), words).nullif("")


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


def _initials(given: ir.StringValue, family: ir.StringValue) -> ir.StringValue:
    """Both initials, in alphabetical order: given and family names swapped still agree."""
    a, b = given.substr(0, 1), family.substr(0, 1)
    return ibis.least(a, b) + ibis.greatest(a, b)


def standardised(wh: Warehouse, name_forms: bool = True) -> pa.Table:
    """Each record's latest version, standardised; ``name_forms`` adds ``given_forms``,
    which only the model compares (evaluation and blocking do without the lookups)."""
    records = wh.table("source_records")
    latest = records.mutate(
        _n=ibis.row_number().over(
            group_by=[records.source_id, records.record_key], order_by=ibis.desc(records.file_id)
        )
    ).filter(lambda r: r._n == 0)
    table = standardise(latest).order_by("unique_id").to_pyarrow()
    return with_name_forms(table) if name_forms else table


def standardise(latest: ir.Table) -> ir.Table:
    """The comparison and blocking columns of each record (see ``config.COLUMNS``)."""
    postcode = latest.postcode.upper().re_replace(r"[^A-Z0-9]", "").nullif("")
    uk = postcode.re_extract(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9])[A-Z]{2}$", 0).nullif("")
    given, family = _first_name(latest.given_name), _name(latest.family_name)
    address = latest.address
    house = ibis.coalesce(
        _words(latest.house_number), _words(address.re_extract(r"^\s*(\d+[A-Za-z]?)\b", 1))
    )
    street = ibis.coalesce(
        _street(latest.street), _street(address.re_extract(r"^([^,]*)", 1).nullif(""))
    )
    return latest.select(
        unique_id=latest.source_id + "|" + latest.record_key,
        source_id=latest.source_id,
        record_key=latest.record_key,
        nhs_number=latest.nhs_number,
        given=given,
        family=family,
        dob=latest.date_of_birth,
        birth_year=latest.date_of_birth.year().cast("string"),
        dob_key=_swap_proof(latest.date_of_birth),
        given_initial=given.substr(0, 1),
        family_initial=family.substr(0, 1),
        given_start=given.substr(0, 2),
        family_start=family.substr(0, 2),
        initials=_initials(given, family),
        names=ibis.least(given, family) + " " + ibis.greatest(given, family),
        sex=latest.sex,
        postcode=postcode,
        postcode_sector=ibis.ifelse(uk.notnull(), postcode.substr(0, postcode.length() - 2), None),
        postcode_district=ibis.ifelse(
            uk.notnull(), postcode.substr(0, postcode.length() - 3), None
        ),
        house_number=house,
        street=street,
        locality=_words(latest.locality),
    )


def with_name_forms(records: pa.Table) -> pa.Table:
    """``given_forms``: the given name with the full names it is a familiar form of, so
    'BILL' and 'WILLIAM' share a form (from the curated ``nicknames`` list)."""
    given = records.column("given")
    distinct = pc.unique(given).drop_null()
    forms = pa.array([name_forms(n) for n in distinct.to_pylist()], pa.list_(pa.string()))
    at = pc.index_in(given, value_set=distinct)
    return records.append_column("given_forms", forms.take(at))


@cache
def _nicknamer() -> object:
    from nicknames import NickNamer

    return NickNamer()


def name_forms(name: str) -> list[str]:
    """``name`` and every name it is a familiar form of, upper case, sorted."""
    canonicals: set[str] = _nicknamer().canonicals_of(name.lower())  # type: ignore[attr-defined]
    return sorted({name, *(c.upper() for c in canonicals)})
