import datetime as dt
from zoneinfo import ZoneInfo

import factory
from django.utils import timezone

from accounts.models import ConsentRecord, Intake, User
from counselors.models import AvailabilityWindow, CounselorProfile, Specialty
from intake.consent import CURRENT_VERSION
from listening.models import Booking, Feedback, Reminder

PASSWORD = "listen-carefully-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = User.Role.CLIENT
    timezone = "Asia/Shanghai"
    language = "en"
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ClientFactory(UserFactory):
    """A client who has agreed to the current health-information consent and filled in a calm
    intake, so they may book. `ClientFactory(intake=False)` is a client who has done neither."""

    username = factory.Sequence(lambda n: f"client{n}")

    @factory.post_generation
    def intake(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            consent = ConsentRecord.objects.create(
                user=obj, version=CURRENT_VERSION, language=obj.language, agreed_at=timezone.now()
            )
            Intake.objects.create(
                user=obj,
                consent=consent,
                topic="stress",
                distress=4,
                phq4_nervous=1,
                phq4_worry=1,
                phq4_interest=0,
                phq4_down=0,
                phq4_score=2,
                band="normal",
                item9=0,
                risk="none",
                created_at=timezone.now(),
            )


class CounselorUserFactory(UserFactory):
    username = factory.Sequence(lambda n: f"counselor{n}")
    role = User.Role.COUNSELOR


class CounselorProfileFactory(factory.django.DjangoModelFactory):
    """A verified, listed counselor offering every mode in Mandarin and English."""

    class Meta:
        model = CounselorProfile
        skip_postgeneration_save = True

    user = factory.SubFactory(CounselorUserFactory)
    display_name = factory.LazyAttribute(lambda p: f"Counselor {p.user.username}")
    languages = ["zh", "en"]
    modes = ["text", "async", "voice", "video"]
    price_15 = 60
    price_30 = 100
    verification = CounselorProfile.Verification.VERIFIED
    min_notice_minutes = 10
    daily_cap = 8

    @factory.post_generation
    def specialties(obj, create, extracted, **kwargs):
        if create:
            obj.specialties.set(
                Specialty.objects.filter(slug__in=extracted or ["anxiety", "stress"])
            )


class StaffFactory(UserFactory):
    username = factory.Sequence(lambda n: f"staff{n}")
    role = User.Role.STAFF
    is_staff = True


def next_quarter(after: dt.datetime | None = None, days: int = 0) -> dt.datetime:
    t = (after or timezone.now()) + dt.timedelta(days=days)
    t = t.replace(second=0, microsecond=0)
    return t + dt.timedelta(minutes=15 - t.minute % 15)


class OneOffWindowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AvailabilityWindow

    counselor = factory.SubFactory(CounselorProfileFactory)
    kind = AvailabilityWindow.Kind.ONE_OFF
    start = factory.LazyFunction(lambda: next_quarter(days=1))
    end = factory.LazyAttribute(lambda w: w.start + dt.timedelta(hours=3))


class BookingFactory(factory.django.DjangoModelFactory):
    """A confirmed booking; it bypasses the service, so it is for setting scenes, not for booking."""

    class Meta:
        model = Booking

    counselor = factory.SubFactory(CounselorProfileFactory)
    client = factory.SubFactory(ClientFactory)
    start = factory.LazyFunction(lambda: next_quarter(days=1))
    duration_minutes = 30
    end = factory.LazyAttribute(lambda b: b.start + dt.timedelta(minutes=b.duration_minutes))
    mode = "text"
    topic = "work stress"


class WeeklyWindowFactory(factory.django.DjangoModelFactory):
    """A weekly rule in the counselor's own zone, valid from yesterday (local) with no end."""

    class Meta:
        model = AvailabilityWindow

    counselor = factory.SubFactory(CounselorProfileFactory)
    kind = AvailabilityWindow.Kind.WEEKLY
    weekday = 0
    start_time = dt.time(20, 0)
    end_time = dt.time(21, 0)
    timezone = factory.LazyAttribute(lambda w: w.counselor.user.timezone)
    valid_from = factory.LazyAttribute(
        lambda w: timezone.now().astimezone(ZoneInfo(w.timezone)).date() - dt.timedelta(days=1)
    )
    valid_until = None


def at_local(tz: str, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """The UTC instant of wall-clock `hour:minute` on `day` in zone `tz`."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZoneInfo(tz)).astimezone(dt.UTC)


def local_today(tz: str) -> dt.date:
    return timezone.now().astimezone(ZoneInfo(tz)).date()


class FeedbackFactory(factory.django.DjangoModelFactory):
    """The client's rating of a (completed) booking; a scene-setter, bypassing the service."""

    class Meta:
        model = Feedback

    booking = factory.SubFactory(BookingFactory, status=Booking.Status.COMPLETED)
    pre_distress = 6
    post_distress = 3
    rating = 5


class ReminderFactory(factory.django.DjangoModelFactory):
    """A pending reminder outbox row (a scene-setter: the booking services schedule the real ones),
    for the booking's client unless a recipient is given, due at its offset before the start."""

    class Meta:
        model = Reminder

    booking = factory.SubFactory(BookingFactory)
    recipient = factory.LazyAttribute(lambda r: r.booking.client)
    kind = Reminder.Kind.HOUR_BEFORE
    sequence = factory.LazyAttribute(lambda r: r.booking.ics_sequence)
    due_at = factory.LazyAttribute(
        lambda r: (
            r.booking.start
            - (
                dt.timedelta(hours=24)
                if r.kind == Reminder.Kind.DAY_BEFORE
                else dt.timedelta(hours=1)
            )
        )
    )


class TimeOffFactory(factory.django.DjangoModelFactory):
    """Days off (inclusive local dates in the counselor's zone); a scene-setter."""

    class Meta:
        model = "counselors.TimeOff"

    counselor = factory.SubFactory(CounselorProfileFactory)
    start_date = factory.LazyAttribute(lambda t: local_today(t.counselor.user.timezone))
    end_date = factory.LazyAttribute(lambda t: t.start_date)


class PreferredCounselorFactory(factory.django.DjangoModelFactory):
    """A client's mark on a counselor as preferred (a scene-setter)."""

    class Meta:
        model = "counselors.PreferredCounselor"

    client = factory.SubFactory(ClientFactory)
    counselor = factory.SubFactory(CounselorProfileFactory)


class ToolkitItemFactory(factory.django.DjangoModelFactory):
    """A counselor's own worksheet (a scene-setter; the service checks real input)."""

    class Meta:
        model = "counselors.ToolkitItem"

    owner = factory.SubFactory(CounselorProfileFactory)
    slug = factory.Sequence(lambda n: f"worksheet-{n}")
    kind = "worksheet"
    title_en = factory.Sequence(lambda n: f"Worksheet {n}")
    title_zh = factory.Sequence(lambda n: f"练习 {n}")
    fields = [{"key": "prompt", "label_en": "What helped today?", "label_zh": "今天什么有帮助？"}]


class OfferingFactory(factory.django.DjangoModelFactory):
    """A published 15-minute text offering (a scene-setter; items via `items=[…]`)."""

    class Meta:
        model = "counselors.Offering"
        skip_postgeneration_save = True

    counselor = factory.SubFactory(CounselorProfileFactory)
    title_en = "Stress relief"
    title_zh = "缓解压力"
    description_en = "Fifteen minutes to put a stressful day down."
    description_zh = "用十五分钟放下紧张的一天。"
    duration_minutes = 15
    modes = ["text"]
    price = 50

    @factory.post_generation
    def items(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.items.set(extracted)
