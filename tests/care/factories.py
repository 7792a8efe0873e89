"""Makers of the web application's test data: a published ICS, and staff in teams."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from neighbourhood.care.roles import Role
from neighbourhood.care.teams.models import (
    Membership,
    Neighbourhood,
    Organisation,
    Place,
    Professional,
    Sector,
    Team,
)
from neighbourhood.ingest.run import ingest
from neighbourhood.linkage.run import run_link
from neighbourhood.phm.publish import publish
from neighbourhood.phm.refresh import refresh
from tests.conftest import synthesise

PASSWORD = "correct-horse-battery-staple"


def published_ics(root: Path) -> Path:
    """1,200 people in three neighbourhoods, through the whole pipeline to a publish."""
    synthesise(root, 1_200, seed=11, neighbourhood_size=400, workers=2)
    ingest(root, workers=2, today=dt.date(2026, 11, 24))
    run_link(root)
    refresh(root, seed=11)
    publish(root)
    return root


def organisation(code: str = "ZC1", sector: str = Sector.COMMUNITY) -> Organisation:
    made, _ = Organisation.objects.get_or_create(
        ods_code=code, defaults={"name": f"Organisation {code}", "sector": sector}
    )
    return made


def team(neighbourhood_code: str, name: str | None = None) -> Team:
    place, _ = Place.objects.get_or_create(code="ZL01", defaults={"name": "Ashcombe"})
    neighbourhood, _ = Neighbourhood.objects.get_or_create(
        code=neighbourhood_code,
        defaults={"name": f"Neighbourhood {neighbourhood_code}", "place": place},
    )
    made, _ = Team.objects.get_or_create(
        name=name or f"INT {neighbourhood_code}", defaults={"neighbourhood": neighbourhood}
    )
    return made


def professional(
    username: str,
    role: str = Role.CARE_COORDINATOR,
    teams: list[Team] | None = None,
    **kwargs: Any,
) -> Professional:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(
        username=username, password=PASSWORD, first_name=username.title(), last_name="Tester"
    )
    made = Professional.objects.create(
        user=user,
        role=role,
        job_title=kwargs.get("job_title", "Nurse"),
        organisation=organisation(),
    )
    for each in teams or []:
        Membership.objects.create(team=each, professional=made)
    return made
