import datetime as dt
import io
import uuid

import av
import numpy as np
import pytest
from django.db import connection
from django.utils import timezone

from listening.models import SessionMessage
from tests.conftest import api_as
from tests.factories import BookingFactory

pytestmark = pytest.mark.django_db


def make_audio(fmt: str = "webm", codec: str = "libopus", seconds: float = 2.0) -> bytes:
    """A real, silent voice note in the given container, made with PyAV."""
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=fmt) as out:
        stream = out.add_stream(codec, rate=48000)
        stream.layout = "mono"
        n, size = 0, 960
        while n < seconds * 48000:
            frame = av.AudioFrame.from_ndarray(
                np.zeros((1, size), dtype=np.float32), format="fltp", layout="mono"
            )
            frame.sample_rate, frame.pts = 48000, n
            for packet in stream.encode(frame):
                out.mux(packet)
            n += size
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def soon_booking(**kwargs):
    start = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(hours=2)
    return BookingFactory(start=start, end=start + dt.timedelta(minutes=30), **kwargs)


def test_participant_posts_an_async_text_and_both_read_it():
    booking = soon_booking()
    response = api_as(booking.client).post(
        f"/api/v1/bookings/{booking.pk}/messages/", {"text": "see you soon"}, format="json"
    )
    assert response.status_code == 201, response.json()
    listed = api_as(booking.counselor.user).get(f"/api/v1/bookings/{booking.pk}/messages/").json()
    assert [m["text"] for m in listed["results"]] == ["see you soon"]


def test_message_text_is_encrypted_in_the_database():
    booking = soon_booking()
    api_as(booking.client).post(
        f"/api/v1/bookings/{booking.pk}/messages/", {"text": "my secret worry"}, format="json"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT ciphertext FROM listening_sessionmessage")
        [(raw,)] = cursor.fetchall()
    assert b"my secret worry" not in bytes(raw)


def test_resent_message_id_is_stored_once():
    booking = soon_booking()
    api = api_as(booking.client)
    body = {"id": str(uuid.uuid4()), "text": "hello"}
    assert (
        api.post(f"/api/v1/bookings/{booking.pk}/messages/", body, format="json").status_code == 201
    )
    again = api.post(f"/api/v1/bookings/{booking.pk}/messages/", body, format="json")
    assert again.status_code == 200
    assert SessionMessage.objects.count() == 1


@pytest.mark.parametrize(
    ("fmt", "codec"),
    [("webm", "libopus"), ("ogg", "libopus"), ("mp4", "aac"), ("mp3", "libmp3lame")],
)
def test_voice_note_in_each_allowed_format_is_stored_encrypted_and_served(fmt, codec):
    booking = soon_booking()
    audio = make_audio(fmt, codec)
    upload = io.BytesIO(audio)
    upload.name = f"note.{fmt}"
    response = api_as(booking.client).post(
        f"/api/v1/bookings/{booking.pk}/messages/", {"audio": upload}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kind"] == "voice" and 1.5 < body["audio_seconds"] < 2.5
    message = SessionMessage.objects.get()
    with message.audio.open("rb") as f:
        assert f.read()[:16] != audio[:16]  # encrypted at rest
    served = api_as(booking.counselor.user).get(body["audio_url"])
    assert served.status_code == 200
    assert served.content == audio


def test_voice_note_longer_than_three_minutes_is_400_naming_the_limit():
    booking = soon_booking()
    upload = io.BytesIO(make_audio("ogg", "libopus", seconds=181))
    upload.name = "long.ogg"
    response = api_as(booking.client).post(
        f"/api/v1/bookings/{booking.pk}/messages/", {"audio": upload}, format="multipart"
    )
    assert response.status_code == 400
    assert "3 minutes" in response.json()["audio"][0]
    assert not SessionMessage.objects.exists()


def test_file_that_is_not_audio_is_400_naming_the_formats():
    booking = soon_booking()
    upload = io.BytesIO(b"%PDF-1.4 not audio at all" * 100)
    upload.name = "note.webm"
    response = api_as(booking.client).post(
        f"/api/v1/bookings/{booking.pk}/messages/", {"audio": upload}, format="multipart"
    )
    assert response.status_code == 400
    assert "webm" in response.json()["audio"][0]


def test_voice_note_over_5_mb_is_400_naming_the_limit(settings):
    settings.VOICE_NOTE_MAX_BYTES = 1000
    booking = soon_booking()
    upload = io.BytesIO(make_audio("mp3", "libmp3lame"))
    upload.name = "note.mp3"
    response = api_as(booking.client).post(
        f"/api/v1/bookings/{booking.pk}/messages/", {"audio": upload}, format="multipart"
    )
    assert response.status_code == 400
    assert "MB" in response.json()["audio"][0]


def test_text_over_4000_characters_is_400():
    booking = soon_booking()
    response = api_as(booking.client).post(
        f"/api/v1/bookings/{booking.pk}/messages/", {"text": "x" * 4001}, format="json"
    )
    assert response.status_code == 400
    assert "text" in response.json()


def test_messages_closed_a_day_after_the_session():
    start = timezone.now() - dt.timedelta(hours=30)
    booking = BookingFactory(start=start, end=start + dt.timedelta(minutes=30), status="completed")
    response = api_as(booking.client).post(
        f"/api/v1/bookings/{booking.pk}/messages/", {"text": "late"}, format="json"
    )
    assert response.status_code == 409


def test_messages_open_only_a_day_before_a_live_session():
    start = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(days=3)
    booking = BookingFactory(start=start, end=start + dt.timedelta(minutes=30), mode="video")
    response = api_as(booking.client).post(
        f"/api/v1/bookings/{booking.pk}/messages/", {"text": "early"}, format="json"
    )
    assert response.status_code == 409


def test_async_booking_can_message_from_the_moment_it_is_made():
    start = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(days=3)
    booking = BookingFactory(start=start, end=start + dt.timedelta(minutes=30), mode="async")
    response = api_as(booking.client).post(
        f"/api/v1/bookings/{booking.pk}/messages/", {"text": "hi"}, format="json"
    )
    assert response.status_code == 201


def test_outsiders_get_404_for_messages(other_client_user):
    booking = soon_booking()
    api = api_as(other_client_user)
    assert api.get(f"/api/v1/bookings/{booking.pk}/messages/").status_code == 404
    assert (
        api.post(
            f"/api/v1/bookings/{booking.pk}/messages/", {"text": "x"}, format="json"
        ).status_code
        == 404
    )
    assert not SessionMessage.objects.exists()


def test_sharing_a_phone_number_opens_an_off_platform_flag_without_the_number():
    from ethics.models import EthicsFlag

    booking = soon_booking()
    response = api_as(booking.counselor.user).post(
        f"/api/v1/bookings/{booking.pk}/messages/",
        {"text": "call me on 13812345678 after this"},
        format="json",
    )
    assert response.status_code == 201
    flag = EthicsFlag.objects.get(kind="off-platform-contact")
    assert flag.booking == booking and flag.counselor == booking.counselor
    assert "13812345678" not in flag.summary and "counselor" in flag.summary
