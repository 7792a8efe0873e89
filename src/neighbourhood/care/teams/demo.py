"""The demonstration's organisations, teams and users, made from the published refresh.

Partners come from the published ``organisations``; each primary care network is a
neighbourhood with one integrated neighbourhood team; each place has an integrator
partnership hosted by its community trust. Demo users get new random passwords on
every run, printed once by ``neighbourhood demo``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from neighbourhood.care import published
from neighbourhood.care.roles import Role
from neighbourhood.care.teams.models import (
    IntegratorPartnership,
    Membership,
    Neighbourhood,
    Organisation,
    Place,
    Professional,
    Sector,
    Team,
)
from neighbourhood.errors import UserError

SECTORS = {
    "icb": Sector.COMMISSIONER,
    "acute_trust": Sector.ACUTE,
    "community_trust": Sector.COMMUNITY,
    "mental_health_trust": Sector.MENTAL_HEALTH,
    "local_authority": Sector.SOCIAL_CARE,
    "public_health": Sector.PUBLIC_HEALTH,
    "vcfse": Sector.VCFSE,
    "pcn": Sector.GENERAL_PRACTICE,
    "gp_practice": Sector.GENERAL_PRACTICE,
}


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: str
    name: str
    teams: str


def sync_organisations() -> int:
    """Every published partner as an Organisation, by ODS code; returns how many."""
    rows = published.organisations()
    for row in rows:
        Organisation.objects.update_or_create(
            ods_code=row["ods_code"],
            defaults={
                "name": row["name"],
                "sector": SECTORS.get(str(row["kind"]), Sector.COMMISSIONER),
            },
        )
    return len(rows)


def _first(kind: str, place: str | None = None) -> Organisation:
    rows = [r for r in published.organisations() if r["kind"] == kind]
    if place is not None:
        rows = [r for r in rows if r["place"] == place] or rows
    if not rows:
        raise UserError(f"the published refresh has no organisation of kind {kind}")
    return Organisation.objects.get(ods_code=rows[0]["ods_code"])


@transaction.atomic
def setup_demo() -> list[DemoUser]:
    sync_organisations()
    organisations = published.organisations()
    councils = {r["place"]: r for r in organisations if r["kind"] == "local_authority"}
    pcns = [r for r in organisations if r["kind"] == "pcn"]
    if not pcns:
        raise UserError("the published refresh has no primary care networks to make teams for")
    teams: list[Team] = []
    for pcn in pcns:
        council = councils.get(pcn["place"])
        place, _ = Place.objects.get_or_create(
            code=pcn["place"] or "PLACE",
            defaults={"name": (council["name"].split(" Council")[0] if council else "Place")},
        )
        neighbourhood, _ = Neighbourhood.objects.update_or_create(
            code=pcn["ods_code"], defaults={"name": pcn["name"], "place": place}
        )
        short = pcn["name"].replace(" Primary Care Network", "")
        team, _ = Team.objects.get_or_create(
            name=f"{short} integrated neighbourhood team",
            defaults={"neighbourhood": neighbourhood},
        )
        teams.append(team)
    first_place = teams[0].neighbourhood.place
    community = _first("community_trust")
    practice = _first("gp_practice", first_place.code)
    social_care = _first("local_authority", first_place.code)
    icb = _first("icb")
    people = [
        ("coordinator", "Priya", "Shah", Role.CARE_COORDINATOR, "Community matron", community),
        ("clinician", "Tom", "Okafor", Role.CLINICIAN, "General practitioner", practice),
        ("social-worker", "Grace", "Evans", Role.CARE_COORDINATOR, "Social worker", social_care),
        ("spa", "Sam", "Brennan", Role.SPA, "Single point of access senior nurse", community),
        (
            "responder",
            "Lena",
            "Kowalski",
            Role.CLINICIAN,
            "Urgent community response nurse",
            community,
        ),
        ("analyst", "Alex", "Morgan", Role.ANALYST, "Population health analyst", icb),
        (
            "lead",
            "Ruth",
            "Adeyemi",
            Role.PARTNERSHIP_LEAD,
            "Integrator partnership lead",
            community,
        ),
        ("ig-lead", "Dan", "Hughes", Role.IG_LEAD, "Information governance lead", icb),
        (
            "link-worker",
            "Maya",
            "Patel",
            Role.LINK_WORKER,
            "Social prescribing link worker",
            Organisation.objects.get(ods_code=teams[0].neighbourhood.code),
        ),
        (
            "vcfse",
            "Joe",
            "Miller",
            Role.VCFSE_WORKER,
            "Community connector",
            _first("vcfse", first_place.code),
        ),
    ]
    made: list[DemoUser] = []
    users = get_user_model()
    for username, first, last, role, title, organisation in people:
        password = secrets.token_urlsafe(12)
        user, _ = users.objects.get_or_create(username=username)
        user.first_name, user.last_name = first, last
        user.set_password(password)
        user.save()
        professional, _ = Professional.objects.update_or_create(
            user=user, defaults={"role": role, "job_title": title, "organisation": organisation}
        )
        mine = _demo_teams(username, teams)
        for team, kind in mine:
            Membership.objects.update_or_create(
                team=team, professional=professional, defaults={"kind": kind}
            )
        made.append(
            DemoUser(
                username,
                password,
                Role(role).label,
                f"{first} {last}",
                ", ".join(t.name for t, _ in mine) or "none",
            )
        )
    from neighbourhood.care.plans import demo as living

    staff = {
        p.user.username: p for p in Professional.objects.select_related("user", "organisation")
    }
    living.seed(
        teams[0], staff["coordinator"], staff["clinician"], [staff["spa"], staff["social-worker"]]
    )
    from neighbourhood.care.referrals import demo as coordination

    coordination.seed(
        teams[0], staff["coordinator"], staff["clinician"], staff["link-worker"], staff["vcfse"]
    )
    from neighbourhood.care.urgent import demo as urgent

    urgent.seed(teams, staff["spa"], staff["responder"])
    lead = staff["lead"]
    for place in Place.objects.all():
        IntegratorPartnership.objects.update_or_create(
            place=place,
            defaults={
                "name": f"{place.name} integrator partnership",
                "host": community,
                "lead": lead,
            },
        )
    return made


def _demo_teams(username: str, teams: list[Team]) -> list[tuple[Team, Membership.Kind]]:
    core, extended = Membership.Kind.CORE, Membership.Kind.EXTENDED
    if username in ("coordinator", "clinician"):
        return [(teams[0], core)] + [(t, extended) for t in teams[1:2]]
    if username == "social-worker":  # and in the first team's extended team, given tasks there
        return [(teams[-1], core)] + ([(teams[0], extended)] if len(teams) > 1 else [])
    if username == "link-worker":  # in the extended team, as link workers are
        return [(teams[0], extended)]
    if username == "spa":
        return [(t, extended) for t in teams]
    return []
