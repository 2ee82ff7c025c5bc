import datetime as dt

import pytest
from django.utils import timezone

from listening.models import Feedback
from listening.selectors import counselor_reviews
from tests.factories import BookingFactory, ClientFactory, FeedbackFactory

pytestmark = pytest.mark.django_db


def review(counselor, comment="Kind and calm.", rating=5, when=None):
    n = Feedback.objects.count()
    client = ClientFactory(username=f"reviewer-{n}")
    start = timezone.now().replace(microsecond=0) - dt.timedelta(days=n + 1)
    feedback = FeedbackFactory(
        booking=BookingFactory(counselor=counselor, client=client, start=start, status="completed"),
        rating=rating,
        comment=comment,
    )
    if when is not None:
        Feedback.objects.filter(pk=feedback.pk).update(created_at=when)
    return feedback


def test_fewer_than_three_reviews_are_not_shown(counselor):
    review(counselor)
    review(counselor)
    assert counselor_reviews(counselor_id=counselor.pk) == []


def test_feedback_without_a_comment_does_not_count_as_a_review(counselor):
    review(counselor)
    review(counselor)
    review(counselor, comment="   ")
    review(counselor, comment="")
    assert counselor_reviews(counselor_id=counselor.pk) == []


def test_three_reviews_are_shown_with_rating_comment_and_month_only(counselor):
    when = dt.datetime(2026, 3, 14, 9, 30, tzinfo=dt.UTC)
    for n in range(3):
        review(counselor, comment=f"Helpful {n}", rating=4, when=when)
    reviews = counselor_reviews(counselor_id=counselor.pk)
    assert len(reviews) == 3
    assert all(set(r) == {"rating", "comment", "month"} for r in reviews)
    assert {r["month"] for r in reviews} == {"2026-03"}


def test_reviews_of_other_counselors_are_not_mixed_in(counselor, other_counselor):
    for _ in range(3):
        review(other_counselor)
    review(counselor)
    assert counselor_reviews(counselor_id=counselor.pk) == []


def test_limit_caps_the_reviews_returned(counselor):
    for _ in range(5):
        review(counselor)
    assert len(counselor_reviews(counselor_id=counselor.pk, limit=3)) == 3


def test_counselor_detail_api_shows_reviews_without_names(anon, counselor):
    for _ in range(3):
        review(counselor, comment="Listened well.")
    body = anon.get(f"/api/v1/counselors/{counselor.pk}/").json()
    assert len(body["reviews"]) == 3
    assert set(body["reviews"][0]) == {"rating", "comment", "month"}
    assert "reviewer-" not in str(body)


def test_counselor_detail_api_hides_reviews_below_three(anon, counselor):
    review(counselor)
    assert anon.get(f"/api/v1/counselors/{counselor.pk}/").json()["reviews"] == []


def test_profile_page_shows_reviews_by_month_without_names_or_days(anon, counselor):
    when = dt.datetime(2026, 3, 14, 9, 30, tzinfo=dt.UTC)
    for _ in range(3):
        review(counselor, comment="Listened well.", when=when)
    page = anon.get(f"/counselors/{counselor.pk}/").content.decode()
    assert "Listened well." in page
    assert "2026-03" in page
    assert "reviewer-" not in page
    assert "14" not in page.split('id="reviews-heading"')[1].split("</section>")[0]


def test_profile_page_hides_reviews_below_three(anon, counselor):
    review(counselor, comment="Listened well.")
    page = anon.get(f"/counselors/{counselor.pk}/").content.decode()
    assert "Listened well." not in page
