"""Joining an organisation: by code (API and page) and by a confirmed e-mail address."""

import re

import pytest
from django.core import mail

from organisations.models import EmailVerification, Membership
from tests.conftest import api_as
from tests.factories import CounselorProfileFactory, StaffFactory
from tests.organisations.factories import MembershipFactory, OrganisationFactory

pytestmark = pytest.mark.django_db
JOIN = "/api/v1/organisations/join/"


def test_a_client_joins_with_the_code_in_any_case(as_client, client_user):
    organisation = OrganisationFactory(join_code="ACME-2026")
    response = as_client.post(JOIN, {"code": " acme-2026 "}, format="json")
    assert response.status_code == 201
    assert response.json()["organisation"] == {"name": organisation.name, "kind": "company"}
    assert Membership.objects.get(user=client_user).organisation == organisation


@pytest.mark.parametrize("body", [{}, {"code": ""}, {"code": "   "}])
def test_a_missing_or_blank_code_is_a_400_naming_the_field(as_client, body):
    response = as_client.post(JOIN, body, format="json")
    assert response.status_code == 400
    assert "code" in response.json()
    assert not Membership.objects.exists()


def test_an_unknown_and_an_inactive_code_get_the_same_400(as_client):
    OrganisationFactory(join_code="GONE-1", is_active=False)
    unknown = as_client.post(JOIN, {"code": "NOPE-1"}, format="json")
    inactive = as_client.post(JOIN, {"code": "GONE-1"}, format="json")
    assert unknown.status_code == inactive.status_code == 400
    assert unknown.json() == inactive.json()
    assert not Membership.objects.exists()


def test_joining_again_is_a_409(as_client, client_user):
    MembershipFactory(user=client_user)
    other = OrganisationFactory(join_code="OTHER-1")
    response = as_client.post(JOIN, {"code": "OTHER-1"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "already_member"
    assert not Membership.objects.filter(organisation=other).exists()


def test_only_clients_may_join(anon):
    OrganisationFactory(join_code="ACME-2026")
    assert anon.post(JOIN, {"code": "ACME-2026"}, format="json").status_code == 401
    for user in (CounselorProfileFactory().user, StaffFactory()):
        assert api_as(user).post(JOIN, {"code": "ACME-2026"}, format="json").status_code == 403
    assert not Membership.objects.exists()


def test_the_join_page_joins_with_a_code_and_shows_the_allowance(client, client_user):
    from tests.organisations.factories import AllowanceFactory

    allowance = AllowanceFactory(organisation__join_code="SCHOOL-7", sessions_per_member=3)
    client.force_login(client_user)
    response = client.post("/organisations/join/", {"join-code": "school-7"}, follow=True)
    assert response.status_code == 200
    assert Membership.objects.get(user=client_user).organisation == allowance.organisation
    assert "3 sponsored sessions left" in response.content.decode()


def test_the_join_page_shows_a_wrong_code_on_the_form(client, client_user):
    client.force_login(client_user)
    response = client.post("/organisations/join/", {"join-code": "WRONG"})
    assert response.status_code == 400
    assert "does not match any organisation" in response.content.decode()
    assert not Membership.objects.exists()


# --- e-mail domain ---------------------------------------------------------------------------

EMAIL = "/api/v1/organisations/email/"
CONFIRM = "/api/v1/organisations/email/confirm/"


def _token_from_mail() -> str:
    (message,) = mail.outbox
    return re.search(r"token=([^\s&]+)", message.body).group(1)


def test_an_address_at_the_domain_is_sent_a_link_that_joins(
    as_client, client_user, django_capture_on_commit_callbacks
):
    from urllib.parse import unquote

    organisation = OrganisationFactory(join_code=None, email_domain="school.edu.cn")
    with django_capture_on_commit_callbacks(execute=True):
        response = as_client.post(EMAIL, {"email": "li@School.edu.cn"}, format="json")
    assert response.status_code == 202
    assert mail.outbox[0].to == ["li@School.edu.cn"]
    assert organisation.name in mail.outbox[0].body
    response = as_client.post(CONFIRM, {"token": unquote(_token_from_mail())}, format="json")
    assert response.status_code == 201
    assert Membership.objects.get(user=client_user).via == Membership.Via.EMAIL
    assert EmailVerification.objects.get().email == ""  # not kept once confirmed


def test_an_address_at_another_domain_gets_the_same_answer_and_no_mail(
    as_client, django_capture_on_commit_callbacks
):
    OrganisationFactory(email_domain="school.edu.cn")
    with django_capture_on_commit_callbacks(execute=True):
        known = as_client.post(EMAIL, {"email": "a@school.edu.cn"}, format="json")
    assert len(mail.outbox) == 1
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        unknown = as_client.post(EMAIL, {"email": "a@elsewhere.com"}, format="json")
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert mail.outbox == []


def test_a_malformed_address_is_a_400_naming_email(as_client):
    response = as_client.post(EMAIL, {"email": "not-an-address"}, format="json")
    assert response.status_code == 400 and "email" in response.json()
    assert not EmailVerification.objects.exists()


def test_a_link_made_for_another_client_does_not_join(
    as_client, other_client_user, django_capture_on_commit_callbacks
):
    from urllib.parse import unquote

    OrganisationFactory(email_domain="school.edu.cn")
    with django_capture_on_commit_callbacks(execute=True):
        as_client.post(EMAIL, {"email": "a@school.edu.cn"}, format="json")
    token = unquote(_token_from_mail())
    response = api_as(other_client_user).post(CONFIRM, {"token": token}, format="json")
    assert response.status_code == 400 and "token" in response.json()
    assert not Membership.objects.exists()


def test_a_forged_token_is_a_400(as_client):
    response = as_client.post(CONFIRM, {"token": "1:forged"}, format="json")
    assert response.status_code == 400 and "token" in response.json()
    assert not Membership.objects.exists()


def test_guessing_codes_is_throttled(monkeypatch, client_user):
    from django.core.cache import cache

    from organisations.views import JoinThrottle

    monkeypatch.setattr(JoinThrottle, "rate", "3/hour")
    api = api_as(client_user)
    cache.delete(f"throttle_organisation_join_{client_user.pk}")
    answers = [api.post(JOIN, {"code": f"GUESS-{i}"}, format="json").status_code for i in range(4)]
    cache.delete(f"throttle_organisation_join_{client_user.pk}")
    assert answers == [400, 400, 400, 429]
