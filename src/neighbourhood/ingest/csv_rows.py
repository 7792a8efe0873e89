"""A CSV extract's rows as Ibis expressions over the whole file: people and events that
pass into the warehouse, and those quarantined with the field and reason, each counted
by the INSERT that writes them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import ibis
import ibis.expr.types as ir

from neighbourhood.costs import cost_of, unit_costs
from neighbourhood.ingest.csv_read import SCRATCH, quoted
from neighbourhood.registry import CsvSpec, Source, headers
from neighbourhood.standards import snomed
from neighbourhood.warehouse import Warehouse

SETTINGS = {
    "community": "community",
    "mental_health": "community mental health",
    "social_care": "social care",
    "public_health": "public health",
    "vcfse": "community",
}


ROLE_LABELS = {"dob": "date of birth", "date": "date", "end_date": "end date"}


@ibis.udf.scalar.builtin
def try_strptime(value: str, fmt: str) -> dt.datetime:  # type: ignore[empty-body]
    """DuckDB's strptime that gives NULL, not an error, for a string that is not a date."""


def _col(table: ir.Table, columns: dict[str, str | tuple[str, ...]], role: str) -> ir.StringValue:
    if role not in columns:
        return ibis.null().cast("string")
    column = columns[role]
    if isinstance(column, str):
        return table[column]  # trimmed, empty as NULL, by _read
    # Several columns (an address): the parts sent, joined, missing parts left out.
    return ibis.literal(", ").join([table[c] for c in column]).nullif("")


def _date(value: ir.StringValue, fmt: str) -> ir.DateValue:
    return try_strptime(value, fmt).cast("date")


def _bad_date_flag(
    value: ir.StringValue, parsed: ir.DateValue, role: str, fmt: str
) -> ir.StringValue:
    label = ROLE_LABELS.get(role, role)
    human = _human_format(fmt)
    return ibis.ifelse(
        value.notnull() & parsed.isnull(),
        ibis.literal(f"{label} '") + value + f"' is not a date ({human})",
        ibis.null().cast("string"),
    )


def nhs_number_valid(value: ir.StringValue) -> ir.BooleanValue:
    """Modulus 11 in SQL: ten digits whose last is 11 - (weighted sum mod 11), 11 read as 0."""
    digit = [value.substr(i, 1).try_cast("int64") for i in range(10)]
    total = sum((10 - i) * digit[i] for i in range(9))
    check = (11 - total % 11) % 11
    return value.re_search(r"^\d{10}$") & (check != 10) & (check == digit[9])


def load_people(
    wh: Warehouse,
    source: Source,
    spec: CsvSpec,
    rows: ir.Table,
    file_id: int,
    path: Path,
) -> tuple[int, int]:
    """Rows with a local identifier become source records; the rest are quarantined."""
    c = spec.people_columns
    given = {"source_id": source.id, "file_id": file_id}
    shape = ("people", repr(spec))

    def unusable(t: ir.Table) -> ir.BooleanValue:
        return _col(t, c, "local_id").isnull()

    quarantined = _quarantine_rows(
        wh,
        shape,
        given | {"path": str(path)},
        spec,
        c,
        lambda: (
            rows.filter(unusable(rows)),
            ibis.literal(str(c["local_id"])),
            ibis.literal("the row has no local identifier, so no event could ever be joined to it"),
        ),
    )
    accepted = _insert(
        wh, "source_records", shape, given, lambda: _people_rows(spec, rows.filter(~unusable(rows)))
    )
    return accepted, quarantined


