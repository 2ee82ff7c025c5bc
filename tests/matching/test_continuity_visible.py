"""Visible continuity: a counselor the client has met or marked as preferred who is on duty
now is named on the talk-now page and in the API; the engine weighs a preferred counselor at
least as much as a past one, and "someone new" still rules both out."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from matching import services
from matching.models import MatchRequest, Offer
from matching.scoring import CounselorFacts, RequestFacts, Weights, score
from tests.conftest import api_as
from tests.factories import (
    BookingFactory,
    ClientFactory,
    CounselorProfileFactory,
    FeedbackFactory,
    PreferredCounselorFactory,
)
from tests.matching.helpers import on_duty, talk_now

pytestmark = pytest.mark.django_db


def met(client, counselor, **kwargs):
    """A past session of the client with the counselor."""
    start = timezone.now() - dt.timedelta(days=3)
    return BookingFactory(
        client=client, counselor=counselor, start=start, status="completed", **kwargs
    )


def browser(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def ask(client, **overrides) -> MatchRequest:
    fields = talk_now(**overrides)
    fields.pop("when")
    return services.match_request_create(client=client, **fields)


# --- Scoring (pure) --------------------------------------------------------------------------


def facts(**kwargs) -> RequestFacts:
    return RequestFacts(topic="anxiety", mode="text", language="zh", **kwargs)


COUNSELOR = CounselorFacts(id=7, modes=frozenset({"text"}), languages=frozenset({"zh"}))


def test_a_preferred_counselor_weighs_at_least_as_much_as_a_past_one():
    weights = Weights()
    preferred = score(facts(preferred_counselors=frozenset({7})), COUNSELOR, weights, mean_offers=0)
    past = score(facts(past_counselor_ratings={7: 5}), COUNSELOR, weights, mean_offers=0)
    stranger = score(facts(), COUNSELOR, weights, mean_offers=0)
    assert preferred.value >= past.value > stranger.value
    assert "your preferred counselor" in preferred.reasons


def test_someone_new_rules_out_a_preferred_counselor():
    request = facts(preferred_counselors=frozenset({7}), wants_someone_new=True)
    assert not score(request, COUNSELOR, Weights(), mean_offers=0).eligible


def test_a_round_offers_the_preferred_counselor(client_user):
    stranger = on_duty()
    preferred = on_duty()
    FeedbackFactory(booking__counselor=stranger, rating=5)  # a better-rated stranger
    PreferredCounselorFactory(client=client_user, counselor=preferred)
    request = ask(client_user)
    services.matching_round()
    assert Offer.objects.get(request=request).counselor_id == preferred.pk


# --- Shown -------------------------------------------------------------------------------------


def test_talk_now_page_names_the_met_counselor_on_duty(client_user):
    lin = on_duty(display_name="Lin")
    met(client_user, lin)
    html = browser(client_user).get("/talk-now/").content.decode()
    assert "Your previous counselor Lin is on duty now." in html
    assert 'name="wants_someone_new"' in html


def test_a_counselor_never_met_is_not_named(client_user):
    on_duty(display_name="Lin")
    other = ClientFactory()
    met(other, CounselorProfileFactory(display_name="Mei"))
    html = browser(client_user).get("/talk-now/").content.decode()
    assert "data-continuity" not in html and "Lin" not in html


def test_a_cancelled_booking_is_not_a_meeting(client_user):
    lin = on_duty(display_name="Lin")
    met(client_user, lin).__class__.objects.filter(client=client_user).update(status="cancelled")
    assert "data-continuity" not in browser(client_user).get("/talk-now/").content.decode()


def test_a_met_counselor_off_duty_is_not_named(client_user):
    met(client_user, CounselorProfileFactory(display_name="Lin"))
    assert "data-continuity" not in browser(client_user).get("/talk-now/").content.decode()


def test_a_preferred_counselor_is_named_as_preferred(client_user):
    PreferredCounselorFactory(client=client_user, counselor=on_duty(display_name="Lin"))
    html = browser(client_user).get("/talk-now/").content.decode()
    assert "Your preferred counselor Lin is on duty now." in html


def test_waiting_page_names_the_met_counselor(client_user):
    lin = on_duty(display_name="Lin")
    met(client_user, lin)
    request = ask(client_user)
    html = browser(client_user).get(f"/talk-now/{request.pk}/").content.decode()
    assert "Your previous counselor Lin is on duty now." in html


def test_waiting_page_says_nothing_when_the_client_asked_for_someone_new(client_user):
    met(client_user, on_duty(display_name="Lin"))
    request = ask(client_user, wants_someone_new=True)
    html = browser(client_user).get(f"/talk-now/{request.pk}/").content.decode()
    assert "data-continuity" not in html


def test_api_continuity_endpoint_and_request_field(client_user):
    lin = on_duty(display_name="Lin")
    met(client_user, lin)
    api = api_as(client_user)
    assert api.get("/api/v1/talk-now/continuity/").json() == {
        "on_duty": [{"counselor": lin.pk, "display_name": "Lin", "preferred": False}]
    }
    assert api.get("/api/v1/talk-now/continuity/?language=fr").json() == {"on_duty": []}
    assert api.get("/api/v1/talk-now/continuity/?mode=carrier-pigeon").status_code == 400
    request = ask(client_user)
    body = api.get(f"/api/v1/match-requests/{request.pk}/").json()
    assert body["continuity"] == [{"counselor": lin.pk, "display_name": "Lin", "preferred": False}]


def test_continuity_endpoint_is_for_clients(counselor, anon):
    assert api_as(counselor.user).get("/api/v1/talk-now/continuity/").status_code == 403
    assert anon.get("/api/v1/talk-now/continuity/").status_code == 401
