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
# People to enrol come from the first pages of each team's list, shared among its
# members, so enrolments go on through the run even when fifty users share one team.
ENROL_PAGES = 20


def make(users: int) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from neighbourhood.care import published
    from neighbourhood.care.caseload import actions
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
        people = [
            r["person_id"]
            for page in range(1, ENROL_PAGES + 1)
            for r in published.case_finding([code], published.Filters(), page=page)[0]
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
    return {"users": plan}


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
    return {
        "enrolments_acknowledged": len(acknowledged.get("enrolled", [])),
        "notes_acknowledged": len(acknowledged.get("notes", [])),
        "lost_updates": lost_enrolments + lost_notes,
    }


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


def main() -> None:
    parser = argparse.ArgumentParser(prog="neighbourhood.bench.load.plan")
    parser.add_argument("action", choices=["make", "check"])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--plan", type=Path, required=True)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--acknowledged", type=Path)
    args = parser.parse_args()
    server.configure(args.data.resolve())
    if args.action == "make":
        server.prepare(collect_static=False)  # 'serve' collects them
        args.plan.write_text(json.dumps(make(args.users)), encoding="utf-8")
    else:
        assert args.acknowledged is not None
        plan = json.loads(args.plan.read_text(encoding="utf-8"))
        acknowledged = json.loads(args.acknowledged.read_text(encoding="utf-8"))
        print(json.dumps(check(plan, acknowledged) | {"audit_ms": audit_cost()}))


if __name__ == "__main__":
    main()
