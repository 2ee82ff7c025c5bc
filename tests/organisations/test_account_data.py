"""An account's organisation data in its deletion and its export, and the demo organisation."""

from io import StringIO

import pytest
from django.core.management import call_command

from organisations.demo import JOIN_CODE, ORGANISATION
from organisations.models import Allowance, Membership, Organisation, OrganisationAdmin
from tests.organisations.factories import MembershipFactory, OrganisationAdminFactory
from workflows.services import user_data_export, user_delete

pytestmark = pytest.mark.django_db


def test_deleting_an_account_ends_its_membership_and_admin_role(client_user):
    MembershipFactory(user=client_user)
    OrganisationAdminFactory(user=client_user)
    user_delete(user_id=client_user.pk)
    assert not Membership.objects.filter(user=client_user).exists()
    assert not OrganisationAdmin.objects.filter(user=client_user).exists()


def test_the_export_names_the_users_organisation(client_user):
    membership = MembershipFactory(user=client_user, organisation__name="Acme")
    exported = user_data_export(user=client_user)
    assert exported["organisation_membership"]["organisation"] == "Acme"
    assert exported["organisation_membership"]["via"] == membership.via
    assert exported["organisation_admin_of"] is None


def test_the_demo_has_an_organisation_with_a_code_an_allowance_and_an_admin(settings):
    settings.DEBUG = True
    for _ in range(2):  # idempotent
        call_command("load_demo", stdout=StringIO(), stderr=StringIO())
    organisation = Organisation.objects.get(name=ORGANISATION)
    assert organisation.join_code == JOIN_CODE
    assert Allowance.objects.get(organisation=organisation).sessions_per_member == 4
    admin = OrganisationAdmin.objects.get(organisation=organisation).user
    assert admin.is_client
    assert not Membership.objects.filter(user__username="demo-client").exists()
