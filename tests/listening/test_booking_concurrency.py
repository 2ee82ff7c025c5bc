"""The no-double-booking guarantee under real concurrency: many threads, real HTTP to the
production ASGI server (uvicorn), real PostgreSQL transactions (hence a transactional db)."""

import datetime as dt
import threading

import httpx
import pytest
from rest_framework.authtoken.models import Token

from listening.models import Booking
from tests.factories import (
    ClientFactory,
    CounselorProfileFactory,
    OneOffWindowFactory,
    next_quarter,
)

pytestmark = pytest.mark.django_db(transaction=True)


def run_concurrently(url: str, requests: list[tuple[str, dict]]) -> list[httpx.Response]:
    """POST every (token, body) at once from its own thread; returns the responses in order."""
    barrier = threading.Barrier(len(requests))
    responses: list = [None] * len(requests)

    def post(i, token, body):
        with httpx.Client(timeout=60) as http:
            barrier.wait()
            responses[i] = http.post(url, json=body, headers={"Authorization": f"Token {token}"})

    threads = [
        threading.Thread(target=post, args=(i, token, body))
        for i, (token, body) in enumerate(requests)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return responses


def tokens_for(n: int) -> list[str]:
    return [Token.objects.create(user=ClientFactory()).key for _ in range(n)]


def test_fifty_threads_booking_one_slot_get_exactly_one_201(asgi_server):
    counselor = CounselorProfileFactory()
    window = OneOffWindowFactory(counselor=counselor)
    body = {
        "counselor": counselor.pk,
        "start": window.start.isoformat(),
        "duration_minutes": 30,
        "mode": "text",
        "topic": "stress",
    }
    responses = run_concurrently(
        f"{asgi_server}/api/v1/bookings/", [(t, body) for t in tokens_for(50)]
    )
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1
    assert codes.count(409) == 49
    assert Booking.objects.count() == 1


def test_concurrent_bookings_for_different_slots_never_exceed_the_daily_cap(asgi_server):
    counselor = CounselorProfileFactory(daily_cap=2, user__timezone="UTC")
    start = next_quarter(days=1).replace(hour=9, minute=0)
    OneOffWindowFactory(counselor=counselor, start=start, end=start + dt.timedelta(hours=4))
    bodies = [
        {
            "counselor": counselor.pk,
            "start": (start + dt.timedelta(minutes=30 * i)).isoformat(),
            "duration_minutes": 30,
            "mode": "text",
            "topic": "stress",
        }
        for i in range(8)
    ]
    responses = run_concurrently(
        f"{asgi_server}/api/v1/bookings/", list(zip(tokens_for(8), bodies))
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201, 201] + [400] * 6
    assert all("start" in r.json() for r in responses if r.status_code == 400)
    assert Booking.objects.count() == 2


def test_one_client_racing_six_counselors_for_the_same_time_gets_one_booking(asgi_server):
    start = next_quarter(days=1)
    counselors = [CounselorProfileFactory() for _ in range(6)]
    for c in counselors:
        OneOffWindowFactory(counselor=c, start=start, end=start + dt.timedelta(hours=1))
    token = tokens_for(1)[0]
    bodies = [
        {
            "counselor": c.pk,
            "start": start.isoformat(),
            "duration_minutes": 30,
            "mode": "text",
            "topic": "stress",
        }
        for c in counselors
    ]
    responses = run_concurrently(f"{asgi_server}/api/v1/bookings/", [(token, b) for b in bodies])
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 5
    assert Booking.objects.count() == 1
