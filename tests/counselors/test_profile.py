from decimal import Decimal

import pytest

from counselors.models import CounselorProfile, Specialty
from tests.factories import CounselorProfileFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/counselors/me/"


def patch(api, **body):
    return api.patch(ME, body, format="json")


def test_counselor_gets_own_profile_with_booking_rules(as_counselor, counselor):
    response = as_counselor.get(ME)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == counselor.pk
    assert body["verification"] == "verified"
    assert {"daily_cap", "min_notice_minutes", "buffer_minutes", "is_active"} <= set(body)


def test_patch_display_name_and_bio(as_counselor, counselor):
    response = patch(as_counselor, display_name="Dr. Chen", bio="I listen.")
    assert response.status_code == 200, response.json()
    assert (response.json()["display_name"], response.json()["bio"]) == ("Dr. Chen", "I listen.")
    counselor.refresh_from_db()
    assert (counselor.display_name, counselor.bio) == ("Dr. Chen", "I listen.")


def test_patch_specialties_by_slug(as_counselor, counselor):
    response = patch(as_counselor, specialties=["grief", "sleep"])
    assert response.status_code == 200, response.json()
    assert sorted(response.json()["specialties"]) == ["grief", "sleep"]
    assert sorted(counselor.specialties.values_list("slug", flat=True)) == ["grief", "sleep"]


def test_patch_empty_specialties_clears_them(as_counselor, counselor):
    assert patch(as_counselor, specialties=[]).status_code == 200
    assert not counselor.specialties.exists()


def test_patch_unknown_specialty_is_400_naming_specialties(as_counselor, counselor):
    response = patch(as_counselor, specialties=["grief", "astrology"])
    assert response.status_code == 400
    assert "specialties" in response.json()
    assert "astrology" in str(response.json()["specialties"])


def test_patch_unknown_specialty_changes_nothing_at_all(as_counselor, counselor):
    """The profile fields and the user's zone are saved before the slugs are checked: the whole
    update must still roll back."""
    before = sorted(counselor.specialties.values_list("slug", flat=True))
    response = patch(
        as_counselor,
        display_name="Changed",
        daily_cap=3,
        timezone="Europe/Paris",
        specialties=["grief", "astrology"],
    )
    assert response.status_code == 400
    counselor.refresh_from_db()
    counselor.user.refresh_from_db()
    assert counselor.display_name == "Counselor chen"
    assert counselor.daily_cap == 8
    assert counselor.user.timezone == "Asia/Shanghai"
    assert sorted(counselor.specialties.values_list("slug", flat=True)) == before


def test_patch_languages_are_deduplicated_and_sorted(as_counselor, counselor):
    response = patch(as_counselor, languages=["yue", "en", "yue"])
    assert response.status_code == 200, response.json()
    assert response.json()["languages"] == ["en", "yue"]
    counselor.refresh_from_db()
    assert counselor.languages == ["en", "yue"]


def test_patch_unknown_language_is_400_naming_languages(as_counselor, counselor):
    response = patch(as_counselor, languages=["en", "klingon"])
    assert response.status_code == 400
    assert "languages" in response.json()
    counselor.refresh_from_db()
    assert counselor.languages == ["zh", "en"]


def test_patch_ui_language_code_is_read_as_its_session_language(as_counselor):
    """`zh-hans` (the account's language code) is Mandarin, `zh`, as match-requests/ reads it."""
    response = patch(as_counselor, languages=["zh-hans"])
    assert response.status_code == 200
    assert response.json()["languages"] == ["zh"]


def test_patch_unknown_language_is_400(as_counselor):
    response = patch(as_counselor, languages=["klingon"])
    assert response.status_code == 400
    assert "languages" in response.json()


def test_patch_modes(as_counselor, counselor):
    response = patch(as_counselor, modes=["voice", "text"])
    assert response.status_code == 200
    assert response.json()["modes"] == ["text", "voice"]


def test_patch_unknown_mode_is_400_naming_modes(as_counselor, counselor):
    response = patch(as_counselor, modes=["telepathy"])
    assert response.status_code == 400
    assert "modes" in response.json()
    counselor.refresh_from_db()
    assert counselor.modes == ["text", "async", "voice", "video"]


def test_patch_modes_must_be_a_list(as_counselor):
    response = patch(as_counselor, modes="text")
    assert response.status_code == 400
    assert "modes" in response.json()


