"""CSV extracts as community, mental health, social care, public health and VCFSE partners send them."""

from __future__ import annotations

import csv
import io

import numpy as np

from neighbourhood.standards.nhs_number import format_spaced
from neighbourhood.synth import catalogue as cat
from neighbourhood.synth.activity import Events
from neighbourhood.synth.dates import format_days, impossible_date
from neighbourhood.synth.feeds import CsvLayout
from neighbourhood.synth.geography import Geography
from neighbourhood.synth.population import IntArray, Population
from neighbourhood.synth.records import SourceRecords, assign_events_to_records

LOCAL_ID_STYLE = {
    "community": "CT{:08d}",
    "mental_health": "MH{:08d}",
    "social_care": "{:08d}",
    "public_health": "PH-{:08X}",
    "vcfse": "VR{:08d}",
}
SERVICES = {
    cat.WOUND_CARE.code: ("District Nursing", "Home"),
    cat.HOME_VISIT.code: ("District Nursing", "Home"),
    cat.PHYSIOTHERAPY.code: ("Physiotherapy", "Clinic"),
    cat.OCCUPATIONAL_THERAPY.code: ("Occupational Therapy", "Home"),
}
SOCIAL_CARE_EVENTS = {
    "social_care_assessment": ("Assessment", "Adult Social Care Assessment Team"),
    "social_care_review": ("Review", "Adult Social Care Review Team"),
    "home_care_package": ("Home care package started", "Home Care"),
    "care_home_admission": ("Care home admission", "Residential and Nursing Care"),
}


def local_ids(sector: str, record_no: IntArray) -> list[str]:
    style = LOCAL_ID_STYLE[sector]
    return [style.format(x) for x in record_no.tolist()]


def people_rows(
    sector: str, layout: CsvLayout, geo: Geography, pop: Population, records: SourceRecords
) -> list[list[str]]:
    r = records
    ids = local_ids(sector, r.record_no)
    births = format_days(r.dob, layout.date_format)
    birth_years = r.dob.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    has_carer = set(pop.carers[:, 1].tolist())
    rows = []
    for i in range(len(r)):
        person, lsoa = int(r.person[i]), int(r.lsoa[i])
        eth = cat.ETHNICITIES[int(pop.ethnicity[person])]
        nhs = str(r.nhs_number[i])
        values = {
            "local_id": ids[i],
            "nhs_number": format_spaced(nhs)
            if nhs and layout.nhs_number_style == "spaced"
            else nhs,
            "given": r.given[i],
            "family": r.family[i],
            "full_name": f"{r.given[i]} {r.family[i]}".strip(),
            "dob": "" if r.dob_missing[i] else births[i],
            "sex": layout.sex_codes[1 if r.female[i] else 0],
            "address": r.address_line[i],
            "locality": geo.places[int(geo.lsoa_place[lsoa])][1],
            "postcode": r.postcode_text[i],
            "ethnicity": eth.nhs_code if layout.ethnicity_style == "nhs_code" else eth.label,
            "practice": geo.organisations[int(pop.practice[person])].ods_code,
            "has_carer": "Y" if person in has_carer else "N",
        }
        row = [str(values[role]) for role, _ in layout.people_columns]
        rows.append(
            _break(
                row,
                layout,
                str(r.malformed[i]),
                layout.people_columns,
                "dob",
                int(birth_years[i]),
            )
        )
    return rows


def _break(
    row: list[str],
    layout: CsvLayout,
    kind: str,
    columns: tuple[tuple[str, str], ...],
    date_role: str,
    year: int,
) -> list[str]:
    if kind == "extra_column":
        return [*row, "see notes"]
    if kind == "impossible_date":
        position = [role for role, _ in columns].index(date_role)
        row[position] = impossible_date(layout.date_format, year)
    return row


def event_rows(
    sector: str,
    layout: CsvLayout,
    records: SourceRecords,
    events: dict[str, Events],
    kinds: tuple[str, ...],
    rng: np.random.Generator,
    malformed_rate: float,
) -> list[list[str]]:
    ids = local_ids(sector, records.record_no)
    rows: list[list[str]] = []
    for kind in kinds:
        ev = events[kind]
        if not len(ev):
            continue
        owner = assign_events_to_records(records, ev.person, rng).tolist()
        starts = format_days(ev.start, layout.event_date_format)
        ends = format_days(ev.end, layout.event_date_format)
        codes, values = ev.code.tolist(), ev.value.tolist()
        for i, rec in enumerate(owner):
            for fields in _event_fields(kind, codes[i], values[i], starts[i], ends[i], rng):
                fields["local_id"] = ids[rec]
                rows.append([str(fields.get(role, "")) for role, _ in layout.event_columns])
    numbers = rng.permutation(len(rows)) + 1
    position = [role for role, _ in layout.event_columns].index("event_id")
    broken = rng.random(len(rows)) < malformed_rate
    for i, row in enumerate(rows):
        row[position] = f"{sector[:2].upper()}E{numbers[i]:09d}"
        if broken[i]:
            rows[i] = _break(row, layout, "impossible_date", layout.event_columns, "date", 2025)
    return rows


def _event_fields(
    kind: str, code: str, value: float, start: str, end: str, rng: np.random.Generator
) -> list[dict[str, object]]:
    if kind in ("district_nursing_visit", "therapy_contact"):
        team, mode = SERVICES[code]
        return [{"date": start, "service": team, "code": code, "detail": mode}]
    if kind == "mental_health_contact":
        service = "Memory Service" if value == 1 else "Community Mental Health Team"
        return [{"date": start, "service": service, "code": code}]
    if kind == "talking_therapy_session":
        return [{"date": start, "service": "NHS Talking Therapies", "code": code}]
    if kind in SOCIAL_CARE_EVENTS:
        label, service = SOCIAL_CARE_EVENTS[kind]
        fields: dict[str, object] = {"activity": label, "date": start, "service": service}
        if kind == "home_care_package":
            fields |= {"end_date": end, "hours": int(value)}
        return [fields]
    if kind == "health_check":
        return _health_check(start, int(value), rng)
    if kind == "smoking_cessation_episode":
        return [
            {"date": start, "service": "Stop Smoking Service", "code": "", "value": "", "unit": ""}
        ]
    if kind == "social_prescribing_contact":
        activity = "Referral received" if code else "Link worker session"
        return [{"date": start, "activity": activity, "code": code}]
    raise ValueError(f"no CSV shape for {kind}")


def _health_check(
    date: str, smoking_status: int, rng: np.random.Generator
) -> list[dict[str, object]]:
    service = "NHS Health Check"
    bmi = round(float(rng.normal(27, 4.5)), 1)
    sbp = int(rng.normal(128, 15))
    chol = round(float(rng.normal(5.2, 1.0)), 1)
    smoking = cat.SMOKING_STATUS[("never", "ex", "current")[smoking_status]].code
    return [
        {"date": date, "service": service, "code": cat.BMI.code, "value": bmi, "unit": "kg/m2"},
        {
            "date": date,
            "service": service,
            "code": cat.SYSTOLIC_BP.code,
            "value": sbp,
            "unit": "mm[Hg]",
        },
        {
            "date": date,
            "service": service,
            "code": cat.CHOLESTEROL.code,
            "value": chol,
            "unit": "mmol/L",
        },
        {"date": date, "service": service, "code": smoking, "value": "", "unit": ""},
    ]


def to_text(rows: list[list[str]], layout: CsvLayout) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=layout.delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def header(columns: tuple[tuple[str, str], ...], layout: CsvLayout) -> str:
    return to_text([[name for _, name in columns]], layout)