def _people_rows(spec: CsvSpec, usable: ir.Table) -> ir.Table:
    """Usable rows as source records: NHS number checked, date of birth parsed, sex named."""
    c = spec.people_columns
    number = usable._nhs if "nhs_number" in c else ibis.null().cast("string")
    valid = nhs_number_valid(number.fill_null(""))
    # Named once: DuckDB computes the Modulus 11 sum once for the three uses below.
    t = usable.mutate(
        _nhs_status=ibis.cases((number.isnull(), "missing"), (valid, "valid"), else_="invalid")
    )
    raw_number = t._nhs if "nhs_number" in c else ibis.null().cast("string")
    dob_text = _col(t, c, "dob")
    dob = _date(dob_text, spec.date_format)
    full = _col(t, c, "full_name")
    given = _col(t, c, "given") if "given" in c else full.re_extract(r"^(\S+)", 1)
    family = _col(t, c, "family") if "family" in c else full.re_extract(r"(\S+)$", 1)
    sex_raw = _col(t, c, "sex")
    sex = (
        ibis.cases(
            (sex_raw == spec.sex_codes["male"], "male"),
            (sex_raw == spec.sex_codes["female"], "female"),
            else_=sex_raw,
        )
        if "sex" in c
        else ibis.null().cast("string")
    )
    status = t._nhs_status
    flags = ibis.coalesce(
        _bad_date_flag(dob_text, dob, "dob", spec.date_format),
        ibis.ifelse(
            status == "invalid",
            "nhs_number: fails its Modulus 11 check digit",
            ibis.null().cast("string"),
        ),
    )
    return t.select(
        line=t.line,
        record_key=_col(t, c, "local_id"),
        nhs_number=ibis.ifelse(status == "valid", raw_number, None),
        nhs_number_raw=raw_number,
        nhs_number_status=status,
        given_name=given,
        family_name=family,
        date_of_birth=dob,
        sex=sex,
        postcode=_col(t, c, "postcode").upper(),
        address=_col(t, c, "address"),
        ethnicity=_col(t, c, "ethnicity"),
        practice_ods=_col(t, c, "practice"),
        date_of_death=ibis.null().cast("date"),
        flags=flags,
        house_number=_col(t, c, "house_number"),
        street=_col(t, c, "street"),
        locality=_col(t, c, "locality"),
    )


# Compiled SQL, by everything that shapes it: the kind of file, its source's declaration
# (columns, formats, codes), and what the file's own codes are. Values that differ from file
# to file (source, file id, path) are bound as parameters, so a feed's next extract, or a
# partner sending the same layout, reuses the SQL rather than compiling it again.
_COMPILED: dict[tuple[object, ...], str] = {}


def _insert(
    wh: Warehouse,
    table: str,
    shape: tuple[object, ...],
    given: dict[str, object],
    build: Callable[[], ir.Table],
) -> int:
    key = (table, *shape)
    sql = _COMPILED.get(key)
    if sql is None:
        sql = _COMPILED[key] = wh.compile_rows(table, build(), given)
    return wh.insert_compiled(table, sql, given)


def count_flagged(wh: Warehouse, name: str, file_id: int) -> int:
    """Rows of the file accepted with a field flagged (the file's row groups alone are read)."""
    found = wh.con.con.execute(
        f'SELECT count(*) FROM "{name}" WHERE file_id = ? AND flags IS NOT NULL', [file_id]
    ).fetchone()
    return int(found[0]) if found else 0


def _raw(t: ir.Table, columns: dict[str, str | tuple[str, ...]], spec: CsvSpec) -> ir.StringValue:
    parts = [t[name].fill_null("") for name in headers(columns)]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + spec.delimiter + part
    return joined


def _quarantine_rows(
    wh: Warehouse,
    shape: tuple[object, ...],
    given: dict[str, object],
    spec: CsvSpec,
    columns: dict[str, str | tuple[str, ...]],
    build: Callable[[], tuple[ir.Table, ir.StringValue, ir.StringValue]],
) -> int:
    """Quarantine the rows ``build`` gives (as read, with their lines), with the field at
    fault, the reason, and the text the partner sent."""

    def shaped() -> ir.Table:
        rows, field, reason = build()
        return rows.select(
            line=rows.line, field=field, reason=reason, raw=_raw(rows, columns, spec)
        )

    return _insert(wh, "quarantine", shape, given, shaped)


