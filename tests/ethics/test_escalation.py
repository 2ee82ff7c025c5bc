"""Crisis alerts at the service level: recorded with the message that carried the signal,
dispatched after commit (client's hotlines, the counselor, the on-call supervisors), then the
SLA ladder (2 and 5 minutes, moved with time-machine), the sweeper's safety net and
idempotence. Frames are captured where they leave (`group_send`); e-mail in the locmem outbox.
The same paths over real sockets and a real Celery worker: test_escalation_realtime.py."""

import datetime as dt
import uuid

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from core import realtime
from ethics import services, tasks
from ethics.models import CrisisAlert, EthicsFlag
from listening.models import Booking, SessionMessage
from listening.services import message_post
from tests.ethics.test_escalation_support import (
    HIGH_EN,
    HIGH_ZH,
    SupervisorFactory,
    bare_alert,
    directory,  # the fixture
    on_shift,
    soon_booking,
)
from tests.factories import ClientFactory, StaffFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("directory")]


@pytest.fixture
def sent(monkeypatch):
    """Every event sent to the channel layer by the crisis code, as (group, event)."""
    events = []

    def record(group, event):
        events.append((group, event))

    monkeypatch.setattr(realtime, "group_send", record)
    return events


def frames_to(sent, group: str, kind: str) -> list[dict]:
    return [e["frame"] for g, e in sent if g == group and e.get("frame", {}).get("type") == kind]


def staff_frames(sent, user) -> list[dict]:
    return [e["frame"] for g, e in sent if g == f"user.{user.pk}" and e["type"] == "staff.frame"]


@pytest.fixture
def rota(db):
    """A supervisor on shift, one off shift and a staff member."""
    on = SupervisorFactory(username="on-call")
    on_shift(on)
    off = SupervisorFactory(username="off-duty")
    staff = StaffFactory(username="ops")
    return {"on": on, "off": off, "staff": staff}


def post(booking, sender, text, *, live=False):
    return message_post(
        booking_id=booking.pk, sender=sender, uid=uuid.uuid4(), text=text, live=live
    )[0]


def fresh(alert) -> CrisisAlert:
    return CrisisAlert.objects.get(pk=alert.pk)


# --- Recorded with the message, in one transaction -------------------------------------------------


def test_high_signal_records_an_alert_and_a_crisis_flag_with_the_message(
    rota, sent, django_capture_on_commit_callbacks
):
    booking = soon_booking()
    with django_capture_on_commit_callbacks(execute=True):
        message = post(booking, booking.client, HIGH_EN)
    alert = CrisisAlert.objects.get()
    assert message.crisis_alert == alert
    assert (
        alert.client,
        alert.booking,
        alert.source,
        alert.severity,
        alert.status,
        alert.signal_count,
    ) == (booking.client, booking, CrisisAlert.Source.MESSAGE, CrisisAlert.Severity.HIGH, "open", 1)
    assert alert.reasons and all(r.startswith("client: ") for r in alert.reasons)
    flag = EthicsFlag.objects.get()
    assert (flag.kind, flag.status, flag.alert, flag.booking, flag.counselor) == (
        "crisis",
        "open",
        alert,
        booking,
        booking.counselor,
    )


def test_low_or_no_risk_text_records_nothing(rota, sent, django_capture_on_commit_callbacks):
    booking = soon_booking()
    with django_capture_on_commit_callbacks(execute=True):
        post(booking, booking.client, "work has been stressful, I am tired")
    assert not CrisisAlert.objects.exists() and not EthicsFlag.objects.exists()
    assert mail.outbox == []


def test_alert_rolls_back_with_the_message(rota, sent, django_capture_on_commit_callbacks):
    booking = soon_booking()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        post(booking, booking.client, HIGH_EN)
        assert CrisisAlert.objects.count() == 1  # written in the message's transaction ...
        raise RuntimeError("the message's transaction fails after the insert")
    # ... and gone with it: no message, no alert, no flag, and nobody was told.
    assert not SessionMessage.objects.exists()
    assert not CrisisAlert.objects.exists() and not EthicsFlag.objects.exists()
    assert callbacks == [] and sent == [] and mail.outbox == []


