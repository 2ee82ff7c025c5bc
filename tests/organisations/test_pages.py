"""The member's, the admin's and the staff's pages."""

import pytest

from organisations.models import Allowance, Organisation, OrganisationAdmin
from tests.factories import ClientFactory, CounselorProfileFactory
from tests.organisations.factories import (
    AllowanceFactory,
    MembershipFactory,
    OrganisationAdminFactory,
)

pytestmark = pytest.mark.django_db


def test_a_client_with_no_organisation_is_offered_to_join(client, client_user):
    client.force_login(client_user)
    page = client.get("/organisations/mine/").content.decode()
    assert "You are not a member of an organisation." in page
    assert 'href="/organisations/join/"' in page


def test_the_member_page_shows_the_organisation_and_what_is_left(client, client_user):
    allowance = AllowanceFactory(organisation__name="Acme", sessions_per_member=4, durations=[15])
    MembershipFactory(organisation=allowance.organisation, user=client_user)
    client.force_login(client_user)
    page = client.get("/organisations/mine/").content.decode()
    assert "Acme" in page and "4 sponsored sessions left" in page and "15 min" in page


def test_the_join_page_of_a_member_offers_no_form(client, client_user):
    MembershipFactory(user=client_user)
    client.force_login(client_user)
    response = client.post("/organisations/join/", {"join-code": "ANY-CODE"})
    assert response.status_code == 200
    assert "You are a member of" in response.content.decode()


def test_the_api_gives_the_member_their_allowance(as_client, client_user):
    allowance = AllowanceFactory(organisation__name="Acme", sessions_per_member=3)
    MembershipFactory(organisation=allowance.organisation, user=client_user)
    body = as_client.get("/api/v1/organisations/me/").json()
    assert body["organisation"] == {"name": "Acme", "kind": "company"}
    assert body["allowance"]["remaining_this_quarter"] == 3


def test_the_api_gives_a_non_member_nulls(as_client):
    assert as_client.get("/api/v1/organisations/me/").json() == {
        "organisation": None,
        "allowance": None,
    }


def test_only_the_admin_opens_the_admin_page(client):
    admin = OrganisationAdminFactory().user
    client.force_login(ClientFactory())
    assert client.get("/organisations/manage/").status_code == 403
    client.force_login(admin)
    assert client.get("/organisations/manage/").status_code == 200


def test_staff_add_an_organisation_its_allowance_and_an_admin(client, staff_user):
    client.force_login(staff_user)
    url = "/staff/organisations/"
    response = client.post(
        url,
        {
            "action": "create",
            "create-name": "North School",
            "create-kind": "school",
            "create-join_code": "n!",
        },
    )
    assert response.status_code == 400  # too short, and not letters, digits or dashes
    assert not Organisation.objects.exists()
    response = client.post(
        url,
        {
            "action": "create",
            "create-name": "North School",
            "create-kind": "school",
            "create-join_code": "north-1",
        },
    )
    assert response.status_code == 302
    organisation = Organisation.objects.get(name="North School")
    assert organisation.join_code == "NORTH-1"
    response = client.post(
        url,
        {
            "action": "allowance",
            "allowance-organisation": organisation.pk,
            "allowance-sessions_per_member": 2,
            "allowance-pool_per_quarter": 50,
            "allowance-durations": [15, 30],
            "allowance-modes": ["text", "voice"],
            "allowance-is_active": "on",
        },
    )
    assert response.status_code == 302
    assert Allowance.objects.get(organisation=organisation).modes == ["text", "voice"]
    teacher = ClientFactory(username="teacher")
    response = client.post(
        url,
        {"action": "admin", "admin-organisation": organisation.pk, "admin-username": "teacher"},
    )
    assert response.status_code == 302
    assert OrganisationAdmin.objects.get(user=teacher).organisation == organisation


def test_a_second_organisation_for_one_admin_is_refused(client, staff_user):
    admin = OrganisationAdminFactory()
    other = AllowanceFactory().organisation
    client.force_login(staff_user)
    response = client.post(
        "/staff/organisations/",
        {"action": "admin", "admin-organisation": other.pk, "admin-username": admin.user.username},
    )
    assert response.status_code == 409
    assert OrganisationAdmin.objects.get(user=admin.user).organisation == admin.organisation


def test_the_staff_page_is_for_staff_only(client):
    client.force_login(CounselorProfileFactory().user)
    assert client.get("/staff/organisations/").status_code == 403
