"""`manage.py reencrypt_session_content`: everything stored encrypted moves to the newest key."""

import datetime as dt
import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.utils import timezone

from core.encryption import decrypt_text, encrypt_text
from ethics.models import RiskCheck
from ethics.services import risk_check_record
from listening.models import SessionNote
from listening.services import session_note_save
from matching.models import MatchRequest
from matching.selectors import match_request_note
from tests.factories import BookingFactory, ClientFactory

pytestmark = pytest.mark.django_db


def talk_now_request(note: str) -> MatchRequest:
    return MatchRequest.objects.create(
        client=ClientFactory(),
        topic="anxiety",
        mode="text",
        language="zh",
        duration_minutes=15,
        when="now",
        note_ciphertext=encrypt_text(note) if note else b"",
        created_at=timezone.now(),
        deadline_at=timezone.now() + dt.timedelta(minutes=3),
    )


def test_talk_now_notes_read_with_the_new_key_alone_after_reencrypting(settings):
    request = talk_now_request("I can't sleep since the exam")
    without_note = talk_now_request("")
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *settings.ENCRYPTION_KEYS]
    out = io.StringIO()
    call_command("reencrypt_session_content", stdout=out)
    settings.ENCRYPTION_KEYS = settings.ENCRYPTION_KEYS[:1]  # the old key is gone
    request.refresh_from_db()
    without_note.refresh_from_db()
    assert match_request_note(request) == "I can't sleep since the exam"
    assert bytes(without_note.note_ciphertext) == b""
    assert "1 talk-now notes" in out.getvalue()


def rotate_keys(settings) -> str:
    """A new key first, the command run, then the old key gone; returns what it printed."""
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *settings.ENCRYPTION_KEYS]
    out = io.StringIO()
    call_command("reencrypt_session_content", stdout=out)
    settings.ENCRYPTION_KEYS = settings.ENCRYPTION_KEYS[:1]
    return out.getvalue()


def test_counselors_notes_read_with_the_new_key_alone_after_reencrypting(settings):
    booking = BookingFactory()
    session_note_save(booking_id=booking.pk, counselor=booking.counselor.user, text="sleep, exams")
    empty = BookingFactory()
    session_note_save(booking_id=empty.pk, counselor=empty.counselor.user, text="")
    assert "1 messages and notes" in rotate_keys(settings)
    note = SessionNote.objects.get(booking=booking)
    assert decrypt_text(note.ciphertext) == "sleep, exams"
    assert bytes(SessionNote.objects.get(booking=empty).ciphertext) == b""


def test_risk_checks_read_with_the_new_key_alone_after_reencrypting(settings):
    booking = BookingFactory()
    risk_check_record(
        counselor=booking.counselor.user,
        booking_id=booking.pk,
        q1_wish_dead=False,
        q2_thoughts=False,
        q6_behavior=False,
        safety_plan="call my sister",
    )
    assert "1 risk checks" in rotate_keys(settings)
    check = RiskCheck.objects.get(booking=booking)
    assert decrypt_text(check.safety_plan_ciphertext) == "call my sister"
    assert bytes(check.referral_note_ciphertext) == b""