def test_message_rolls_back_when_the_alert_cannot_be_stored(
    rota, sent, monkeypatch, django_capture_on_commit_callbacks
):
    booking = soon_booking()

    def broken_save(self, *args, **kwargs):
        raise IntegrityError("flag insert failed")

    monkeypatch.setattr(EthicsFlag, "save", broken_save)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(IntegrityError),
    ):
        post(booking, booking.client, HIGH_EN)
    assert not SessionMessage.objects.exists()  # a crisis text is never stored without its alert
    assert not CrisisAlert.objects.exists()
    assert Booking.objects.get(pk=booking.pk).message_seq == 0
    assert callbacks == [] and sent == [] and mail.outbox == []


# --- Dispatch: the client, the counselor, the on-call supervisors ------------------------------------


def test_dispatch_tells_client_counselor_and_only_the_supervisor_on_shift(
    rota, sent, django_capture_on_commit_callbacks
):
    booking = soon_booking()  # Asia/Shanghai client
    with django_capture_on_commit_callbacks(execute=True):
        post(booking, booking.client, HIGH_ZH)
    alert = CrisisAlert.objects.get()
    # The client, on every socket they have open: the hotlines, China's national line first.
    [resources] = frames_to(sent, f"user.{booking.client_id}", "crisis.resources")
    assert resources["hotlines"][0]["contact"] == "12356"
    # The counselor, in the room (not the client).
    [room_alert] = [
        e for g, e in sent if g == f"session.{booking.pk}" and e["frame"]["type"] == "crisis.alert"
    ]
    assert room_alert["frame"] == {"type": "crisis.alert", "alert": alert.pk}
    assert room_alert["exclude_user"] == booking.client_id
    # The supervisor on shift: staff socket and e-mail; nobody else yet.
    [frame] = staff_frames(sent, rota["on"])
    assert frame["type"] == "crisis.alert"
    assert frame["alert"]["id"] == alert.pk and frame["alert"]["escalation_level"] == 0
    assert frame["alert"]["nobody_on_shift"] is False and frame["alert"]["severity"] == "high"
    assert staff_frames(sent, rota["off"]) == [] and staff_frames(sent, rota["staff"]) == []
    [email] = mail.outbox
    assert email.to == [rota["on"].email]
    assert str(alert.pk) in email.body
    alert = fresh(alert)
    assert (
        alert.notified_at is not None
        and alert.nobody_on_shift is False
        and alert.escalation_level == 0
    )


def test_counselors_high_risk_text_raises_an_alert_about_the_client(
    rota, sent, django_capture_on_commit_callbacks
):
    booking = soon_booking()
    with django_capture_on_commit_callbacks(execute=True):
        post(booking, booking.counselor.user, HIGH_EN)
    alert = CrisisAlert.objects.get()
    assert alert.client == booking.client
    assert all(r.startswith("counselor: ") for r in alert.reasons)


def test_nobody_on_shift_goes_to_all_staff_and_is_flagged(sent, django_capture_on_commit_callbacks):
    supervisor = SupervisorFactory()
    on_shift(supervisor, around=timezone.now() - dt.timedelta(hours=10))  # that shift is over
    staff = StaffFactory()
    inactive = StaffFactory(is_active=False)
    booking = soon_booking()
    with django_capture_on_commit_callbacks(execute=True):
        post(booking, booking.client, HIGH_EN)
    alert = fresh(CrisisAlert.objects.get())
    assert alert.nobody_on_shift is True and alert.notified_at is not None
    [email] = mail.outbox
    assert sorted(email.to) == sorted([supervisor.email, staff.email])
    for user in (supervisor, staff):
        [frame] = staff_frames(sent, user)
        assert frame["alert"]["nobody_on_shift"] is True
    assert staff_frames(sent, inactive) == []


