"""Session reminders: scheduled with the booking, withdrawn and replaced with it, and sent
(by listening.services.reminders_send_due) as the recipient's preferences say, in their
language and zone, never naming the topic."""

import datetime as dt
from email import message_from_bytes
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Notice, NotificationPreference
from listening.models import Booking, Reminder
from listening.services import (
    booking_cancel,
    booking_create,
    booking_reschedule,
    booking_start_now,
    reminder_deliver,
    reminders_send_due,
)
from tests.factories import (
    BookingFactory,
    ClientFactory,
    CounselorProfileFactory,
    OneOffWindowFactory,
    ReminderFactory,
    at_local,
    local_today,
    next_quarter,
)

pytestmark = pytest.mark.django_db

SHANGHAI = "Asia/Shanghai"  # no daylight saving time


def _book(client_user, counselor, *, start=None, topic="my divorce"):
    if start is None:  # an hour into the fixture's window: over 24 h ahead
        start = counselor.windows.order_by("start").first().start + dt.timedelta(hours=1)
    return booking_create(
        client=client_user,
        counselor_id=counselor.pk,
        start=start,
        duration_minutes=30,
        mode="text",
        topic=topic,
    )


def _rows(booking, **filters):
    return sorted(
        booking.reminders.filter(**filters).values_list("recipient_id", "kind", "sequence"),
    )


# --- scheduling -------------------------------------------------------------------------------


def test_booking_schedules_both_reminders_for_both_participants(client_user, counselor):
    booking = _book(client_user, counselor)
    assert _rows(booking, status=Reminder.Status.PENDING) == sorted(
        (who, kind, 0)
        for who in (client_user.pk, counselor.pk)
        for kind in (Reminder.Kind.DAY_BEFORE, Reminder.Kind.HOUR_BEFORE)
    )
    hour_before = booking.reminders.filter(kind=Reminder.Kind.HOUR_BEFORE).first()
    assert hour_before.due_at == booking.start - dt.timedelta(hours=1)


def test_booking_three_hours_ahead_gets_only_the_hour_before_reminder(client_user, counselor):
    start = next_quarter(after=timezone.now() + dt.timedelta(hours=3))
    OneOffWindowFactory(counselor=counselor, start=start, end=start + dt.timedelta(hours=1))
    booking = _book(client_user, counselor, start=start)
    assert {kind for _who, kind, _seq in _rows(booking)} == {Reminder.Kind.HOUR_BEFORE}
    assert booking.reminders.count() == 2


def test_talk_now_schedules_no_reminders(client_user, counselor):
    booking = booking_start_now(
        client=client_user, counselor_id=counselor.pk, duration_minutes=15, mode="text", topic="x"
    )
    assert not booking.reminders.exists()


def test_cancelling_withdraws_the_pending_reminders(client_user, counselor):
    booking = _book(client_user, counselor)
    booking_cancel(booking_id=booking.pk, user=client_user, reason="exam")
    assert set(booking.reminders.values_list("status", flat=True)) == {Reminder.Status.WITHDRAWN}


def test_cancelling_leaves_a_notice_for_the_other_participant_only(client_user, counselor):
    booking = _book(client_user, counselor)
    booking_cancel(booking_id=booking.pk, user=client_user)
    [notice] = Notice.objects.all()
    assert (notice.user_id, notice.kind) == (counselor.pk, "booking_cancelled")
    assert "my divorce" not in str(notice.params)


def test_a_failed_booking_schedules_nothing(client_user, counselor):
    _book(client_user, counselor)
    with pytest.raises(Exception):  # noqa: B017 - the same slot again: 409 slot_taken
        _book(ClientFactory(), counselor)
    assert Reminder.objects.count() == 4


def test_rescheduling_withdraws_the_old_reminders_and_schedules_new_ones(client_user, counselor):
    booking = _book(client_user, counselor)
    moved = booking_reschedule(
        booking_id=booking.pk, user=client_user, start=booking.start + dt.timedelta(hours=1)
    )
    assert moved.ics_sequence == 1
    assert {seq for _w, _k, seq in _rows(booking, status=Reminder.Status.WITHDRAWN)} == {0}
    pending = booking.reminders.filter(status=Reminder.Status.PENDING)
    assert sorted(pending.values_list("recipient_id", "kind", "sequence")) == sorted(
        (who, kind, 1)
        for who in (client_user.pk, counselor.pk)
        for kind in (Reminder.Kind.DAY_BEFORE, Reminder.Kind.HOUR_BEFORE)
    )
    assert all(r.due_at in (moved.start - dt.timedelta(hours=h) for h in (1, 24)) for r in pending)
    assert booking.reminders.count() == 8  # no duplicates: four withdrawn, four pending


