"""What the conversation screen keeps follows the rules for session content: the risk check's
free text is encrypted at rest, cues go with the retention purge, and deleting an account
erases the cues, assessments and risk checks (not the crisis alerts)."""

import datetime as dt

import pytest
from django.utils import timezone

from ethics.models import CrisisAlert, RiskAssessment, RiskCheck, RiskCue
from listening.services import session_content_purge
from tests.ethics.test_conversation_risk import PATTERN_EN, post
from tests.ethics.test_escalation_support import live_booking
from tests.ethics.test_risk_check import answers
from tests.ethics.test_risk_check import post as post_check
from workflows.services import user_data_export, user_delete

pytestmark = pytest.mark.django_db

PLAN = "Call her sister tonight; remove the pills"


def test_the_safety_plan_is_stored_encrypted_and_read_back_for_the_counselor():
    booking = live_booking()
    response = post_check(
        booking,
        **answers(q2_thoughts=True, q3_method=True),
        safety_plan=PLAN,
        referral_note="University counselling centre",
    )
    assert response.status_code == 201 and response.data["safety_plan"] == PLAN
    stored = RiskCheck.objects.get()
    assert PLAN.encode() not in bytes(stored.safety_plan_ciphertext)


def test_deleting_the_account_erases_cues_assessments_and_checks_but_keeps_the_alert():
    booking = live_booking()
    for text in PATTERN_EN:
        post(booking, text)
    post_check(booking, **answers(q6_behavior=True, q6_recent=True))
    assert RiskCue.objects.exists() and RiskAssessment.objects.exists()
    export = user_data_export(user=booking.client)
    assert {a["level"] for a in export["risk_assessments"]} == {"high"}
    user_delete(user_id=booking.client_id)
    assert not RiskCue.objects.filter(client_id=booking.client_id).exists()
    assert not RiskAssessment.objects.filter(client_id=booking.client_id).exists()
    assert not RiskCheck.objects.filter(booking=booking).exists()
    assert CrisisAlert.objects.filter(booking=booking).exists()


def test_the_retention_purge_takes_the_cues_with_the_messages(settings):
    booking = live_booking()
    post(booking, PATTERN_EN[1])
    assert RiskCue.objects.filter(booking=booking).exists()
    settings.RETENTION_DAYS = 0
    purged = session_content_purge(now=timezone.now() + dt.timedelta(days=1))
    assert purged >= 1
    assert not RiskCue.objects.filter(booking=booking).exists()
