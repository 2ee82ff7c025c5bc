"""The session room page (/sessions/<id>/) and what it posts to: who may see it, what each
side sees, the counselor's private notes, raise crisis, refer, async messages, feedback."""

import datetime as dt
import json
import re
import uuid

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ethics.models import CrisisAlert, Referral, Resource
from listening.models import Booking, Feedback, SessionMessage, SessionNote
from listening.services import message_post, session_note_save
from tests.factories import BookingFactory, ClientFactory, CounselorProfileFactory

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


def browser(user=None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def live_booking(**kwargs) -> Booking:
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=1)
    return BookingFactory(start=start, end=start + dt.timedelta(minutes=30), **kwargs)


def past_booking(**kwargs) -> Booking:
    start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(hours=2)
    return BookingFactory(
        start=start,
        end=start + dt.timedelta(minutes=30),
        status=Booking.Status.COMPLETED,
        ended_at=start + dt.timedelta(minutes=30),
        **kwargs,
    )


def room_url(booking, name="listening:session-room") -> str:
    return reverse(name, args=[booking.pk])


def page_json(response, element_id: str) -> dict:
    match = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.DOTALL,
    )
    assert match, f"no {element_id} on the page"
    return json.loads(match.group(1))


@pytest.fixture
def booking(db):
    return live_booking()


@pytest.fixture
def resource(db):
    return Resource.objects.create(
        kind=Resource.Kind.LONG_TERM_COUNSELING,
        name="City counselling centre",
        region="CN",
        language="zh",
        contact="010-00000000",
        source="test",
        last_verified=dt.date(2026, 1, 1),
    )


# --- who may see the room ------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_log_in(booking):
    response = browser().get(room_url(booking))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse(settings.LOGIN_URL))


def test_someone_elses_session_is_404(booking):
    assert browser(ClientFactory()).get(room_url(booking)).status_code == 404
    assert browser(CounselorProfileFactory().user).get(room_url(booking)).status_code == 404


def test_room_page_is_never_cached(booking):
    response = browser(booking.client).get(room_url(booking))
    assert "no-store" in response["Cache-Control"]


def test_client_gets_the_socket_config_and_crisis_lines_but_no_counselor_tools(booking):
    response = browser(booking.client).get(room_url(booking))
    assert response.status_code == 200
    config = page_json(response, "room-config")
    assert config["wsPath"] == f"/ws/sessions/{booking.pk}/"
    assert config["role"] == "client" and config["polite"] is True
    assert config["state"] == "open" and config["lastSeq"] == 0
    body = response.content.decode()
    assert 'id="crisis-panel"' in body and 'role="alert"' in body
    assert (
        'id="note-form"' not in body
        and reverse("listening:session-crisis-raise", args=[booking.pk]) not in body
    )


def test_counselor_gets_notes_raise_crisis_and_refer(booking, resource):
    response = browser(booking.counselor.user).get(room_url(booking))
    body = response.content.decode()
    assert page_json(response, "room-config")["role"] == "counselor"
    assert 'id="note-form"' in body
    assert reverse("listening:session-crisis-raise", args=[booking.pk]) in body
    assert "City counselling centre" in body  # the directory in the refer form


def test_room_before_it_opens_says_when_it_opens():
    start = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(hours=3)
    booking = BookingFactory(start=start, end=start + dt.timedelta(minutes=15), duration_minutes=15)
    response = browser(booking.client).get(room_url(booking))
    assert response.status_code == 200
    assert page_json(response, "room-config")["state"] == "upcoming"
    assert "The room opens at" in response.content.decode()


def test_stored_messages_are_on_the_page_so_replay_starts_after_them(booking):
    message_post(
        booking_id=booking.pk,
        sender=booking.client,
        uid=uuid.uuid4(),
        text="hello there",
        live=True,
    )
    response = browser(booking.counselor.user).get(room_url(booking))
    assert "hello there" in response.content.decode()
    assert page_json(response, "room-config")["lastSeq"] == 1


def test_every_script_string_is_translated_for_a_chinese_viewer(booking):
    c = browser(booking.client)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    strings = page_json(c.get(room_url(booking), HTTP_ACCEPT_LANGUAGE="zh-hans"), "room-strings")
    assert strings["sending"] == "发送中…"
    assert strings["mute"] == "静音"


def test_a_session_that_is_over_offers_the_client_feedback():
    booking = past_booking()
    body = browser(booking.client).get(room_url(booking)).content.decode()
    assert reverse("listening:session-feedback", args=[booking.pk]) in body
    assert 'id="chat-form"' not in body


# --- the counselor's private notes -----------------------------------------------------------------


