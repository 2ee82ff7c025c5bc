"""The risk check (issue 12, point 3): the C-SSRS screen's published triage, the service, the
API (the booking's counselor only) and the panel in the room, in Chinese and English."""

import pytest
from django.test import Client
from django.urls import reverse

from ethics import cssrs
from ethics.models import CrisisAlert, RiskCheck
from ethics.services import cssrs_triage
from tests.conftest import api_as
from tests.ethics.test_escalation_support import live_booking
from tests.factories import ClientFactory, CounselorProfileFactory

pytestmark = pytest.mark.django_db

NO = {
    "q1_wish_dead": False,
    "q2_thoughts": False,
    "q3_method": None,
    "q4_intent": None,
    "q5_plan": None,
    "q6_behavior": False,
    "q6_recent": None,
}


def answers(**yes):
    return {
        **NO,
        **(
            {"q3_method": False, "q4_intent": False, "q5_plan": False}
            if yes.get("q2_thoughts")
            else {}
        ),
        **yes,
    }


@pytest.mark.parametrize(
    "given, outcome",
    [
        ({}, "none"),
        ({"q1_wish_dead": True}, "low"),
        ({"q2_thoughts": True}, "low"),
        ({"q2_thoughts": True, "q3_method": True}, "moderate"),
        ({"q2_thoughts": True, "q4_intent": True}, "high"),
        ({"q2_thoughts": True, "q5_plan": True}, "high"),
        ({"q6_behavior": True, "q6_recent": True}, "high"),
        ({"q6_behavior": True, "q6_recent": False}, "moderate"),
    ],
)
def test_published_triage(given, outcome):
    assert cssrs_triage(**answers(**given)) == outcome


def url(booking):
    return reverse("ethics:api:risk-check", args=[booking.pk])


def post(booking, user=None, **body):
    return api_as(user or booking.counselor.user).post(url(booking), body, format="json")


def test_a_high_check_starts_the_crisis_flow():
    booking = live_booking()
    response = post(booking, **answers(q2_thoughts=True, q4_intent=True))
    assert response.status_code == 201 and response.data["outcome"] == "high"
    alert = CrisisAlert.objects.get(booking=booking)
    assert alert.source == CrisisAlert.Source.COUNSELOR and response.data["alert"] == alert.pk
    assert alert.raised_by == booking.counselor.user


def test_a_recent_attempt_is_high():
    booking = live_booking()
    response = post(booking, **answers(q6_behavior=True, q6_recent=True))
    assert response.data["outcome"] == "high" and CrisisAlert.objects.count() == 1


def test_a_moderate_check_needs_a_safety_plan_and_a_referral():
    booking = live_booking()
    response = post(booking, **answers(q2_thoughts=True, q3_method=True))
    assert response.status_code == 400
    assert set(response.data) == {"safety_plan", "referral_note"}
    assert not RiskCheck.objects.exists()
    response = post(
        booking,
        **answers(q2_thoughts=True, q3_method=True),
        safety_plan="Call her sister; remove the pills; 12356",
        referral_note="University counselling centre",
    )
    assert response.status_code == 201 and response.data["outcome"] == "moderate"
    assert not CrisisAlert.objects.exists()


def test_a_moderate_check_is_kept_with_the_open_alert():
    booking = live_booking()
    first = post(booking, **answers(q6_behavior=True, q6_recent=True))
    second = post(
        booking,
        **answers(q6_behavior=True, q6_recent=False),
        safety_plan="plan",
        referral_note="referral",
    )
    assert second.data["alert"] == first.data["alert"]


def test_follow_up_questions_are_required_after_a_yes_to_question_2():
    booking = live_booking()
    response = post(booking, **{**NO, "q2_thoughts": True})
    assert response.status_code == 400
    assert set(response.data) == {"q3_method", "q4_intent", "q5_plan"}
    assert not RiskCheck.objects.exists()


def test_the_3_month_question_is_required_after_a_yes_to_question_6():
    response = post(live_booking(), **{**NO, "q6_behavior": True})
    assert response.status_code == 400 and set(response.data) == {"q6_recent"}


def test_a_missing_answer_is_400_naming_the_field():
    body = dict(NO)
    del body["q1_wish_dead"]
    response = post(live_booking(), **body)
    assert response.status_code == 400 and set(response.data) == {"q1_wish_dead"}
    assert not RiskCheck.objects.exists()


def test_another_counselor_gets_404_and_nothing_is_stored():
    booking = live_booking()
    stranger = CounselorProfileFactory().user
    assert post(booking, stranger, **NO).status_code == 404
    assert api_as(stranger).get(url(booking)).status_code == 404
    assert not RiskCheck.objects.exists()


def test_the_client_cannot_record_a_check():
    booking = live_booking()
    assert post(booking, booking.client, **NO).status_code == 403


def test_the_counselor_reads_their_own_checks():
    booking = live_booking()
    post(booking, **NO)
    post(booking, **answers(q1_wish_dead=True))
    response = api_as(booking.counselor.user).get(url(booking))
    assert [c["outcome"] for c in response.data] == ["low", "none"]


@pytest.mark.parametrize(
    "language, words",
    [
        ("en", "have you wished you were dead"),
        ("zh-hans", "希望自己死去"),
    ],
)
def test_the_room_shows_the_counselor_the_screen_in_their_language(language, words):
    booking = live_booking(counselor__user__language=language)
    browser = Client()
    browser.force_login(booking.counselor.user)
    body = browser.get(
        reverse("listening:session-room", args=[booking.pk]), HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    assert 'id="risk-check"' in body and words in body


def test_the_client_does_not_see_the_risk_check():
    booking = live_booking()
    browser = Client()
    browser.force_login(booking.client)
    body = browser.get(reverse("listening:session-room", args=[booking.pk])).content.decode()
    assert 'id="risk-check"' not in body


def test_the_screen_has_its_six_questions_in_both_languages():
    for language in ("en", "zh"):
        questions = cssrs.questions(language)
        assert [q["field"] for q in questions][:6] == [
            "q1_wish_dead",
            "q2_thoughts",
            "q3_method",
            "q4_intent",
            "q5_plan",
            "q6_behavior",
        ]
        assert all(q["text"] for q in questions)
