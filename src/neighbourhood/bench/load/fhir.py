"""``bench fhir``'s side inside the web application: the same care as ``bench web`` (at
ICS size 100,000 care plans and 500,000 tasks in PostgreSQL), a partner's system
registered for the load users' teams, and what the load reads, searches and writes;
afterwards, every write the API acknowledged looked for in the database.

Run as ``python -m neighbourhood.bench.load.fhir make|check --data DIR ...`` with
``NEIGHBOURHOOD_DATABASE_URL`` set, so the bench process never loads Django.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

from neighbourhood.care import server

CLIENT_ID = "bench-partner"
SAMPLE = 2_000  # plans, people and tasks the reads and searches pick from
CONTESTED = 20  # tasks the writers share, so they meet (If-Match) and must lose nothing


def make(users: int) -> dict[str, Any]:
    from neighbourhood import smart
    from neighbourhood.bench.load.plan import make as make_care
    from neighbourhood.care import published
    from neighbourhood.care.fhirapi import clients
    from neighbourhood.care.plans.models import CarePlan, Task
    from neighbourhood.care.teams.models import Professional, Team

    care = make_care(users)
    entries = care["users"]
    teams = list(Team.objects.filter(pk__in={e["team"] for e in entries}))
    first = Professional.objects.get(pk=entries[0]["coordinator"])
    private = smart.new_key()
    clients.register(
        name="Bench partner",
        organisation=first.organisation,
        teams=teams,
        scopes=["system/*.cruds"],
        jwks={"keys": [smart.public_jwk(private, "bench")]},
        by="neighbourhood bench fhir",
        client_id=CLIENT_ID,
    )
    mine = CarePlan.objects.filter(team__in=teams).order_by("?")[:SAMPLE]
    plans = [{"id": p.pk, "person": p.person_id, "team": p.team_id} for p in mine]
    with published.cursor() as cur:
        for plan in plans:
            row = cur.execute(
                "SELECT nhs_number FROM person_profiles WHERE person_id = ?", [plan["person"]]
            ).fetchone()
            plan["nhs"] = str(row[0]) if row and row[0] else ""
    published.close()
    tasks = list(
        Task.objects.filter(plan__team__in=teams)
        .order_by("?")
        .values_list("pk", flat=True)[:SAMPLE]
    )
    contested = list(
        Task.objects.filter(plan__team__in=teams, status="requested")
        .order_by("pk")
        .values_list("pk", flat=True)[:CONTESTED]
    )
    owners = sorted({e["coordinator"] for e in entries})
    by_team: dict[str, list[int]] = {}
    for entry in entries:  # a task is given to a member of the person's team
        by_team.setdefault(str(entry["team"]), []).append(entry["coordinator"])
    random.Random(1).shuffle(plans)
    return {
        "users": entries,
        "seeded": care["seeded"],
        "client_id": CLIENT_ID,
        "key": smart.pem(private),
        "plans": plans,
        "tasks": tasks,
        "contested": contested,
        "owners": owners,
        "team_owners": by_team,
    }


def check(plan: dict[str, Any], acknowledged: dict[str, Any]) -> dict[str, int]:
    """Every acknowledged update must be the version it was acknowledged as, holding
    what was written; every acknowledged create must be there, once."""
    from neighbourhood.care.fhirapi.models import PartnerIdentifier, ResourceVersion
    from neighbourhood.care.plans.models import Task

    lost = 0
    for task_id, version, description in acknowledged.get("updates", []):
        kept = ResourceVersion.objects.filter(
            resource_type="Task", resource_id=str(task_id), version=version
        ).first()
        if kept is None or kept.resource.get("description") != description:
            lost += 1
    for task_id in {u[0] for u in acknowledged.get("updates", [])}:
        wrote = sum(1 for u in acknowledged["updates"] if u[0] == task_id)
        if Task.objects.get(pk=task_id).version != 1 + wrote:
            lost += 1  # a write acknowledged twice, or one not acknowledged and kept
    created = acknowledged.get("creates", [])
    found = PartnerIdentifier.objects.filter(
        resource_type="Task", value__in=[c[1] for c in created]
    ).values_list("value", "resource_id")
    by_value: dict[str, set[str]] = {}
    for value, rid in found:
        by_value.setdefault(value, set()).add(rid)
    duplicated = 0
    for rid, value in created:
        ids = by_value.get(value, set())
        if str(rid) not in ids:
            lost += 1
        duplicated += max(0, len(ids) - 1)
    return {
        "acknowledged_updates": len(acknowledged.get("updates", [])),
        "acknowledged_creates": len(created),
        "lost_updates": lost,
        "duplicated_creates": duplicated,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="neighbourhood.bench.load.fhir")
    parser.add_argument("action", choices=["make", "check"])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--plan", type=Path, required=True)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--acknowledged", type=Path)
    args = parser.parse_args()
    server.configure(args.data.resolve())
    if args.action == "make":
        server.prepare(collect_static=False)
        args.plan.write_text(json.dumps(make(args.users)), encoding="utf-8")
    else:
        assert args.acknowledged is not None
        plan = json.loads(args.plan.read_text(encoding="utf-8"))
        acknowledged = json.loads(args.acknowledged.read_text(encoding="utf-8"))
        print(json.dumps(check(plan, acknowledged)))


if __name__ == "__main__":
    main()