def test_counselor_saves_notes_encrypted_and_gets_the_new_revision(booking):
    response = browser(booking.counselor.user).post(
        room_url(booking, "listening:session-note"),
        {"text": "client mentions sleep", "revision": "0"},
        **JSON,
    )
    assert response.status_code == 200
    assert response.json()["revision"] == 1
    note = SessionNote.objects.get(booking=booking)
    assert b"sleep" not in bytes(note.ciphertext)
    page = browser(booking.counselor.user).get(room_url(booking)).content.decode()
    assert "client mentions sleep" in page


def test_notes_never_reach_the_client(booking):
    session_note_save(
        booking_id=booking.pk, counselor=booking.counselor.user, text="private observation"
    )
    body = browser(booking.client).get(room_url(booking)).content.decode()
    assert "private observation" not in body


def test_a_save_from_a_stale_window_is_409_and_overwrites_nothing(booking):
    session_note_save(booking_id=booking.pk, counselor=booking.counselor.user, text="first")
    session_note_save(
        booking_id=booking.pk, counselor=booking.counselor.user, text="second", revision=1
    )
    response = browser(booking.counselor.user).post(
        room_url(booking, "listening:session-note"), {"text": "stale", "revision": "1"}, **JSON
    )
    assert response.status_code == 409
    assert response.json()["code"] == "note_changed"
    page = browser(booking.counselor.user).get(room_url(booking)).content.decode()
    assert "second" in page and "stale" not in page


def test_notes_over_the_limit_are_400_naming_the_field(booking):
    response = browser(booking.counselor.user).post(
        room_url(booking, "listening:session-note"), {"text": "x" * 20001, "revision": "0"}, **JSON
    )
    assert response.status_code == 400
    assert "text" in response.json()["errors"]
    assert not SessionNote.objects.exists()


