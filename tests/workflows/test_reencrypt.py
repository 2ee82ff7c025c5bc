"""`manage.py reencrypt_session_content`: everything stored encrypted moves to the newest key."""

import datetime as dt
import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.utils import timezone

from core.encryption import encrypt_text
from matching.models import MatchRequest
from matching.selectors import match_request_note
from tests.factories import ClientFactory

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
