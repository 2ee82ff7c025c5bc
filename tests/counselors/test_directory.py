import datetime as dt

import pytest

from counselors.models import CounselorProfile
from tests.factories import (
    BookingFactory,
    CounselorProfileFactory,
    OneOffWindowFactory,
    at_local,
    local_today,
    next_quarter,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/counselors/"
SHANGHAI = "Asia/Shanghai"


def directory(api, **params):
    params = {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in params.items()}
    response = api.get(URL, params)
    assert response.status_code == 200, response.json()
    return response.json()


def ids(api, **params):
    return [c["id"] for c in directory(api, **params)["results"]]


@pytest.fixture
def day():
    """A local (Shanghai) day a few days ahead."""
    return local_today(SHANGHAI) + dt.timedelta(days=3)


def with_window(day, start_hour=10, end_hour=13, **profile):
    counselor = CounselorProfileFactory(**profile)
    OneOffWindowFactory(
        counselor=counselor,
        start=at_local(SHANGHAI, day, start_hour),
        end=at_local(SHANGHAI, day, end_hour),
    )
    return counselor


# --- who is listed ------------------------------------------------------------------------------


def test_directory_is_public(anon, counselor):
    assert anon.get(URL).status_code == 200


def test_directory_lists_verified_active_counselors(anon, counselor):
    assert ids(anon) == [counselor.pk]


def test_directory_hides_unverified_counselors(anon, counselor):
    CounselorProfileFactory(verification=CounselorProfile.Verification.PENDING)
    assert ids(anon) == [counselor.pk]


def test_directory_hides_rejected_counselors(anon, counselor):
    CounselorProfileFactory(verification=CounselorProfile.Verification.REJECTED)
    assert ids(anon) == [counselor.pk]


def test_directory_hides_inactive_profiles(anon, counselor):
    CounselorProfileFactory(is_active=False)
    assert ids(anon) == [counselor.pk]


def test_directory_hides_counselors_whose_account_is_inactive(anon, counselor):
    CounselorProfileFactory(user__is_active=False)
    assert ids(anon) == [counselor.pk]


def test_directory_entries_have_the_public_fields(anon, counselor):
    entry = directory(anon)["results"][0]
    assert {
        "id",
        "display_name",
        "bio",
        "specialties",
        "languages",
        "modes",
        "price_15",
        "price_30",
        "timezone",
        "rating",
        "review_count",
    } <= set(entry)
    assert "daily_cap" not in entry and "verification" not in entry


def test_directory_is_paginated(anon, counselor):
    body = directory(anon)
    assert set(body) >= {"count", "next", "previous", "results"}
    assert (body["count"], body["next"], body["previous"]) == (1, None, None)


def test_directory_pages_link_to_each_other(anon, counselor, other_counselor):
    first = directory(anon, page_size=1)
    assert first["count"] == 2
    assert first["next"] is not None and first["previous"] is None
    second = anon.get(first["next"]).json()
    assert second["next"] is None and second["previous"] is not None
    assert {first["results"][0]["id"], second["results"][0]["id"]} == {
        counselor.pk,
        other_counselor.pk,
    }


def test_directory_page_beyond_the_end_is_404(anon, counselor):
    assert anon.get(URL, {"page": 5}).status_code == 404


# --- filters ------------------------------------------------------------------------------------


def test_filter_by_specialty(anon, counselor):
    grief = CounselorProfileFactory(specialties=["grief"])
    assert ids(anon, specialty="grief") == [grief.pk]
    assert ids(anon, specialty="anxiety") == [counselor.pk]


def test_filter_by_specialty_lists_each_counselor_once(anon):
    both = CounselorProfileFactory(specialties=["grief", "anxiety", "stress"])
    assert ids(anon, specialty="grief") == [both.pk]
    assert directory(anon, specialty="grief")["count"] == 1


def test_filter_by_unknown_specialty_finds_nobody(anon, counselor):
    assert ids(anon, specialty="astrology") == []


def test_filter_by_language(anon, counselor):
    cantonese = CounselorProfileFactory(languages=["yue"])
    assert ids(anon, language="yue") == [cantonese.pk]
    assert ids(anon, language="zh") == [counselor.pk]


def test_filter_by_mode(anon, counselor):
    text_only = CounselorProfileFactory(modes=["text"])
    assert ids(anon, mode="video") == [counselor.pk]
    assert sorted(ids(anon, mode="text")) == sorted([counselor.pk, text_only.pk])


def test_filters_combine(anon, counselor):
    match = CounselorProfileFactory(languages=["en"], modes=["voice"], specialties=["sleep"])
    CounselorProfileFactory(languages=["en"], modes=["text"], specialties=["sleep"])
    CounselorProfileFactory(languages=["ja"], modes=["voice"], specialties=["sleep"])
    assert ids(anon, language="en", mode="voice", specialty="sleep") == [match.pk]


def test_filters_never_reveal_unlisted_counselors(anon):
    CounselorProfileFactory(languages=["ko"], verification=CounselorProfile.Verification.PENDING)
    assert ids(anon, language="ko") == []


def test_unknown_language_code_is_400(anon, counselor):
    response = anon.get(URL, {"language": "klingon"})
    assert response.status_code == 400
    assert "language" in response.json()


def test_ui_language_code_is_read_as_its_session_language(anon, counselor):
    """`zh-hans` (the account's language code) means Mandarin here, as in match-requests/."""
    response = anon.get(URL, {"language": "zh-hans"})
    assert response.status_code == 200
    assert [c["id"] for c in response.json()["results"]] == [counselor.pk]


def test_unknown_language_filter_is_400(anon, counselor):
    response = anon.get(URL, {"language": "xx"})
    assert response.status_code == 400
    assert "language" in response.json()


def test_unknown_mode_is_400(anon, counselor):
    response = anon.get(URL, {"mode": "carrier-pigeon"})
    assert response.status_code == 400
    assert "mode" in response.json()


# --- free time ----------------------------------------------------------------------------------


def test_available_range_keeps_counselors_with_a_free_slot(anon, day):
    free = with_window(day, 10, 13)
    with_window(day + dt.timedelta(days=1), 10, 13)  # free, but not in the range
    assert ids(
        anon, available_from=at_local(SHANGHAI, day, 0), available_to=at_local(SHANGHAI, day, 23)
    ) == [free.pk]


def test_available_range_drops_counselors_without_windows(anon, day):
    free = with_window(day)
    CounselorProfileFactory()
    assert ids(
        anon, available_from=at_local(SHANGHAI, day, 0), available_to=at_local(SHANGHAI, day, 23)
    ) == [free.pk]


def test_available_range_drops_a_fully_booked_counselor(anon, day):
    free = with_window(day, 10, 11)
    booked = CounselorProfileFactory()
    OneOffWindowFactory(
        counselor=booked, start=at_local(SHANGHAI, day, 10), end=at_local(SHANGHAI, day, 10, 30)
    )
    BookingFactory(counselor=booked, start=at_local(SHANGHAI, day, 10), duration_minutes=30)
    assert ids(
        anon, available_from=at_local(SHANGHAI, day, 0), available_to=at_local(SHANGHAI, day, 23)
    ) == [free.pk]


def test_available_range_drops_a_counselor_at_daily_cap(anon, day):
    free = with_window(day, 10, 13, daily_cap=1)
    capped = with_window(day, 10, 13, daily_cap=1)
    BookingFactory(counselor=capped, start=at_local(SHANGHAI, day, 10))
    assert ids(
        anon, available_from=at_local(SHANGHAI, day, 0), available_to=at_local(SHANGHAI, day, 23)
    ) == [free.pk]


def test_available_range_counts_only_slot_starts_inside_it(anon, day):
    counselor = with_window(day, 10, 13)
    assert (
        ids(
            anon,
            available_from=at_local(SHANGHAI, day, 13),
            available_to=at_local(SHANGHAI, day, 14),
        )
        == []
    )
    assert ids(
        anon,
        available_from=at_local(SHANGHAI, day, 12),
        available_to=at_local(SHANGHAI, day, 12, 15),
    ) == [counselor.pk]


def test_available_range_combines_with_other_filters(anon, day):
    with_window(day, languages=["zh"])
    english = with_window(day, languages=["en"])
    assert ids(
        anon,
        language="en",
        available_from=at_local(SHANGHAI, day, 0),
        available_to=at_local(SHANGHAI, day, 23),
    ) == [english.pk]


def test_available_from_alone_looks_one_day_ahead(anon, day):
    soon = with_window(day, 10, 13)
    with_window(day + dt.timedelta(days=2), 10, 13)
    assert ids(anon, available_from=at_local(SHANGHAI, day, 8)) == [soon.pk]


def test_available_to_before_available_from_is_400(anon, day):
    response = anon.get(
        URL,
        {
            "available_from": at_local(SHANGHAI, day, 12).isoformat(),
            "available_to": at_local(SHANGHAI, day, 10).isoformat(),
        },
    )
    assert response.status_code == 400
    assert "available_to" in response.json()


def test_available_range_over_31_days_is_400(anon, day):
    start = at_local(SHANGHAI, day, 0)
    response = anon.get(
        URL,
        {
            "available_from": start.isoformat(),
            "available_to": (start + dt.timedelta(days=32)).isoformat(),
        },
    )
    assert response.status_code == 400
    assert "available_to" in response.json()


@pytest.mark.parametrize("start", ["0001-01-01T00:00:00Z", "9999-12-31T00:00:00+00:00"])
def test_available_from_at_the_calendars_ends_is_400_not_500(anon, counselor, start):
    response = anon.get(URL, {"available_from": start})
    assert response.status_code == 400
    assert "available_from" in response.json()


def test_unparseable_available_from_is_400(anon, counselor):
    response = anon.get(URL, {"available_from": "tomorrow-ish"})
    assert response.status_code == 400
    assert "available_from" in response.json()


def test_available_range_of_exactly_31_days_is_allowed(anon, day):
    start = at_local(SHANGHAI, day, 0)
    response = anon.get(
        URL,
        {
            "available_from": start.isoformat(),
            "available_to": (start + dt.timedelta(days=31)).isoformat(),
        },
    )
    assert response.status_code == 200


def test_directory_duration_filter_needs_room_for_a_whole_session(anon):
    start = next_quarter(days=1)
    short = CounselorProfileFactory()
    OneOffWindowFactory(counselor=short, start=start, end=start + dt.timedelta(minutes=15))
    url = (
        f"/api/v1/counselors/?available_from={start.isoformat().replace('+', '%2B')}"
        f"&available_to={(start + dt.timedelta(hours=2)).isoformat().replace('+', '%2B')}"
    )
    assert short.pk in [c["id"] for c in anon.get(url).json()["results"]]
    assert short.pk not in [c["id"] for c in anon.get(url + "&duration=30").json()["results"]]
    assert anon.get(url + "&duration=20").status_code == 400
