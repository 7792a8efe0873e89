"""Measures of urgent neighbourhood services, for INT leads and the single point of
access and (disclosure-controlled) for planning.

- Urgent community response: the share of referrals received 8am–8pm whose first visit
  came within two hours, against the 70% standard, per day, per week, per team and by
  deprivation quintile, ethnic group, age band or sex. A referral still not visited two
  hours after the call counts as missed from that moment.
- Every response that missed two hours, with its reason; **missed opportunities**:
  people conveyed to hospital whose presenting need was one the service meets.
- Virtual wards: admissions by route, discharges by outcome, length of stay.

Planning roles see counts of 1 to 7 suppressed, the rest rounded to 5, and no free
text or person (ADR 9).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from typing import Any

from django.db.models import Count, F, Q
from django.utils import timezone

from neighbourhood.care import published
from neighbourhood.care.plans.measures import DIMENSIONS, _group, _order
from neighbourhood.care.teams.models import Team
from neighbourhood.care.urgent.models import (
    HOURS,
    STANDARD_SHARE,
    TWO_HOURS,
    UCR_NEEDS,
    Acuity,
    Call,
    Outcome,
    Response,
    Stay,
)
from neighbourhood.standards.disclosure import protect, rate

__all__ = ["DIMENSIONS", "on_time_today", "tables", "verdict"]
DAYS = 14
WEEKS = 8


def verdict(response: Response, now: dt.datetime) -> bool | None:
    """On time, late, or not known yet (still inside two hours, unvisited)."""
    if response.visited_at is not None:
        return response.visited_at - response.received_at <= dt.timedelta(minutes=TWO_HOURS)
    if now - response.received_at > dt.timedelta(minutes=TWO_HOURS):
        return False
    return None


def on_time_today(organisation_id: int) -> dict[str, Any]:
    """Today's share on time, for the top of the board: counted in the database, as the
    board is read all day with thousands open."""
    now = timezone.now()
    today = timezone.localtime(now)
    # Today's standard hours, 8am to 8pm, as a range the index answers.
    opens, closes = (today.replace(hour=h, minute=0, second=0, microsecond=0) for h in HOURS)
    limit = dt.timedelta(minutes=TWO_HOURS)
    found = Response.objects.filter(
        call__organisation_id=organisation_id, received_at__gte=opens, received_at__lt=closes
    ).aggregate(
        visited=Count("pk", filter=Q(visited_at__isnull=False)),
        overdue=Count("pk", filter=Q(visited_at__isnull=True, received_at__lt=now - limit)),
        on_time=Count("pk", filter=Q(visited_at__lte=F("received_at") + limit)),
    )
    counted = found["visited"] + found["overdue"]
    on_time = found["on_time"]
    return {
        "counted": counted,
        "on_time": on_time,
        "share": rate(on_time, counted),
        "standard": round(100 * STANDARD_SHARE),
    }


def _cell(count: int, total: int, control: bool) -> tuple[int | None, float | None, int | None]:
    shown, base = (protect(count), protect(total)) if control else (count, total)
    return shown, rate(shown, base), base


def tables(
    teams: list[Team] | None,
    dimension: str,
    disclosure_control: bool,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The measures as at `now` (by default, this moment): a response still inside its two
    hours and unvisited is not counted yet."""
    responses = Response.objects.select_related("team", "call")
    calls = Call.objects.filter(status=Call.Status.DONE)
    stays = Stay.objects.select_related("ward")
    if teams is not None:
        responses = responses.filter(team__in=teams)
    found = list(responses)
    triaged = list(calls)
    ward_stays = list(stays)
    ids = {r.person_id for r in found if r.person_id} | {
        c.person_id for c in triaged if c.person_id
    }
    people = published.demographics(sorted(ids | {s.person_id for s in ward_stays}))
    if teams is not None:  # the calls and stays of people who live in these teams' neighbourhoods
        codes = {t.neighbourhood.code for t in teams}

        def ours(person_id: str) -> bool:
            return str((people.get(person_id) or {}).get("neighbourhood") or "") in codes

        triaged = [c for c in triaged if ours(c.person_id)]
        ward_stays = [s for s in ward_stays if ours(s.person_id)]
    now = now or timezone.now()
    by_day: Counter[tuple[str, str]] = Counter()
    by_week: Counter[tuple[str, str]] = Counter()
    by_team: Counter[tuple[str, str]] = Counter()
    by_group: Counter[tuple[str, str]] = Counter()
    late: list[dict[str, Any]] = []
    out_of_hours = 0
    today = timezone.localtime(now).date()
    for r in found:
        if not r.in_hours:
            out_of_hours += 1
            continue
        known = verdict(r, now)
        if known is None:
            continue
        day = timezone.localtime(r.received_at).date()
        group = _group(people.get(r.person_id) if r.person_id else None, dimension)
        for counter, key in (
            (by_day, day.isoformat() if (today - day).days < DAYS else ""),
            (
                by_week,
                (day - dt.timedelta(days=day.weekday())).isoformat()
                if (today - day).days < 7 * WEEKS
                else "",
            ),
            (by_team, r.team.name),
            (by_group, group),
        ):
            if key:
                counter[(key, "counted")] += 1
                counter[(key, "on_time")] += known
        if not known:
            late.append(
                {
                    "reference": r.reference,
                    "pk": r.pk,
                    "team": r.team.name,
                    "received_at": r.received_at,
                    "minutes": r.minutes_to_visit(),
                    "reason": r.late_reason
                    or ("Not visited yet" if r.visited_at is None else "No reason given"),
                }
            )

    def share_rows(counter: Counter[tuple[str, str]], order: Any = None) -> list[dict[str, Any]]:
        keys = sorted({k for k, _ in counter}, key=order or (lambda k: k))
        rows = []
        for key in keys:
            shown, share, base = _cell(
                counter[(key, "on_time")], counter[(key, "counted")], disclosure_control
            )
            rows.append(
                {
                    "key": key,
                    "on_time": shown,
                    "counted": base,
                    "share": share,
                    "met": share is not None and share >= 100 * STANDARD_SHARE,
                }
            )
        return rows

    missed = [
        c
        for c in triaged
        if c.outcome == Outcome.CONVEY and c.need in UCR_NEEDS and c.acuity != Acuity.EMERGENCY
    ]
    missed_by_need = Counter(c.get_need_display() for c in missed)
    outcomes = Counter(c.get_outcome_display() for c in triaged)
    routes = Counter(s.get_route_display().split(":")[0] for s in ward_stays)
    discharges = Counter(s.get_discharge_display() for s in ward_stays if s.discharged_at)
    lengths = [
        (s.discharged_at - s.admitted_at).total_seconds() / 86400
        for s in ward_stays
        if s.discharged_at
    ]

    def counted(counter: Counter[str]) -> list[tuple[str, int | None]]:
        return [(k, protect(v) if disclosure_control else v) for k, v in sorted(counter.items())]

    return {
        "standard": round(100 * STANDARD_SHARE),
        "days": share_rows(by_day, lambda k: k)[::-1],
        "weeks": share_rows(by_week, lambda k: k)[::-1],
        "teams": share_rows(by_team),
        "groups": share_rows(by_group, _order),
        "out_of_hours": protect(out_of_hours) if disclosure_control else out_of_hours,
        "late": []
        if disclosure_control
        else sorted(late, key=lambda x: x["received_at"], reverse=True)[:100],
        "late_count": protect(len(late)) if disclosure_control else len(late),
        "missed": []
        if disclosure_control
        else [
            {"call": c, "person": c.person_id}
            for c in sorted(missed, key=lambda c: c.received_at, reverse=True)[:100]
        ],
        "missed_by_need": counted(missed_by_need),
        "outcomes": counted(outcomes),
        "routes": counted(routes),
        "discharges": counted(discharges),
        "length_of_stay": round(statistics.median(lengths), 1)
        if lengths and (not disclosure_control or len(lengths) >= 8)
        else None,
    }
