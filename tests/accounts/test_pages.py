"""Account pages: help, sign-up, sign-in, language, consent and intake, the account page."""

import datetime as dt
import json
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from accounts.models import ConsentRecord, Intake, User
from ethics.models import CrisisAlert
from intake.consent import CURRENT_VERSION
from listening.models import Booking
from listening.services import message_post
from tests.factories import (
    PASSWORD,
    BookingFactory,
    ClientFactory,
    CounselorProfileFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def intake_answers(**overrides) -> dict:
    data = {
        "consent_version": CURRENT_VERSION,
        "topic": "work stress",
        "distress": "5",
        "phq4_nervous": "1",
        "phq4_worry": "1",
        "phq4_interest": "0",
        "phq4_down": "1",
        "item9": "0",
    }
    data.update(overrides)
    return data


# --- help and the layout ------------------------------------------------------------------------------


def test_help_page_lists_hotlines_for_the_viewers_region_first():
    response = Client().get("/help/", HTTP_COOKIE="tz=Europe/London")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Samaritans" in body and "116 123" in body
    assert body.index("Samaritans") < body.index("12356")  # GB first, then the rest
    assert 'href="tel:116123"' in body


def test_every_page_links_to_the_crisis_lines():
    body = Client().get("/").content.decode()
    assert 'class="crisis-link" href="/help/"' in body


def test_home_says_what_a_session_is_not():
    body = Client().get("/").content.decode()
    assert "not therapy and not an emergency service" in body


def test_home_renders_in_chinese_when_asked():
    body = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get("/").content.decode()
    assert "片刻 · 花几分钟，被好好倾听" in body
    assert "危机" in body


def test_header_nav_depends_on_the_role():
    client_nav = signed_in(ClientFactory()).get("/").content.decode()
    counselor_nav = signed_in(CounselorProfileFactory().user).get("/").content.decode()
    staff_nav = signed_in(StaffFactory()).get("/").content.decode()
    assert 'href="/talk-now/"' in client_nav and 'href="/referrals/"' in client_nav
    assert (
        'href="/counselor/availability/"' in counselor_nav
        and 'href="/talk-now/"' not in counselor_nav
    )
    assert 'href="/oncall/"' in staff_nav and 'href="/staff/flags/"' in staff_nav


# --- sign-up and sign-in ------------------------------------------------------------------------------


def test_sign_up_as_client_signs_in_and_leads_to_the_intake():
    c = Client()
    response = c.post(
        "/signup/",
        {
            "role": "client",
            "username": "quiet-river",
            "password": "a-long-walk-home",
            "timezone": "Europe/London",
            "language": "en",
        },
    )
    assert response.status_code == 302 and response.url == "/intake/"
    user = User.objects.get(username="quiet-river")
    assert user.role == "client" and user.timezone == "Europe/London" and user.language == "en"
    assert c.get("/account/").status_code == 200  # signed in
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"


def test_sign_up_as_counselor_leads_to_the_profile_editor():
    response = Client().post(
        "/signup/",
        {
            "role": "counselor",
            "username": "dr-lin",
            "password": "a-long-walk-home",
            "timezone": "Asia/Shanghai",
            "language": "zh-hans",
        },
    )
    assert response.status_code == 302 and response.url == "/counselor/profile/"
    assert User.objects.get(username="dr-lin").counselor_profile.verification == "pending"


def test_sign_up_page_preselects_the_browsers_zone_from_its_cookie():
    body = Client().get("/signup/", HTTP_COOKIE="tz=America/New_York").content.decode()
    assert '<option value="America/New_York" selected>' in body


def test_sign_up_with_a_weak_password_is_refused_and_creates_nothing():
    response = Client().post(
        "/signup/",
        {
            "role": "client",
            "username": "weak",
            "password": "123",
            "timezone": "Asia/Shanghai",
            "language": "en",
        },
    )
    assert response.status_code == 400
    assert "password" in response.context["form"].errors
    assert not User.objects.filter(username="weak").exists()


def test_sign_up_with_a_taken_username_names_the_field():
    ClientFactory(username="taken")
    response = Client().post(
        "/signup/",
        {
            "role": "client",
            "username": "taken",
            "password": "a-long-walk-home",
            "timezone": "Asia/Shanghai",
            "language": "en",
        },
    )
    assert response.status_code == 400
    assert "username" in response.context["form"].errors


def test_sign_up_cannot_make_staff():
    response = Client().post(
        "/signup/",
        {
            "role": "staff",
            "username": "sneaky",
            "password": "a-long-walk-home",
            "timezone": "Asia/Shanghai",
            "language": "en",
        },
    )
    assert response.status_code == 400 and "role" in response.context["form"].errors
    assert not User.objects.filter(username="sneaky").exists()


def test_sign_up_with_an_unknown_time_zone_names_the_field():
    response = Client().post(
        "/signup/",
        {
            "role": "client",
            "username": "lost",
            "password": "a-long-walk-home",
            "timezone": "Mars/Olympus",
            "language": "en",
        },
    )
    assert response.status_code == 400 and "timezone" in response.context["form"].errors


def test_log_in_sends_each_role_to_its_start_page():
    counselor = CounselorProfileFactory().user
    response = Client().post("/login/", {"username": counselor.username, "password": PASSWORD})
    assert response.status_code == 302 and response.url == "/counselor/"
    client = ClientFactory()
    response = Client().post("/login/", {"username": client.username, "password": PASSWORD})
    assert response.url == "/counselors/"


def test_log_in_with_a_wrong_password_is_a_400():
    client = ClientFactory()
    response = Client().post("/login/", {"username": client.username, "password": "nope"})
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()


def test_log_out_is_a_post():
    c = signed_in(ClientFactory())
    assert c.post("/logout/").status_code == 302
    assert c.get("/account/").status_code == 302  # back to the login page


def test_language_switch_sets_the_cookie_and_the_users_language():
    user = ClientFactory(language="en")
    response = signed_in(user).post("/language/", {"language": "zh-hans", "next": "/counselors/"})
    assert response.status_code == 302 and response.url == "/counselors/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    user.refresh_from_db()
    assert user.language == "zh-hans"


# --- consent and intake --------------------------------------------------------------------------------


def test_intake_needs_a_signed_in_client():
    assert Client().get("/intake/").url.startswith("/login/?next=/intake/")
    assert signed_in(CounselorProfileFactory().user).get("/intake/").status_code == 403


def test_intake_without_consent_shows_the_consent_first():
    response = signed_in(ClientFactory(intake=False)).get("/intake/?next=/bookings/")
    assert response.status_code == 302 and response.url == "/consent/?next=%2Fbookings%2F"


def test_consent_page_shows_the_text_in_the_page_language():
    body = (
        signed_in(ClientFactory(intake=False))
        .get("/consent/", HTTP_ACCEPT_LANGUAGE="zh-hans")
        .content.decode()
    )
    assert "健康信息处理同意书" in body


def test_agreeing_to_the_consent_records_it_and_continues_to_the_intake():
    user = ClientFactory(intake=False)
    response = signed_in(user).post("/consent/", {"version": CURRENT_VERSION, "next": "/bookings/"})
    assert response.status_code == 302 and response.url == "/intake/?next=%2Fbookings%2F"
    assert ConsentRecord.objects.get(user=user).version == CURRENT_VERSION


def test_agreeing_to_an_old_consent_version_is_refused():
    user = ClientFactory(intake=False)
    response = signed_in(user).post("/consent/", {"version": "1999-01"})
    assert response.status_code == 400
    assert not ConsentRecord.objects.filter(user=user).exists()


def test_intake_form_asks_the_phq4_questions_in_chinese():
    body = (
        signed_in(ClientFactory()).get("/intake/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    )
    for question in (
        "在过去两个星期，有多少时候您受到以下任何问题所困扰？",
        "感觉紧张，焦虑或急切",
        "不能够停止或控制担忧",
        "做事时提不起劲或没有兴趣",
        "感到心情低落，沮丧或绝望",
        "有不如死掉或用某种方式伤害自己的念头",
        "一半以上的天数",
    ):
        assert question in body


def test_submitting_the_intake_stores_it_and_shows_the_outcome():
    user = ClientFactory()
    c = signed_in(user)
    response = c.post("/intake/", intake_answers(next="/counselors/"))
    assert response.status_code == 302 and response.url == "/intake/result/?next=%2Fcounselors%2F"
    intake = Intake.objects.filter(user=user).first()
    assert intake.topic == "work stress" and intake.phq4_score == 3 and intake.band == "mild"
    result = c.get(response.url)
    assert "some signs of anxiety or low mood" in result.content.decode()
    assert 'href="/counselors/"' in result.content.decode()


def test_an_incomplete_intake_names_the_missing_answer_and_stores_nothing():
    user = ClientFactory(intake=False)
    signed_in(user).post("/consent/", {"version": CURRENT_VERSION})
    answers = intake_answers()
    del answers["phq4_worry"]
    response = signed_in(user).post("/intake/", answers)
    assert response.status_code == 400
    assert "phq4_worry" in response.context["form"].errors
    assert not Intake.objects.filter(user=user).exists()


def test_an_out_of_range_distress_is_refused():
    user = ClientFactory()
    before = Intake.objects.filter(user=user).count()
    response = signed_in(user).post("/intake/", intake_answers(distress="11"))
    assert response.status_code == 400 and "distress" in response.context["form"].errors
    assert Intake.objects.filter(user=user).count() == before


def test_item9_above_zero_shows_crisis_lines_and_raises_an_alert():
    user = ClientFactory(timezone="Europe/London")
    c = signed_in(user)
    c.post("/intake/", intake_answers(item9="1"))
    body = c.get("/intake/result/").content.decode()
    assert 'class="crisis"' in body and "116 123" in body
    assert CrisisAlert.objects.filter(client=user, source="intake").exists()


def test_a_severe_band_suggests_longer_term_care_without_blocking():
    c = signed_in(ClientFactory())
    c.post(
        "/intake/",
        intake_answers(
            phq4_nervous="3", phq4_worry="3", phq4_interest="3", phq4_down="3", next="/counselors/"
        ),
    )
    body = c.get("/intake/result/?next=/counselors/").content.decode()
    assert "Longer-term support" in body
    assert "Continue booking" in body


# --- the account page ----------------------------------------------------------------------------------


def test_account_page_needs_sign_in():
    response = Client().get("/account/")
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_changing_time_zone_and_language_saves_them():
    user = ClientFactory(timezone="Asia/Shanghai", language="en")
    response = signed_in(user).post(
        "/account/", {"timezone": "Europe/Berlin", "language": "zh-hans"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.timezone, user.language) == ("Europe/Berlin", "zh-hans")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"


def test_an_unknown_time_zone_is_refused_and_changes_nothing():
    user = ClientFactory(timezone="Asia/Shanghai")
    response = signed_in(user).post("/account/", {"timezone": "Nowhere/Special", "language": "en"})
    assert response.status_code == 400 and "timezone" in response.context["settings_form"].errors
    user.refresh_from_db()
    assert user.timezone == "Asia/Shanghai"


def test_pages_show_times_in_the_signed_in_users_zone():
    booking = BookingFactory(client=ClientFactory(timezone="America/New_York"))
    body = signed_in(booking.client).get("/bookings/").content.decode()
    local = booking.start.astimezone(ZoneInfo("America/New_York"))
    assert f'datetime="{local.isoformat()}"' in body and "America/New_York" in body


def test_anonymous_visitors_get_times_in_their_browser_zone_from_the_cookie():
    body = Client().get("/", HTTP_COOKIE="tz=Asia/Tokyo").content.decode()
    assert 'data-viewer-tz="Asia/Tokyo"' in body
    garbage = Client().get("/", HTTP_COOKIE="tz=../../etc/passwd").content.decode()
    assert 'data-viewer-tz="UTC"' in garbage


def test_data_export_has_everything_about_me_with_my_messages_decrypted():
    start = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(hours=3)
    booking = BookingFactory(start=start, end=start + dt.timedelta(minutes=30))
    message_post(
        booking_id=booking.pk,
        sender=booking.client,
        uid=uuid.uuid4(),
        text="hello, it's me",
        live=False,
    )
    other = BookingFactory()  # someone else's
    response = signed_in(booking.client).get("/account/export/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["account"]["username"] == booking.client.username
    assert [c["version"] for c in data["consents"]] == [CURRENT_VERSION]
    assert data["intakes"][0]["topic"] == "stress"
    assert [b["id"] for b in data["bookings"]] == [booking.pk]
    assert data["bookings"][0]["messages"][0] == {
        **data["bookings"][0]["messages"][0],
        "text": "hello, it's me",
        "from": "me",
    }
    assert other.pk not in [b["id"] for b in data["bookings"]]


def test_a_counselors_export_has_their_profile_and_sessions():
    booking = BookingFactory()
    data = json.loads(signed_in(booking.counselor.user).get("/account/export/").content)
    assert data["counselor_profile"]["display_name"] == booking.counselor.display_name
    assert data["bookings"][0]["my_role"] == "counselor"


def test_deleting_the_account_needs_the_password_and_changes_nothing_without_it():
    user = ClientFactory()
    response = signed_in(user).post("/account/delete/", {"password": "wrong", "confirm": "on"})
    assert response.status_code == 400 and "password" in response.context["delete_form"].errors
    user.refresh_from_db()
    assert user.is_active and Intake.objects.filter(user=user).exists()


def test_deleting_the_account_needs_the_confirmation_box():
    user = ClientFactory()
    response = signed_in(user).post("/account/delete/", {"password": PASSWORD})
    assert response.status_code == 400 and "confirm" in response.context["delete_form"].errors
    user.refresh_from_db()
    assert user.is_active


def test_deleting_the_account_deletes_it_and_signs_out(django_capture_on_commit_callbacks):
    start = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(hours=3)
    booking = BookingFactory(start=start, end=start + dt.timedelta(minutes=30))
    c = signed_in(booking.client)
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post("/account/delete/", {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 302 and response.url == "/"
    booking.client.refresh_from_db()
    assert not booking.client.is_active and booking.client.username.startswith("deleted-")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert c.get("/account/").status_code == 302


def test_withdrawing_consent_voids_the_intake():
    user = ClientFactory()
    response = signed_in(user).post("/account/consent/withdraw/")
    assert response.status_code == 302
    assert ConsentRecord.objects.get(user=user).withdrawn_at is not None
    assert signed_in(user).get("/intake/").url == "/consent/"


@pytest.fixture
def from_address():
    """A client address with fresh throttle counters (they live in the real Redis cache)."""
    from django.core.cache import cache

    address = "10.77.7.7"
    keys = [f"throttle_{scope}_{address}" for scope in ("register", "token")]
    cache.delete_many(keys)
    yield address
    cache.delete_many(keys)


def test_sign_up_shares_the_apis_per_address_limit(tight_throttles, from_address):
    c = Client(REMOTE_ADDR=from_address)
    data = {
        "role": "client",
        "password": "a-long-walk-home",
        "timezone": "Asia/Shanghai",
        "language": "en",
    }
    for name in ("one", "two"):
        assert (
            Client(REMOTE_ADDR=from_address)
            .post("/signup/", {**data, "username": name})
            .status_code
            == 302
        )
    response = c.post("/signup/", {**data, "username": "three"})
    assert response.status_code == 429
    assert not User.objects.filter(username="three").exists()


def test_log_in_attempts_are_limited_per_address(tight_throttles, from_address):
    client = ClientFactory()
    for _attempt in range(2):
        Client(REMOTE_ADDR=from_address).post(
            "/login/", {"username": client.username, "password": "guess"}
        )
    response = Client(REMOTE_ADDR=from_address).post(
        "/login/", {"username": client.username, "password": PASSWORD}
    )
    assert response.status_code == 429
