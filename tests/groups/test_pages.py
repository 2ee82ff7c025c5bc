"""The group pages: the rules before a seat, taking and giving up a seat, opening a group."""

import datetime as dt

import pytest
from django.utils import timezone

from groups.models import GroupSeat, GroupSession
from tests.groups.factories import live_group, open_group

pytestmark = pytest.mark.django_db


def test_the_group_page_shows_the_rules_before_joining(client, client_user, counselor):
    group = open_group(counselor)
    client.force_login(client_user)
    page = client.get(f"/groups/{group.pk}/").content.decode()
    assert "Group rules" in page and "No recording" in page and "Take a seat" in page


def test_a_seat_needs_the_rules_accepted(client, client_user, counselor):
    group = open_group(counselor)
    client.force_login(client_user)
    response = client.post(f"/groups/{group.pk}/join/", {})
    assert response.status_code == 400
    assert "accept the group rules" in response.content.decode()
    assert not GroupSeat.objects.filter(client=client_user).exists()


def test_taking_a_seat_tells_the_client_their_pseudonym(client, client_user, counselor):
    group = open_group(counselor)
    client.force_login(client_user)
    response = client.post(f"/groups/{group.pk}/join/", {"accept_rules": "on"}, follow=True)
    assert "Participant 1" in response.content.decode()
    assert GroupSeat.objects.filter(client=client_user, position=1).exists()


def test_giving_up_a_seat(client, client_user, counselor):
    group = open_group(counselor, clients=[client_user])
    client.force_login(client_user)
    response = client.post(f"/groups/{group.pk}/leave/")
    assert response.status_code == 302
    assert not GroupSeat.objects.filter(client=client_user).exists()


def test_a_counselor_opens_a_group_from_the_form(client, counselor):
    client.force_login(counselor.user)
    start = (timezone.now() + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        "/groups/new/",
        {
            "title": "Retirement",
            "topic": "The first months",
            "start": start,
            "duration_minutes": 30,
            "capacity": 5,
            "price": "10",
        },
    )
    assert response.status_code == 302
    assert GroupSession.objects.get().capacity == 5


def test_the_form_shows_a_refusal_on_the_field(client, counselor):
    client.force_login(counselor.user)
    past = (timezone.now() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        "/groups/new/",
        {
            "title": "Retirement",
            "topic": "x",
            "start": past,
            "duration_minutes": 30,
            "capacity": 5,
            "price": "10",
        },
    )
    assert response.status_code == 400 and "future" in response.content.decode()


def test_the_room_page_names_the_client_by_seat_only(client, client_user, counselor):
    group = live_group(counselor, clients=[client_user])
    client.force_login(client_user)
    page = client.get(f"/groups/{group.pk}/room/").content.decode()
    assert "You are Participant 1" in page
    assert 'data-state="open"' in page
