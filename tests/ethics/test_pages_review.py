"""The staff review pages (/staff/flags/, /staff/flags/<id>/ and its actions, the audited
content view) and the resource directory (/staff/resources/)."""

import datetime as dt
import uuid

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ethics.models import AuditLog, EthicsFlag, FlagNote, Resource
from listening.models import Booking
from listening.services import message_post
from oversight import services as review
from tests.ethics.test_escalation_support import SupervisorFactory
from tests.factories import BookingFactory, ClientFactory, CounselorProfileFactory, StaffFactory

pytestmark = pytest.mark.django_db


def browser(user=None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


@pytest.fixture
def staff(db):
    return StaffFactory()


@pytest.fixture
def complaint_flag(db):
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=5)
    booking = BookingFactory(start=start, end=start + dt.timedelta(minutes=30))
    message_post(
        booking_id=booking.pk,
        sender=booking.client,
        uid=uuid.uuid4(),
        text="the counselor was rude",
        live=True,
    )
    return review.complaint_create(
        client=booking.client, booking_id=booking.pk, text="They laughed at me."
    ).flag


def flag_url(flag, name="oversight:staff-flag"):
    return reverse(name, args=[flag.pk])


# --- access ------------------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_log_in(complaint_flag):
    for url in (
        reverse("oversight:staff-flags"),
        flag_url(complaint_flag),
        reverse("ethics:staff-resources"),
    ):
        response = browser().get(url)
        assert response.status_code == 302 and response["Location"].startswith(
            reverse(settings.LOGIN_URL)
        )


@pytest.mark.parametrize(
    "make", [ClientFactory, SupervisorFactory, lambda: CounselorProfileFactory().user]
)
def test_everyone_but_staff_gets_403(make, complaint_flag):
    c = browser(make())
    assert c.get(reverse("oversight:staff-flags")).status_code == 403
    assert c.get(flag_url(complaint_flag)).status_code == 403
    assert c.post(flag_url(complaint_flag, "oversight:staff-flag-content")).status_code == 403
    assert c.get(reverse("ethics:staff-resources")).status_code == 403
    assert not AuditLog.objects.exists()


def test_unknown_flag_is_404(staff):
    assert browser(staff).get(reverse("oversight:staff-flag", args=[999999])).status_code == 404


# --- the queue ---------------------------------------------------------------------------------


def test_queue_shows_unresolved_flags_newest_first(staff, complaint_flag):
    older = EthicsFlag.objects.create(kind=EthicsFlag.Kind.QUALITY, summary="three ratings of 1")
    EthicsFlag.objects.filter(pk=older.pk).update(created_at=timezone.now() - dt.timedelta(days=3))
    done = EthicsFlag.objects.create(
        kind=EthicsFlag.Kind.BOUNDARY, status=EthicsFlag.Status.RESOLVED
    )
    body = browser(staff).get(reverse("oversight:staff-flags")).content.decode()
    assert body.index(f"#{complaint_flag.pk}<") < body.index(f"#{older.pk}<")
    assert f"#{done.pk}<" not in body


def test_queue_filters_by_kind_status_and_age(staff, complaint_flag):
    old = EthicsFlag.objects.create(kind=EthicsFlag.Kind.COMPLAINT, summary="an old one")
    EthicsFlag.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=10))
    other = EthicsFlag.objects.create(kind=EthicsFlag.Kind.QUALITY)
    c = browser(staff)
    body = c.get(reverse("oversight:staff-flags"), {"kind": "complaint"}).content.decode()
    assert (
        f"#{complaint_flag.pk}<" in body and f"#{old.pk}<" in body and f"#{other.pk}<" not in body
    )
    body = c.get(
        reverse("oversight:staff-flags"), {"kind": "complaint", "age": "older"}
    ).content.decode()
    assert f"#{old.pk}<" in body and f"#{complaint_flag.pk}<" not in body
    body = c.get(reverse("oversight:staff-flags"), {"status": "resolved"}).content.decode()
    assert f"#{complaint_flag.pk}<" not in body


