"""The rules of group sessions, through groups.services against PostgreSQL."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from billing.models import Charge
from core.encryption import decrypt_text
from core.exceptions import Conflict
from ethics.models import CrisisAlert, EthicsFlag
from groups import services
from groups.models import (
    GroupCrisisLink,
    GroupMessage,
    GroupModeration,
    GroupSeat,
    GroupSession,
    GroupSideMessage,
)
from listening.selectors import counselor_free_slots
from listening.services import booking_create
from tests.factories import BookingFactory, ClientFactory
from tests.groups.factories import live_group, open_group

pytestmark = pytest.mark.django_db

HIGH = "I have decided to kill myself tonight, I have the pills ready"


def create(counselor, **overrides):
    fields = {
        "counselor_user": counselor.user,
        "title": "After graduation",
        "topic": "The first weeks",
        "start": timezone.now() + dt.timedelta(days=2),
        "duration_minutes": 30,
        "capacity": 5,
        "price": Decimal(30),
    }
    fields.update(overrides)
    return services.group_create(**fields)


def post(group, user, text, uid=None):
    return services.group_message_post(
        group_id=group.pk, sender=user, uid=uid or uuid.uuid4(), text=text
    )


def test_opening_a_group_creates_one_free_seat_row_per_position(counselor):
    group = create(counselor, capacity=6)
    seats = list(GroupSeat.objects.filter(group=group).values_list("position", "client"))
    assert seats == [(p, None) for p in range(1, 7)]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("capacity", 2),
        ("capacity", 9),
        ("duration_minutes", 15),
        ("title", "  "),
        ("topic", ""),
        ("price", Decimal(-1)),
        ("price", Decimal(100000)),
    ],
)
def test_bad_group_input_names_the_field_and_creates_nothing(counselor, field, value):
    with pytest.raises(ValidationError) as err:
        create(counselor, **{field: value})
    assert field in err.value.error_dict
    assert not GroupSession.objects.exists()


def test_a_group_cannot_start_in_the_past(counselor):
    with pytest.raises(ValidationError) as err:
        create(counselor, start=timezone.now() - dt.timedelta(minutes=1))
    assert "start" in err.value.error_dict


def test_a_client_cannot_open_a_group(client_user):
    with pytest.raises(PermissionDenied):
        services.group_create(
            counselor_user=client_user,
            title="x",
            topic="y",
            start=timezone.now() + dt.timedelta(days=1),
            duration_minutes=30,
            capacity=3,
            price=Decimal(0),
        )


def test_a_group_over_the_counselors_own_booking_is_refused(counselor):
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=3)
    BookingFactory(counselor=counselor, start=start, end=start + dt.timedelta(minutes=30))
    with pytest.raises(Conflict) as err:
        create(counselor, start=start + dt.timedelta(minutes=10))
    assert err.value.code == "counselor_busy"


def test_two_groups_of_one_counselor_cannot_overlap(counselor):
    start = timezone.now() + dt.timedelta(days=3)
    create(counselor, start=start, duration_minutes=45)
    with pytest.raises(Conflict):
        create(counselor, start=start + dt.timedelta(minutes=30))


def test_join_takes_the_lowest_free_seat_and_joining_twice_is_the_same_seat(
    counselor, client_user, other_client_user
):
    group = open_group(counselor)
    first = services.group_join(group_id=group.pk, client=client_user)
    second = services.group_join(group_id=group.pk, client=other_client_user)
    again = services.group_join(group_id=group.pk, client=client_user)
    assert (first.position, second.position, again.pk) == (1, 2, first.pk)


def test_a_full_group_answers_group_full(counselor):
    group = open_group(counselor, capacity=3, clients=[ClientFactory() for _ in range(3)])
    with pytest.raises(Conflict) as err:
        services.group_join(group_id=group.pk, client=ClientFactory())
    assert err.value.code == "group_full"


def test_leaving_before_the_start_frees_the_seat(counselor, client_user, other_client_user):
    group = open_group(
        counselor, capacity=3, clients=[client_user, ClientFactory(), ClientFactory()]
    )
    services.group_leave(group_id=group.pk, client=client_user)
    seat = services.group_join(group_id=group.pk, client=other_client_user)
    assert seat.position == 1


def test_no_one_joins_or_leaves_a_started_group(counselor, client_user, other_client_user):
    group = live_group(counselor, clients=[client_user])
    with pytest.raises(Conflict) as joined:
        services.group_join(group_id=group.pk, client=other_client_user)
    with pytest.raises(Conflict) as left:
        services.group_leave(group_id=group.pk, client=client_user)
    assert (joined.value.code, left.value.code) == ("group_started", "group_started")


def test_a_client_without_intake_is_sent_to_it(counselor):
    group = open_group(counselor)
    with pytest.raises(Conflict) as err:
        services.group_join(group_id=group.pk, client=ClientFactory(intake=False))
    assert err.value.code in ("intake_required", "consent_required")


def test_a_seat_in_an_overlapping_group_is_refused(counselor, other_counselor, client_user):
    other_counselor.verification = other_counselor.Verification.VERIFIED
    other_counselor.save()
    open_group(counselor, clients=[client_user])
    other = open_group(other_counselor)
    with pytest.raises(Conflict) as err:
        services.group_join(group_id=other.pk, client=client_user)
    assert err.value.code == "overlapping_group"


def test_cancelling_a_group_tells_each_seated_client(counselor, client_user):
    group = open_group(counselor, clients=[client_user])
    services.group_cancel(group_id=group.pk, counselor_user=counselor.user)
    assert GroupSession.objects.get(pk=group.pk).status == GroupSession.Status.CANCELLED
    assert client_user.notices.filter(kind=services.GROUP_CANCELLED).count() == 1


def test_another_counselor_cannot_cancel_the_group(counselor, other_counselor):
    group = open_group(counselor)
    with pytest.raises(GroupSession.DoesNotExist):
        services.group_cancel(group_id=group.pk, counselor_user=other_counselor.user)


def test_a_line_is_stored_encrypted_under_the_seat_pseudonym(counselor, client_user):
    group = live_group(counselor, clients=[ClientFactory(), client_user])
    message, created, _ = post(group, client_user, "hello everyone")
    row = GroupMessage.objects.get(pk=message.pk)
    assert created and row.seq == 1
    assert (row.seat, row.pseudonym) == (2, "Participant 2")
    assert b"hello" not in bytes(row.ciphertext)
    assert decrypt_text(row.ciphertext) == "hello everyone"


def test_a_resent_line_is_stored_once(counselor, client_user):
    group = live_group(counselor, clients=[client_user])
    uid = uuid.uuid4()
    post(group, client_user, "once", uid)
    _, created, _ = post(group, client_user, "once", uid)
    assert not created and GroupMessage.objects.filter(group=group).count() == 1


def test_someone_without_a_seat_cannot_write(counselor, client_user, other_client_user):
    group = live_group(counselor, clients=[client_user])
    with pytest.raises(PermissionDenied):
        post(group, other_client_user, "let me in")


def test_nothing_is_stored_before_the_start_or_after_the_end(counselor, client_user):
    group = open_group(counselor, clients=[client_user])
    with pytest.raises(Conflict) as early:
        post(group, client_user, "too early")
    GroupSession.objects.filter(pk=group.pk).update(start=timezone.now() - dt.timedelta(hours=1))
    with pytest.raises(Conflict) as late:
        post(group, client_user, "too late")
    assert (early.value.code, late.value.code) == ("not_started", "session_over")
    assert not GroupMessage.objects.exists()


def test_a_muted_participant_cannot_write_until_unmuted(counselor, client_user):
    group = live_group(counselor, clients=[client_user])
    services.group_mute(group_id=group.pk, counselor_user=counselor.user, position=1)
    with pytest.raises(Conflict) as err:
        post(group, client_user, "hello?")
    assert err.value.code == "muted"
    services.group_mute(group_id=group.pk, counselor_user=counselor.user, position=1, muted=False)
    assert post(group, client_user, "hello again")[1]
    actions = list(GroupModeration.objects.values_list("action", flat=True).order_by("pk"))
    assert actions == ["mute", "unmute"]


def test_a_removed_participant_loses_the_seat_and_cannot_rejoin(counselor, client_user):
    group = open_group(counselor, clients=[client_user])
    services.group_remove(group_id=group.pk, counselor_user=counselor.user, position=1)
    assert not GroupSeat.objects.filter(group=group, client=client_user).exists()
    with pytest.raises(Conflict) as err:
        services.group_join(group_id=group.pk, client=client_user)
    assert err.value.code == "removed"


def test_moderating_an_empty_seat_names_the_seat(counselor):
    group = live_group(counselor)
    with pytest.raises(ValidationError) as err:
        services.group_mute(group_id=group.pk, counselor_user=counselor.user, position=3)
    assert "position" in err.value.error_dict


def test_a_participant_cannot_moderate(counselor, client_user):
    group = live_group(counselor, clients=[client_user, ClientFactory()])
    with pytest.raises(PermissionDenied):
        services.group_mute(group_id=group.pk, counselor_user=client_user, position=2)


def test_a_crisis_line_records_an_alert_and_opens_the_side_channel(counselor, client_user):
    group = live_group(counselor, clients=[ClientFactory(), client_user])
    _, _, alert = post(group, client_user, HIGH)
    assert alert is not None and alert.client_id == client_user.pk
    assert CrisisAlert.objects.get(pk=alert.pk).source == CrisisAlert.Source.CHAT
    assert GroupCrisisLink.objects.filter(group=group, client=client_user, alert=alert).exists()


def test_the_side_channel_is_closed_without_a_crisis_link(counselor, client_user):
    group = live_group(counselor, clients=[client_user])
    with pytest.raises(Conflict) as err:
        services.group_side_post(group_id=group.pk, sender=client_user, uid=uuid.uuid4(), text="hi")
    assert err.value.code == "no_side_channel"


def test_the_counselor_writes_to_the_participant_by_seat(counselor, client_user):
    group = live_group(counselor, clients=[ClientFactory(), client_user])
    post(group, client_user, HIGH)
    message, created = services.group_side_post(
        group_id=group.pk, sender=counselor.user, uid=uuid.uuid4(), text="I am here", seat=2
    )
    row = GroupSideMessage.objects.get(pk=message.pk)
    assert created and row.client_id == client_user.pk
    assert decrypt_text(row.ciphertext) == "I am here"


def test_contact_details_in_a_group_raise_a_flag_naming_the_kind_only(counselor, client_user):
    group = live_group(counselor, clients=[client_user])
    post(group, client_user, "add me on wechat: lonely_bird_88")
    flag = EthicsFlag.objects.get(kind=EthicsFlag.Kind.OFF_PLATFORM_CONTACT)
    assert "lonely_bird_88" not in flag.summary and f"group {group.pk}" in flag.summary


def test_the_clock_warns_and_ends_once(counselor, client_user):
    start = timezone.now() - dt.timedelta(minutes=26)
    group = open_group(counselor, clients=[client_user], start=start)
    assert services.group_warn(group_id=group.pk) is True
    assert services.group_warn(group_id=group.pk) is False
    GroupSession.objects.filter(pk=group.pk).update(start=timezone.now() - dt.timedelta(hours=1))
    assert services.group_end(group_id=group.pk) is True
    assert services.group_end(group_id=group.pk) is False
    assert GroupSession.objects.get(pk=group.pk).status == GroupSession.Status.ENDED


def test_the_clock_lists_the_warning_and_the_end_due(counselor):
    now = timezone.now()
    group = open_group(counselor, start=now - dt.timedelta(minutes=30, seconds=-10))
    due = services.groups_clock_due(now=now, lookahead=dt.timedelta(seconds=30))
    assert {event for event, gid, _ in due if gid == group.pk} == {"warn", "end"}


def test_export_and_erase_cover_the_clients_lines(counselor, client_user):
    group = live_group(counselor, clients=[client_user])
    post(group, client_user, "my words")
    exported = services.group_data_export(user=client_user)
    assert exported["group_messages"][0]["text"] == "my words"
    services.group_data_erase(user=client_user)
    assert bytes(GroupMessage.objects.get(group=group).ciphertext) == b""
    assert not GroupSeat.objects.filter(client=client_user).exists()


def _window_start(counselor):
    return counselor.windows.get().start


def test_no_one_to_one_session_is_booked_over_the_counselors_group(counselor, client_user):
    start = _window_start(counselor) + dt.timedelta(hours=1)
    create(counselor, start=start, duration_minutes=45)
    with pytest.raises(Conflict):
        booking_create(
            client=client_user,
            counselor_id=counselor.pk,
            start=start + dt.timedelta(minutes=15),
            duration_minutes=30,
            mode="text",
            topic="stress",
        )
    free = counselor_free_slots(
        profile=counselor,
        start=start - dt.timedelta(hours=1),
        end=start + dt.timedelta(hours=2),
        duration_minutes=15,
    )
    assert not [s for s, e in free if s < start + dt.timedelta(minutes=45) and e > start]


def test_a_cancelled_group_gives_the_counselors_time_back(counselor, client_user):
    start = _window_start(counselor) + dt.timedelta(hours=1)
    group = create(counselor, start=start)
    services.group_cancel(group_id=group.pk, counselor_user=counselor.user)
    booking = booking_create(
        client=client_user,
        counselor_id=counselor.pk,
        start=start,
        duration_minutes=30,
        mode="text",
        topic="stress",
    )
    assert booking.pk


def seat_charge(seat_id):
    return Charge.objects.filter(subject=Charge.Subject.GROUP_SEAT, subject_id=seat_id).latest("pk")


def test_a_seat_is_charged_at_the_groups_price_and_held(counselor, client_user):
    group = open_group(counselor, price="35")
    seat = services.group_join(group_id=group.pk, client=client_user)
    charge = seat_charge(seat.pk)
    assert (charge.amount, charge.status, charge.client_id) == (
        Decimal("35.00"),
        Charge.Status.HELD,
        client_user.pk,
    )


def test_a_seat_given_up_in_good_time_is_refunded(counselor, client_user):
    group = open_group(counselor, clients=[client_user])
    seat = GroupSeat.objects.get(client=client_user)
    services.group_leave(group_id=group.pk, client=client_user)
    assert seat_charge(seat.pk).status == Charge.Status.REFUNDED


def test_a_seat_cannot_be_given_up_within_two_hours_of_the_start(counselor, client_user):
    group = open_group(
        counselor, clients=[client_user], start=timezone.now() + dt.timedelta(minutes=90)
    )
    with pytest.raises(Conflict) as err:
        services.group_leave(group_id=group.pk, client=client_user)
    assert err.value.code == "too_late_to_leave"
    seat = GroupSeat.objects.get(client=client_user)
    assert seat_charge(seat.pk).status == Charge.Status.HELD


def test_a_cancelled_group_refunds_every_seat(counselor):
    clients = [ClientFactory(), ClientFactory()]
    group = open_group(counselor, clients=clients)
    services.group_cancel(group_id=group.pk, counselor_user=counselor.user)
    statuses = {seat_charge(s.pk).status for s in GroupSeat.objects.filter(group=group)[:2]}
    assert statuses == {Charge.Status.REFUNDED}


def test_a_given_group_makes_every_seat_an_earning(counselor, client_user):
    group = open_group(
        counselor, clients=[client_user], start=timezone.now() - dt.timedelta(hours=1)
    )
    seat = GroupSeat.objects.get(client=client_user)
    services.group_end(group_id=group.pk)
    assert seat_charge(seat.pk).status == Charge.Status.EARNED
