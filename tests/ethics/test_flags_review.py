"""The staff review of ethics flags: queue, assign, notes, audited content reads, resolve
with an action; counselors see only outcomes; clients never see flags."""

import datetime as dt
import uuid

import pytest
from django.core import mail
from django.utils import timezone

from core.encryption import encrypt_text
from ethics.models import AuditLog, EthicsFlag, FlagNote
from listening.models import Booking, SessionMessage
from listening.services import session_content_purge
from tests.factories import BookingFactory, ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def booking(counselor, client_user):
    return BookingFactory(counselor=counselor, client=client_user)


@pytest.fixture
def flag(booking):
    return EthicsFlag.objects.create(
        kind=EthicsFlag.Kind.COMPLAINT,
        booking=booking,
        counselor=booking.counselor,
        summary="complaint",
    )


def add_message(booking, sender, seq, text):
    return SessionMessage.objects.create(
        booking=booking,
        seq=seq,
        uid=uuid.uuid4(),
        sender=sender,
        ciphertext=encrypt_text(text),
        sent_at=booking.start + dt.timedelta(minutes=seq),
    )


def url(flag, action=""):
    return f"/api/v1/ethics/flags/{flag.pk}/{action}"


def test_queue_is_staff_only_and_filters(as_staff, as_client, as_counselor, flag, booking):
    other = EthicsFlag.objects.create(
        kind=EthicsFlag.Kind.OFF_PLATFORM_CONTACT,
        booking=booking,
        status=EthicsFlag.Status.RESOLVED,
    )
    response = as_staff.get("/api/v1/ethics/flags/")
    assert response.status_code == 200 and response.data["count"] == 2
    row = response.data["results"][1]
    assert {
        "id",
        "kind",
        "status",
        "booking",
        "created_at",
        "counselor",
        "assigned_to",
        "resolution",
    } <= set(row)
    assert [
        r["id"] for r in as_staff.get("/api/v1/ethics/flags/?kind=complaint").data["results"]
    ] == [flag.pk]
    assert [
        r["id"] for r in as_staff.get("/api/v1/ethics/flags/?status=resolved").data["results"]
    ] == [other.pk]
    assert as_staff.get("/api/v1/ethics/flags/?kind=nonsense").status_code == 400
    for api in (as_client, as_counselor):
        assert api.get("/api/v1/ethics/flags/").status_code == 403
        assert api.get(url(flag)).status_code == 403
        assert (
            api.post(url(flag, "resolve/"), {"resolution": "x"}, format="json").status_code == 403
        )
        assert api.get(url(flag, "content/")).status_code == 403


def test_detail_shows_the_complaint_text(as_client, as_staff, booking):
    as_client.post(
        "/api/v1/ethics/complaints/", {"booking": booking.pk, "text": "rude"}, format="json"
    )
    flag = EthicsFlag.objects.get()
    response = as_staff.get(url(flag))
    assert response.status_code == 200
    assert response.data["complaint"]["text"] == "rude"
    assert response.data["notes"] == [] and response.data["audit_log"] == []
    assert as_staff.get("/api/v1/ethics/flags/999999/").status_code == 404


def test_assign_takes_an_open_flag_once(as_staff, flag, staff_user):
    response = as_staff.post(url(flag, "assign/"))
    assert response.status_code == 200
    assert (response.data["status"], response.data["assigned_to"]) == ("in-review", staff_user.pk)
    again = as_staff.post(url(flag, "assign/"))
    assert again.status_code == 409 and again.data["code"] == "not_open"


def test_notes_are_appended_with_author_and_time(as_staff, flag, staff_user):
    response = as_staff.post(url(flag, "notes/"), {"text": "called the client"}, format="json")
    assert response.status_code == 201
    assert response.data["author"] == staff_user.pk and response.data["created_at"]
    as_staff.post(url(flag, "notes/"), {"text": "second"}, format="json")
    assert [n["text"] for n in as_staff.get(url(flag)).data["notes"]] == [
        "called the client",
        "second",
    ]
    assert as_staff.post(url(flag, "notes/"), {"text": ""}, format="json").status_code == 400


def test_reading_content_is_audited(as_staff, flag, booking, staff_user, counselor, client_user):
    add_message(booking, counselor.user, 2, "how are you feeling")
    add_message(booking, client_user, 1, "hello")
    response = as_staff.get(url(flag, "content/"))
    assert response.status_code == 200
    assert [m["text"] for m in response.data["messages"]] == ["hello", "how are you feeling"]
    assert response.data["booking"] == booking.pk
    as_staff.get(url(flag, "content/"))
    log = list(AuditLog.objects.filter(action=AuditLog.Action.READ_CONTENT))
    assert len(log) == 2
    assert log[0].actor == staff_user
    assert log[0].detail == f"read content of booking {booking.pk} for flag {flag.pk}"
    audit = as_staff.get(url(flag)).data["audit_log"]
    assert [a["action"] for a in audit] == ["read-content", "read-content"]
    assert audit[0]["actor"] == staff_user.pk and audit[0]["created_at"]


