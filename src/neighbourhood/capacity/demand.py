"""Demand learned from the refresh: contacts a person-year by service type, for each
neighbourhood, segment, case-finding cohort and deprivation quintile, with each service's
seasonality; and projected under a scenario's levers.

Read from the published refresh's timeline, for people who have not opted out of
planning uses; only counts leave this module (no person, no pseudonym).
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from neighbourhood.capacity.scenario import SERVICES
from neighbourhood.errors import UserError
from neighbourhood.phm.publish import open_published

# The timeline's activities each service type's contacts are counted from. Urgent
# community response has no history in partners' extracts: its demand is what the
# scenario shifts from A&E attendances and emergency admissions.
ACTIVITIES: dict[str, tuple[str, ...]] = {
    "district_nursing": ("district_nursing_visit",),
    "therapy": ("therapy_contact",),
    "gp": ("gp_appointment",),
    "social_work": ("social_care_assessment", "social_care_review"),
    "urgent_community_response": (),
    "mental_health": ("mental_health_contact", "talking_therapy_session"),
    "social_prescribing": ("social_prescribing_contact",),
}
HOSPITAL = ("ed_attendance", "emergency_admission")
COHORT_SQL = (
    "CASE WHEN p.cohort_palliative THEN 'palliative' WHEN p.cohort_frailty THEN 'frailty' "
    "WHEN p.cohort_complex_ltc THEN 'complex_ltc' ELSE 'none' END"
)


@dataclass
class Demand:
    as_of: dt.date
    months: int
    # (neighbourhood, segment, cohort, quintile) -> people
    people: dict[tuple[str, str, str, int], int] = field(default_factory=dict)
    # (neighbourhood, segment, cohort, quintile, service or "hospital") -> contacts a year
    contacts: dict[tuple[str, str, str, int, str], float] = field(default_factory=dict)
    seasonality: dict[str, list[float]] = field(default_factory=dict)  # 12 months, mean 1
    # (neighbourhood, service) -> {"YYYY-MM": contacts} over the last 12 months
    monthly: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    @property
    def neighbourhoods(self) -> list[str]:
        return sorted({k[0] for k in self.people})

    def rates(self) -> list[dict[str, Any]]:
        """Contacts a person-year by neighbourhood, service, segment, cohort, quintile."""
        out = []
        for (n, seg, cohort, q, service), year in sorted(self.contacts.items()):
            people = self.people.get((n, seg, cohort, q), 0)
            out.append(
                {
                    "neighbourhood": n,
                    "service": service,
                    "segment": seg,
                    "cohort": cohort,
                    "imd_quintile": q,
                    "people": people,
                    "contacts_a_year": round(year, 2),
                    "rate": round(year / people, 4) if people else 0.0,
                }
            )
        return out


def learn(data_dir: Path, months: int = 12, as_of: dt.date | None = None) -> Demand:
    con = open_published(data_dir)
    try:
        return learn_from(con, months, as_of)
    finally:
        con.close()


def published_as_of(con: duckdb.DuckDBPyConnection) -> dt.date:
    info = con.execute("SELECT info FROM version_info").fetchone()
    if info is None:
        raise UserError("the published refresh has no version information: publish again")
    return dt.date.fromisoformat(json.loads(info[0])["as_of"])


def learn_from(
    con: duckdb.DuckDBPyConnection, months: int = 12, as_of: dt.date | None = None
) -> Demand:
    """Rates from the ``months`` before ``as_of`` (the refresh's date unless given)."""
    as_of = as_of or published_as_of(con)
    since = months_before(as_of, months)
    demand = Demand(as_of, months)
    activity_service = {a: s for s, acts in ACTIVITIES.items() for a in acts}
    activity_service.update(dict.fromkeys(HOSPITAL, "hospital"))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE capacity_services (activity VARCHAR, service VARCHAR)"
    )
    con.executemany("INSERT INTO capacity_services VALUES (?, ?)", list(activity_service.items()))
    where = "NOT coalesce(p.opted_out, false) AND p.neighbourhood IS NOT NULL"
    for n, seg, cohort, q, people in con.execute(
        f"SELECT p.neighbourhood, coalesce(p.segment, 'unknown'), {COHORT_SQL}, "
        f"coalesce(p.imd_quintile, 0), count(*) FROM person_profiles p WHERE {where} "
        "GROUP BY ALL"
    ).fetchall():
        demand.people[(n, seg, cohort, int(q))] = int(people)
    years = months / 12
    for n, seg, cohort, q, service, count in con.execute(
        f"SELECT p.neighbourhood, coalesce(p.segment, 'unknown'), {COHORT_SQL}, "
        "coalesce(p.imd_quintile, 0), s.service, count(*) FROM timeline t "
        "JOIN capacity_services s USING (activity) JOIN person_profiles p USING (person_id) "
        f"WHERE {where} AND t.start_date > ? AND t.start_date <= ? GROUP BY ALL",
        [since, as_of],
    ).fetchall():
        demand.contacts[(n, seg, cohort, int(q), service)] = count / years
    # Seasonality from the whole history, by calendar month: each month's share against
    # an even year (whole years only, so no month counts twice).
    whole = 12 * max(1, _months_between(_first(con), as_of) // 12)
    start = months_before(as_of, whole)
    by_month: dict[str, list[float]] = defaultdict(lambda: [0.0] * 12)
    for service, month, count in con.execute(
        "SELECT s.service, month(t.start_date), count(*) FROM timeline t "
        "JOIN capacity_services s USING (activity) JOIN person_profiles p USING (person_id) "
        f"WHERE {where} AND t.start_date > ? AND t.start_date <= ? GROUP BY ALL",
        [start, as_of],
    ).fetchall():
        by_month[service][int(month) - 1] = float(count)
    for service in (*SERVICES, "hospital"):
        counts = by_month.get(service)
        total = sum(counts) if counts else 0
        demand.seasonality[service] = (
            [12 * c / total for c in counts] if counts and total else [1.0] * 12
        )
    last_year = months_before(as_of, 12)
    for n, service, month, count in con.execute(
        "SELECT p.neighbourhood, s.service, strftime(t.start_date, '%Y-%m'), count(*) "
        "FROM timeline t JOIN capacity_services s USING (activity) "
        f"JOIN person_profiles p USING (person_id) WHERE {where} AND t.start_date > ? "
        "AND t.start_date <= ? GROUP BY ALL",
        [last_year, as_of],
    ).fetchall():
        demand.monthly.setdefault((n, service), {})[month] = int(count)
    for code, name in con.execute(
        "SELECT DISTINCT neighbourhood, neighbourhood_name FROM person_profiles "
        "WHERE neighbourhood IS NOT NULL"
    ).fetchall():
        demand.names[code] = name or code
    return demand


def _first(con: duckdb.DuckDBPyConnection) -> dt.date:
    row = con.execute(
        "SELECT min(start_date) FROM timeline t JOIN capacity_services USING (activity)"
    ).fetchone()
    return row[0] if row and row[0] else dt.date.today()


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` earlier (the last of the month where it has fewer days)."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _months_between(a: dt.date, b: dt.date) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


@dataclass(frozen=True)
class Drawn:
    """One replication's lever values."""

    growth: float
    shift: float
    enrolment: dict[str, float]
    enrolled_contacts: dict[str, float]
    multiplier: float = 1.0


def project(demand: Demand, neighbourhood: str, levers: Drawn) -> dict[tuple[str, int], float]:
    """Contacts a year by (service, quintile) for one neighbourhood under the levers:
    each cell's rate times its people grown, plus the enrolled's extra contacts, plus
    the share of A&E attendances and emergency admissions shifted to urgent community
    response."""
    out: dict[tuple[str, int], float] = defaultdict(float)
    grow = (1 + levers.growth) * levers.multiplier
    for (n, _seg, _cohort, q, service), year in demand.contacts.items():
        if n != neighbourhood:
            continue
        if service == "hospital":
            out[("urgent_community_response", q)] += year * levers.shift * grow
        else:
            out[(service, q)] += year * grow
    for (n, _seg, cohort, q), people in demand.people.items():
        share = levers.enrolment.get(cohort, 0.0)
        if n != neighbourhood or not share:
            continue
        for service, extra in levers.enrolled_contacts.items():
            out[(service, q)] += people * share * extra * grow
    return dict(out)