# --- One open alert per booking ------------------------------------------------------------------------


def test_repeated_signals_join_the_open_alert(rota, sent, django_capture_on_commit_callbacks):
    booking = soon_booking()
    with django_capture_on_commit_callbacks(execute=True):
        first = post(booking, booking.client, HIGH_EN).crisis_alert
        second = post(booking, booking.client, HIGH_ZH).crisis_alert
        third = post(booking, booking.counselor.user, HIGH_EN).crisis_alert
    alert = CrisisAlert.objects.get()
    assert first.pk == second.pk == third.pk == alert.pk
    assert alert.signal_count == 3
    assert len(alert.reasons) == len(set(alert.reasons))
    assert any(r.startswith("client: ") for r in alert.reasons)
    assert any(r.startswith("counselor: ") for r in alert.reasons)
    assert EthicsFlag.objects.count() == 1
    assert (
        len(mail.outbox) == 1 and len(staff_frames(sent, rota["on"])) == 1
    )  # told once, not three times


def test_a_signal_after_acknowledgement_opens_a_new_alert(
    rota, sent, django_capture_on_commit_callbacks
):
    booking = soon_booking()
    with django_capture_on_commit_callbacks(execute=True):
        first = post(booking, booking.client, HIGH_EN).crisis_alert
        services.alert_acknowledge(alert_id=first.pk, user=rota["on"])
        second = post(booking, booking.client, HIGH_EN).crisis_alert
    assert second.pk != first.pk
    assert fresh(second).status == "open" and fresh(first).status == "acknowledged"
    assert EthicsFlag.objects.count() == 2


def test_alerts_without_a_booking_do_not_join(rota, sent, django_capture_on_commit_callbacks):
    client = ClientFactory()
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            services.crisis_signal_record(
                client=client, source=CrisisAlert.Source.INTAKE, reasons=["a"]
            )
        with transaction.atomic():
            services.crisis_signal_record(
                client=client, source=CrisisAlert.Source.INTAKE, reasons=["b"]
            )
    assert CrisisAlert.objects.filter(client=client).count() == 2
    assert EthicsFlag.objects.filter(kind="crisis", booking=None).count() == 2


# --- The SLA ladder ---------------------------------------------------------------------------------------


def test_ladder_two_minutes_everyone_five_minutes_overdue(
    rota, sent, django_capture_on_commit_callbacks
):
    t0 = timezone.now().replace(microsecond=0)
    booking = soon_booking()
    with time_machine.travel(t0, tick=False), django_capture_on_commit_callbacks(execute=True):
        alert = post(booking, booking.client, HIGH_EN).crisis_alert
    assert [m.to for m in mail.outbox] == [[rota["on"].email]]
    sent.clear()

    with time_machine.travel(t0 + dt.timedelta(seconds=90), tick=False):
        assert services.alert_escalate(alert_id=alert.pk, level=1) is False  # not due yet
        assert services.alerts_sweep() == 0
    assert len(mail.outbox) == 1 and sent == []

    with time_machine.travel(t0 + dt.timedelta(minutes=2), tick=False):
        assert services.alert_escalate(alert_id=alert.pk, level=2) is False  # one step at a time
        assert services.alert_escalate(alert_id=alert.pk, level=1) is True
        assert (
            services.alert_escalate(alert_id=alert.pk, level=1) is False
        )  # redelivered: done already
        assert services.alerts_sweep() == 0
    state = fresh(alert)
    assert (state.escalation_level, state.overdue, state.status) == (1, False, "open")
    assert len(mail.outbox) == 2
    assert sorted(mail.outbox[1].to) == sorted(
        u.email for u in rota.values()
    )  # every supervisor and staff
    assert "2 minutes" in mail.outbox[1].subject
    [frame] = frames_to(sent, services.STAFF_GROUP, "crisis.alert")
    assert frame["alert"]["id"] == alert.pk
    assert frame["alert"]["escalation_level"] == 1 and frame["alert"]["overdue"] is False
    sent.clear()

    with time_machine.travel(t0 + dt.timedelta(minutes=5), tick=False):
        assert services.alerts_sweep() == 1
        assert services.alert_escalate(alert_id=alert.pk, level=2) is False
    state = fresh(alert)
    assert (state.escalation_level, state.overdue, state.status) == (2, True, "open")
    assert len(mail.outbox) == 3
    assert mail.outbox[2].to == [rota["staff"].email]  # staff again
    assert "OVERDUE" in mail.outbox[2].subject
    [frame] = frames_to(sent, services.STAFF_GROUP, "crisis.alert")
    assert frame["alert"]["escalation_level"] == 2 and frame["alert"]["overdue"] is True

    with time_machine.travel(t0 + dt.timedelta(minutes=30), tick=False):
        assert services.alerts_sweep() == 0  # the ladder ends there
    assert len(mail.outbox) == 3


