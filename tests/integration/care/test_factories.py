"""Every factory makes a valid record of its model, and two calls make two distinct ones."""

from __future__ import annotations

import pytest
from django.db import models

from neighbourhood.care.audit.chain import verify
from tests.support import factories

FACTORIES = [
    factories.OrganisationFactory,
    factories.PlaceFactory,
    factories.IntegratorPartnershipFactory,
    factories.NeighbourhoodFactory,
    factories.TeamFactory,
    factories.UserFactory,
    factories.ProfessionalFactory,
    factories.MembershipFactory,
    factories.EnrolmentFactory,
    factories.AuditEventFactory,
]


@pytest.mark.django_db
@pytest.mark.parametrize("factory", FACTORIES, ids=lambda f: f.__name__)
def test_each_factory_makes_a_valid_record(factory: type) -> None:
    made: models.Model = factory()
    made.full_clean()
    assert type(made).objects.filter(pk=made.pk).exists()


@pytest.mark.django_db
def test_factories_make_distinct_people_and_teams_and_audit_through_the_chain() -> None:
    first, second = factories.EnrolmentFactory(), factories.EnrolmentFactory()
    assert first.person_id != second.person_id
    assert first.care_coordinator.user.username != second.care_coordinator.user.username
    assert first.team.memberships.filter(professional=first.care_coordinator).exists()
    one = factories.professional("ann", teams=[factories.team("ZU0001")])
    assert one.user.check_password(factories.PASSWORD)
    assert one.teams.get().neighbourhood.code == "ZU0001"  # type: ignore[attr-defined]
    factories.AuditEventFactory(person_id=first.person_id)
    checked = verify()
    assert checked.intact and checked.checked >= 1
