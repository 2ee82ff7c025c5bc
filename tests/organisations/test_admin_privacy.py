"""An organisation's admin is an ordinary user too: walked through every HTTP route of the URL
conf (pages and API, every method, the authorization matrix's machinery), no answer carries a
member's username, user id or booking id. The member's ids are made large and unusual so that
finding them in an answer cannot be a coincidence."""

import copy
import datetime as dt

import pytest
from django.db import transaction
from django.test import Client

from insights.services import insights_materialise
from organisations.models import AllowanceClaim
from tests.factories import BookingFactory, ClientFactory
from tests.organisations.factories import (
    AllowanceFactory,
    MembershipFactory,
    OrganisationAdminFactory,
)
from tests.security.routes import Scene, http_routes, methods_of
from tests.security.test_authorization_matrix import _bodies, call

pytestmark = pytest.mark.django_db

MEMBER_ID = 987_654_321
BOOKING_ID = 876_543_219
MEMBER_NAME = "zz-member-quokka"


@pytest.fixture
def walk():
    scene = Scene()
    allowance = AllowanceFactory(organisation__name="Acme")
    member = ClientFactory(pk=MEMBER_ID, username=MEMBER_NAME)
    MembershipFactory(organisation=allowance.organisation, user=member)
    start = dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)
    claim = AllowanceClaim.objects.create(
        organisation=allowance.organisation,
        allowance=allowance,
        client=member,
        quarter=dt.date(2026, 4, 1),
        duration_minutes=30,
        mode="text",
    )
    BookingFactory(
        pk=BOOKING_ID,
        counselor=scene.counselor,
        client=member,
        start=start,
        status="completed",
        allowance_claim=claim,
        topic="zz-member-topic",
    )
    admin = OrganisationAdminFactory(organisation=allowance.organisation).user
    MembershipFactory(organisation=allowance.organisation, user=admin)  # also a member
    insights_materialise()
    browser = Client(raise_request_exception=False)
    browser.force_login(admin)
    return scene, browser


def test_no_route_shows_the_organisation_admin_a_member(walk):
    scene, browser = walk
    bodies = _bodies(scene)
    leaks, walked = [], 0
    for route in http_routes():
        path = scene.path_for(route)
        for method in methods_of(route):
            cookies = copy.deepcopy(browser.cookies)
            with transaction.atomic():
                savepoint = transaction.savepoint()
                response = call(browser, method, path, bodies.get((route.name, method)))
                transaction.savepoint_rollback(savepoint)
            browser.cookies = cookies
            walked += 1
            content = response.content.decode(errors="replace")
            for secret in (MEMBER_NAME, str(MEMBER_ID), str(BOOKING_ID), "zz-member-topic"):
                if secret in content:
                    leaks.append(f"{method} {path} ({response.status_code}) carries {secret}")
    assert walked > 100
    assert not leaks, "\n".join(leaks)


def test_the_walk_would_see_a_leak(walk):
    """The check itself: the member's own bookings page carries their booking."""
    _scene, _browser = walk
    member = Client()
    from accounts.models import User

    member.force_login(User.objects.get(pk=MEMBER_ID))
    assert str(BOOKING_ID) in member.get("/api/v1/bookings/").content.decode()