def test_notes_without_scripts_redirect_back_to_the_room(booking):
    response = browser(booking.counselor.user).post(
        room_url(booking, "listening:session-note"), {"text": "plain post"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(room_url(booking))


def test_client_may_not_write_notes_and_a_stranger_gets_404(booking):
    assert (
        browser(booking.client)
        .post(room_url(booking, "listening:session-note"), {"text": "x"})
        .status_code
        == 403
    )
    stranger = CounselorProfileFactory().user
    assert (
        browser(stranger)
        .post(room_url(booking, "listening:session-note"), {"text": "x"})
        .status_code
        == 404
    )
    assert not SessionNote.objects.exists()


def test_retention_purge_deletes_the_notes_too():
    from listening.services import session_content_purge

    old = timezone.now() - dt.timedelta(days=settings.RETENTION_DAYS + 2)
    booking = BookingFactory(
        start=old, end=old + dt.timedelta(minutes=30), status=Booking.Status.COMPLETED
    )
    session_note_save(booking_id=booking.pk, counselor=booking.counselor.user, text="old note")
    assert session_content_purge() == 1
    assert not SessionNote.objects.filter(booking=booking).exists()


# --- raise crisis ------------------------------------------------------------------------------------


def test_counselor_raises_a_crisis_from_the_room(booking):
    response = browser(booking.counselor.user).post(
        room_url(booking, "listening:session-crisis-raise"),
        {"note": "client talks about a plan"},
        **JSON,
    )
    assert response.status_code == 201
    alert = CrisisAlert.objects.get(booking=booking)
    assert (
        alert.source == CrisisAlert.Source.COUNSELOR and alert.raised_by == booking.counselor.user
    )
    assert "client talks about a plan" in alert.note


def test_raising_a_crisis_without_a_note_is_400_naming_it(booking):
    response = browser(booking.counselor.user).post(
        room_url(booking, "listening:session-crisis-raise"), {"note": ""}
    )
    assert response.status_code == 400
    assert 'id="crisis_note_error"' in response.content.decode()
    assert not CrisisAlert.objects.exists()


def test_client_may_not_raise_a_crisis_from_the_room(booking):
    response = browser(booking.client).post(
        room_url(booking, "listening:session-crisis-raise"), {"note": "x"}
    )
    assert response.status_code == 403
    assert not CrisisAlert.objects.exists()


# --- refer ---------------------------------------------------------------------------------------------


def test_counselor_refers_the_client_from_the_room(booking, resource):
    response = browser(booking.counselor.user).post(
        room_url(booking, "listening:session-refer"),
        {"resource": resource.pk, "reason": "weekly work on grief", "urgency": "soon"},
        **JSON,
    )
    assert response.status_code == 201
    referral = Referral.objects.get(booking=booking)
    assert (referral.resource, referral.urgency, referral.client) == (
        resource,
        "soon",
        booking.client,
    )


def test_referral_without_reason_or_with_a_bad_urgency_is_400_naming_both(booking, resource):
    response = browser(booking.counselor.user).post(
        room_url(booking, "listening:session-refer"),
        {"resource": resource.pk, "reason": "", "urgency": "whenever"},
        **JSON,
    )
    assert response.status_code == 400
    assert {"reason", "urgency"} <= set(response.json()["errors"])
    assert not Referral.objects.exists()


def test_referral_to_an_unknown_resource_is_400_naming_it(booking):
    response = browser(booking.counselor.user).post(
        room_url(booking, "listening:session-refer"),
        {"resource": "999999", "reason": "r", "urgency": "routine"},
    )
    assert response.status_code == 400
    assert 'id="refer_resource_error"' in response.content.decode()


def test_the_same_referral_twice_is_409(booking, resource):
    data = {"resource": resource.pk, "reason": "r", "urgency": "routine"}
    c = browser(booking.counselor.user)
    assert c.post(room_url(booking, "listening:session-refer"), data, **JSON).status_code == 201
    response = c.post(room_url(booking, "listening:session-refer"), data, **JSON)
    assert response.status_code == 409
    assert Referral.objects.count() == 1


# --- async messages ----------------------------------------------------------------------------------


def async_booking(**kwargs) -> Booking:
    start = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(hours=2)
    return BookingFactory(start=start, end=start + dt.timedelta(minutes=30), mode="async", **kwargs)


def test_async_booking_shows_the_thread_and_posting_adds_to_it():
    booking = async_booking()
    c = browser(booking.client)
    page = c.get(room_url(booking)).content.decode()
    assert 'class="message-form"' in page and 'id="chat-form"' not in page
    uid = str(uuid.uuid4())
    response = c.post(
        room_url(booking, "listening:session-message-post"),
        {"id": uid, "text": "a question for later"},
    )
    assert response.status_code == 302
    assert SessionMessage.objects.filter(booking=booking, uid=uid).count() == 1
    assert (
        "a question for later"
        in browser(booking.counselor.user).get(room_url(booking)).content.decode()
    )


def test_submitting_the_same_async_form_twice_stores_one_message():
    booking = async_booking()
    c = browser(booking.client)
    data = {"id": str(uuid.uuid4()), "text": "only once"}
    c.post(room_url(booking, "listening:session-message-post"), data)
    c.post(room_url(booking, "listening:session-message-post"), data)
    assert SessionMessage.objects.filter(booking=booking).count() == 1


def test_empty_async_message_is_400_naming_the_text():
    booking = async_booking()
    response = browser(booking.client).post(
        room_url(booking, "listening:session-message-post"), {"id": str(uuid.uuid4()), "text": "  "}
    )
    assert response.status_code == 400
    assert 'id="msg_text_error"' in response.content.decode()
    assert not SessionMessage.objects.exists()


def test_async_crisis_message_shows_the_client_the_crisis_panel(django_capture_on_commit_callbacks):
    booking = async_booking()
    c = browser(booking.client)
    with django_capture_on_commit_callbacks():
        c.post(
            room_url(booking, "listening:session-message-post"),
            {"id": str(uuid.uuid4()), "text": "I want to kill myself"},
        )
    body = c.get(room_url(booking)).content.decode()
    assert re.search(r'<section id="crisis-panel"[^>]*role="alert"(?![^>]*hidden)', body)
    assert CrisisAlert.objects.filter(booking=booking).exists()


def test_thread_fragment_is_for_participants_only():
    booking = async_booking()
    assert (
        browser(booking.client).get(room_url(booking, "listening:session-thread")).status_code
        == 200
    )
    assert (
        browser(ClientFactory()).get(room_url(booking, "listening:session-thread")).status_code
        == 404
    )


# --- feedback ----------------------------------------------------------------------------------------


def test_client_gives_feedback_after_the_session():
    booking = past_booking()
    response = browser(booking.client).post(
        room_url(booking, "listening:session-feedback"),
        {"pre_distress": 7, "post_distress": 4, "rating": 5, "comment": "helped"},
    )
    assert response.status_code == 302
    feedback = Feedback.objects.get(booking=booking)
    assert (feedback.pre_distress, feedback.post_distress, feedback.rating) == (7, 4, 5)


def test_feedback_with_a_rating_out_of_range_is_400_naming_it():
    booking = past_booking()
    response = browser(booking.client).post(
        room_url(booking, "listening:session-feedback"),
        {"pre_distress": 7, "post_distress": 11, "rating": 9},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_rating_error"' in body and 'id="id_post_distress_error"' in body
    assert not Feedback.objects.exists()


def test_feedback_before_the_session_is_409(booking):
    response = browser(booking.client).post(
        room_url(booking, "listening:session-feedback"),
        {"pre_distress": 5, "post_distress": 5, "rating": 3},
    )
    assert response.status_code == 409
    assert not Feedback.objects.exists()


def test_counselor_may_not_give_feedback():
    booking = past_booking()
    assert (
        browser(booking.counselor.user)
        .get(room_url(booking, "listening:session-feedback"))
        .status_code
        == 403
    )
