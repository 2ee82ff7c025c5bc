"""Talk-now pages: the client's request form and waiting state, the counselor's duty panel."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone, translation

from matching import services
from matching.models import MatchRequest, Offer, Presence
from tests.factories import ClientFactory, CounselorProfileFactory
from tests.matching.helpers import on_duty

pytestmark = pytest.mark.django_db

FORM = {
    "topic": "anxiety",
    "mode": "text",
    "language": "zh",
    "duration_minutes": "15",
    "when": "now",
    "note": "",
}


def browser(user=None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def test_anonymous_visitor_is_sent_to_log_in():
    response = browser().get("/talk-now/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_counselor_gets_403_on_talk_now(counselor):
    assert browser(counselor.user).get("/talk-now/").status_code == 403


def test_client_without_intake_is_sent_to_the_intake():
    response = browser(ClientFactory(intake=False)).get("/talk-now/")
    assert response.status_code == 302 and "/intake/" in response["Location"]


def test_form_renders_with_the_topics(client_user):
    response = browser(client_user).get("/talk-now/")
    assert response.status_code == 200
    assert b'value="anxiety"' in response.content


def test_posting_the_form_creates_a_request_and_shows_the_waiting_state(client_user):
    c = browser(client_user)
    response = c.post("/talk-now/", FORM)
    match = MatchRequest.objects.get(client=client_user)
    assert response.status_code == 302 and response["Location"] == f"/talk-now/{match.pk}/"
    page = c.get(response["Location"])
    assert b'hx-trigger="every 2s"' in page.content
    assert "Looking for a counselor" in page.content.decode()


def test_bad_topic_gets_400_and_creates_nothing(client_user):
    response = browser(client_user).post("/talk-now/", {**FORM, "topic": "astrology"})
    assert response.status_code == 400
    assert "topic" in response.context["form"].errors
    assert not MatchRequest.objects.exists()


def test_later_without_a_window_gets_400_naming_it(client_user):
    response = browser(client_user).post("/talk-now/", {**FORM, "when": "scheduled"})
    assert response.status_code == 400
    assert {"earliest", "latest"} <= set(response.context["form"].errors)
    assert not MatchRequest.objects.exists()


def test_second_open_request_gets_409(client_user):
    c = browser(client_user)
    c.post("/talk-now/", FORM)
    response = c.post("/talk-now/", FORM)
    assert response.status_code == 409
    assert MatchRequest.objects.count() == 1


def test_later_request_shows_suggested_times(client_user):
    start = timezone.localtime(timezone.now() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    end = timezone.localtime(timezone.now() + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = browser(client_user).post(
        "/talk-now/", {**FORM, "when": "scheduled", "earliest": start, "latest": end}
    )
    match = MatchRequest.objects.get(client=client_user)
    assert response.status_code == 302
    assert match.when == "scheduled" and match.earliest < match.latest


def test_another_client_gets_404_for_the_waiting_page(client_user, other_client_user):
    browser(client_user).post("/talk-now/", FORM)
    match = MatchRequest.objects.get(client=client_user)
    assert browser(other_client_user).get(f"/talk-now/{match.pk}/").status_code == 404


def test_polling_after_the_match_redirects_into_the_room(client_user):
    counselor = on_duty()
    c = browser(client_user)
    c.post("/talk-now/", FORM)
    match = MatchRequest.objects.get(client=client_user)
    services.matching_round()
    services.offer_accept(counselor=counselor.user, offer_id=Offer.objects.get(request=match).pk)
    match.refresh_from_db()
    response = c.get(f"/talk-now/{match.pk}/", HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == f"/sessions/{match.booking_id}/"


def test_cancel_from_the_waiting_page(client_user):
    c = browser(client_user)
    c.post("/talk-now/", FORM)
    match = MatchRequest.objects.get(client=client_user)
    assert c.post(f"/talk-now/{match.pk}/cancel/").status_code == 302
    match.refresh_from_db()
    assert match.status == "cancelled"


def test_counselor_goes_on_and_off_duty_from_the_dashboard():
    profile = CounselorProfileFactory()
    c = browser(profile.user)
    assert c.post("/counselor/duty/", {"online": "1"}).status_code == 302
    assert Presence.objects.get(pk=profile.pk).online is True
    page = c.get("/counselor/")
    assert (
        b'data-online="1"' in page.content and b"/ws/counselor/" not in page.content
    )  # the JS builds the URL
    c.post("/counselor/duty/", {"online": "0"})
    assert Presence.objects.get(pk=profile.pk).online is False


def test_unverified_counselor_cannot_go_on_duty():
    profile = CounselorProfileFactory(verification="pending")
    browser(profile.user).post("/counselor/duty/", {"online": "1"})
    assert not Presence.objects.filter(pk=profile.pk, online=True).exists()


def test_client_gets_403_on_duty(client_user):
    assert browser(client_user).post("/counselor/duty/", {"online": "1"}).status_code == 403


def test_pending_offer_shows_on_the_dashboard_and_accepting_opens_the_room():
    counselor = on_duty()
    match = services.match_request_create(
        client=ClientFactory(), topic="anxiety", mode="text", language="zh", duration_minutes=15
    )
    services.matching_round()
    offer = Offer.objects.get(request=match)
    c = browser(counselor.user)
    assert f'data-offer-id="{offer.pk}"'.encode() in c.get("/counselor/").content
    response = c.post(f"/counselor/offers/{offer.pk}/accept/")
    match.refresh_from_db()
    assert response.status_code == 302 and response["Location"] == f"/sessions/{match.booking_id}/"


def test_another_counselors_offer_is_404():
    on_duty()
    match = services.match_request_create(
        client=ClientFactory(), topic="anxiety", mode="text", language="zh", duration_minutes=15
    )
    services.matching_round()
    offer = Offer.objects.get(request=match)
    other = CounselorProfileFactory()
    assert browser(other.user).post(f"/counselor/offers/{offer.pk}/accept/").status_code == 404
    assert browser(other.user).post(f"/counselor/offers/{offer.pk}/nonsense/").status_code == 404


def test_talk_now_page_in_chinese(client_user):
    client_user.language = "zh-hans"
    client_user.save()
    c = browser(client_user)
    c.cookies["django_language"] = "zh-hans"
    page = c.get("/talk-now/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    with translation.override("zh-hans"):
        expected = [
            translation.gettext("What would you like to talk about?"),
            translation.gettext("Talk-now duty"),
            translation.gettext("Find a counselor"),
        ]
    assert expected[0] in page and expected[2] in page
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in text) for text in expected)


def test_offer_reasons_are_shown_in_the_counselors_language():
    from matching.selectors import offer_frame

    counselor = on_duty()
    match = services.match_request_create(
        client=ClientFactory(), topic="anxiety", mode="text", language="zh", duration_minutes=15
    )
    services.matching_round()
    frame = offer_frame(Offer.objects.get(request=match), language="zh-hans")
    assert "specialty: anxiety" in frame["reasons"]  # the API's stable text
    assert any(r.startswith("专长") for r in frame["reasons_display"])
    assert frame["request"]["topic_name"] != "anxiety" and counselor