def test_a_bad_filter_is_400_naming_it(staff):
    response = browser(staff).get(
        reverse("oversight:staff-flags"), {"kind": "gossip", "age": "ancient"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_kind_error"' in body and 'id="id_age_error"' in body


# --- the detail and its actions ----------------------------------------------------------------


def test_detail_shows_the_complaint_but_not_the_session_content(staff, complaint_flag):
    body = browser(staff).get(flag_url(complaint_flag)).content.decode()
    assert "They laughed at me." in body
    assert "the counselor was rude" not in body
    assert not AuditLog.objects.filter(action=AuditLog.Action.READ_CONTENT).exists()


def test_content_view_asks_first_and_writes_nothing_until_confirmed(staff, complaint_flag):
    response = browser(staff).get(flag_url(complaint_flag, "oversight:staff-flag-content"))
    assert response.status_code == 200
    assert "the counselor was rude" not in response.content.decode()
    assert not AuditLog.objects.filter(action=AuditLog.Action.READ_CONTENT).exists()


def test_reading_the_content_is_written_to_the_audit_log(staff, complaint_flag):
    response = browser(staff).post(flag_url(complaint_flag, "oversight:staff-flag-content"))
    assert response.status_code == 200
    assert "the counselor was rude" in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    entry = AuditLog.objects.get(action=AuditLog.Action.READ_CONTENT)
    assert (entry.actor, entry.flag, entry.booking_id) == (
        staff,
        complaint_flag,
        complaint_flag.booking_id,
    )
    assert (
        entry.detail in browser(staff).get(flag_url(complaint_flag)).content.decode()
    )  # the page's audit log


def test_content_of_a_flag_without_a_session_is_404(staff):
    flag = EthicsFlag.objects.create(kind=EthicsFlag.Kind.QUALITY)
    assert browser(staff).post(flag_url(flag, "oversight:staff-flag-content")).status_code == 404
    assert not AuditLog.objects.exists()


def test_staff_assign_a_flag_to_themselves(staff, complaint_flag):
    response = browser(staff).post(flag_url(complaint_flag, "oversight:staff-flag-assign"))
    assert response.status_code == 302
    complaint_flag.refresh_from_db()
    assert (complaint_flag.status, complaint_flag.assigned_to) == ("in-review", staff)


def test_assigning_a_flag_already_in_review_is_409(staff, complaint_flag):
    review.flag_assign(user=StaffFactory(), flag_id=complaint_flag.pk)
    assert (
        browser(staff).post(flag_url(complaint_flag, "oversight:staff-flag-assign")).status_code
        == 409
    )
    complaint_flag.refresh_from_db()
    assert complaint_flag.assigned_to != staff


def test_staff_add_a_note(staff, complaint_flag):
    response = browser(staff).post(
        flag_url(complaint_flag, "oversight:staff-flag-note"), {"text": "called the client"}
    )
    assert response.status_code == 302
    assert FlagNote.objects.get(flag=complaint_flag).text == "called the client"


def test_an_empty_note_is_400_naming_it(staff, complaint_flag):
    response = browser(staff).post(
        flag_url(complaint_flag, "oversight:staff-flag-note"), {"text": ""}
    )
    assert response.status_code == 400
    assert 'id="id_text_error"' in response.content.decode()
    assert not FlagNote.objects.exists()


def test_resolving_without_a_resolution_is_400_naming_it(staff, complaint_flag):
    response = browser(staff).post(
        flag_url(complaint_flag, "oversight:staff-flag-resolve"),
        {"action": "warn", "resolution": ""},
    )
    assert response.status_code == 400
    assert 'id="id_resolution_error"' in response.content.decode()
    complaint_flag.refresh_from_db()
    assert complaint_flag.status == "open"


def test_suspension_needs_a_confirmation(staff, complaint_flag):
    response = browser(staff).post(
        flag_url(complaint_flag, "oversight:staff-flag-resolve"),
        {"action": "suspend-counselor", "resolution": "repeated rudeness"},
    )
    assert response.status_code == 400
    assert 'id="id_confirm_suspend_error"' in response.content.decode()
    complaint_flag.counselor.refresh_from_db()
    assert complaint_flag.counselor.is_active


def test_staff_resolve_with_a_warning(staff, complaint_flag):
    response = browser(staff).post(
        flag_url(complaint_flag, "oversight:staff-flag-resolve"),
        {"action": "warn", "resolution": "spoke with the counselor"},
    )
    assert response.status_code == 302
    complaint_flag.refresh_from_db()
    assert (complaint_flag.status, complaint_flag.action, complaint_flag.resolved_by) == (
        "resolved",
        "warn",
        staff,
    )
    assert AuditLog.objects.filter(flag=complaint_flag, action=AuditLog.Action.RESOLVE).exists()


def test_staff_hold_the_content(staff, complaint_flag):
    browser(staff).post(
        flag_url(complaint_flag, "oversight:staff-flag-resolve"),
        {"action": "hold-content", "resolution": "keep for the investigation"},
    )
    assert Booking.objects.get(pk=complaint_flag.booking_id).ethics_hold


def test_staff_suspend_the_counselor_when_confirmed(staff, complaint_flag):
    future = BookingFactory(counselor=complaint_flag.counselor)
    response = browser(staff).post(
        flag_url(complaint_flag, "oversight:staff-flag-resolve"),
        {"action": "suspend-counselor", "resolution": "serious breach", "confirm_suspend": "on"},
    )
    assert response.status_code == 302
    complaint_flag.counselor.refresh_from_db()
    future.refresh_from_db()
    assert not complaint_flag.counselor.is_active and future.status == "cancelled"


def test_hold_content_is_not_offered_for_a_flag_without_a_session(staff):
    flag = EthicsFlag.objects.create(
        kind=EthicsFlag.Kind.QUALITY, counselor=CounselorProfileFactory()
    )
    response = browser(staff).post(
        flag_url(flag, "oversight:staff-flag-resolve"),
        {"action": "hold-content", "resolution": "r"},
    )
    assert response.status_code == 400
    assert 'value="hold-content"' not in response.content.decode()
    flag.refresh_from_db()
    assert flag.status == "open"


def test_resolving_a_resolved_flag_is_409(staff, complaint_flag):
    review.flag_resolve(user=staff, flag_id=complaint_flag.pk, resolution="done")
    response = browser(staff).post(
        flag_url(complaint_flag, "oversight:staff-flag-resolve"),
        {"action": "warn", "resolution": "again"},
    )
    assert response.status_code == 409
    complaint_flag.refresh_from_db()
    assert complaint_flag.resolution == "done"


# --- the resource directory --------------------------------------------------------------------


@pytest.fixture
def directory(db):
    common = {"source": "test", "last_verified": dt.date.today()}
    return [
        Resource.objects.create(
            kind="hotline", name="Line A", region="CN", language="zh", contact="12356", **common
        ),
        Resource.objects.create(
            kind="book", name="Book B", region="global", language="en", **common
        ),
        Resource.objects.create(
            kind="hotline",
            name="Old line",
            region="GB",
            language="en",
            is_active=False,
            source="test",
            last_verified=dt.date(2020, 1, 1),
        ),
    ]


def test_staff_see_the_whole_directory_with_admin_links(staff, directory):
    body = browser(staff).get(reverse("ethics:staff-resources")).content.decode()
    for resource in directory:
        assert resource.name in body
        assert reverse("admin:ethics_resource_change", args=[resource.pk]) in body
    assert "Re-check" in body  # the 2020 entry


def test_directory_filters_by_kind_region_and_language(staff, directory):
    c = browser(staff)
    body = c.get(
        reverse("ethics:staff-resources"), {"kind": "hotline", "language": "en"}
    ).content.decode()
    assert "Old line" in body and "Line A" not in body and "Book B" not in body
    body = c.get(reverse("ethics:staff-resources"), {"region": "CN"}).content.decode()
    assert "Line A" in body and "Old line" not in body


def test_a_bad_directory_filter_is_400_naming_it(staff, directory):
    response = browser(staff).get(reverse("ethics:staff-resources"), {"region": "ATLANTIS"})
    assert response.status_code == 400
    assert 'id="id_region_error"' in response.content.decode()


def test_review_pages_render_in_chinese(staff, complaint_flag):
    c = browser(staff)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert "筛选" in c.get(reverse("oversight:staff-flags")).content.decode()
    body = c.get(flag_url(complaint_flag)).content.decode()
    assert "查阅会谈内容" in body and "审计日志" in body and "Audit log" not in body