def test_acknowledged_alert_leaves_the_ladder(rota, sent, django_capture_on_commit_callbacks):
    t0 = timezone.now().replace(microsecond=0)
    booking = soon_booking()
    with time_machine.travel(t0, tick=False), django_capture_on_commit_callbacks(execute=True):
        alert = post(booking, booking.client, HIGH_EN).crisis_alert
    with time_machine.travel(t0 + dt.timedelta(seconds=100), tick=False):
        services.alert_acknowledge(alert_id=alert.pk, user=rota["on"])
    with time_machine.travel(t0 + dt.timedelta(minutes=6), tick=False):
        assert services.alert_escalate(alert_id=alert.pk, level=1) is False
        assert services.alerts_sweep() == 0
    state = fresh(alert)
    assert (state.status, state.escalation_level, state.overdue) == ("acknowledged", 0, False)
    assert len(mail.outbox) == 1


def test_level_two_falls_back_to_supervisors_when_there_is_no_staff_role(sent):
    supervisor = SupervisorFactory()
    alert = bare_alert(
        soon_booking(), minutes_ago=6, notified_at=timezone.now(), escalation_level=1
    )
    assert services.alert_escalate(alert_id=alert.pk, level=2) is True
    [email] = mail.outbox
    assert email.to == [supervisor.email]


# --- The sweeper: nothing is lost when dispatch did not happen -----------------------------------


def test_sweeper_delivers_an_alert_whose_dispatch_never_happened(rota, sent):
    alert = bare_alert(soon_booking())  # the row committed, then the process died
    assert services.alerts_sweep() == 1
    assert [m.to for m in mail.outbox] == [[rota["on"].email]]
    [frame] = staff_frames(sent, rota["on"])
    assert frame["alert"]["id"] == alert.pk
    assert fresh(alert).notified_at is not None
    assert services.alerts_sweep() == 0  # and only once
    assert len(mail.outbox) == 1


def test_sweeper_catches_up_every_overdue_step_of_a_lost_alert(rota, sent):
    alert = bare_alert(soon_booking(), minutes_ago=6)
    assert services.alerts_sweep() == 3  # told, escalated, overdue
    state = fresh(alert)
    assert (state.escalation_level, state.overdue) == (2, True) and state.notified_at is not None
    assert [len(m.to) for m in mail.outbox] == [1, 3, 1]
    assert services.alerts_sweep() == 0


class _BrokerDown:
    @staticmethod
    def delay(*args, **kwargs):
        from kombu.exceptions import OperationalError

        raise OperationalError("Error 111 connecting to redis: Connection refused")

    apply_async = delay


