"""Counselor pages: the directory, public profiles, and a counselor's dashboard, profile,
credentials and availability editor."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from counselors.models import AvailabilityWindow, CounselorProfile, Credential
from listening.models import Booking
from tests.factories import (
    BookingFactory,
    ClientFactory,
    CounselorProfileFactory,
    OneOffWindowFactory,
    WeeklyWindowFactory,
    at_local,
    local_today,
    next_quarter,
)

pytestmark = pytest.mark.django_db

SHANGHAI = "Asia/Shanghai"
LONDON = "Europe/London"


def signed_in(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def names(response) -> list[str]:
    return [card["profile"].display_name for card in response.context["cards"]]


# --- the directory ---------------------------------------------------------------------------------------


def test_directory_lists_only_verified_counselors():
    CounselorProfileFactory(display_name="Listed")
    CounselorProfileFactory(
        display_name="Pending", verification=CounselorProfile.Verification.PENDING
    )
    response = Client().get("/counselors/")
    assert response.status_code == 200
    assert names(response) == ["Listed"]


def test_directory_filters_by_language_mode_and_topic():
    CounselorProfileFactory(
        display_name="Cantonese voice", languages=["yue"], modes=["voice"], specialties=["grief"]
    )
    CounselorProfileFactory(
        display_name="English text", languages=["en"], modes=["text"], specialties=["career"]
    )
    assert names(Client().get("/counselors/?language=yue")) == ["Cantonese voice"]
    assert names(Client().get("/counselors/?mode=text")) == ["English text"]
    assert names(Client().get("/counselors/?specialty=grief")) == ["Cantonese voice"]
    assert names(Client().get("/counselors/?specialty=grief&mode=text")) == []


def zone_with_evening_ahead() -> str:
    """A zone where it is not yet 22:00, so "an hour from now" is still today there."""
    now = timezone.now()
    return next(
        z
        for z in (SHANGHAI, LONDON, "America/New_York", "Pacific/Auckland", "America/Los_Angeles")
        if now.astimezone(ZoneInfo(z)).hour < 22
    )


def test_directory_filters_by_free_time_today_in_the_viewers_zone():
    zone = zone_with_evening_ahead()
    free = CounselorProfileFactory(display_name="Free today")
    later = CounselorProfileFactory(display_name="Free in three days only")
    start = next_quarter(timezone.now() + dt.timedelta(minutes=30))
    OneOffWindowFactory(counselor=free, start=start, end=start + dt.timedelta(hours=1))
    OneOffWindowFactory(
        counselor=later,
        start=start + dt.timedelta(days=3),
        end=start + dt.timedelta(days=3, hours=1),
    )
    assert names(Client().get("/counselors/?available_today=on", HTTP_COOKIE=f"tz={zone}")) == [
        "Free today"
    ]


def test_directory_shows_each_counselors_next_free_time():
    counselor = CounselorProfileFactory()
    start = next_quarter(days=1)
    OneOffWindowFactory(counselor=counselor, start=start, end=start + dt.timedelta(hours=1))
    response = Client().get("/counselors/")
    assert response.context["cards"][0]["next_free"] == start


def test_directory_answers_htmx_with_the_results_only():
    CounselorProfileFactory(display_name="Listed")
    response = Client().get("/counselors/?mode=text", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Listed" in body and "<html" not in body


def test_directory_filter_form_works_without_javascript():
    body = Client().get("/counselors/").content.decode()
    assert 'method="get" action="/counselors/"' in body and 'hx-get="/counselors/"' in body
    assert '<label for="id_language">' in body


def test_directory_refuses_an_unknown_filter_value():
    response = Client().get("/counselors/?language=klingon")
    assert response.status_code == 400
    assert "language" in response.context["form"].errors


# --- public profiles -------------------------------------------------------------------------------------------


def test_profile_shows_bio_prices_and_free_times_by_day_in_the_viewers_zone():
    counselor = CounselorProfileFactory(bio="I listen.", user__timezone=SHANGHAI)
    day = local_today(SHANGHAI) + dt.timedelta(days=2)
    start = at_local(SHANGHAI, day, 20)
    OneOffWindowFactory(counselor=counselor, start=start, end=start + dt.timedelta(hours=1))
    viewer = ClientFactory(timezone=LONDON)
    response = signed_in(viewer).get(f"/counselors/{counselor.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "I listen." in body and "¥60 / 15 min" in body and "¥100 / 30 min" in body
    london = start.astimezone(ZoneInfo(LONDON))
    days = dict(response.context["days"])
    assert list(days) == [london.date()]
    assert [s for s, _e in days[london.date()]] == [
        start,
        start + dt.timedelta(minutes=15),
        start + dt.timedelta(minutes=30),
    ]
    assert f'<time datetime="{london.isoformat()}">{london:%H:%M}</time>' in body


def test_profile_slot_links_lead_to_the_booking_form():
    counselor = CounselorProfileFactory()
    start = next_quarter(days=1)
    OneOffWindowFactory(counselor=counselor, start=start, end=start + dt.timedelta(minutes=15))
    body = Client().get(f"/counselors/{counselor.pk}/?duration=15").content.decode()
    assert f"/counselors/{counselor.pk}/book/?start=" in body and "duration=15" in body


def test_profile_of_an_unverified_counselor_is_404():
    counselor = CounselorProfileFactory(verification=CounselorProfile.Verification.PENDING)
    assert Client().get(f"/counselors/{counselor.pk}/").status_code == 404


def test_a_counselor_may_preview_their_own_unlisted_profile():
    counselor = CounselorProfileFactory(verification=CounselorProfile.Verification.PENDING)
    response = signed_in(counselor.user).get(f"/counselors/{counselor.pk}/")
    assert response.status_code == 200 and response.context["preview"]


# --- the dashboard ---------------------------------------------------------------------------------------------


def test_dashboard_needs_a_counselor():
    assert Client().get("/counselor/").url.startswith("/login/?next=/counselor/")
    assert signed_in(ClientFactory()).get("/counselor/").status_code == 403


def test_dashboard_shows_todays_sessions_in_the_counselors_zone():
    counselor = CounselorProfileFactory(user__timezone=SHANGHAI)
    start = next_quarter(timezone.now() + dt.timedelta(minutes=20))
    if start.astimezone(ZoneInfo(SHANGHAI)).date() != local_today(SHANGHAI):
        start = next_quarter(timezone.now()) - dt.timedelta(
            minutes=45
        )  # late evening there: one earlier today
    today = BookingFactory(counselor=counselor, start=start, end=start + dt.timedelta(minutes=30))
    BookingFactory(
        counselor=counselor,
        start=at_local(SHANGHAI, local_today(SHANGHAI) + dt.timedelta(days=1), 12),
    )
    response = signed_in(counselor.user).get("/counselor/")
    assert response.status_code == 200
    assert [row.booking for row in response.context["sessions"]] == [today]
    body = response.content.decode()
    assert f'datetime="{today.start.astimezone(ZoneInfo(SHANGHAI)).isoformat()}"' in body
    assert response.context["upcoming_count"] == 1  # tomorrow's
    assert 'id="duty-panel"' in body


def test_dashboard_earnings_are_the_ledgers_totals_after_the_fee():
    from unittest import mock

    from billing.services import ledger_booking_charge, ledger_booking_complete

    counselor = CounselorProfileFactory(user__timezone=SHANGHAI)
    now = timezone.now()
    this_month = now.astimezone(ZoneInfo(SHANGHAI)).replace(
        day=1, hour=12, minute=0, second=0, microsecond=0
    )
    last_month = (this_month - dt.timedelta(days=3)).replace(day=2)
    for start, price, status in (
        (this_month, Decimal(100), Booking.Status.COMPLETED),
        (this_month + dt.timedelta(hours=1), Decimal(60), Booking.Status.COMPLETED),
        (this_month + dt.timedelta(hours=2), Decimal(60), Booking.Status.CANCELLED),
        (last_month, Decimal(100), Booking.Status.COMPLETED),
    ):
        booking = BookingFactory(
            counselor=counselor,
            start=start,
            end=start + dt.timedelta(minutes=30),
            price=price,
            status=status,
        )
        # The ledger posts at the session's end (billing: earning = price less the 20% fee).
        with mock.patch("django.utils.timezone.now", return_value=booking.end):
            ledger_booking_charge(
                booking_id=booking.pk,
                client_id=booking.client_id,
                counselor_id=counselor.pk,
                amount=price,
            )
            if status == Booking.Status.COMPLETED:
                ledger_booking_complete(booking_id=booking.pk)
    earnings = dict(signed_in(counselor.user).get("/counselor/").context["earnings"])
    assert (earnings["This month"]["sessions"], earnings["This month"]["total"]) == (
        2,
        Decimal(128),
    )
    assert (earnings["Last month"]["sessions"], earnings["Last month"]["total"]) == (
        1,
        Decimal(80),
    )


# --- profile and credentials -----------------------------------------------------------------------------------


def profile_data(**overrides) -> dict:
    data = {
        "display_name": "Lin",
        "bio": "Evenings.",
        "specialties": ["anxiety", "sleep"],
        "languages": ["zh"],
        "modes": ["text", "voice"],
        "price_15": "50",
        "price_30": "90",
        "timezone": "Europe/Berlin",
        "daily_cap": "6",
        "min_notice_minutes": "30",
        "buffer_minutes": "5",
    }
    data.update(overrides)
    return data


def test_profile_editor_saves_through_the_service():
    counselor = CounselorProfileFactory()
    response = signed_in(counselor.user).post("/counselor/profile/", profile_data())
    assert response.status_code == 302
    counselor.refresh_from_db()
    counselor.user.refresh_from_db()
    assert counselor.display_name == "Lin" and counselor.modes == ["text", "voice"]
    assert counselor.price_30 == Decimal(90) and counselor.daily_cap == 6
    assert sorted(counselor.specialties.values_list("slug", flat=True)) == ["anxiety", "sleep"]
    assert counselor.user.timezone == "Europe/Berlin"


def test_profile_editor_refuses_bad_input_and_changes_nothing():
    counselor = CounselorProfileFactory(display_name="Before")
    response = signed_in(counselor.user).post(
        "/counselor/profile/", profile_data(daily_cap="99", price_15="-1")
    )
    assert response.status_code == 400
    assert {"daily_cap", "price_15"} <= set(response.context["form"].errors)
    counselor.refresh_from_db()
    assert counselor.display_name == "Before"


def test_profile_editor_is_for_counselors_only():
    assert signed_in(ClientFactory()).get("/counselor/profile/").status_code == 403


def test_profile_editor_shows_the_verification_status():
    counselor = CounselorProfileFactory(verification=CounselorProfile.Verification.PENDING)
    body = signed_in(counselor.user).get("/counselor/profile/").content.decode()
    assert "Pending verification" in body


def test_adding_a_credential():
    counselor = CounselorProfileFactory()
    response = signed_in(counselor.user).post(
        "/counselor/profile/credentials/",
        {
            "licence_type": "LMHC",
            "number": "123",
            "issuing_body": "NYSED",
            "valid_until": "2030-01-31",
        },
    )
    assert response.status_code == 302
    assert Credential.objects.get(counselor=counselor).valid_until == dt.date(2030, 1, 31)


def test_adding_the_same_credential_twice_names_the_number():
    counselor = CounselorProfileFactory()
    data = {"licence_type": "LMHC", "number": "123", "issuing_body": "NYSED"}
    signed_in(counselor.user).post("/counselor/profile/credentials/", data)
    response = signed_in(counselor.user).post("/counselor/profile/credentials/", data)
    assert response.status_code == 400 and "number" in response.context["credential_form"].errors
    assert Credential.objects.filter(counselor=counselor).count() == 1


# --- availability -----------------------------------------------------------------------------------------------


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def test_availability_grid_draws_weekly_windows_in_the_counselors_zone():
    counselor = CounselorProfileFactory(user__timezone=SHANGHAI)
    WeeklyWindowFactory(
        counselor=counselor, weekday=2, start_time=dt.time(20, 0), end_time=dt.time(21, 30)
    )
    week = monday_of(local_today(SHANGHAI)) + dt.timedelta(days=7)
    response = signed_in(counselor.user).get(f"/counselor/availability/?week={week}")
    assert response.status_code == 200
    blocks = [p["block"] for p in response.context["grid"]["blocks"]]
    assert [(b.kind, b.day, b.start.time(), b.end.time()) for b in blocks] == [
        ("weekly", week + dt.timedelta(days=2), dt.time(20, 0), dt.time(21, 30))
    ]
    placed = response.context["grid"]["blocks"][0]
    assert (
        placed["column"] == 4 and placed["row_end"] - placed["row_start"] == 6
    )  # Wednesday, 6 quarter hours


def test_availability_grid_draws_windows_of_another_zone_in_the_counselors_own():
    counselor = CounselorProfileFactory(user__timezone=LONDON)
    WeeklyWindowFactory(
        counselor=counselor,
        weekday=0,
        start_time=dt.time(9, 0),
        end_time=dt.time(10, 0),
        timezone=SHANGHAI,
    )
    week = monday_of(local_today(LONDON)) + dt.timedelta(days=7)
    blocks = [
        p["block"]
        for p in signed_in(counselor.user)
        .get(f"/counselor/availability/?week={week}")
        .context["grid"]["blocks"]
    ]
    # 09:00 Monday in Shanghai is 01:00 or 02:00 Monday in London (winter or summer time).
    assert [b.day for b in blocks] == [week] and blocks[0].start.hour in (1, 2)


def test_availability_grid_shows_one_offs_and_bookings_of_the_week():
    counselor = CounselorProfileFactory(user__timezone=SHANGHAI)
    day = local_today(SHANGHAI) + dt.timedelta(days=1)
    start = at_local(SHANGHAI, day, 10)
    OneOffWindowFactory(counselor=counselor, start=start, end=start + dt.timedelta(hours=2))
    BookingFactory(counselor=counselor, start=start, end=start + dt.timedelta(minutes=30))
    response = signed_in(counselor.user).get(f"/counselor/availability/?week={day}")
    kinds = sorted(p["block"].kind for p in response.context["grid"]["blocks"])
    assert kinds == ["booking", "one_off"]


def test_publishing_a_weekly_window():
    counselor = CounselorProfileFactory(user__timezone=SHANGHAI)
    today = local_today(SHANGHAI)
    response = signed_in(counselor.user).post(
        "/counselor/availability/weekly/",
        {
            "weekly-weekday": "3",
            "weekly-start_time": "19:00",
            "weekly-end_time": "21:00",
            "weekly-valid_from": str(today),
            "week": str(today),
        },
    )
    assert response.status_code == 302 and response.url.startswith("/counselor/availability/?week=")
    window = AvailabilityWindow.objects.get(counselor=counselor)
    assert (window.kind, window.weekday, window.start_time, window.end_time, window.timezone) == (
        "weekly",
        3,
        dt.time(19),
        dt.time(21),
        SHANGHAI,
    )


def test_a_window_off_the_quarter_hour_is_refused_and_nothing_is_stored():
    counselor = CounselorProfileFactory()
    response = signed_in(counselor.user).post(
        "/counselor/availability/weekly/",
        {
            "weekly-weekday": "3",
            "weekly-start_time": "19:10",
            "weekly-end_time": "21:00",
            "weekly-valid_from": str(local_today(SHANGHAI)),
        },
    )
    assert response.status_code == 400
    assert "start_time" in response.context["weekly_form"].errors
    assert not AvailabilityWindow.objects.filter(counselor=counselor).exists()


def test_publishing_a_one_off_window_in_the_counselors_zone():
    counselor = CounselorProfileFactory(user__timezone=LONDON)
    day = local_today(LONDON) + dt.timedelta(days=3)
    response = signed_in(counselor.user).post(
        "/counselor/availability/one-off/",
        {"oneoff-date": str(day), "oneoff-start_time": "08:00", "oneoff-end_time": "09:30"},
    )
    assert response.status_code == 302
    window = AvailabilityWindow.objects.get(counselor=counselor)
    assert (window.start, window.end) == (at_local(LONDON, day, 8), at_local(LONDON, day, 9, 30))


def test_a_one_off_window_in_the_past_names_the_start():
    counselor = CounselorProfileFactory()
    yesterday = local_today(SHANGHAI) - dt.timedelta(days=1)
    response = signed_in(counselor.user).post(
        "/counselor/availability/one-off/",
        {"oneoff-date": str(yesterday), "oneoff-start_time": "08:00", "oneoff-end_time": "09:00"},
    )
    assert response.status_code == 400 and "start_time" in response.context["one_off_form"].errors
    assert not AvailabilityWindow.objects.exists()


def test_removing_a_window_keeps_its_bookings():
    counselor = CounselorProfileFactory()
    window = OneOffWindowFactory(counselor=counselor)
    booking = BookingFactory(
        counselor=counselor, start=window.start, end=window.start + dt.timedelta(minutes=30)
    )
    response = signed_in(counselor.user).post(
        f"/counselor/availability/windows/{window.pk}/delete/"
    )
    assert response.status_code == 302
    assert not AvailabilityWindow.objects.filter(pk=window.pk).exists()
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED


def test_removing_someone_elses_window_is_404():
    window = OneOffWindowFactory()
    other = CounselorProfileFactory()
    assert (
        signed_in(other.user)
        .post(f"/counselor/availability/windows/{window.pk}/delete/")
        .status_code
        == 404
    )
    assert AvailabilityWindow.objects.filter(pk=window.pk).exists()


def test_availability_editor_is_for_counselors_only():
    assert Client().get("/counselor/availability/").status_code == 302
    assert signed_in(ClientFactory()).get("/counselor/availability/").status_code == 403
    assert signed_in(ClientFactory()).post("/counselor/availability/weekly/", {}).status_code == 403
