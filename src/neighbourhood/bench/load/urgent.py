"""``bench web --mix urgent``'s side inside the web application: the single point of access's users,
2,000 open urgent responses on the board, the NHS numbers callers give; and afterwards,
every claim, call and visit the load was told was saved, looked for in the database.

A claim is the write that must never be lost or doubled: a call the application told one
clinician they had triaged is triaged by that clinician, and no call or response was
acknowledged to two.
"""

from __future__ import annotations

import datetime as dt
import secrets
import statistics
import time
from collections import Counter
from typing import Any

OPEN_RESPONSES = 2_000
NHS_NUMBERS_A_USER = 200
BOARD_READS = 30


def make(users: int) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from neighbourhood.care import published
    from neighbourhood.care.roles import Role
    from neighbourhood.care.teams.demo import setup_demo
    from neighbourhood.care.teams.models import Professional, Team
    from neighbourhood.care.urgent.models import Call, Response

    setup_demo()  # the demo's wards, and its single point of access with a morning's queue
    organisation = Professional.objects.get(user__username="spa").organisation
    teams = list(Team.objects.order_by("pk").values_list("pk", flat=True))
    with published.cursor() as cur:
        people = cur.execute(
            "SELECT person_id, nhs_number FROM person_profiles WHERE nhs_number IS NOT NULL "
            "ORDER BY hash(person_id) LIMIT ?",
            [OPEN_RESPONSES + users * NHS_NUMBERS_A_USER],
        ).fetchall()
    published.close()
    plan: list[dict[str, Any]] = []
    for number in range(users):
        password = secrets.token_urlsafe(12)
        user = get_user_model().objects.create_user(
            username=f"spa{number:03d}", password=password, first_name="Spa", last_name=str(number)
        )
        professional = Professional.objects.create(
            user=user, role=Role.SPA, job_title="Senior nurse", organisation=organisation
        )
        device = TOTPDevice.objects.create(user=user, name="Load", confirmed=True)
        # Callers' NHS numbers: after the board's people, round again in a small ICS.
        first = OPEN_RESPONSES + number * NHS_NUMBERS_A_USER
        given = [people[(first + k) % len(people)] for k in range(NHS_NUMBERS_A_USER)]
        plan.append(
            {
                "username": user.username,
                "password": password,
                "totp_key": device.key,
                "professional": professional.pk,
                "team": teams[number % len(teams)],
                "nhs_numbers": [str(n) for _, n in given],
            }
        )
    # The board's open responses: triaged calls of this morning, in every state but closed.
    now = timezone.now()
    seeder = plan[0]["professional"]
    with transaction.atomic():
        calls = Call.objects.bulk_create(
            [
                Call(
                    person_id=pid,
                    organisation=organisation,
                    received_at=now - dt.timedelta(minutes=n % 150),
                    source="gp",
                    caller="Seeded",
                    need="fall",
                    details="Seeded",
                    taken_by_id=seeder,
                    status="done",
                    claimed_by_id=seeder,
                    claimed_at=now,
                    acuity="two_hours",
                    outcome="ucr",
                    triaged_at=now,
                )
                for n, (pid, _) in enumerate(people[n % len(people)] for n in range(OPEN_RESPONSES))
            ],
            batch_size=5000,
        )
        Response.objects.bulk_create(
            [
                Response(
                    call=c,
                    person_id=c.person_id,
                    team_id=teams[n % len(teams)],
                    received_at=c.received_at,
                )
                for n, c in enumerate(calls)
            ],
            batch_size=5000,
        )
    from django.db import connection

    if connection.vendor == "postgresql":  # statistics for the planner, as after any bulk load
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {"users": plan, "seeded": {"open_responses": len(calls)}}


def check(plan: dict[str, Any], acknowledged: dict[str, Any]) -> dict[str, Any]:
    from neighbourhood.care.urgent.models import Call, Response

    users = {u["professional"]: u["username"] for u in plan["users"]}
    claims = acknowledged.get("claims", [])
    setoffs = acknowledged.get("set_offs", [])
    calls = {
        c.pk: c for c in Call.objects.filter(pk__in={int(c) for c, _ in claims}).select_related()
    }
    responses = {r.pk: r for r in Response.objects.filter(pk__in={int(r) for r, _ in setoffs})}
    lost_claims = sum(
        users.get(calls[int(c)].claimed_by_id) != who or calls[int(c)].status != "done"
        if int(c) in calls
        else True
        for c, who in claims
    )
    lost_setoffs = sum(
        users.get(responses[int(r)].responder_id) != who if int(r) in responses else True
        for r, who in setoffs
    )
    doubled = sum(n - 1 for n in Counter(c for c, _ in claims).values() if n > 1) + sum(
        n - 1 for n in Counter(r for r, _ in setoffs).values() if n > 1
    )
    taken = acknowledged.get("calls", [])
    lost_calls = len(taken) - Call.objects.filter(pk__in=[int(c) for c in taken]).count()
    visits = acknowledged.get("visits", [])
    lost_visits = (
        len(visits)
        - Response.objects.filter(pk__in=[int(r) for r in visits], visited_at__isnull=False).count()
    )
    return {
        "calls_acknowledged": len(taken),
        "claims_acknowledged": len(claims),
        "set_offs_acknowledged": len(setoffs),
        "visits_acknowledged": len(visits),
        "claims_refused": int(acknowledged.get("claims_refused", 0)),
        "lost_updates": lost_claims + lost_setoffs + lost_calls + lost_visits,
        "duplicated_claims": doubled,
        "board": board_alone(plan),
    }


def board_alone(plan: dict[str, Any]) -> dict[str, Any]:
    """The board read by one user with no other load, through the whole application
    (middleware, audit, template) but not the network: median and p95 of 30 reads."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from neighbourhood.care.urgent.models import Response

    settings.TWO_FACTOR_REQUIRED = False  # the sign-in is not what is timed
    client = Client(HTTP_HOST="localhost")
    from neighbourhood.care.teams.models import Professional

    first = Professional.objects.get(pk=plan["users"][0]["professional"])
    reader = get_user_model().objects.create_user(username="spa-board", last_name="Board")
    Professional.objects.create(
        user=reader, role=first.role, job_title="Senior nurse", organisation=first.organisation
    )
    client.force_login(reader)  # no authenticator set up: not asked for a code
    open_now = Response.objects.exclude(status="closed").count()
    timings = []
    for n in range(BOARD_READS + 3):
        began = time.perf_counter()
        page = client.get(f"/urgent/board/?page={1 + n % 3}")
        if page.status_code != 200:
            return {"failed": f"HTTP {page.status_code}"}
        if n >= 3:  # the first reads warm the published file and the templates
            timings.append((time.perf_counter() - began) * 1000)
    timings.sort()
    return {
        "open": open_now,
        "median_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[int(0.95 * (len(timings) - 1))], 1),
    }