def test_broker_down_at_dispatch_the_client_still_gets_help_and_the_sweeper_delivers(
    rota, sent, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(tasks, "alert_notify", _BrokerDown)
    monkeypatch.setattr(tasks, "alert_escalate", _BrokerDown)
    booking = soon_booking()
    with django_capture_on_commit_callbacks(execute=True):
        message = post(booking, booking.client, HIGH_EN)  # no exception reaches the client
    alert = fresh(message.crisis_alert)
    assert alert.notified_at is None and mail.outbox == []
    assert frames_to(
        sent, f"user.{booking.client_id}", "crisis.resources"
    )  # the immediate part still happened
    assert staff_frames(sent, rota["on"]) == []
    assert services.alerts_sweep() == 1
    assert [m.to for m in mail.outbox] == [[rota["on"].email]]
    assert len(staff_frames(sent, rota["on"])) == 1


def test_channel_layer_down_at_dispatch_still_emails_the_supervisor(
    rota, monkeypatch, django_capture_on_commit_callbacks
):
    def down(group, event):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(realtime, "group_send", down)
    booking = soon_booking()
    with django_capture_on_commit_callbacks(execute=True):
        alert = post(booking, booking.client, HIGH_EN).crisis_alert
    # The staff frame could not go, but the e-mail did and the step is recorded: a socket
    # outage must not hold back the e-mail.
    assert fresh(alert).notified_at is not None
    assert [m.to for m in mail.outbox] == [[rota["on"].email]]
    assert services.alerts_sweep() == 0


# --- Redelivered tasks do a step once ---------------------------------------------------------------


def test_tasks_run_twice_send_one_email_and_frame_per_step(rota, sent):
    t0 = timezone.now().replace(microsecond=0)
    with time_machine.travel(t0, tick=False):
        alert = bare_alert(soon_booking())
        assert tasks.alert_notify(alert.pk) is True
        assert tasks.alert_notify(alert.pk) is False
    with time_machine.travel(t0 + dt.timedelta(minutes=2), tick=False):
        assert tasks.alert_escalate(alert.pk, 1) is True
        assert tasks.alert_escalate(alert.pk, 1) is False
    with time_machine.travel(t0 + dt.timedelta(minutes=5), tick=False):
        assert tasks.alert_escalate(alert.pk, 2) is True
        assert tasks.alert_escalate(alert.pk, 2) is False
        assert tasks.alerts_sweep() == 0
    assert len(mail.outbox) == 3
    assert len(staff_frames(sent, rota["on"])) == 1
    assert [
        f["alert"]["escalation_level"]
        for f in frames_to(sent, services.STAFF_GROUP, "crisis.alert")
    ] == [1, 2]


def test_resolved_alert_is_never_escalated(rota, sent):
    alert = bare_alert(
        soon_booking(),
        minutes_ago=10,
        status=CrisisAlert.Status.RESOLVED,
        notified_at=timezone.now(),
    )
    assert services.alerts_sweep() == 0
    assert services.alert_escalate(alert_id=alert.pk, level=1) is False
    assert mail.outbox == []


# --- The client's hotlines ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "zone, language, first, also",
    [
        ("Asia/Shanghai", User.Language.ZH_HANS, "12356", None),
        ("Asia/Shanghai", User.Language.EN, "12356", None),
        ("Europe/London", User.Language.EN, "116 123", "https://befrienders.org"),
        ("Asia/Hong_Kong", User.Language.ZH_HANS, "2466 7350", "2389 2222"),
        ("America/New_York", User.Language.EN, "988 (call or text)", None),
    ],
)
def test_hotlines_for_the_clients_region_and_language(zone, language, first, also):
    client = ClientFactory(timezone=zone, language=language)
    hotlines = services.crisis_hotlines_for(user=client)
    assert hotlines[0]["contact"] == first
    assert hotlines[-1]["region"] == "global"
    if also:
        assert also in [h["contact"] for h in hotlines]


def test_hotlines_fall_back_to_china_where_the_directory_has_no_local_line():
    client = ClientFactory(timezone="Asia/Taipei")
    from ethics.models import Resource

    Resource.objects.filter(region="TW").update(is_active=False)
    hotlines = services.crisis_hotlines_for(user=client)
    assert hotlines[0]["contact"] == "12356"
