"""Coordination for the demonstration: a directory of services made from the published
partners, referrals in every state (step-up, step-down on each pathway with Home First,
social prescribing on to the voluntary sector with wellbeing measured), a closed MDT
meeting with its actions and outcomes (in the GP practice's inbox), and the next meeting
with its agenda built; all through the same actions, and audit trail, as the pages use."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from neighbourhood.care import published
from neighbourhood.care.caseload.models import Enrolment
from neighbourhood.care.meetings import actions as meetings
from neighbourhood.care.meetings import agenda
from neighbourhood.care.meetings.models import Attendee, Meeting, MeetingAction
from neighbourhood.care.plans import actions as plans
from neighbourhood.care.plans.models import Task
from neighbourhood.care.referrals import actions
from neighbourhood.care.referrals.models import PROMISES, Service, ServiceKind
from neighbourhood.care.teams.models import Organisation, Professional, Sector, Team

ACTIVITIES = [
    ["Lunch club", "Befriending calls", "Digital skills drop-in"],
    ["Carers' support group", "Respite sitting service"],
    ["Walking group", "Men's shed", "Community choir"],
]


def _organisation(sector: str) -> Organisation | None:
    return Organisation.objects.filter(sector=sector).order_by("ods_code").first()


def directory(team: Team) -> dict[str, Service]:
    """One service of each kind, run by the published partner that would run it."""
    community = _organisation(Sector.COMMUNITY)
    council = _organisation(Sector.SOCIAL_CARE)
    mental = _organisation(Sector.MENTAL_HEALTH)
    pcn = Organisation.objects.filter(ods_code=team.neighbourhood.code).first()
    wanted: list[tuple[str, str, Organisation | None, dict[str, Any]]] = [
        ("Home-based intermediate care", ServiceKind.HOME_BASED, community, {"capacity": 40}),
        ("Step-up and step-down beds", ServiceKind.BED_BASED, community, {"capacity": 24}),
        ("Reablement at home", ServiceKind.REABLEMENT, council, {"capacity": 60}),
        ("District nursing", ServiceKind.COMMUNITY, community, {}),
        ("Community mental health team", ServiceKind.MENTAL_HEALTH, mental, {"minimum_age": 18}),
        (
            "Social prescribing",
            ServiceKind.SOCIAL_PRESCRIBING,
            pcn,
            {"catchment": [team.neighbourhood.code]},
        ),
    ]
    made: dict[str, Service] = {}
    for name, kind, organisation, extra in wanted:
        if organisation is None:
            continue
        respond, contact = PROMISES[ServiceKind(kind)]
        made[kind], _ = Service.objects.get_or_create(
            name=name,
            organisation=organisation,
            defaults={"kind": kind, "respond_hours": respond, "contact_hours": contact, **extra},
        )
    for number, organisation in enumerate(Organisation.objects.filter(sector=Sector.VCFSE)):
        service, _ = Service.objects.get_or_create(
            name=organisation.name,
            organisation=organisation,
            defaults={
                "kind": ServiceKind.VCFSE,
                "respond_hours": 120,
                "contact_hours": 336,
                "activities": ACTIVITIES[number % len(ACTIVITIES)],
                "eligibility": "Adults who would benefit from company, activity or practical help",
                "minimum_age": 18,
            },
        )
        made.setdefault(f"vcfse{number}", service)
    return made


def seed(
    team: Team,
    coordinator: Professional,
    clinician: Professional,
    link_worker: Professional,
    vcfse_worker: Professional,
) -> dict[str, int]:
    """Seed once: a team that already has meetings keeps them."""
    if Meeting.objects.filter(team=team).exists():
        return {}
    services = directory(team)
    people = list(
        Enrolment.objects.filter(team=team, ended_at__isnull=True)
        .order_by("pk")
        .values_list("person_id", flat=True)
    )
    profiles = {pid: published.profile(pid) or {} for pid in people}
    counts = {"services": len(services), "referrals": 0, "meetings": 0}

    def refer(pid: str, kind: str, by: Professional, **ask: Any) -> Any:
        service = services.get(kind)
        if service is None or service.serves(
            str(profiles[pid].get("neighbourhood") or ""), profiles[pid].get("age")
        ):
            return None
        counts["referrals"] += 1
        return actions.refer(
            person_id=pid,
            person=profiles[pid],
            by=by,
            team=team,
            request=actions.Request(service=service, **ask),
        )

    if len(people) >= 6:
        refer(
            people[0],
            ServiceKind.HOME_BASED,
            coordinator,
            pathway="step-up",
            reason="Two falls this week and struggling to manage at home: to prevent an admission",
            urgent=True,
        )
        refer(
            people[1],
            ServiceKind.REABLEMENT,
            coordinator,
            pathway="step-down",
            discharge_pathway=1,
            reason="Going home from the frailty unit after a chest infection",
        )
        refer(
            people[2],
            ServiceKind.BED_BASED,
            clinician,
            pathway="step-down",
            discharge_pathway=2,
            home_first=False,
            not_home_because="Cannot weight-bear yet after a hip fracture; lives alone upstairs",
            reason="Rehabilitation before going home",
        )
        sp = refer(
            people[3],
            ServiceKind.SOCIAL_PRESCRIBING,
            clinician,
            pathway="community",
            reason="Lonely since her husband died; low mood",
            what_matters="Getting out to see people again",
            needs="Isolation; low mood",
        )
        if sp is not None and "vcfse0" in services:
            sp = actions.move(
                referral_id=sp.pk, version=sp.version, status="accepted", reason="", by=link_worker
            )
            actions.record_wellbeing(
                referral=sp,
                when="before",
                by=link_worker,
                scores={"life_satisfaction": 3, "worthwhile": 4, "happiness": 3, "anxiety": 7},
            )
            club = services["vcfse0"]
            onward = actions.refer(
                person_id=people[3],
                person=profiles[people[3]],
                by=link_worker,
                team=team,
                parent=sp,
                request=actions.Request(
                    service=club,
                    pathway="social-prescribing",
                    reason="Company and a hot meal once a week",
                    what_matters=sp.what_matters,
                    needs=sp.needs,
                    activities=tuple(club.activities[:1]),
                ),
            )
            counts["referrals"] += 1
            if vcfse_worker.organisation_id != club.organisation_id:
                vcfse_worker.organisation = club.organisation
                vcfse_worker.save(update_fields=["organisation"])
            del onward  # left in the voluntary sector worker's inbox, to accept
        declined = refer(
            people[4],
            ServiceKind.SOCIAL_PRESCRIBING,
            coordinator,
            pathway="community",
            reason="Isolated; carer strain",
        )
        if declined is not None:
            actions.move(
                referral_id=declined.pk,
                version=declined.version,
                status="cancelled",
                reason="Does not want to join groups at the moment",
                by=link_worker,
                declined=True,
            )
    counts["meetings"] = _meetings(team, coordinator, clinician)
    return counts


def _meetings(team: Team, coordinator: Professional, clinician: Professional) -> int:
    """Last week's meeting, held and closed; next week's, with its agenda built."""
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    last = _meeting(team, now - dt.timedelta(days=7), coordinator, clinician)
    practice = clinician.organisation.ods_code
    known = published.people([i.person_id for i in last.items.all()])
    # The clinician's own patients first, so their practice inbox has the outcomes.
    items = sorted(
        last.items.filter(list="discuss"),
        key=lambda i: (known.get(i.person_id, {}).get("practice") != practice, i.position),
    )[:3]
    today = dt.date.today()
    for number, item in enumerate(items):
        meetings.record_item(
            item_id=item.pk,
            version=item.version,
            by=coordinator,
            discussion="Rising frailty; two A&E attendances; lives alone.",
            decisions="Start a care plan with the person; medicines review; falls assessment.",
            new_actions=[
                meetings.Action(
                    "Medicines review", today + dt.timedelta(days=1 + number * 5), owner=clinician
                ),
                meetings.Action(
                    "Falls risk assessment at home", today + dt.timedelta(days=7), owner=coordinator
                ),
            ],
        )
    meetings.record_attendance(
        meeting_id=last.pk,
        version=Meeting.objects.get(pk=last.pk).version,
        attended={a.pk for a in last.attendees.all()},
        guests=[
            {
                "name": "Ann Lee",
                "role": "Clinical pharmacist",
                "organisation": "Primary care network",
            }
        ],
        by=coordinator,
    )
    meetings.close(meeting_id=last.pk, by=coordinator)
    # A week on: one action done on time, one overdue, the rest not yet due.
    decided = [a.task for a in MeetingAction.objects.filter(item__meeting=last).order_by("pk")]
    if len(decided) >= 2:
        Task.objects.filter(pk=decided[0].pk).update(due=today - dt.timedelta(days=2))
        done = decided[1]
        plans.move_task(
            task_id=done.pk, version=done.version, status="accepted", reason="", by=coordinator
        )
        plans.move_task(
            task_id=done.pk, version=done.version + 1, status="completed", reason="", by=coordinator
        )
    _meeting(team, now + dt.timedelta(days=7), coordinator, clinician)
    return 2


def _meeting(
    team: Team, when: dt.datetime, coordinator: Professional, clinician: Professional
) -> Meeting:
    """A meeting (its day may be past, as the pages may not make one) and its agenda."""
    made = Meeting.objects.create(
        team=team, starts_at=when, place="Surgery meeting room", created_by=coordinator
    )
    for p in (coordinator, clinician):
        Attendee.objects.create(
            meeting=made,
            professional=p,
            name=p.display_name,
            role=p.job_title,
            organisation=p.organisation.name,
        )
    agenda.build(made)
    return made