def test_rescheduling_twice_keeps_one_live_set(client_user, counselor):
    booking = _book(client_user, counselor)
    for minutes in (30, 60):
        booking_reschedule(
            booking_id=booking.pk,
            user=client_user,
            start=booking.start + dt.timedelta(minutes=minutes),
        )
    live = booking.reminders.filter(status=Reminder.Status.PENDING)
    assert set(live.values_list("sequence", flat=True)) == {2}
    assert live.count() == 4


def test_rescheduling_leaves_a_notice_for_the_other_participant(client_user, counselor):
    booking = _book(client_user, counselor)
    booking_reschedule(
        booking_id=booking.pk, user=client_user, start=booking.start + dt.timedelta(hours=1)
    )
    [notice] = Notice.objects.all()
    assert (notice.user_id, notice.kind) == (counselor.pk, "booking_moved")


def test_a_refused_reschedule_keeps_the_reminders(client_user, counselor):
    booking = _book(client_user, counselor)
    with pytest.raises(Exception):  # noqa: B017 - outside the window: 400
        booking_reschedule(
            booking_id=booking.pk, user=client_user, start=booking.start + dt.timedelta(days=3)
        )
    assert _rows(booking, status=Reminder.Status.PENDING) == _rows(booking)
    assert booking.reminders.count() == 4


# --- sending ------------------------------------------------------------------------------------


def _due(kind=Reminder.Kind.HOUR_BEFORE, **booking_kwargs):
    """A pending reminder for the booking's client (Shanghai, English) and the `now` it is due."""
    booking = BookingFactory(**booking_kwargs)
    reminder = ReminderFactory(booking=booking, kind=kind)
    return reminder, reminder.due_at


def test_a_due_reminder_is_sent_by_email_and_as_a_notice(django_capture_on_commit_callbacks):
    reminder, now = _due()
    assert reminders_send_due(now=now) == 1
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT
    assert sorted(reminder.channels) == ["email", "in_page"]
    assert reminder.attempts == 1
    [message] = mail.outbox
    assert message.to == [reminder.recipient.email]
    [notice] = Notice.objects.filter(user=reminder.recipient)
    assert notice.kind == "reminder_1h"
    assert notice.url == f"/sessions/{reminder.booking_id}/"


def test_running_the_sweep_again_sends_nothing_more():
    _reminder, now = _due()
    reminders_send_due(now=now)
    assert reminders_send_due(now=now + dt.timedelta(minutes=1)) == 0
    assert len(mail.outbox) == 1
    assert Notice.objects.count() == 1


def test_a_reminder_not_yet_due_waits():
    _reminder, now = _due()
    assert reminders_send_due(now=now - dt.timedelta(seconds=1)) == 0
    assert mail.outbox == []


def test_a_reminder_of_a_cancelled_booking_is_skipped():
    reminder, now = _due(status=Booking.Status.CANCELLED)
    reminders_send_due(now=now)
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SKIPPED
    assert mail.outbox == [] and not Notice.objects.exists()


def test_a_reminder_of_a_session_that_started_is_skipped():
    reminder, _now = _due()
    reminders_send_due(now=reminder.booking.start)
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SKIPPED


def test_a_day_before_reminder_is_skipped_once_the_hour_before_one_is_due():
    reminder, _now = _due(kind=Reminder.Kind.DAY_BEFORE)
    reminders_send_due(now=reminder.booking.start - dt.timedelta(minutes=59))
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SKIPPED


def test_a_turned_off_kind_is_skipped():
    reminder, now = _due(kind=Reminder.Kind.DAY_BEFORE)
    NotificationPreference.objects.create(user=reminder.recipient, remind_24h=False)
    reminders_send_due(now=now)
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SKIPPED
    assert mail.outbox == [] and not Notice.objects.exists()


def test_email_off_sends_only_the_notice():
    reminder, now = _due()
    NotificationPreference.objects.create(user=reminder.recipient, email_reminders=False)
    reminders_send_due(now=now)
    reminder.refresh_from_db()
    assert reminder.channels == ["in_page"]
    assert mail.outbox == []


def test_in_page_off_sends_only_the_email():
    reminder, now = _due()
    NotificationPreference.objects.create(user=reminder.recipient, in_page_reminders=False)
    reminders_send_due(now=now)
    reminder.refresh_from_db()
    assert reminder.channels == ["email"]
    assert not Notice.objects.exists()