def test_patch_timezone_is_reflected_in_own_profile(as_counselor, counselor):
    assert patch(as_counselor, timezone="Europe/Berlin").status_code == 200
    assert as_counselor.get(ME).json()["timezone"] == "Europe/Berlin"
    counselor.user.refresh_from_db()
    assert counselor.user.timezone == "Europe/Berlin"


def test_patch_timezone_is_reflected_in_public_profile(as_counselor, anon, counselor):
    patch(as_counselor, timezone="America/New_York")
    assert anon.get(f"/api/v1/counselors/{counselor.pk}/").json()["timezone"] == "America/New_York"


def test_patch_bad_timezone_is_400_naming_timezone(as_counselor, counselor):
    response = patch(as_counselor, timezone="Asia/Atlantis")
    assert response.status_code == 400
    assert "timezone" in response.json()
    counselor.user.refresh_from_db()
    assert counselor.user.timezone == "Asia/Shanghai"


def test_patch_prices(as_counselor, counselor):
    response = patch(as_counselor, price_15="45.50", price_30=80)
    assert response.status_code == 200, response.json()
    assert (response.json()["price_15"], response.json()["price_30"]) == (45.5, 80)
    counselor.refresh_from_db()
    assert (counselor.price_15, counselor.price_30) == (Decimal("45.50"), Decimal(80))


def test_patch_zero_price_is_allowed(as_counselor):
    assert patch(as_counselor, price_15=0).status_code == 200


@pytest.mark.parametrize("field", ["price_15", "price_30"])
def test_patch_negative_price_is_400_naming_it(as_counselor, counselor, field):
    response = patch(as_counselor, **{field: "-1.00"})
    assert response.status_code == 400
    assert field in response.json()
    counselor.refresh_from_db()
    assert getattr(counselor, field) == {"price_15": 60, "price_30": 100}[field]


@pytest.mark.parametrize("cap", [1, 48])
def test_patch_daily_cap_accepts_bounds(as_counselor, counselor, cap):
    response = patch(as_counselor, daily_cap=cap)
    assert response.status_code == 200, response.json()
    counselor.refresh_from_db()
    assert counselor.daily_cap == cap


@pytest.mark.parametrize("cap", [0, 49, -1])
def test_patch_daily_cap_out_of_bounds_is_400(as_counselor, counselor, cap):
    response = patch(as_counselor, daily_cap=cap)
    assert response.status_code == 400
    assert "daily_cap" in response.json()
    counselor.refresh_from_db()
    assert counselor.daily_cap == 8


def test_patch_buffer_over_an_hour_is_400(as_counselor):
    response = patch(as_counselor, buffer_minutes=61)
    assert response.status_code == 400
    assert "buffer_minutes" in response.json()


def test_patch_cannot_verify_oneself(as_counselor, db):
    profile = CounselorProfileFactory(verification=CounselorProfile.Verification.PENDING)
    from tests.conftest import api_as

    api = api_as(profile.user)
    response = api.patch(ME, {"verification": "verified", "is_active": True}, format="json")
    assert response.status_code == 200
    profile.refresh_from_db()
    assert profile.verification == CounselorProfile.Verification.PENDING


def test_patch_empty_display_name_is_400(as_counselor):
    response = patch(as_counselor, display_name="")
    assert response.status_code == 400
    assert "display_name" in response.json()


def test_client_gets_403_on_counselor_me(as_client):
    assert as_client.get(ME).status_code == 403
    assert as_client.patch(ME, {"bio": "x"}, format="json").status_code == 403


def test_staff_gets_403_on_counselor_me(as_staff):
    assert as_staff.get(ME).status_code == 403


def test_anonymous_gets_401_on_counselor_me(anon):
    assert anon.get(ME).status_code == 401


def test_unverified_counselor_can_edit_own_profile(db):
    from tests.conftest import api_as

    profile = CounselorProfileFactory(verification=CounselorProfile.Verification.PENDING)
    response = api_as(profile.user).patch(ME, {"bio": "new here"}, format="json")
    assert response.status_code == 200
    assert response.json()["verification"] == "pending"


# --- specialties ------------------------------------------------------------------------------

SEEDED = {
    "anxiety",
    "grief",
    "career",
    "relationships",
    "new-parents",
    "stress",
    "sleep",
    "self-esteem",
}