def load_events(
    wh: Warehouse,
    source: Source,
    spec: CsvSpec,
    rows: ir.Table,
    file_id: int,
    path: Path,
) -> tuple[int, int]:
    """Rows with a local identifier and a date become events; the rest are quarantined."""
    c = spec.event_columns
    fmt = spec.event_date_format
    date_label = str(c["date"])

    def usable(t: ir.Table) -> ir.BooleanValue:
        return _col(t, c, "local_id").notnull() & _date(_col(t, c, "date"), fmt).notnull()

    def quarantined_rows() -> tuple[ir.Table, ir.StringValue, ir.StringValue]:
        bad = rows.filter(~usable(rows))
        no_key = _col(bad, c, "local_id").isnull()
        date_text = _col(bad, c, "date")
        return (
            bad,
            ibis.ifelse(no_key, str(c["local_id"]), date_label),
            ibis.cases(
                (no_key, "the row has no local identifier, so nobody's record it is"),
                (
                    date_text.isnull(),
                    f"{date_label} is empty: the event has no place on the timeline",
                ),
                else_=ibis.literal(f"{date_label} '")
                + date_text
                + f"' is not a date ({_human_format(fmt)})",
            ),
        )

    given = {"source_id": source.id, "file_id": file_id, "sector": source.sector}
    shape = ("events", repr(spec), source.sector)
    quarantined = _quarantine_rows(
        wh,
        shape,
        {"source_id": source.id, "file_id": file_id, "path": str(path)},
        spec,
        c,
        quarantined_rows,
    )
    codes = _code_statuses(wh, c)
    accepted = _insert(
        wh,
        "events",
        (*shape, tuple(sorted(codes.items()))),
        given,
        lambda: _event_rows(source, spec, rows.filter(usable(rows)), codes),
    )
    return accepted, quarantined


def _human_format(fmt: str) -> str:
    return fmt.replace("%d", "dd").replace("%m", "mm").replace("%Y", "yyyy").replace("%y", "yy")


def _event_rows(source: Source, spec: CsvSpec, t: ir.Table, codes: dict[str, str]) -> ir.Table:
    """Usable rows as events: activity named, code checked, costed, odd fields flagged."""
    c = spec.event_columns
    end_text = _col(t, c, "end_date")
    start = _date(_col(t, c, "date"), spec.event_date_format)
    end = _date(end_text, spec.event_date_format)
    label = _col(t, c, spec.activity_role)
    known = ibis.literal(spec.activities, type="map<string, string>")
    activity = ibis.coalesce(known.get(label.fill_null("")), ibis.literal("unknown"))
    hours = _col(t, c, "hours").try_cast("float64")
    value = _col(t, c, "value").try_cast("float64")
    flags = ibis.coalesce(
        _bad_date_flag(end_text, end, "end_date", spec.event_date_format),
        ibis.ifelse(
            activity == "unknown",
            ibis.literal("activity '")
            + label.fill_null("")
            + "' is not in the source's activities",
            ibis.null().cast("string"),
        ),
    )
    shaped = t.select(
        line=t.line,
        event_key=_col(t, c, "event_id"),
        record_key=_col(t, c, "local_id"),
        setting=ibis.coalesce(
            _col(t, c, "detail"), ibis.literal(SETTINGS.get(source.sector, source.sector))
        ),
        activity=activity,
        start_date=start,
        end_date=end,
        code=_col(t, c, "code"),
        value=ibis.coalesce(value, hours),
        unit=ibis.coalesce(_col(t, c, "unit"), ibis.ifelse(hours.notnull(), "hours a week", None)),
        flags=flags,
    )
    # A map, not a join: a join's output has no order, so DuckDB would insert it on one thread.
    statuses = ibis.literal(codes, type="map<string, string>")
    return shaped.mutate(
        code_status=ibis.ifelse(
            shaped.code.isnull(), "none", statuses.get(shaped.code.fill_null(""), "invalid")
        ),
        cost_gbp=_cost(shaped.activity, shaped.start_date, shaped.end_date, shaped.value),
    )


def _code_statuses(wh: Warehouse, c: dict[str, str | tuple[str, ...]]) -> dict[str, str]:
    """Verhoeff, computed once per distinct code of the file rather than once per row."""
    if "code" not in c:
        return {}
    distinct = wh.con.con.execute(f"SELECT DISTINCT {quoted(str(c['code']))} FROM {SCRATCH}_raw")
    codes = [x for (x,) in distinct.fetchall() if isinstance(x, str)]
    return {x: "valid" if snomed.is_valid_sctid(x) else "invalid" for x in codes}


def _cost(
    activity: ir.StringValue, start: ir.DateValue, end: ir.DateValue, value: ir.FloatingValue
) -> ir.FloatingValue:
    """Unit costs by activity; a home care package costs its hours a week for its weeks."""
    weeks = (end.delta(start, unit="day").cast("float64") / 7).fill_null(0)
    branches = [(activity == "home_care_package", value * cost_of("home_care_hour") * weeks)]
    branches += [
        (activity == name, ibis.literal(u.cost_gbp))
        for name, u in unit_costs().items()
        if name != "home_care_hour"
    ]
    return ibis.cases(*branches, else_=ibis.null().cast("float64"))
