"""Factories of organisations' rows. They bypass the services: for setting scenes."""

import factory

from core.sessions import SESSION_LENGTHS, SessionMode
from organisations.models import Allowance, Membership, Organisation, OrganisationAdmin
from tests.factories import ClientFactory


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = Organisation.Kind.COMPANY
    join_code = factory.Sequence(lambda n: f"JOIN-{n:04d}")


class AllowanceFactory(factory.django.DjangoModelFactory):
    """Two sessions per member and ten in all per quarter, every length and mode."""

    class Meta:
        model = Allowance

    organisation = factory.SubFactory(OrganisationFactory)
    sessions_per_member = 2
    pool_per_quarter = 10
    durations = factory.LazyFunction(lambda: list(SESSION_LENGTHS))
    modes = factory.LazyFunction(lambda: list(SessionMode.values))


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(ClientFactory)
    via = Membership.Via.CODE


class OrganisationAdminFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrganisationAdmin

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(ClientFactory)


def sponsored(**allowance) -> Allowance:
    """An organisation with an allowance (AllowanceFactory's, overridden by `allowance`)."""
    return AllowanceFactory(**allowance)