def test_specialties_lists_the_seeded_slugs(anon):
    response = anon.get("/api/v1/specialties/")
    assert response.status_code == 200
    assert SEEDED <= {s["slug"] for s in response.json()}


def test_specialties_are_public(anon):
    assert anon.get("/api/v1/specialties/").status_code == 200


def test_specialties_name_in_english_by_default(anon):
    by_slug = {s["slug"]: s for s in anon.get("/api/v1/specialties/").json()}
    assert by_slug["anxiety"]["name"] == "Anxiety"
    assert by_slug["grief"]["name"] == "Grief and loss"


def test_specialties_name_in_chinese_for_zh_hans(anon):
    response = anon.get("/api/v1/specialties/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    by_slug = {s["slug"]: s for s in response.json()}
    assert by_slug["anxiety"]["name"] == "焦虑"
    assert by_slug["grief"]["name"] == "哀伤与丧失"
    assert by_slug["new-parents"]["name"] == "新手父母"


def test_specialties_every_entry_has_slug_and_name(anon):
    for entry in anon.get("/api/v1/specialties/", HTTP_ACCEPT_LANGUAGE="zh-hans").json():
        specialty = Specialty.objects.get(slug=entry["slug"])
        assert entry["name"] == specialty.name_zh


# --- public profile ---------------------------------------------------------------------------

PUBLIC_FIELDS = {
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
}


def test_public_profile_of_verified_counselor_has_contract_fields(anon, counselor):
    response = anon.get(f"/api/v1/counselors/{counselor.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert PUBLIC_FIELDS <= set(body)
    assert body["id"] == counselor.pk
    assert body["display_name"] == "Counselor chen"
    assert sorted(body["specialties"]) == ["anxiety", "stress"]
    assert body["languages"] == ["zh", "en"]
    assert body["modes"] == ["text", "async", "voice", "video"]
    assert (body["price_15"], body["price_30"]) == (60, 100)
    assert body["timezone"] == "Asia/Shanghai"
    assert body["rating"] is None
    assert body["review_count"] == 0


def test_public_profile_hides_booking_rules_and_verification(anon, counselor):
    body = anon.get(f"/api/v1/counselors/{counselor.pk}/").json()
    assert not {"daily_cap", "min_notice_minutes", "buffer_minutes", "verification", "user"} & set(
        body
    )


def test_public_profile_of_unverified_counselor_is_404(anon):
    profile = CounselorProfileFactory(verification=CounselorProfile.Verification.PENDING)
    assert anon.get(f"/api/v1/counselors/{profile.pk}/").status_code == 404


def test_public_profile_of_rejected_counselor_is_404(anon):
    profile = CounselorProfileFactory(verification=CounselorProfile.Verification.REJECTED)
    assert anon.get(f"/api/v1/counselors/{profile.pk}/").status_code == 404


def test_public_profile_of_inactive_profile_is_404(anon):
    profile = CounselorProfileFactory(is_active=False)
    assert anon.get(f"/api/v1/counselors/{profile.pk}/").status_code == 404


def test_public_profile_of_deactivated_user_is_404(anon):
    profile = CounselorProfileFactory(user__is_active=False)
    assert anon.get(f"/api/v1/counselors/{profile.pk}/").status_code == 404


def test_public_profile_of_a_client_id_is_404(anon, client_user):
    assert anon.get(f"/api/v1/counselors/{client_user.pk}/").status_code == 404


def test_public_profile_of_unknown_id_is_404(anon, db):
    assert anon.get("/api/v1/counselors/987654/").status_code == 404


def test_patch_reserve_pool_joins_the_pool_surges_call_up(as_counselor, counselor):
    response = as_counselor.patch(ME, {"reserve_pool": True}, format="json")
    assert response.status_code == 200
    assert response.json()["reserve_pool"] is True
    assert CounselorProfile.objects.get(pk=counselor.pk).reserve_pool is True


def test_patch_reserve_pool_not_a_boolean_is_400_and_changes_nothing(as_counselor, counselor):
    response = as_counselor.patch(ME, {"reserve_pool": "perhaps"}, format="json")
    assert response.status_code == 400
    assert "reserve_pool" in response.json()
    assert CounselorProfile.objects.get(pk=counselor.pk).reserve_pool is False
