"""A factory per model of the web application (factory_boy): a test names only what it
is about, and everything else is made for it, valid and distinct.

    team = TeamFactory(neighbourhood__code="ZU0001")
    coordinator = professional("cc", teams=[team])
"""

from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

from neighbourhood.care.audit.models import AuditEvent
from neighbourhood.care.caseload.models import Enrolment
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

PASSWORD = "correct-horse-battery-staple"


class OrganisationFactory(DjangoModelFactory[Organisation]):
    class Meta:
        model = Organisation
        django_get_or_create = ("ods_code",)

    ods_code = "ZC1"
    name = factory.LazyAttribute(lambda o: f"Organisation {o.ods_code}")
    sector = Sector.COMMUNITY


class PlaceFactory(DjangoModelFactory[Place]):
    class Meta:
        model = Place
        django_get_or_create = ("code",)

    code = "ZL01"
    name = "Ashcombe"


class NeighbourhoodFactory(DjangoModelFactory[Neighbourhood]):
    class Meta:
        model = Neighbourhood
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"ZU9{n:03d}")
    name = factory.LazyAttribute(lambda n: f"Neighbourhood {n.code}")
    place = factory.SubFactory(PlaceFactory)


class TeamFactory(DjangoModelFactory[Team]):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    neighbourhood = factory.SubFactory(NeighbourhoodFactory)
    name = factory.LazyAttribute(lambda t: f"INT {t.neighbourhood.code}")


class UserFactory(DjangoModelFactory[Any]):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.LazyAttribute(lambda u: u.username.title())
    last_name = "Tester"
    password = factory.django.Password(PASSWORD)


class ProfessionalFactory(DjangoModelFactory[Professional]):
    class Meta:
        model = Professional

    user = factory.SubFactory(UserFactory)
    role = Role.CARE_COORDINATOR
    job_title = "Nurse"
    organisation = factory.SubFactory(OrganisationFactory)


class IntegratorPartnershipFactory(DjangoModelFactory[IntegratorPartnership]):
    class Meta:
        model = IntegratorPartnership
        django_get_or_create = ("place",)

    place = factory.SubFactory(PlaceFactory)
    name = factory.LazyAttribute(lambda p: f"{p.place.name} integrator partnership")
    host = factory.SubFactory(OrganisationFactory)
    lead = factory.SubFactory(ProfessionalFactory)


class MembershipFactory(DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    team = factory.SubFactory(TeamFactory)
    professional = factory.SubFactory(ProfessionalFactory)


class EnrolmentFactory(DjangoModelFactory[Enrolment]):
    """An open enrolment: the coordinator, and whoever enrolled, are members of the team."""

    class Meta:
        model = Enrolment
        skip_postgeneration_save = True

    person_id = factory.Sequence(lambda n: f"N{n:09d}")
    team = factory.SubFactory(TeamFactory)
    care_coordinator = factory.SubFactory(ProfessionalFactory)
    enrolled_by = factory.SelfAttribute("care_coordinator")
    reason = "Moderate frailty and two emergency admissions"

    @factory.post_generation
    def _members(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            for each in {self.care_coordinator, self.enrolled_by}:
                Membership.objects.get_or_create(team=self.team, professional=each)


class AuditEventFactory(DjangoModelFactory[AuditEvent]):
    """An entry made as the application makes them (through the chain), never by hand."""

    class Meta:
        model = AuditEvent

    actor = "tester"
    action = "person.viewed"

    @classmethod
    def _create(cls, model_class: type[AuditEvent], *args: Any, **kwargs: Any) -> AuditEvent:
        from neighbourhood.care.audit.chain import record

        return record(**kwargs)


def team(neighbourhood_code: str, name: str | None = None) -> Team:
    """The team of a neighbourhood (made once): ``team("ZU0001")``."""
    extra = {"name": name} if name else {}
    return TeamFactory(neighbourhood__code=neighbourhood_code, **extra)


def professional(
    username: str,
    role: str = Role.CARE_COORDINATOR,
    teams: list[Team] | None = None,
    **kwargs: Any,
) -> Professional:
    """A professional who signs in as ``username`` with ``PASSWORD``, in ``teams``."""
    made = ProfessionalFactory(
        user__username=username, role=role, job_title=kwargs.get("job_title", "Nurse")
    )
    for each in teams or []:
        MembershipFactory(team=each, professional=made)
    return made