def test_content_of_a_flag_without_a_booking_is_404(as_staff):
    flag = EthicsFlag.objects.create(kind=EthicsFlag.Kind.QUALITY)
    assert as_staff.get(url(flag, "content/")).status_code == 404
    assert not AuditLog.objects.exists()


def test_resolve_needs_a_resolution_and_a_known_action(as_staff, flag):
    response = as_staff.post(
        url(flag, "resolve/"), {"resolution": "", "action": "banish"}, format="json"
    )
    assert response.status_code == 400 and {"resolution", "action"} <= set(response.data)
    response = as_staff.post(url(flag, "resolve/"), {"resolution": "   "}, format="json")
    assert response.status_code == 400 and "resolution" in response.data
    flag.refresh_from_db()
    assert flag.status == "open"


def test_resolve_twice_is_409(as_staff, flag, staff_user):
    response = as_staff.post(
        url(flag, "resolve/"), {"resolution": "talked to both", "action": "warn"}, format="json"
    )
    assert response.status_code == 200
    assert (response.data["status"], response.data["action"]) == ("resolved", "warn")
    assert response.data["resolved_by"] == staff_user.pk and response.data["resolved_at"]
    again = as_staff.post(url(flag, "resolve/"), {"resolution": "again"}, format="json")
    assert again.status_code == 409 and again.data["code"] == "resolved"


def test_hold_content_keeps_the_session_past_the_purge(
    as_staff, flag, booking, client_user, settings
):
    add_message(booking, client_user, 1, "keep me")
    response = as_staff.post(
        url(flag, "resolve/"), {"resolution": "evidence", "action": "hold-content"}, format="json"
    )
    assert response.status_code == 200
    booking.refresh_from_db()
    assert booking.ethics_hold is True
    later = booking.end + dt.timedelta(days=settings.RETENTION_DAYS + 1)
    assert session_content_purge(now=later) == 0
    assert SessionMessage.objects.filter(booking=booking).count() == 1


def test_suspend_counselor_unlists_and_cancels_future_sessions(
    as_staff, flag, counselor, booking, django_capture_on_commit_callbacks
):
    past = BookingFactory(
        counselor=counselor,
        start=timezone.now() - dt.timedelta(days=2),
        status=Booking.Status.COMPLETED,
    )
    later = BookingFactory(
        counselor=counselor, client=ClientFactory(), start=booking.start + dt.timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = as_staff.post(
            url(flag, "resolve/"),
            {"resolution": "boundary violation", "action": "suspend-counselor"},
            format="json",
        )
    assert response.status_code == 200
    counselor.refresh_from_db()
    assert counselor.is_active is False
    for b in (booking, later):
        b.refresh_from_db()
        assert (b.status, b.cancel_reason, b.cancelled_by_id) == (
            "cancelled",
            "counselor suspended",
            counselor.pk,
        )
        assert b.cancel_notified_at is not None
    past.refresh_from_db()
    assert past.status == "completed"
    # Each client is told, the counselor is not.
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [booking.client.email, later.client.email]
    )
    assert AuditLog.objects.filter(action="resolve", flag=flag).exists()


def test_suspend_without_a_counselor_is_400(as_staff):
    flag = EthicsFlag.objects.create(kind=EthicsFlag.Kind.QUALITY)
    response = as_staff.post(
        url(flag, "resolve/"), {"resolution": "x", "action": "suspend-counselor"}, format="json"
    )
    assert response.status_code == 400 and "action" in response.data
    assert (
        as_staff.post(
            url(flag, "resolve/"), {"resolution": "x", "action": "hold-content"}, format="json"
        ).status_code
        == 400
    )


def test_counselor_sees_only_outcomes_of_resolved_flags_about_them(
    as_staff, as_counselor, as_other_counselor, as_client, flag, booking, staff_user
):
    FlagNote.objects.create(flag=flag, author=staff_user, text="secret note")
    open_flag = EthicsFlag.objects.create(
        kind=EthicsFlag.Kind.BOUNDARY, booking=booking, counselor=booking.counselor
    )
    assert as_counselor.get("/api/v1/ethics/flags/mine/").data["count"] == 0
    as_staff.post(
        url(flag, "resolve/"),
        {"resolution": "reminded of the code of ethics", "action": "warn"},
        format="json",
    )
    response = as_counselor.get("/api/v1/ethics/flags/mine/")
    assert response.status_code == 200
    assert response.data["results"] == [
        {
            "id": flag.pk,
            "kind": "complaint",
            "resolved_at": response.data["results"][0]["resolved_at"],
            "resolution": "reminded of the code of ethics",
        }
    ]
    assert open_flag.pk not in [r["id"] for r in response.data["results"]]
    assert as_other_counselor.get("/api/v1/ethics/flags/mine/").data["count"] == 0
    assert as_client.get("/api/v1/ethics/flags/mine/").status_code == 403
    assert as_staff.get("/api/v1/ethics/flags/mine/").status_code == 403
