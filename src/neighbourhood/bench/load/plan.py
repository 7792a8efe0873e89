"""``bench web``'s side inside the web application: make the users and the plan the load
follows, then count what the load wrote against what it was told was saved.

Run as ``python -m neighbourhood.bench.load.plan make|check --data DIR ...`` with
``NEIGHBOURHOOD_DATABASE_URL`` set, so the bench process itself never loads Django.
"""

from __future__ import annotations

import argparse
import json
import secrets
import time
from pathlib import Path
from typing import Any

from neighbourhood.care import server

EDITORS_PER_ENROLMENT = 5
# The personalised care in PostgreSQL while the load runs: at ICS size (2,000,000 people)
# 100,000 plans and 500,000 tasks, as the issue asks; one plan a twenty people below it.
PLANS_AT_MOST = 100_000
PEOPLE_A_PLAN = 20
TASKS_A_PLAN = 5
PLANS_A_LOAD_USER = 60  # a care coordinator's own caseload; the rest are colleagues'
PLANS_A_COLLEAGUE = 100
# People to enrol come from the first pages of each team's list, shared among its
# members, so enrolments go on through the run even when fifty users share one team.
ENROL_PAGES = 20


def seed_care(plan: list[dict[str, Any]]) -> dict[str, int]:
    """Plans and tasks in bulk (setup, not work: no audit entries), for people on no
    case-finding list, so the load's own enrolments never meet them. Each load user
    coordinates ``PLANS_A_LOAD_USER`` of them; colleagues made here the rest."""
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.db import transaction

    from neighbourhood.care import published
    from neighbourhood.care.caseload.models import Enrolment
    from neighbourhood.care.plans.models import CarePlan, CarePlanVersion, Task
    from neighbourhood.care.roles import Role
    from neighbourhood.care.teams.models import Membership, Professional, Team

    with published.cursor() as cur:
        people = int((cur.execute("SELECT count(*) FROM person_profiles").fetchone() or (0,))[0])
        count = min(PLANS_AT_MOST, people // PEOPLE_A_PLAN)
        ids = [
            r[0]
            for r in cur.execute(
                "SELECT person_id FROM person_profiles WHERE person_id NOT IN "
                "(SELECT person_id FROM case_finding) ORDER BY hash(person_id) LIMIT ?",
                [count],
            ).fetchall()
        ]
    published.close()
    teams = {t.pk: t for t in Team.objects.all()}
    # Dealt round the load users first, so each has plans however few there are.
    coordinators = [(u["coordinator"], u["team"]) for _ in range(PLANS_A_LOAD_USER) for u in plan]
    spare = max(0, len(ids) - len(coordinators))
    colleagues = -(-spare // PLANS_A_COLLEAGUE)
    organisation = Professional.objects.first().organisation  # type: ignore[union-attr]
    team_ids = sorted(teams)
    with transaction.atomic():
        users = get_user_model().objects.bulk_create(
            [
                get_user_model()(username=f"colleague{n:05d}", last_name=str(n))
                for n in range(colleagues)
            ],
            batch_size=5000,
        )
        made = Professional.objects.bulk_create(
            [
                Professional(
                    user=u, role=Role.CARE_COORDINATOR, job_title="Nurse", organisation=organisation
                )
                for u in users
            ],
            batch_size=5000,
        )
        Membership.objects.bulk_create(
            [
                Membership(team_id=team_ids[n % len(team_ids)], professional=p)
                for n, p in enumerate(made)
            ],
            batch_size=5000,
        )
        for n, colleague in enumerate(made):
            coordinators += [(colleague.pk, team_ids[n % len(team_ids)])] * PLANS_A_COLLEAGUE
        today = dt.date.today()
        pairs = list(zip(ids, coordinators, strict=False))
        Enrolment.objects.bulk_create(
            [
                Enrolment(
                    person_id=pid,
                    team_id=team,
                    care_coordinator_id=who,
                    reason="seeded",
                    enrolled_by_id=who,
                )
                for pid, (who, team) in pairs
            ],
            batch_size=5000,
        )
        plans = CarePlan.objects.bulk_create(
            [
                CarePlan(
                    person_id=pid,
                    team_id=team,
                    version=1,
                    review_due=today + dt.timedelta(days=(n % 200) - 20),
                    last_reviewed=today - dt.timedelta(days=180),
                    baseline={"frailty": "", "conditions": []},
                )
                for n, (pid, (_, team)) in enumerate(pairs)
            ],
            batch_size=5000,
        )
        CarePlanVersion.objects.bulk_create(
            [
                CarePlanVersion(
                    plan=p,
                    number=1,
                    changed_by_id=who,
                    content={
                        "about_me": "Seeded",
                        "goals": [
                            {
                                "id": "G1",
                                "text": "Stay at home",
                                "lifecycle": "active",
                                "achievement": "in-progress",
                                "target": "",
                                "due": "",
                            },
                            {
                                "id": "G2",
                                "text": "Walk outside",
                                "lifecycle": "active",
                                "achievement": "in-progress",
                                "target": "",
                                "due": "",
                            },
                        ],
                        "contingency_what": "Call the team",
                        "contingency_call": "0300 000 0000",
                        "consent_share": "yes",
                        "review_date": p.review_due.isoformat(),
                    },
                )
                for p, (_, (who, _)) in zip(plans, pairs, strict=True)
            ],
            batch_size=5000,
        )
        statuses = ["requested", "accepted", "in-progress", "completed", "requested"]
        owners = [who for who, _ in coordinators] or [0]
        tasks = []
        for n, (p, (_, (who, team))) in enumerate(zip(plans, pairs, strict=True)):
            for k in range(TASKS_A_PLAN):
                team_task = k == 4
                tasks.append(
                    Task(
                        person_id=p.person_id,
                        plan=p,
                        goal_id=f"G{k % 2 + 1}",
                        description=f"Seeded action {k + 1}",
                        owner_id=None
                        if team_task
                        else (who if k < 2 else owners[(n * 7 + k) % len(owners)]),
                        owner_team_id=team if team_task else None,
                        due=today + dt.timedelta(days=(n + k * 9) % 60 - 10),
                        status=statuses[k],
                        requested_by_id=who,
                    )
                )
        Task.objects.bulk_create(tasks, batch_size=10_000)
    by_coordinator: dict[int, list[str]] = {}
    for pid, (who, _) in pairs:
        by_coordinator.setdefault(who, []).append(pid)
    for entry in plan:
        entry["plans"] = by_coordinator.get(entry["coordinator"], [])
    return {"plans": len(plans), "tasks": len(tasks), "colleagues": colleagues}


REFERRALS_AT_MOST = 5_000


def seed_coordination(plan: list[dict[str, Any]], organisation: Any) -> dict[str, int]:
    """Each load user's team has a meeting tomorrow with its agenda built (as scheduling
    builds it, reading the refresh once a team); the load users' organisation runs a
    service with referrals of the seeded plans' people waiting in its inbox."""
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone

    from neighbourhood.care import published
    from neighbourhood.care.meetings import agenda
    from neighbourhood.care.meetings.models import Meeting
    from neighbourhood.care.referrals.models import Referral, ReferralEvent, Service
    from neighbourhood.care.teams.models import Team

    items = 0
    for team_id in sorted({u["team"] for u in plan}):
        members = [u for u in plan if u["team"] == team_id]
        meeting = Meeting.objects.create(
            team=Team.objects.get(pk=team_id),
            starts_at=timezone.now() + dt.timedelta(days=1),
            place="Bench room",
            created_by_id=members[0]["coordinator"],
        )
        agenda.build(meeting)
        ids = list(meeting.items.values_list("pk", flat=True))
        items += len(ids)
        for entry in members:
            entry["meeting"], entry["items"] = meeting.pk, ids[:50]
    published.close()
    people = [(pid, u) for u in plan for pid in u.get("plans", [])][:REFERRALS_AT_MOST]
    with transaction.atomic():
        service = Service.objects.create(
            name="Bench reablement",
            kind="reablement",
            organisation=organisation,
            respond_hours=24,
            contact_hours=72,
        )
        made = Referral.objects.bulk_create(
            [
                Referral(
                    person_id=pid,
                    service=service,
                    pathway="step-up",
                    reason="seeded",
                    status="requested",
                    referred_by_id=u["coordinator"],
                    team_id=u["team"],
                )
                for pid, u in people
            ],
            batch_size=5000,
        )
        now = timezone.now()
        ReferralEvent.objects.bulk_create(
            [ReferralEvent(referral=r, kind="status", status="requested", at=now) for r in made],
            batch_size=5000,
        )
    return {
        "meetings": len({u["team"] for u in plan}),
        "agenda_items": items,
        "referrals": len(made),
    }


def make(users: int) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from neighbourhood.care import published
    from neighbourhood.care.caseload import actions
    from neighbourhood.care.caseload.models import Enrolment
    from neighbourhood.care.roles import Role
    from neighbourhood.care.teams.demo import setup_demo
    from neighbourhood.care.teams.models import Membership, Organisation, Professional, Team

    setup_demo()
    teams = list(Team.objects.select_related("neighbourhood").order_by("name"))
    organisation = Organisation.objects.order_by("ods_code").first()
    assert organisation is not None
    plan: list[dict[str, Any]] = []
    for number in range(users):
        team = teams[number % len(teams)]
        password = secrets.token_urlsafe(12)
        user = get_user_model().objects.create_user(
            username=f"load{number:03d}",
            password=password,
            first_name="Load",
            last_name=str(number),
        )
        professional = Professional.objects.create(
            user=user, role=Role.CARE_COORDINATOR, job_title="Nurse", organisation=organisation
        )
        Membership.objects.create(team=team, professional=professional)
        # Care staff sign in with a second factor: each load user has an authenticator
        # app's key, and types its code after the password.
        device = TOTPDevice.objects.create(user=user, name="Load", confirmed=True)
        plan.append(
            {
                "username": user.username,
                "password": password,
                "totp_key": device.key,
                "team": team.pk,
                "coordinator": professional.pk,
                "neighbourhood": team.neighbourhood.code,
            }
        )
    by_team: dict[int, list[dict[str, Any]]] = {}
    for entry in plan:
        by_team.setdefault(entry["team"], []).append(entry)
    for team in teams:
        members = by_team.get(team.pk, [])
        if not members:
            continue
        code = team.neighbourhood.code
        taken = set(  # the demo's living caseload
            Enrolment.objects.filter(ended_at__isnull=True).values_list("person_id", flat=True)
        )
        people = [
            r["person_id"]
            for page in range(1, ENROL_PAGES + 1)
            for r in published.case_finding([code], published.Filters(), page=page)[0]
            if r["person_id"] not in taken
        ]
        # Colleagues edit the same enrolment in groups of five, so conflicts happen
        # (and must lose nothing) without all fifty queueing on one record.
        groups = range(0, len(members), EDITORS_PER_ENROLMENT)
        shared_people, enrollable = people[: len(groups)], people[len(groups) :]
        for group, start in enumerate(groups):
            lead = Professional.objects.get(pk=members[start]["coordinator"])
            shared = actions.enrol(
                person_id=shared_people[group],
                team=team,
                coordinator=lead,
                reason="shared",
                by=lead,
            )
            for entry in members[start : start + EDITORS_PER_ENROLMENT]:
                entry["shared_enrolment"] = shared.pk
        for index, entry in enumerate(members):
            entry["profiles"] = people[: 2 * published.PAGE_SIZE]  # the top of the list
            entry["enrol"] = enrollable[index :: len(members)]
    seeded = seed_care(plan)
    seeded |= seed_coordination(plan, organisation)
    from django.db import connection

    if connection.vendor == "postgresql":  # statistics for the planner, as after any bulk load
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {"users": plan, "seeded": seeded}


def check(plan: dict[str, Any], acknowledged: dict[str, Any]) -> dict[str, int]:
    """Every write the load was told was saved must be in the database."""
    from neighbourhood.care.caseload.models import Enrolment

    lost_enrolments = sum(
        not Enrolment.objects.filter(person_id=p, ended_at__isnull=True).exists()
        for p in acknowledged.get("enrolled", [])
    )
    notes = {
        e.pk: e.notes
        for e in Enrolment.objects.filter(
            pk__in={u["shared_enrolment"] for u in plan["users"] if "shared_enrolment" in u}
        )
    }
    lost_notes = sum(
        line not in notes.get(int(enrolment), "").splitlines()
        for enrolment, line in acknowledged.get("notes", [])
    )
    lost_plans = _lost_plan_lines(acknowledged.get("plans", []))
    lost_tasks = _lost_task_moves(acknowledged.get("tasks", []))
    lost_referrals = _lost_referral_moves(acknowledged.get("referrals", []))
    return {
        "referral_moves_acknowledged": len(acknowledged.get("referrals", [])),
        "enrolments_acknowledged": len(acknowledged.get("enrolled", [])),
        "notes_acknowledged": len(acknowledged.get("notes", [])),
        "plan_saves_acknowledged": len(acknowledged.get("plans", [])),
        "task_updates_acknowledged": len(acknowledged.get("tasks", [])),
        "lost_updates": lost_enrolments + lost_notes + lost_plans + lost_tasks + lost_referrals,
    }


def _lost_plan_lines(saved: list[list[str]]) -> int:
    """A plan save the load was told succeeded: its line is in the plan's newest version
    (each save keeps what was there and adds one line to 'about me')."""
    from neighbourhood.care.plans.models import CarePlan

    plans = {
        p.person_id: p.current().content.get("about_me", "").splitlines()
        for p in CarePlan.objects.filter(person_id__in={pid for pid, _ in saved})
    }
    return sum(line not in plans.get(pid, []) for pid, line in saved)


ORDER = {"requested": 0, "accepted": 1, "in-progress": 2, "completed": 3}


def _lost_task_moves(moved: list[list[Any]]) -> int:
    """A task update the load was told succeeded: the task is at that status or beyond
    (statuses only move forward)."""
    from neighbourhood.care.plans.models import Task

    now = dict(Task.objects.filter(pk__in={t for t, _ in moved}).values_list("pk", "status"))
    return sum(ORDER.get(now.get(int(t), ""), -1) < ORDER[status] for t, status in moved)


AUDIT_REPEATS = 300


class _RollBackError(Exception):
    pass


def audit_cost(repeats: int = AUDIT_REPEATS) -> dict[str, float]:
    """The median time (ms) of one audit append as a page view makes it: the keyed,
    anchored chain, and beside it the unkeyed SHA-256 chain it replaced, in the same run
    on the same database. Each append runs in a transaction that is rolled back, so
    neither leaves an entry (nor a checkpoint, which waits for a commit)."""
    import statistics

    from django.db import connection, transaction
    from django.utils import timezone

    from neighbourhood.care.audit import chain

    def keyed() -> None:
        chain.record(
            "bench", "view_profile", role="care_coordinator", person_id="P0", reason="bench"
        )

    def unkeyed() -> None:  # the chain before issue 22: no key, no anchor
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE audit_chainhead SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash"
            )
            seq, previous = cursor.fetchone()
            fields = {
                "at": timezone.now().isoformat(),
                "actor": "bench",
                "actor_role": "care_coordinator",
                "action": "view_profile",
                "person_id": "P0",
                "reason": "bench",
                "detail": {},
            }
            link = chain.unkeyed_digest(previous, seq, fields)
            cursor.execute(
                "INSERT INTO audit_auditevent (seq, at, actor, actor_role, action, person_id,"
                " reason, detail, previous_hash, hash) VALUES (%s, now(), %s, %s, %s, %s, %s,"
                " '{}', %s, %s)",
                [seq, "bench", "care_coordinator", "view_profile", "P0", "bench", previous, link],
            )
            cursor.execute("UPDATE audit_chainhead SET hash = %s WHERE id = 1", [link])

    keyed()  # the chain head exists from here on
    timings: dict[str, list[float]] = {"keyed": [], "unkeyed": []}
    for _ in range(repeats):
        for name, append in (("keyed", keyed), ("unkeyed", unkeyed)):
            began = time.perf_counter()
            try:
                with transaction.atomic():
                    append()
                    raise _RollBackError
            except _RollBackError:
                pass
            timings[name].append((time.perf_counter() - began) * 1000)
    return {name: round(statistics.median(ms), 3) for name, ms in timings.items()}


REFERRAL_ORDER = {"requested": 0, "accepted": 1, "in-progress": 2, "completed": 3}


def _lost_referral_moves(moved: list[list[Any]]) -> int:
    """A referral moved on, as the load was told: it is at that status or beyond."""
    from neighbourhood.care.referrals.models import Referral

    now = dict(Referral.objects.filter(pk__in={r for r, _ in moved}).values_list("pk", "status"))
    return sum(
        REFERRAL_ORDER.get(now.get(int(r), ""), -1) < REFERRAL_ORDER[status] for r, status in moved
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="neighbourhood.bench.load.plan")
    parser.add_argument("action", choices=["make", "check"])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--plan", type=Path, required=True)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--acknowledged", type=Path)
    parser.add_argument("--mix", choices=["care", "urgent"], default="care")
    args = parser.parse_args()
    server.configure(args.data.resolve())
    from neighbourhood.bench.load import urgent

    if args.action == "make":
        server.prepare(collect_static=False)  # 'serve' collects them
        made = urgent.make(args.users) if args.mix == "urgent" else make(args.users)
        args.plan.write_text(json.dumps(made), encoding="utf-8")
    else:
        assert args.acknowledged is not None
        plan = json.loads(args.plan.read_text(encoding="utf-8"))
        acknowledged = json.loads(args.acknowledged.read_text(encoding="utf-8"))
        if args.mix == "urgent":
            print(json.dumps(urgent.check(plan, acknowledged)))
        else:
            print(json.dumps(check(plan, acknowledged) | {"audit_ms": audit_cost()}))


if __name__ == "__main__":
    main()
