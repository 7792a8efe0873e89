"""The workforce map: every partner's staff, in the shapes partners hold them, as one table.

Four extract shapes, each declared in ``sources.toml`` under a data sharing agreement:

- ``workforce-nhs-csv``: an NHS trust's staff records (as ESR reports them): employee and
  position numbers, occupation code, staff group, job role, Agenda for Change band, FTE;
- ``workforce-gp-csv``: general practice workforce (as the National Workforce Reporting
  Service collects it): staff group (GP, nurses, direct patient care, admin), staff role,
  whether the post is an Additional Roles one, weekly contracted hours (1.0 FTE = 37.5);
- ``workforce-asc-csv``: adult social care (as Skills for Care's workforce data set,
  ASC-WDS): establishment, worker, main job role code, employment status, contracted
  hours;
- ``workforce-vcfse-csv``: a voluntary, community, faith or social enterprise
  organisation's staff and volunteers, paid or not, hours a week.

Each adds what the INT needs and partners' own systems do not hold: the team (the
neighbourhood), the share of time given to the INT, skills from a controlled list, the
base, and whether the post is vacant. One row per person x post x team.

A file is loaded whole or not at all: a problem refuses it with one line naming the line,
the column and what was expected (and how many more problems there are).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neighbourhood.ingest.files import FileRefused
from neighbourhood.registry import WORKFORCE_FORMATS

FORMATS = WORKFORCE_FORMATS  # the registry's names; each has its shape in SHAPES
FTE_HOURS = 37.5  # 1.0 whole-time equivalent, a week (Agenda for Change and the GP census)

# Our roles: what the capacity model's skill-mix matrix is written in.
ROLES: dict[str, str] = {
    "gp": "GP",
    "advanced_practitioner": "Advanced practitioner",
    "practice_nurse": "Practice nurse",
    "district_nurse": "District or community nurse",
    "registered_nurse": "Registered nurse (social care)",
    "nursing_associate": "Nursing associate",
    "healthcare_support_worker": "Healthcare support worker",
    "physiotherapist": "Physiotherapist",
    "occupational_therapist": "Occupational therapist",
    "therapy_assistant": "Therapy assistant",
    "mental_health_practitioner": "Mental health practitioner",
    "paramedic": "Paramedic",
    "clinical_pharmacist": "Clinical pharmacist",
    "pharmacy_technician": "Pharmacy technician",
    "physician_associate": "Physician associate",
    "social_worker": "Social worker",
    "social_care_assessor": "Social care assessor",
    "care_worker": "Care worker",
    "care_coordinator": "Care coordinator",
    "social_prescribing_link_worker": "Social prescribing link worker",
    "health_and_wellbeing_coach": "Health and wellbeing coach",
    "community_connector": "Community connector",
    "support_worker": "Support worker",
    "volunteer": "Volunteer",
    "manager": "Manager",
    "admin": "Administration",
}
SKILLS: dict[str, str] = {
    "wound_care": "Wound care",
    "catheter_care": "Catheter care",
    "falls_assessment": "Falls assessment",
    "medication_review": "Medication review",
    "end_of_life_care": "End-of-life care",
    "social_work_assessment": "Social work assessment",
    "insulin_administration": "Insulin administration",
    "mental_health_assessment": "Mental health assessment",
    "urgent_assessment": "Urgent assessment",
    "personal_care": "Personal care",
    "social_prescribing": "Social prescribing",
    "prescribing": "Prescribing",
}
SECTORS = ("acute", "community", "mental_health", "general_practice", "social_care", "vcfse")
CONTRACTS = ("permanent", "fixed_term", "bank", "agency", "zero_hours", "volunteer", "other")
COLUMNS = (
    "staff_ref",
    "post_ref",
    "team",
    "sector",
    "employer",
    "role",
    "staff_group",
    "band",
    "registration",
    "contract",
    "hours",
    "fte",
    "int_share",
    "skills",
    "base",
    "vacancy",
    "line",
)

# ESR job roles (the ones community, mental health and acute trusts put in INTs).
NHS_ROLES = {
    "district nurse": "district_nurse",
    "community nurse": "district_nurse",
    "staff nurse": "district_nurse",
    "community matron": "advanced_practitioner",
    "advanced clinical practitioner": "advanced_practitioner",
    "advanced nurse practitioner": "advanced_practitioner",
    "nursing associate": "nursing_associate",
    "healthcare assistant": "healthcare_support_worker",
    "healthcare support worker": "healthcare_support_worker",
    "physiotherapist": "physiotherapist",
    "occupational therapist": "occupational_therapist",
    "therapy assistant": "therapy_assistant",
    "technical instructor": "therapy_assistant",
    "community psychiatric nurse": "mental_health_practitioner",
    "mental health practitioner": "mental_health_practitioner",
    "clinical psychologist": "mental_health_practitioner",
    "paramedic": "paramedic",
    "pharmacist": "clinical_pharmacist",
    "care coordinator": "care_coordinator",
    "team leader": "manager",
    "manager": "manager",
    "administrator": "admin",
    "receptionist": "admin",
}
NHS_BANDS = {*(str(b) for b in range(1, 10)), "8a", "8b", "8c", "8d"}
NHS_CONTRACTS = {"permanent": "permanent", "fixed term": "fixed_term", "bank": "bank"}
# The GP workforce census's staff roles, within its four staff groups.
GP_ROLES = {
    "gp partner": "gp",
    "salaried gp": "gp",
    "gp locum": "gp",
    "gp registrar": "gp",
    "gp retainer": "gp",
    "practice nurse": "practice_nurse",
    "advanced nurse practitioner": "advanced_practitioner",
    "nurse specialist": "practice_nurse",
    "nursing associate": "nursing_associate",
    "healthcare assistant": "healthcare_support_worker",
    "clinical pharmacist": "clinical_pharmacist",
    "pharmacy technician": "pharmacy_technician",
    "physician associate": "physician_associate",
    "first contact physiotherapist": "physiotherapist",
    "occupational therapist": "occupational_therapist",
    "paramedic": "paramedic",
    "mental health practitioner": "mental_health_practitioner",
    "social prescribing link worker": "social_prescribing_link_worker",
    "care coordinator": "care_coordinator",
    "health and wellbeing coach": "health_and_wellbeing_coach",
    "practice manager": "manager",
    "receptionist": "admin",
    "administrator": "admin",
    "medical secretary": "admin",
}
GP_GROUPS = ("GP", "Nurses", "Direct Patient Care", "Admin/Non-Clinical")
# ASC-WDS main job role codes (Skills for Care's workforce data set guidance).
ASC_ROLES = {
    "1": "manager",  # senior management
    "2": "manager",  # middle management
    "3": "manager",  # first-line manager
    "4": "manager",  # registered manager
    "5": "care_worker",  # supervisor
    "6": "social_worker",
    "7": "care_worker",  # senior care worker
    "8": "care_worker",
    "9": "support_worker",  # community, support and outreach work
    "10": "support_worker",  # employment support
    "11": "support_worker",  # advice, guidance and advocacy
    "15": "occupational_therapist",
    "16": "registered_nurse",
    "17": "physiotherapist",  # allied health professional
    "22": "support_worker",  # technician
    "23": "care_worker",  # other care-providing role
    "24": "admin",  # care-related, not care-providing
    "25": "admin",  # administrative or office staff
    "26": "admin",  # ancillary staff
    "27": "admin",  # other non-care-providing
    "34": "support_worker",  # activities worker or co-ordinator
    "35": "social_care_assessor",  # safeguarding and reviewing officer
    "36": "therapy_assistant",  # occupational therapist assistant
    "37": "nursing_associate",
    "38": "healthcare_support_worker",  # nursing assistant
    "39": "social_care_assessor",  # assessment officer
    "40": "care_coordinator",
    "41": "care_coordinator",  # care navigator
}
ASC_STATUS = {
    "1": "permanent",
    "2": "fixed_term",
    "3": "bank",
    "4": "agency",
    "6": "other",
    "7": "volunteer",
    "8": "other",
}
VCFSE_ROLES = {
    "link worker": "social_prescribing_link_worker",
    "social prescribing link worker": "social_prescribing_link_worker",
    "community connector": "community_connector",
    "wellbeing coach": "health_and_wellbeing_coach",
    "carers support worker": "support_worker",
    "support worker": "support_worker",
    "befriender": "volunteer",
    "volunteer": "volunteer",
    "manager": "manager",
    "administrator": "admin",
}
REGISTRATION = {
    "gp": "GMC",
    "physician_associate": "GMC",
    "advanced_practitioner": "NMC",
    "practice_nurse": "NMC",
    "district_nurse": "NMC",
    "registered_nurse": "NMC",
    "nursing_associate": "NMC",
    "physiotherapist": "HCPC",
    "occupational_therapist": "HCPC",
    "paramedic": "HCPC",
    "clinical_pharmacist": "GPhC",
    "pharmacy_technician": "GPhC",
    "social_worker": "SWE",
}
ODS = re.compile(r"^[A-Z0-9]{3,10}$")


@dataclass(frozen=True)
class Shape:
    """One extract shape: its columns by what they hold, and how a row becomes ours."""

    name: str
    sector: str | None  # None: the sector is read from the row or the source
    columns: dict[str, str]  # our field -> the column partners send
    optional: tuple[str, ...]
    row: Callable[[_Row], None]


class _CellError(Exception):
    def __init__(self, column: str, message: str) -> None:
        self.column, self.message = column, message
        super().__init__(column, message)


class _Row:
    """Reads one row's cells, each problem naming the partner's own column."""

    def __init__(self, shape: Shape, cells: dict[str, str]) -> None:
        self.shape, self.cells = shape, cells
        self.out: dict[str, Any] = {}

    def cell(self, field: str) -> str:
        return self.cells.get(self.shape.columns.get(field, ""), "").strip()

    def fail(self, field: str, message: str) -> _CellError:
        return _CellError(self.shape.columns[field], message)

    def choice(self, field: str, table: dict[str, str], what: str) -> str:
        raw = self.cell(field)
        key = raw.lower() if not raw.isdigit() else raw
        if key not in table:
            known = ", ".join(sorted({k if k.isdigit() else k.title() for k in table}, key=_order))
            raise self.fail(field, f"'{raw}' is not {what} (expected one of: {known})")
        return table[key]

    def number(self, field: str, low: float, high: float, what: str) -> float:
        raw = self.cell(field).replace(",", ".")
        try:
            value = float(raw)
        except ValueError:
            raise self.fail(field, f"'{raw}' is not {what}") from None
        if not low <= value <= high or value != value:
            raise self.fail(field, f"{raw} is out of range for {what} ({low:g} to {high:g})")
        return value

    def flag(self, field: str) -> bool:
        raw = self.cell(field).lower()
        if raw in ("y", "yes", "true", "1"):
            return True
        if raw in ("", "n", "no", "false", "0"):
            return False
        raise self.fail(field, f"'{raw}' is not Y or N")

    def share(self) -> float:
        """The share of time given to the INT: 0 to 1, or a percentage (40 or 40%)."""
        raw = self.cell("int_share")
        if not raw:
            return 1.0
        percent = raw.endswith("%")
        text = raw.rstrip("%").strip().replace(",", ".")
        what = "a share of time (0 to 1, or a percentage)"
        try:
            value = float(text)
        except ValueError:
            raise self.fail("int_share", f"'{raw}' is not {what}") from None
        if value != value or not 0 <= value <= 100:
            raise self.fail("int_share", f"{raw} is out of range for {what}")
        share = value / 100 if percent or value > 1 else value
        if share > 1:
            raise self.fail("int_share", f"{raw} is out of range for {what}")
        return share

    def skills(self) -> str:
        raw = self.cell("skills")
        found = []
        for part in re.split(r"[;|]", raw):
            key = re.sub(r"[\s-]+", "_", part.strip().lower())
            if not key:
                continue
            if key not in SKILLS:
                raise self.fail(
                    "skills",
                    f"'{part.strip()}' is not a skill on the controlled list "
                    f"(expected any of: {', '.join(SKILLS.values())}, separated by ;)",
                )
            found.append(key)
        return ";".join(sorted(set(found)))

    def code(self, field: str, what: str) -> str:
        raw = self.cell(field).upper()
        if not ODS.match(raw):
            raise self.fail(field, f"'{self.cell(field)}' is not {what}")
        return raw


def _plain(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).lower()


def _order(key: str) -> tuple[int, str]:
    return (int(key), "") if key.isdigit() else (0, key)


def _common(r: _Row, role: str, hours: float, contract: str, vacancy: bool) -> None:
    team = r.cell("team").upper()
    if team and not ODS.match(team):
        raise r.fail("team", f"'{r.cell('team')}' is not a neighbourhood code such as ZU0001")
    if not vacancy and not r.cell("staff_ref"):
        raise r.fail("staff_ref", "empty: a filled post needs its staff reference")
    r.out.update(
        staff_ref=r.cell("staff_ref") or None,
        post_ref=r.cell("post_ref") or None,
        team=team or None,
        role=role,
        contract=contract,
        hours=round(hours, 2),
        fte=round(hours / FTE_HOURS, 4),
        int_share=round(r.share(), 4),
        skills=r.skills(),
        base=r.cell("base") or None,
        vacancy=vacancy,
        registration=REGISTRATION.get(role),
    )


def _nhs(r: _Row) -> None:
    role = r.choice("role", NHS_ROLES, "an ESR job role this map knows")
    band = r.cell("band").lower()
    if band not in NHS_BANDS:
        raise r.fail("band", f"'{r.cell('band')}' is not an Agenda for Change band (1-9, 8a-8d)")
    fte = r.number("fte", 0, 1.5, "a whole-time equivalent")
    contract = r.choice("contract", NHS_CONTRACTS, "a contract type") if r.cell("contract") else ""
    _common(r, role, fte * FTE_HOURS, contract or "permanent", r.flag("vacancy"))
    r.out.update(employer=r.code("employer", "an ODS code"), band=band)
    r.out["staff_group"] = r.cell("staff_group") or None
    registration = r.cell("registration").upper()
    if registration:
        r.out["registration"] = registration


def _gp(r: _Row) -> None:
    group = r.cell("staff_group")
    if group.lower() not in {g.lower() for g in GP_GROUPS}:
        raise r.fail(
            "staff_group", f"'{group}' is not a GP census staff group ({', '.join(GP_GROUPS)})"
        )
    role = r.choice("role", GP_ROLES, "a GP census staff role this map knows")
    hours = r.number("hours", 0, 60, "weekly contracted hours")
    _common(r, role, hours, "permanent", r.flag("vacancy"))
    r.out.update(employer=r.code("employer", "a practice ODS code"), staff_group=group)
    r.out["band"] = "ARRS" if r.flag("arrs") else None
    if not r.out["team"]:
        r.out["team"] = r.code("pcn", "a PCN code") if r.cell("pcn") else None


def _asc(r: _Row) -> None:
    role = r.choice("role", ASC_ROLES, "an ASC-WDS main job role code")
    contract = r.choice("contract", ASC_STATUS, "an ASC-WDS employment status code")
    zero = r.flag("zero_hours")
    hours = r.number(
        "average_hours" if zero else "hours", 0, 60, "weekly hours (CONTHOURS, or AVGHOURS)"
    )
    _common(r, role, hours, "zero_hours" if zero else contract, r.flag("vacancy"))
    r.out.update(employer=r.code("employer", "an establishment's ODS code"), staff_group=None)
    r.out["band"] = None


def _vcfse(r: _Row) -> None:
    role = r.choice("role", VCFSE_ROLES, "a VCFSE role this map knows")
    paid = r.cell("contract").lower()
    if paid not in ("paid", "volunteer"):
        raise r.fail("contract", f"'{r.cell('contract')}' is not Paid or Volunteer")
    hours = r.number("hours", 0, 60, "hours a week")
    _common(r, role, hours, "volunteer" if paid == "volunteer" else "permanent", r.flag("vacancy"))
    r.out.update(employer=r.code("employer", "an organisation code"), staff_group=None)
    r.out["band"] = None
    r.out["registration"] = None


SHAPES: dict[str, Shape] = {
    "workforce-nhs-csv": Shape(
        "NHS staff record",
        None,
        {
            "staff_ref": "Employee Number",
            "post_ref": "Position Number",
            "employer": "Organisation Code",
            "team": "Team",
            "base": "Base",
            "occupation": "Occupation Code",
            "staff_group": "Staff Group",
            "role": "Job Role",
            "band": "AfC Band",
            "fte": "FTE",
            "contract": "Contract Type",
            "registration": "Registration Body",
            "int_share": "INT Share",
            "skills": "Skills",
            "vacancy": "Vacancy",
        },
        ("Occupation Code", "Contract Type", "Registration Body", "Base", "Vacancy", "Skills"),
        _nhs,
    ),
    "workforce-gp-csv": Shape(
        "general practice workforce",
        "general_practice",
        {
            "employer": "Practice Code",
            "pcn": "PCN Code",
            "staff_ref": "Staff ID",
            "post_ref": "Post ID",
            "staff_group": "Staff Group",
            "role": "Staff Role",
            "arrs": "ARRS",
            "hours": "Contracted Hours",
            "team": "Team",
            "base": "Base",
            "int_share": "INT Share",
            "skills": "Skills",
            "vacancy": "Vacancy",
        },
        ("PCN Code", "Post ID", "ARRS", "Team", "Base", "Vacancy", "Skills"),
        _gp,
    ),
    "workforce-asc-csv": Shape(
        "adult social care workforce (ASC-WDS)",
        "social_care",
        {
            "employer": "LOCALESTID",
            "staff_ref": "UNIQUEWORKERID",
            "post_ref": "POSTID",
            "role": "MAINJOBROLE",
            "contract": "EMPLSTATUS",
            "zero_hours": "ZEROHRCONT",
            "hours": "CONTHOURS",
            "average_hours": "AVGHOURS",
            "team": "TEAM",
            "base": "BASE",
            "int_share": "INTSHARE",
            "skills": "SKILLS",
            "vacancy": "VACANCY",
        },
        ("POSTID", "ZEROHRCONT", "AVGHOURS", "BASE", "VACANCY", "SKILLS"),
        _asc,
    ),
    "workforce-vcfse-csv": Shape(
        "VCFSE staff and volunteers",
        "vcfse",
        {
            "employer": "Organisation Code",
            "staff_ref": "Person Ref",
            "post_ref": "Post Ref",
            "role": "Role",
            "contract": "Paid or Volunteer",
            "hours": "Hours per Week",
            "team": "Neighbourhood",
            "base": "Base",
            "int_share": "INT Share",
            "skills": "Skills",
            "vacancy": "Vacancy",
        },
        ("Post Ref", "Base", "Vacancy", "Skills"),
        _vcfse,
    ),
}


def parse(
    path: Path,
    fmt: str,
    header: list[str],
    rows: list[tuple[int, list[str]]],
    sector: str,
) -> dict[str, list[Any]]:
    """Every row of one extract as our columns, or the file refused (nothing loaded)."""
    shape = SHAPES[fmt]
    # Partners' headers vary in case, spacing and underscores: "AFC_BAND" is "AfC Band".
    known = {_plain(c): c for c in shape.columns.values()}
    header = [known.get(_plain(h), h) for h in header]
    needed = [c for c in shape.columns.values() if c not in shape.optional]
    missing = [c for c in needed if c not in header]
    if missing:
        raise FileRefused(
            path,
            f"not a {shape.name} extract: the header lacks {', '.join(missing)} "
            f"(it has {', '.join(header) or 'nothing'})",
            1,
        )
    if not rows:
        raise FileRefused(path, f"the {shape.name} extract has a header but no rows", 1)
    out: dict[str, list[Any]] = {c: [] for c in COLUMNS}
    problems: list[tuple[int, _CellError]] = []
    index = {c: i for i, c in enumerate(header)}
    seen: dict[tuple[str, str, str], int] = {}
    for line, row in rows:
        cells = {c: (row[i] if i < len(row) else "") for c, i in index.items()}
        r = _Row(shape, cells)
        try:
            shape.row(r)
        except _CellError as problem:
            problems.append((line, problem))
            continue
        r.out["sector"] = shape.sector or sector
        key = (str(r.out["staff_ref"] or ""), str(r.out["post_ref"] or ""), str(r.out["team"]))
        if key[0] and key in seen:
            problems.append(
                (
                    line,
                    _CellError(
                        shape.columns["staff_ref"],
                        f"the same person, post and team as line {seen[key]} "
                        "(one row per person x post x team)",
                    ),
                )
            )
            continue
        seen[key] = line
        r.out["line"] = line
        for column in COLUMNS:
            out[column].append(r.out.get(column))
    if problems:
        line, first = problems[0]
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise FileRefused(path, f"column '{first.column}': {first.message}{more}", line)
    return out
