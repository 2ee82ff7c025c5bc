import datetime as dt
import io
import uuid

import pytest
from cryptography.fernet import Fernet
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from core import encryption
from listening.models import Booking, SessionMessage
from listening.services import message_post, session_content_purge
from tests.factories import BookingFactory
from tests.listening.test_messages_api import make_audio

pytestmark = pytest.mark.django_db


def chatting_booking(**kwargs) -> Booking:
    start = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(hours=1)
    return BookingFactory(start=start, end=start + dt.timedelta(minutes=30), **kwargs)


def post(booking, text="private words", audio=None):
    return message_post(
        booking_id=booking.pk,
        sender=booking.client,
        uid=uuid.uuid4(),
        text=text,
        live=False,
        audio=audio,
    )[0]


def raw_ciphertext(message_id) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ciphertext FROM listening_sessionmessage WHERE id = %s", [message_id]
        )
        return bytes(cursor.fetchone()[0])


def test_reencrypt_moves_text_and_voice_notes_to_the_newest_key(
    settings, django_capture_on_commit_callbacks
):
    booking = chatting_booking()
    upload = SimpleUploadedFile("n.ogg", make_audio("ogg", "libopus"))
    with django_capture_on_commit_callbacks(execute=True):
        text_message = post(booking)
        voice = post(booking, text="", audio=upload)
    old_key = settings.ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [new_key, old_key]
    with django_capture_on_commit_callbacks(execute=True):
        call_command("reencrypt_session_content", stdout=io.StringIO())
    settings.ENCRYPTION_KEYS = [new_key]  # the old key is gone: everything must still read
    assert encryption.decrypt_text(raw_ciphertext(text_message.pk)) == "private words"
    voice.refresh_from_db()
    with voice.audio.open("rb") as f:
        assert Fernet(new_key.encode()).decrypt(f.read())[:4] == b"OggS"


def test_text_written_under_an_old_key_still_reads_after_a_new_key_is_added(settings):
    message = post(chatting_booking())
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *settings.ENCRYPTION_KEYS]
    assert encryption.decrypt_text(raw_ciphertext(message.pk)) == "private words"


def test_purge_removes_content_older_than_retention_but_keeps_held_bookings(
    settings, django_capture_on_commit_callbacks
):
    settings.RETENTION_DAYS = 90
    old, held, recent = chatting_booking(), chatting_booking(ethics_hold=True), chatting_booking()
    for booking in (old, held, recent):
        post(booking)
    long_ago = timezone.now() - dt.timedelta(days=91)
    Booking.objects.filter(pk__in=[old.pk, held.pk]).update(
        start=long_ago, end=long_ago + dt.timedelta(minutes=30)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert session_content_purge() == 1
    assert not SessionMessage.objects.filter(booking=old).exists()
    assert SessionMessage.objects.filter(booking=held).count() == 1
    assert SessionMessage.objects.filter(booking=recent).count() == 1
    old.refresh_from_db()
    assert old.content_purged_at is not None


def test_purge_deletes_voice_note_files(settings, django_capture_on_commit_callbacks):
    booking = chatting_booking()
    upload = SimpleUploadedFile("n.mp3", make_audio("mp3", "libmp3lame"))
    voice = post(booking, text="", audio=upload)
    storage, name = voice.audio.storage, voice.audio.name
    assert storage.exists(name)
    long_ago = timezone.now() - dt.timedelta(days=settings.RETENTION_DAYS + 1)
    Booking.objects.filter(pk=booking.pk).update(
        start=long_ago, end=long_ago + dt.timedelta(minutes=30)
    )
    with django_capture_on_commit_callbacks(execute=True):
        session_content_purge()
    assert not storage.exists(name)