def test_no_address_and_no_notices_skips_the_reminder():
    reminder, now = _due(client=ClientFactory(email=""))
    NotificationPreference.objects.create(user=reminder.recipient, in_page_reminders=False)
    reminders_send_due(now=now)
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SKIPPED


# --- quiet hours (wall-clock times in the recipient's zone) ------------------------------------


def _due_at_local(hour: int, minute: int = 0, *, start_hours_later: float = 1, zone=SHANGHAI):
    """A client in `zone` with an hour-before reminder due at hour:minute local tomorrow."""
    due = at_local(zone, local_today(zone) + dt.timedelta(days=1), hour, minute)
    start = due + dt.timedelta(hours=start_hours_later)
    booking = BookingFactory(client=ClientFactory(timezone=zone), start=start)
    reminder = ReminderFactory(booking=booking, due_at=due)
    return reminder, due


def _quiet(user, start: str, end: str):
    NotificationPreference.objects.create(
        user=user, quiet_start=dt.time.fromisoformat(start), quiet_end=dt.time.fromisoformat(end)
    )


def test_in_quiet_hours_the_email_waits_for_their_end_and_the_notice_does_not():
    reminder, now = _due_at_local(23, 30, start_hours_later=10)  # session 09:30
    _quiet(reminder.recipient, "22:00", "07:00")  # wraps midnight
    assert reminders_send_due(now=now) == 1
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.PENDING
    assert reminder.channels == ["in_page"]
    assert reminder.due_at == now + dt.timedelta(hours=7, minutes=30)  # 07:00 in Shanghai
    assert mail.outbox == []
    assert Notice.objects.count() == 1


def test_a_deferred_email_goes_at_the_end_of_quiet_hours_without_a_second_notice():
    reminder, now = _due_at_local(23, 30, start_hours_later=10)
    _quiet(reminder.recipient, "22:00", "07:00")
    reminders_send_due(now=now)
    end = now + dt.timedelta(hours=7, minutes=30)
    reminders_send_due(now=end)
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT
    assert sorted(reminder.channels) == ["email", "in_page"]
    assert len(mail.outbox) == 1
    assert Notice.objects.count() == 1


def test_quiet_hours_ending_after_the_session_leave_the_email_out():
    reminder, now = _due_at_local(1, 0)  # session at 02:00, quiet until 07:00
    _quiet(reminder.recipient, "22:00", "07:00")
    reminders_send_due(now=now)
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT
    assert reminder.channels == ["in_page"]
    assert mail.outbox == []


def test_quiet_hours_without_notices_skip_the_reminder_when_the_email_cannot_wait():
    reminder, now = _due_at_local(1, 0)
    NotificationPreference.objects.create(
        user=reminder.recipient,
        in_page_reminders=False,
        quiet_start=dt.time(22),
        quiet_end=dt.time(7),
    )
    reminders_send_due(now=now)
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SKIPPED


def test_the_end_of_quiet_hours_is_not_quiet():
    reminder, now = _due_at_local(7, 0)
    _quiet(reminder.recipient, "22:00", "07:00")
    reminders_send_due(now=now)
    assert len(mail.outbox) == 1


def test_a_daytime_window_defers_to_its_end_the_same_day():
    reminder, now = _due_at_local(14, 0, start_hours_later=3)
    _quiet(reminder.recipient, "13:00", "15:00")
    reminders_send_due(now=now)
    reminder.refresh_from_db()
    assert reminder.due_at == now + dt.timedelta(hours=1)
    assert mail.outbox == []


def test_outside_a_daytime_window_the_email_goes_at_once():
    reminder, now = _due_at_local(12, 59)
    _quiet(reminder.recipient, "13:00", "15:00")
    reminders_send_due(now=now)
    assert len(mail.outbox) == 1


def test_quiet_hours_are_read_in_the_recipients_own_zone():
    # 23:30 in Shanghai is 16:30 in London (winter) or 15:30 (summer): not quiet there.
    reminder, now = _due_at_local(23, 30, start_hours_later=10)
    reminder.recipient.timezone = "Europe/London"
    reminder.recipient.save()
    _quiet(reminder.recipient, "22:00", "07:00")
    reminders_send_due(now=now)
    assert len(mail.outbox) == 1


def _unfolded(header: str) -> str:
    """A long header is folded over lines (RFC 5322); a URL in it has no whitespace."""
    return "".join(header.split())


# --- the text -----------------------------------------------------------------------------------


