"""Seats are never oversold: 40 clients racing for 8 seats over real HTTP to the production
ASGI server (uvicorn) and real PostgreSQL transactions get exactly 8 seats, each once.

Why seat rows and not a counter: each seat is a row (position 1..capacity) made with the
group, and a join claims one free row with `FOR UPDATE SKIP LOCKED`. The database cannot
hand out a ninth seat because there is no ninth row, and a partial unique constraint on
(group, client) keeps one seat per client even if two tabs race. A locked counter would
serialise every join on the group's row; skipped locks let the racers claim different rows
at once, and the seat row is also where the seat's state (muted, taken at) lives."""

import pytest
from django.db import IntegrityError, transaction
from rest_framework.authtoken.models import Token

from groups.models import GroupSeat
from tests.factories import ClientFactory, CounselorProfileFactory
from tests.groups.factories import open_group
from tests.listening.test_booking_concurrency import run_concurrently

pytestmark = pytest.mark.django_db(transaction=True)


def test_forty_clients_racing_for_eight_seats_get_exactly_eight(asgi_server):
    group = open_group(CounselorProfileFactory(), capacity=8)
    clients = [ClientFactory() for _ in range(40)]
    tokens = [Token.objects.create(user=c).key for c in clients]
    responses = run_concurrently(
        f"{asgi_server}/api/v1/group-sessions/{group.pk}/join/", [(t, {}) for t in tokens]
    )
    codes = sorted(r.status_code for r in responses)
    assert codes.count(200) == 8, codes
    assert codes.count(409) == 32
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"group_full"}
    seats = GroupSeat.objects.filter(group=group)
    assert seats.filter(client__isnull=False).count() == 8
    assert seats.count() == 8
    winners = {r.json()["my_seat"] for r in responses if r.status_code == 200}
    assert winners == set(range(1, 9))


def test_one_client_in_two_tabs_gets_one_seat(asgi_server):
    group = open_group(CounselorProfileFactory(), capacity=8)
    token = Token.objects.create(user=ClientFactory()).key
    responses = run_concurrently(
        f"{asgi_server}/api/v1/group-sessions/{group.pk}/join/", [(token, {})] * 6
    )
    assert {r.status_code for r in responses} <= {200, 409}
    assert GroupSeat.objects.filter(group=group, client__isnull=False).count() == 1


def test_the_database_refuses_a_second_seat_for_the_same_client():
    group = open_group(CounselorProfileFactory(), capacity=3)
    client = ClientFactory()
    GroupSeat.objects.filter(group=group, position=1).update(client=client)
    with pytest.raises(IntegrityError), transaction.atomic():
        GroupSeat.objects.filter(group=group, position=2).update(client=client)


def test_the_database_refuses_a_seat_position_twice():
    group = open_group(CounselorProfileFactory(), capacity=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        GroupSeat.objects.create(group=group, position=1)
