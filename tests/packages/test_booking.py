"""Booking against a package: `bookings/ {package}` claims one session, the package's credit
pays it, a cancellation in time gives it back, and the last session goes to one booking only."""

import datetime as dt
from decimal import Decimal

import pytest
from rest_framework.authtoken.models import Token

from billing.models import Charge
from counselors.models import ToolkitItem
from listening.models import Booking
from listening.services import booking_cancel
from packages.models import PackagePurchase
from tests.conftest import api_as
from tests.factories import (
    ClientFactory,
    CounselorProfileFactory,
    OneOffWindowFactory,
    next_quarter,
)
from tests.listening.test_booking_concurrency import run_concurrently
from tests.packages.factories import bought

pytestmark = pytest.mark.django_db

URL = "/api/v1/bookings/"


def slot(counselor, hours=0):
    return (counselor.windows.get().start + dt.timedelta(hours=hours)).isoformat()


def book(api, counselor, purchase, hours=0, **extra):
    body = {
        "counselor": counselor.pk,
        "start": slot(counselor, hours),
        "mode": "text",
        "topic": "new baby",
        "package": purchase.pk,
        **extra,
    }
    return api.post(URL, body, format="json")


def left(purchase):
    return PackagePurchase.objects.get(pk=purchase.pk).sessions_left


def test_a_session_of_a_package_is_paid_from_its_credit(as_client, client_user, counselor):
    purchase = bought(counselor.user, client_user, sessions=4, price=Decimal(400))
    response = book(as_client, counselor, purchase)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["package"], data["duration_minutes"], data["price"]) == (purchase.pk, 30, 100.0)
    assert data["funding"] == {"kind": "package", "package": purchase.pk}
    assert left(purchase) == 3
    charge = Charge.objects.get(subject=Charge.Subject.BOOKING, subject_id=data["id"])
    assert (charge.source, charge.amount) == (Charge.Source.PACKAGE, Decimal("100.00"))


def test_an_offering_and_a_package_together_are_a_400(as_client, client_user, counselor):
    purchase = bought(counselor.user, client_user)
    response = book(as_client, counselor, purchase, offering=1)
    assert response.status_code == 400 and "package" in response.json()
    assert left(purchase) == 4


def test_another_length_than_the_packages_is_a_400(as_client, client_user, counselor):
    purchase = bought(counselor.user, client_user)
    response = book(as_client, counselor, purchase, duration_minutes=15)
    assert response.status_code == 400 and "duration_minutes" in response.json()
    assert not Booking.objects.exists() and left(purchase) == 4


def test_a_package_of_another_counselor_is_a_400_on_counselor(
    as_client, client_user, counselor, other_counselor
):
    purchase = bought(other_counselor.user, client_user)
    response = book(as_client, counselor, purchase)
    assert response.status_code == 400 and "counselor" in response.json()


def test_someone_elses_package_is_a_400_on_package(as_other_client, client_user, counselor):
    purchase = bought(counselor.user, client_user)
    response = book(as_other_client, counselor, purchase)
    assert response.status_code == 400 and "package" in response.json()


def test_a_used_up_package_is_a_409_and_books_nothing(as_client, client_user, counselor):
    purchase = bought(counselor.user, client_user, sessions=2)
    assert book(as_client, counselor, purchase, hours=0).status_code == 201
    assert book(as_client, counselor, purchase, hours=1).status_code == 201
    response = book(as_client, counselor, purchase, hours=2)
    assert response.status_code == 409 and response.json()["code"] == "package_used_up"
    assert Booking.objects.count() == 2


def test_cancelling_in_time_gives_the_session_back(as_client, client_user, counselor):
    purchase = bought(counselor.user, client_user)
    booking_id = book(as_client, counselor, purchase).json()["id"]
    booking_cancel(booking_id=booking_id, user=client_user)
    assert left(purchase) == 4


def test_a_late_client_cancellation_uses_the_session(client_user):
    counselor = CounselorProfileFactory(min_notice_minutes=0)
    start = next_quarter() + dt.timedelta(minutes=30)
    OneOffWindowFactory(counselor=counselor, start=start, end=start + dt.timedelta(hours=2))
    purchase = bought(counselor.user, client_user)
    booking_id = book(api_as(client_user), counselor, purchase).json()["id"]
    booking_cancel(booking_id=booking_id, user=client_user)  # under two hours before
    assert left(purchase) == 3


def test_the_counselors_cancellation_gives_the_session_back(as_client, client_user, counselor):
    purchase = bought(counselor.user, client_user)
    booking_id = book(as_client, counselor, purchase).json()["id"]
    booking_cancel(booking_id=booking_id, user=counselor.user, reason="ill")
    assert left(purchase) == 4


@pytest.mark.django_db(transaction=True)
def test_two_bookings_racing_for_the_last_session_give_one_booking(asgi_server):
    counselor = CounselorProfileFactory()
    start = next_quarter(days=1).replace(minute=0)
    OneOffWindowFactory(counselor=counselor, start=start, end=start + dt.timedelta(hours=3))
    client = ClientFactory()
    purchase = bought(counselor.user, client, sessions=2)
    PackagePurchase.objects.filter(pk=purchase.pk).update(sessions_used=1)
    token = Token.objects.create(user=client).key
    bodies = [
        {
            "counselor": counselor.pk,
            "start": (start + dt.timedelta(hours=h)).isoformat(),
            "mode": "text",
            "topic": "new baby",
            "package": purchase.pk,
        }
        for h in (0, 1)
    ]
    responses = run_concurrently(f"{asgi_server}{URL}", [(token, b) for b in bodies])
    codes = sorted(r.status_code for r in responses)
    assert codes == [201, 409], [r.json() for r in responses]
    assert Booking.objects.filter(package_purchase=purchase).count() == 1
    assert PackagePurchase.objects.get(pk=purchase.pk).sessions_left == 0


def test_a_package_session_brings_the_packages_tools_to_the_toolkit(
    as_client, client_user, counselor
):
    item = ToolkitItem.objects.filter(owner=None).exclude(kind="audio").first()
    purchase = bought(counselor.user, client_user, items=[item.pk])
    book(as_client, counselor, purchase)
    sessions = as_client.get("/api/v1/toolkit/").json()["sessions"]
    assert [i["id"] for i in sessions[0]["items"]] == [item.pk]
