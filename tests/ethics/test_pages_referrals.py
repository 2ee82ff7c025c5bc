"""A client's referrals and toolkits (/referrals/)."""

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from ethics.models import Referral, Resource
from oversight import services as review
from tests.factories import BookingFactory, ClientFactory, CounselorProfileFactory, StaffFactory

pytestmark = pytest.mark.django_db


def browser(user=None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def resource(**kwargs) -> Resource:
    fields = {
        "kind": "long-term-counseling",
        "name": "City counselling centre",
        "region": "CN",
        "language": "zh",
        "contact": "010-00000000",
        "source": "test",
        "last_verified": dt.date(2026, 1, 1),
        **kwargs,
    }
    return Resource.objects.create(**fields)


@pytest.fixture
def referral(db):
    booking = BookingFactory()
    return review.referral_create(
        counselor=booking.counselor.user,
        booking_id=booking.pk,
        resource_id=resource().pk,
        reason="weekly work on grief",
        urgency="soon",
    )


def test_anonymous_visitor_is_sent_to_log_in():
    response = browser().get(reverse("oversight:referrals"))
    assert response.status_code == 302 and response["Location"].startswith(
        reverse(settings.LOGIN_URL)
    )


@pytest.mark.parametrize("make", [StaffFactory, lambda: CounselorProfileFactory().user])
def test_only_clients_have_this_page(make):
    assert browser(make()).get(reverse("oversight:referrals")).status_code == 403


def test_client_sees_their_referrals_only(referral):
    other = BookingFactory()
    review.referral_create(
        counselor=other.counselor.user,
        booking_id=other.pk,
        resource_id=resource(name="Someone else's clinic").pk,
        reason="r",
    )
    body = browser(referral.client).get(reverse("oversight:referrals")).content.decode()
    assert "City counselling centre" in body and "weekly work on grief" in body
    assert "Someone else&#x27;s clinic" not in body and "Someone else's clinic" not in body


def test_client_accepts_a_referral(referral):
    response = browser(referral.client).post(
        reverse("oversight:referral-accept", args=[referral.pk])
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == "accepted" and referral.follow_up_due_at is not None


def test_client_declines_a_referral(referral):
    browser(referral.client).post(reverse("oversight:referral-decline", args=[referral.pk]))
    referral.refresh_from_db()
    assert referral.status == "declined"


def test_answering_twice_is_409_and_keeps_the_first_answer(referral):
    c = browser(referral.client)
    c.post(reverse("oversight:referral-accept", args=[referral.pk]))
    response = c.post(reverse("oversight:referral-decline", args=[referral.pk]))
    assert response.status_code == 409
    referral.refresh_from_db()
    assert referral.status == "accepted"


def test_someone_elses_referral_is_404(referral):
    response = browser(ClientFactory()).post(
        reverse("oversight:referral-accept", args=[referral.pk])
    )
    assert response.status_code == 404
    referral.refresh_from_db()
    assert referral.status == Referral.Status.PENDING


def test_toolkits_are_books_and_courses_in_the_clients_language():
    resource(kind="book", name="Feeling Good", language="en", contact="")
    resource(
        kind="course",
        name="Mindfulness course",
        language="en",
        contact="https://example.org/course",
    )
    resource(kind="book", name="一本中文书", language="zh", contact="")
    resource(kind="hotline", name="Some hotline", language="en")
    resource(kind="book", name="Withdrawn book", language="en", is_active=False)
    body = (
        browser(ClientFactory(language="en")).get(reverse("oversight:referrals")).content.decode()
    )
    assert "Feeling Good" in body and "Mindfulness course" in body
    assert "一本中文书" not in body and "Some hotline" not in body and "Withdrawn book" not in body
    body = (
        browser(ClientFactory(language="zh-hans"))
        .get(reverse("oversight:referrals"))
        .content.decode()
    )
    assert "一本中文书" in body and "Feeling Good" not in body


def test_referrals_render_in_chinese(referral):
    c = browser(referral.client)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    body = c.get(reverse("oversight:referrals")).content.decode()
    assert "我的转介" in body and "接受" in body and "Accept" not in body
