"""The teams' own work, exported from the operational database as the feed that flows back
into the warehouse (``neighbourhood.operational``), so evaluation reads what the teams
actually did: enrolments with a care coordinator, assessments completed, care plans
agreed, MDT decisions, referrals sent, urgent community response visits and virtual
ward admissions.

Each export is the whole history, written over the last; people are carried by NHS
number (and date of birth and sex) as any partner's feed is, and the planning tables
hold them under pseudonyms only. Writing it is on the audit trail with the counts,
never who.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone

from neighbourhood import operational, registry
from neighbourhood.care import published
from neighbourhood.care.audit.chain import record
from neighbourhood.care.caseload.models import Enrolment
from neighbourhood.care.meetings.models import Outcome
from neighbourhood.care.plans.models import Assessment, CarePlan
from neighbourhood.care.referrals.models import Referral
from neighbourhood.care.urgent.models import Response, Stay

SEX = {"male": "M", "female": "F"}


@dataclass
class Exported:
    people: int
    activity: dict[str, int]
    folder: Path


def _day(at: dt.datetime | dt.date | None) -> str:
    if at is None:
        return ""
    if isinstance(at, dt.datetime):
        return timezone.localtime(at).date().isoformat()
    return at.isoformat()


def activity_rows() -> list[tuple[str, str, str, str, str, str]]:
    """(event id, person id, date, end date, activity words, team's neighbourhood code)."""
    rows: list[tuple[str, str, str, str, str, str]] = []
    teams: dict[str, str] = {}  # each person's latest enrolling team, for what has none
    for e in Enrolment.objects.select_related("team__neighbourhood").order_by("enrolled_at", "pk"):
        code = e.team.neighbourhood.code
        rows.append(
            (f"ENR{e.pk}", e.person_id, _day(e.enrolled_at), _day(e.ended_at), "Enrolment", code)
        )
        teams[e.person_id] = code
    for a in Assessment.objects.filter(completed_at__isnull=False).order_by("pk"):
        rows.append(
            (
                f"ASS{a.pk}",
                a.person_id,
                _day(a.completed_at),
                "",
                "Assessment",
                teams.get(a.person_id, ""),
            )
        )
    for p in CarePlan.objects.select_related("team__neighbourhood").order_by("pk"):
        rows.append(
            (
                f"PLN{p.pk}",
                p.person_id,
                _day(p.created_at),
                "",
                "Care plan agreed",
                p.team.neighbourhood.code,
            )
        )
    for o in Outcome.objects.select_related("item__meeting__team__neighbourhood").order_by("pk"):
        code = o.item.meeting.team.neighbourhood.code
        rows.append((f"MDT{o.pk}", o.person_id, _day(o.created_at), "", "MDT review", code))
    for r in (
        Referral.objects.exclude(status="draft")
        .select_related("team__neighbourhood")
        .order_by("pk")
    ):
        code = r.team.neighbourhood.code if r.team is not None else teams.get(r.person_id, "")
        rows.append((f"REF{r.pk}", r.person_id, _day(r.created_at), "", "Referral sent", code))
    for v in (
        Response.objects.filter(visited_at__isnull=False)
        .exclude(person_id="")
        .select_related("team__neighbourhood")
        .order_by("pk")
    ):
        rows.append(
            (
                f"UCR{v.pk}",
                v.person_id,
                _day(v.visited_at),
                "",
                "Urgent community response",
                v.team.neighbourhood.code,
            )
        )
    for s in Stay.objects.order_by("pk"):
        rows.append(
            (
                f"VWD{s.pk}",
                s.person_id,
                _day(s.admitted_at),
                _day(s.discharged_at),
                "Virtual ward admission",
                teams.get(s.person_id, ""),
            )
        )
    return rows


def export(data_dir: Path, by: str) -> Exported:
    """Write the feed into the data directory's extracts and declare it in sources.toml."""
    rows = activity_rows()
    people = published.for_returns(sorted({r[1] for r in rows}))
    folder = data_dir / "extracts" / operational.SOURCE_ID
    folder.mkdir(parents=True, exist_ok=True)
    record_ids: dict[str, str] = {}
    people_rows = []
    for n, (person_id, p) in enumerate(sorted(people.items()), start=1):
        record_ids[person_id] = f"P{n:08d}"
        born = p.get("date_of_birth")
        people_rows.append(
            (
                record_ids[person_id],
                str(p.get("nhs_number") or ""),
                born.isoformat() if born else "",
                SEX.get(str(p.get("sex") or "").lower(), ""),
                str(p.get("postcode") or ""),
            )
        )
    # Activity of people no longer in the published refresh cannot be linked: left out.
    kept = [r for r in rows if r[1] in record_ids]
    people_head, events_head = operational.headers()
    (folder / operational.PEOPLE_FILE).write_text(
        people_head + operational.csv_text(people_rows), encoding="utf-8"
    )
    (folder / operational.EVENTS_FILE).write_text(
        events_head
        + operational.csv_text(
            (event, record_ids[person], day, end, words, team)
            for event, person, day, end, words, team in kept
        ),
        encoding="utf-8",
    )
    _declare(data_dir)
    counts: dict[str, int] = {}
    for r in kept:
        counts[r[4]] = counts.get(r[4], 0) + 1
    record(
        by,
        "export_operational_activity",
        reason="evaluation feed",
        detail={"people": len(people_rows), **counts},
    )
    return Exported(len(people_rows), counts, folder)


def _declare(data_dir: Path) -> None:
    existing = registry.load(data_dir) if (data_dir / registry.REGISTRY_FILE).exists() else []
    if any(s.id == operational.SOURCE_ID for s in existing):
        return
    source = operational.source(
        f"extracts/{operational.SOURCE_ID}",
        "ZZ0",
        "Integrated neighbourhood teams' record (this application)",
        dt.date.today().replace(year=dt.date.today().year + 3, day=1),
    )
    registry.save(data_dir, [*existing, source])
