"""Conversation-level risk stored and acted on (ethics.services.risk_text_record through
`text_screen`): a booking's thread, a talk-now request (note plus intake), the client's day."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ethics.models import CrisisAlert, RiskAssessment, RiskCue
from ethics.services import helping_someone_for
from listening.services import message_post
from matching import services as matching_services
from tests.ethics.test_escalation_support import live_booking, soon_booking
from tests.factories import ClientFactory
from tests.matching.helpers import talk_now

pytestmark = pytest.mark.django_db

PATTERN_EN = [
    "work has been rough",
    "honestly nobody would miss me",
    "I stopped at the pharmacy and bought a lot of pills",
]


def post(booking, text, *, sender=None, live=True):
    message, _ = message_post(
        booking_id=booking.pk,
        sender=sender or booking.client,
        uid=uuid.uuid4(),
        text=text,
        live=live,
    )
    return message


def thread(booking) -> RiskAssessment:
    return RiskAssessment.objects.get(subject=RiskAssessment.Subject.BOOKING, booking=booking)


def test_spread_risk_alerts_on_the_message_that_completes_the_pattern():
    booking = live_booking()
    first, second = post(booking, PATTERN_EN[0]), post(booking, PATTERN_EN[1])
    assert first.crisis_alert is None and second.crisis_alert is None
    assert not CrisisAlert.objects.exists()
    third = post(booking, PATTERN_EN[2])
    alert = CrisisAlert.objects.get()
    assert third.crisis_alert == alert
    assert (alert.booking_id, alert.source) == (booking.pk, CrisisAlert.Source.CHAT)
    assert any("conversation means+hopelessness" in r for r in alert.reasons)


def test_the_assessment_is_stored_with_its_rule_cues_and_message_ids():
    booking = live_booking()
    messages = [post(booking, text) for text in PATTERN_EN]
    assessment = thread(booking)
    assert (assessment.level, assessment.rule) == ("high", "means+hopelessness")
    assert {(c[0], c[1]) for c in assessment.cues} == {
        ("hopelessness", messages[1].pk),
        ("means", messages[2].pk),
    }


def test_the_async_thread_is_assessed_the_same_way():
    booking = live_booking()
    post(booking, "感觉自己就是个多余的人", live=False)
    message = post(booking, "今天路过药店，买了很多药", live=False)
    assert message.crisis_alert.source == CrisisAlert.Source.MESSAGE
    assert thread(booking).level == "high"


def test_a_rise_joins_the_bookings_open_alert():
    booking = live_booking()
    post(booking, "I want to kill myself")  # today's single high message
    for text in PATTERN_EN:
        post(booking, text)
    alert = CrisisAlert.objects.get()
    assert alert.signal_count >= 2  # the message, then the patterns the window completed
    assert any(r.startswith("client: conversation means+") for r in alert.reasons)


def test_a_single_weak_cue_is_check_and_opens_no_alert():
    booking = live_booking()
    post(booking, "honestly nobody would miss me")
    assert thread(booking).level == "check"
    assert not CrisisAlert.objects.exists()


def test_the_counselors_messages_are_not_the_clients_cues():
    booking = live_booking()
    post(booking, "nobody would miss me", sender=booking.counselor.user)
    post(booking, "did you buy a lot of pills?", sender=booking.counselor.user)
    assert not RiskCue.objects.exists() and not CrisisAlert.objects.exists()


def test_a_message_without_cues_stores_nothing_and_asks_nothing_more():
    booking = live_booking()
    post(booking, "hello")
    with CaptureQueriesContext(connection) as quiet:
        post(booking, "see you next week")
    post(booking, "hello again")
    with CaptureQueriesContext(connection) as cue:
        post(booking, "honestly nobody would miss me")
    assert not RiskCue.objects.filter(phrase__contains="week").exists()
    assert len(cue) > len(quiet)  # the cue's window costs queries; a quiet message none


def test_third_party_concern_opens_no_alert_about_the_client():
    booking = live_booking()
    post(booking, "My friend told me she wants to die, how do I help her?")
    assert not CrisisAlert.objects.exists()
    assessment = thread(booking)
    assert (assessment.level, assessment.third_party) == ("none", True)


def test_helping_someone_resources_are_in_the_clients_language():
    # (The Chinese catalogue gets these strings when the lead merges /tmp/zh/d.json.)
    en = helping_someone_for(user=ClientFactory(language="en"))
    assert en["title"] == "Worried about someone else?" and len(en["steps"]) == 5


def test_a_talk_now_note_and_the_intake_are_assessed_together():
    client = ClientFactory()
    fields = talk_now(note="I bought a lot of pills")
    fields.pop("when")
    RiskCue.objects.create(
        client=client,
        source=CrisisAlert.Source.INTAKE,
        category="hopelessness",
        weight=2,
        phrase="nobody would miss me",
        at=timezone.now(),  # as the intake screen keeps it
    )
    request = matching_services.match_request_create(client=client, **fields)
    assessment = RiskAssessment.objects.get(
        subject=RiskAssessment.Subject.MATCH_REQUEST, match_request_id=request.pk
    )
    assert assessment.level == "high"
    assert CrisisAlert.objects.get().source == CrisisAlert.Source.MATCH_NOTE


def test_the_clients_day_combines_threads():
    client = ClientFactory()
    one, two = live_booking(client=client), soon_booking(client=client)
    post(one, "honestly nobody would miss me")
    post(two, "I bought a rope today", live=False)
    day = RiskAssessment.objects.get(subject=RiskAssessment.Subject.CLIENT_DAY, client=client)
    assert day.level == "high"
    assert CrisisAlert.objects.filter(client=client).count() == 1


def test_supporting_cues_alone_are_kept_without_a_reassessment():
    booking = live_booking()
    post(booking, "see you tonight")
    assert RiskCue.objects.filter(category="plan", weight=1).exists()
    assert not RiskAssessment.objects.exists()


def test_a_supporting_cue_completes_a_pattern_started_earlier():
    booking = live_booking()
    post(booking, "I've got my affairs in order now")  # finality, weight 2: check
    message = post(booking, "it doesn't matter what happens after friday")  # timing, weight 1
    assert thread(booking).level == "high" and message.crisis_alert is not None
