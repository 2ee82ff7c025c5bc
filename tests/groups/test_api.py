"""The group sessions API: opening a group, the list, a seat, giving it up; bad input."""

import datetime as dt

import pytest
from django.utils import timezone

from groups.models import GroupSeat, GroupSession
from tests.factories import ClientFactory
from tests.groups.factories import live_group, open_group

pytestmark = pytest.mark.django_db

URL = "/api/v1/group-sessions/"


def body(**overrides):
    data = {
        "title": "First months as a parent",
        "topic": "Sleep, worry and feeling alone",
        "start": (timezone.now() + dt.timedelta(days=2)).isoformat(),
        "duration_minutes": 45,
        "capacity": 6,
        "price": "25.00",
    }
    data.update(overrides)
    return data


def test_a_counselor_opens_a_group(as_counselor):
    response = as_counselor.post(URL, body(), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["capacity"], data["seats_left"], data["duration_minutes"]) == (6, 6, 45)
    assert data["rules"] and data["room"] == f"/ws/groups/{data['id']}/"
    assert GroupSeat.objects.filter(group_id=data["id"]).count() == 6


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("capacity", 2),
        ("capacity", 9),
        ("duration_minutes", 30 + 1),
        ("price", "-5"),
        ("start", "tomorrow"),
        ("title", ""),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_opens_nothing(as_counselor, field, value):
    response = as_counselor.post(URL, body(**{field: value}), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not GroupSession.objects.exists()


def test_a_start_in_the_past_is_a_400_on_start(as_counselor):
    past = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    response = as_counselor.post(URL, body(start=past), format="json")
    assert response.status_code == 400 and "start" in response.json()


def test_a_client_cannot_open_a_group(as_client):
    assert as_client.post(URL, body(), format="json").status_code == 403


def test_the_list_shows_seat_counts_never_who_holds_them(as_other_client, counselor, client_user):
    open_group(counselor, clients=[client_user])
    response = as_other_client.get(URL)
    [group] = response.json()["results"]
    assert (group["seats_taken"], group["seats_left"], group["joined"]) == (1, 3, False)
    assert client_user.username not in response.content.decode()


def test_a_client_takes_a_seat_and_sees_their_pseudonym(as_client, counselor):
    group = open_group(counselor, clients=[ClientFactory()])
    response = as_client.post(f"{URL}{group.pk}/join/")
    assert response.status_code == 200
    assert (response.json()["my_seat"], response.json()["my_pseudonym"]) == (2, "Participant 2")


def test_a_full_group_is_a_409(as_client, counselor):
    group = open_group(counselor, capacity=3, clients=[ClientFactory() for _ in range(3)])
    response = as_client.post(f"{URL}{group.pk}/join/")
    assert response.status_code == 409 and response.json()["code"] == "group_full"


def test_leaving_frees_the_seat(as_client, counselor, client_user):
    group = open_group(counselor, clients=[client_user])
    response = as_client.post(f"{URL}{group.pk}/leave/")
    assert response.status_code == 200 and response.json()["seats_left"] == 4
    assert not GroupSeat.objects.filter(client=client_user).exists()


def test_leaving_without_a_seat_is_a_409(as_client, counselor):
    group = open_group(counselor)
    response = as_client.post(f"{URL}{group.pk}/leave/")
    assert response.status_code == 409 and response.json()["code"] == "not_joined"


def test_a_started_group_is_hidden_from_clients_without_a_seat(
    as_other_client, counselor, client_user
):
    group = live_group(counselor, clients=[client_user])
    assert as_other_client.get(f"{URL}{group.pk}/").status_code == 404
    assert as_other_client.post(f"{URL}{group.pk}/join/").status_code == 404


def test_the_counselor_cancels_their_group(as_counselor, counselor):
    group = open_group(counselor)
    response = as_counselor.post(f"{URL}{group.pk}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"


def test_a_cancelled_group_takes_no_seats(as_client, counselor, client_user):
    group = open_group(counselor, clients=[client_user])
    GroupSession.objects.filter(pk=group.pk).update(status=GroupSession.Status.CANCELLED)
    response = as_client.post(f"{URL}{group.pk}/join/")
    assert response.status_code == 409 and response.json()["code"] == "group_closed"