def test_the_email_is_in_the_recipients_language_and_zone_and_never_names_the_topic():
    client = ClientFactory(language="zh-hans", timezone="Europe/Berlin")
    booking = BookingFactory(client=client, topic="my divorce", note="secret note", mode="text")
    reminder = ReminderFactory(booking=booking)
    reminders_send_due(now=reminder.due_at)
    [message] = mail.outbox
    text = message.subject + message.body
    assert "文字聊天" in text  # the mode, in Chinese
    assert "Text chat" not in text
    berlin = booking.start.astimezone(ZoneInfo("Europe/Berlin"))
    assert berlin.strftime("%Y-%m-%d %H:%M") in message.body
    assert "divorce" not in text and "secret" not in text


def test_the_email_links_to_the_session_on_the_site(settings):
    settings.PIANKE_SITE_URL = "https://pianke.example"
    reminder, now = _due()
    reminders_send_due(now=now)
    assert f"https://pianke.example/sessions/{reminder.booking_id}/" in mail.outbox[0].body


def test_the_email_carries_one_click_unsubscribe_headers(settings):
    settings.PIANKE_SITE_URL = "https://pianke.example"
    _reminder, now = _due()
    reminders_send_due(now=now)
    raw = message_from_bytes(mail.outbox[0].message().as_bytes())
    assert _unfolded(raw["List-Unsubscribe"]).startswith("<https://pianke.example/unsubscribe/")
    assert raw["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_message_id_is_the_same_for_the_same_reminder(settings):
    settings.PIANKE_SITE_URL = "https://pianke.example"
    reminder, now = _due()
    reminders_send_due(now=now)
    raw = message_from_bytes(mail.outbox[0].message().as_bytes())
    assert raw["Message-ID"] == (
        f"<reminder-{reminder.pk}-{reminder.booking_id}-{reminder.sequence}@pianke.example>"
    )


def test_the_counselor_gets_their_own_reminder_in_their_language():
    counselor = CounselorProfileFactory(user__language="zh-hans", user__timezone="Asia/Tokyo")
    booking = BookingFactory(counselor=counselor, mode="video")
    reminder = ReminderFactory(booking=booking, recipient=counselor.user)
    reminders_send_due(now=reminder.due_at)
    [message] = mail.outbox
    assert message.to == [counselor.user.email]
    assert "视频" in message.body
    assert "JST" in message.body


def test_the_unsubscribe_link_of_the_email_turns_reminder_emails_off(client):
    reminder, now = _due()
    reminders_send_due(now=now)
    raw = message_from_bytes(mail.outbox[0].message().as_bytes())
    path = _unfolded(raw["List-Unsubscribe"]).strip("<>").split("8000", 1)[1]
    response = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert not NotificationPreference.objects.get(user=reminder.recipient).email_reminders


# --- failures -----------------------------------------------------------------------------------

REFUSING = "tests.listening.reminder_mail.RefusingBackend"


def test_a_refused_email_leaves_nothing_behind_and_is_retried_after_the_lease(settings):
    reminder, now = _due()
    settings.EMAIL_BACKEND = REFUSING
    reminders_send_due(now=now)
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == (Reminder.Status.SENDING, 1)
    assert not Notice.objects.exists()  # rolled back with the failed delivery
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert reminders_send_due(now=now + dt.timedelta(seconds=10)) == 0  # within the lease
    later = now + dt.timedelta(seconds=settings.REMINDER_LEASE_SECONDS + 1)
    reminders_send_due(now=later)
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == (Reminder.Status.SENT, 2)
    assert len(mail.outbox) == 1 and Notice.objects.count() == 1


def test_a_reminder_failing_too_often_is_given_up(settings):
    reminder, now = _due()
    settings.EMAIL_BACKEND = REFUSING
    settings.REMINDER_MAX_ATTEMPTS = 2
    lease = dt.timedelta(seconds=settings.REMINDER_LEASE_SECONDS + 1)
    for i in range(3):
        reminders_send_due(now=now + i * lease)
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == (Reminder.Status.SKIPPED, 2)


def test_a_withdrawn_reminder_claimed_before_is_not_sent(client_user, counselor):
    booking = _book(client_user, counselor)
    hour_before = booking.reminders.filter(
        recipient=client_user, kind=Reminder.Kind.HOUR_BEFORE
    ).get()
    Reminder.objects.filter(pk=hour_before.pk).update(
        status=Reminder.Status.SENDING, claimed_at=timezone.now()
    )
    booking_cancel(booking_id=booking.pk, user=client_user)
    assert reminder_deliver(reminder_id=hour_before.pk, now=hour_before.due_at) == ""
    assert mail.outbox == []
