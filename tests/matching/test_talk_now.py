"""Talk now: rounds offer waiting requests to free on-duty counselors; accept makes a booking
starting now; decline and timeouts move on; nobody free for 3 minutes ends as no_match."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from listening.models import Booking
from matching import services
from matching.models import MatchRequest, Offer, Presence
from tests.conftest import api_as
from tests.factories import BookingFactory, ClientFactory, CounselorProfileFactory, FeedbackFactory
from tests.matching.helpers import on_duty, talk_now

pytestmark = pytest.mark.django_db


def ask(client=None, **overrides) -> MatchRequest:
    client = client or ClientFactory()
    fields = talk_now(**overrides)
    fields.pop("when")
    return services.match_request_create(client=client, **fields)


def offer_of(request: MatchRequest) -> Offer:
    return Offer.objects.get(request=request, status=Offer.Status.PENDING)


def test_round_offers_a_request_to_an_on_duty_counselor():
    counselor = on_duty()
    request = ask()
    assert len(services.matching_round()) == 1
    request.refresh_from_db()
    assert request.status == "offered"
    offer = offer_of(request)
    assert offer.counselor_id == counselor.pk
    assert offer.expires_at - offer.created_at == dt.timedelta(seconds=45)
    assert "specialty: anxiety" in offer.reasons


def test_nobody_on_duty_leaves_the_request_pending():
    CounselorProfileFactory()
    request = ask()
    assert services.matching_round() == []
    request.refresh_from_db()
    assert request.status == "pending"


def test_counselor_without_a_heartbeat_for_60_seconds_is_off_duty():
    on_duty(seen_seconds_ago=61)
    ask()
    assert services.matching_round() == []


def test_counselor_not_offering_the_mode_or_language_is_not_offered():
    on_duty(modes=["text"], languages=["en"])
    ask(mode="video")
    ask(language="zh")
    assert services.matching_round() == []


def test_unverified_counselor_is_not_offered():
    on_duty(verification="pending")
    ask()
    assert services.matching_round() == []


def test_counselor_in_a_session_is_not_offered():
    counselor = on_duty()
    now = timezone.now()
    BookingFactory(counselor=counselor, start=now - dt.timedelta(minutes=5), duration_minutes=15)
    ask()
    assert services.matching_round() == []


def test_counselor_about_to_start_a_session_is_not_offered():
    counselor = on_duty()
    start = timezone.now() + dt.timedelta(minutes=15)
    BookingFactory(counselor=counselor, start=start, duration_minutes=15)
    ask(duration_minutes=15)
    assert services.matching_round() == []


def test_counselor_at_daily_cap_is_not_offered():
    counselor = on_duty(daily_cap=1)
    start = timezone.now() + dt.timedelta(hours=3)
    if (
        start.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
        != timezone.now().astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    ):
        start = timezone.now() - dt.timedelta(hours=1)  # stay on today's local date in Shanghai
    BookingFactory(counselor=counselor, start=start, duration_minutes=15)
    ask()
    assert services.matching_round() == []


def test_counselor_with_a_pending_offer_gets_no_second_one():
    on_duty()
    ask(), ask()
    assert len(services.matching_round()) == 1
    assert services.matching_round() == []


def test_accept_creates_a_booking_starting_now_and_matches_the_request():
    counselor = on_duty()
    request = ask(duration_minutes=30, mode="voice")
    services.matching_round()
    offer = offer_of(request)
    response = api_as(counselor.user).post(f"/api/v1/offers/{offer.pk}/accept/")
    assert response.status_code == 200, response.data
    request.refresh_from_db()
    assert request.status == "matched"
    booking = request.booking
    assert booking.counselor_id == counselor.pk and booking.client_id == request.client_id
    assert booking.status == Booking.Status.CONFIRMED and booking.mode == "voice"
    assert abs((booking.start - timezone.now()).total_seconds()) < 5
    assert booking.end - booking.start == dt.timedelta(minutes=30)
    assert response.data["booking"] == booking.pk
    client_view = api_as(request.client).get(f"/api/v1/match-requests/{request.pk}/").data
    assert client_view["status"] == "matched" and client_view["booking"] == booking.pk


def test_another_counselor_gets_404_for_an_offer():
    on_duty()
    request = ask()
    services.matching_round()
    other = CounselorProfileFactory()
    assert (
        api_as(other.user).post(f"/api/v1/offers/{offer_of(request).pk}/accept/").status_code == 404
    )


def test_client_gets_403_on_offers(as_client):
    assert as_client.get("/api/v1/offers/").status_code == 403


def test_counselor_lists_own_offers_pending_first():
    counselor = on_duty()
    request = ask()
    services.matching_round()
    data = api_as(counselor.user).get("/api/v1/offers/").data
    assert data["count"] == 1
    assert data["results"][0]["id"] == offer_of(request).pk
    assert data["results"][0]["request"]["topic"] == "anxiety"


def test_decline_moves_the_request_to_the_next_counselor(django_capture_on_commit_callbacks):
    first = on_duty(specialties=["anxiety"])
    second = on_duty(specialties=["career"])
    request = ask()
    services.matching_round()
    assert offer_of(request).counselor_id == first.pk
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(first.user).post(f"/api/v1/offers/{offer_of(request).pk}/decline/")
    assert response.status_code == 200
    assert offer_of(request).counselor_id == second.pk


def test_declined_request_is_never_offered_to_the_same_counselor_again():
    counselor = on_duty()
    request = ask()
    services.matching_round()
    services.offer_decline(counselor=counselor.user, offer_id=offer_of(request).pk)
    assert services.matching_round() == []
    request.refresh_from_db()
    assert request.status == "pending"


def test_accepting_a_declined_offer_gets_409():
    counselor = on_duty()
    request = ask()
    services.matching_round()
    offer = offer_of(request)
    services.offer_decline(counselor=counselor.user, offer_id=offer.pk)
    response = api_as(counselor.user).post(f"/api/v1/offers/{offer.pk}/accept/")
    assert response.status_code == 409
    assert response.data["code"] == "offer_declined"


def test_accepting_after_45_seconds_gets_409_and_makes_no_booking():
    counselor = on_duty()
    request = ask()
    services.matching_round()
    offer = offer_of(request)
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=46), tick=False):
        response = api_as(counselor.user).post(f"/api/v1/offers/{offer.pk}/accept/")
    assert response.status_code == 409
    assert response.data["code"] == "offer_expired"
    assert not Booking.objects.exists()


def test_timed_out_offer_returns_the_request_to_the_queue():
    on_duty()
    request = ask()
    services.matching_round()
    offer = offer_of(request)
    assert services.offer_expire(offer_id=offer.pk) is False, "not before its time"
    with time_machine.travel(offer.expires_at + dt.timedelta(seconds=1), tick=False):
        assert services.offer_expire(offer_id=offer.pk) is True
        assert services.offer_expire(offer_id=offer.pk) is False, "idempotent"
    offer.refresh_from_db()
    request.refresh_from_db()
    assert offer.status == "expired" and request.status == "pending"


def test_three_timeouts_in_a_row_take_the_counselor_off_duty():
    counselor = on_duty()
    t = timezone.now()
    for n in range(3):
        with time_machine.travel(t, tick=False):
            on_duty(counselor) if n else None
            request = ask()
            services.matching_round()
            offer = offer_of(request)
        t = offer.expires_at + dt.timedelta(seconds=1)
        with time_machine.travel(t, tick=False):
            services.offer_expire(offer_id=offer.pk)
            services.match_request_cancel(client=request.client, request_id=request.pk)
        presence = Presence.objects.get(pk=counselor.pk)
        assert presence.missed_in_a_row == n + 1
        assert presence.online is (n < 2)


def test_an_accepted_offer_resets_the_timeout_count():
    counselor = on_duty()
    Presence.objects.filter(pk=counselor.pk).update(missed_in_a_row=2)
    request = ask()
    services.matching_round()
    services.offer_accept(counselor=counselor.user, offer_id=offer_of(request).pk)
    assert Presence.objects.get(pk=counselor.pk).missed_in_a_row == 0


def test_going_off_duty_withdraws_the_pending_offer():
    counselor = on_duty()
    request = ask()
    services.matching_round()
    offer = offer_of(request)
    services.presence_set(counselor=counselor.user, online=False)
    offer.refresh_from_db()
    request.refresh_from_db()
    assert offer.status == "withdrawn" and request.status == "pending"


def test_client_cancelling_withdraws_the_offer():
    counselor = on_duty()
    request = ask()
    services.matching_round()
    offer = offer_of(request)
    services.match_request_cancel(client=request.client, request_id=request.pk)
    offer.refresh_from_db()
    assert offer.status == "withdrawn"
    assert api_as(counselor.user).post(f"/api/v1/offers/{offer.pk}/accept/").status_code == 409


def test_accept_when_the_client_is_already_in_a_session_withdraws_and_requeues():
    counselor = on_duty()
    request = ask()
    now = timezone.now()
    BookingFactory(client=request.client, start=now - dt.timedelta(minutes=1), duration_minutes=15)
    services.matching_round()
    offer = offer_of(request)
    response = api_as(counselor.user).post(f"/api/v1/offers/{offer.pk}/accept/")
    assert response.status_code == 409
    assert response.data["code"] == "client_overlap"
    offer.refresh_from_db()
    request.refresh_from_db()
    assert offer.status == "withdrawn" and request.status == "pending"
    assert Booking.objects.filter(counselor=counselor).count() == 0


def test_request_still_waiting_after_3_minutes_ends_as_no_match_with_suggestions():
    from tests.factories import WeeklyWindowFactory

    offline = CounselorProfileFactory(specialties=["anxiety"])
    for weekday in range(7):
        WeeklyWindowFactory(counselor=offline, weekday=weekday)
    request = ask()
    assert services.match_request_expire(request_id=request.pk) is False, "not before the deadline"
    with time_machine.travel(request.deadline_at + dt.timedelta(seconds=1), tick=False):
        assert services.match_request_expire(request_id=request.pk) is True
    request.refresh_from_db()
    assert request.status == "no_match"
    assert request.suggestions and request.suggestions[0]["counselor"] == offline.pk
    assert request.hotlines == []


def test_no_match_for_a_risky_request_always_carries_hotlines():
    request = ask(note="我不想活了")
    with time_machine.travel(request.deadline_at + dt.timedelta(seconds=1), tick=False):
        services.match_request_expire(request_id=request.pk)
    request.refresh_from_db()
    assert request.status == "no_match" and request.hotlines


def test_offer_timing_out_after_the_deadline_closes_the_request_as_no_match():
    on_duty()
    request = ask()
    services.matching_round()
    offer = offer_of(request)
    with time_machine.travel(request.deadline_at + dt.timedelta(seconds=60), tick=False):
        services.offer_expire(offer_id=offer.pk)
    request.refresh_from_db()
    assert request.status == "no_match"


def test_high_risk_request_goes_to_a_crisis_trained_counselor_first():
    plain = on_duty(specialties=["anxiety"])  # the better topic fit
    trained = on_duty(specialties=["career"], crisis_trained=True)
    request = ask(note="I wrote goodbye letters to my family and I have the pills ready")
    services.matching_round()
    assert request.__class__.objects.get(pk=request.pk).risk == "high"
    assert offer_of(request).counselor_id == trained.pk
    assert plain.pk != trained.pk


def test_high_risk_intake_puts_the_request_first_in_line():
    from accounts.models import Intake

    on_duty()
    calm = ask()
    risky_client = ClientFactory()
    Intake.objects.filter(user=risky_client).update(item9=2, risk="high")
    risky = ask(client=risky_client)
    services.matching_round()
    assert offer_of(risky)
    calm.refresh_from_db()
    assert calm.status == "pending"


def test_batch_gives_the_specialist_to_the_request_only_they_can_serve():
    """First come, first served would give the grief specialist to the earlier anxiety request;
    the batch serves both requests with a specialist each."""
    both = on_duty(specialties=["anxiety", "grief"])
    anxiety_only = on_duty(specialties=["anxiety"])
    early = ask(topic="anxiety")
    late = ask(topic="grief")
    services.matching_round()
    assert offer_of(early).counselor_id == anxiety_only.pk
    assert offer_of(late).counselor_id == both.pk


def test_client_asking_for_someone_new_is_not_offered_a_past_counselor():
    past = on_duty()
    client = ClientFactory()
    FeedbackFactory(
        booking__client=client,
        booking__counselor=past,
        booking__start=timezone.now() - dt.timedelta(days=3),
        rating=5,
    )
    ask(client=client, wants_someone_new=True)
    assert services.matching_round() == []


def test_past_counselor_rated_well_is_preferred():
    past = on_duty(specialties=["career"])
    on_duty(specialties=["career"])
    client = ClientFactory()
    FeedbackFactory(
        booking__client=client,
        booking__counselor=past,
        booking__start=timezone.now() - dt.timedelta(days=3),
        rating=5,
    )
    request = ask(client=client)
    services.matching_round()
    offer = offer_of(request)
    assert offer.counselor_id == past.pk
    assert "your past counselor" in offer.reasons


def test_suspending_a_counselor_withdraws_their_offer_and_ends_duty():
    from oversight.services import counselor_suspend as _counselor_suspend

    counselor = on_duty()
    request = ask()
    services.matching_round()
    offer = offer_of(request)
    _counselor_suspend(profile=counselor, now=timezone.now(), reason="test")
    offer.refresh_from_db()
    assert offer.status == "withdrawn"
    assert Presence.objects.get(pk=counselor.pk).online is False
    request.refresh_from_db()
    assert request.status == "pending"


def test_scheduled_request_gets_ranked_counselor_and_slot_suggestions():
    from tests.factories import WeeklyWindowFactory, next_quarter

    fit = CounselorProfileFactory(specialties=["grief"])
    other = CounselorProfileFactory(specialties=["career"])
    for profile in (fit, other):
        for weekday in range(7):
            WeeklyWindowFactory(
                counselor=profile,
                weekday=weekday,
                start_time=dt.time(0, 0),
                end_time=dt.time(23, 45),
            )
    earliest = next_quarter(days=1)
    request = services.match_request_create(
        client=ClientFactory(),
        topic="grief",
        mode="video",
        language="en",
        duration_minutes=30,
        when="scheduled",
        earliest=earliest,
        latest=earliest + dt.timedelta(days=2),
    )
    assert services.match_request_suggest(request_id=request.pk) is True
    request.refresh_from_db()
    assert request.status == "suggested"
    assert [s["counselor"] for s in request.suggestions][:2] == [fit.pk, other.pk]
    first = request.suggestions[0]
    assert dt.datetime.fromisoformat(first["start"]) >= earliest
    assert "specialty: grief" in first["reasons"]
    view = api_as(request.client).get(f"/api/v1/match-requests/{request.pk}/").data
    assert view["suggestions"][0]["counselor"] == fit.pk
    assert view["when"]["earliest"]


def test_note_close_to_a_bio_tips_the_choice():
    on_duty(specialties=["stress"], bio="Career changes and workplace conflict.")
    sleep = on_duty(
        specialties=["stress"], bio="我专注于失眠、睡眠问题和夜间焦虑。Insomnia and sleep."
    )
    request = ask(topic="stress", note="最近总是失眠，晚上睡不着")
    services.matching_round()
    offer = offer_of(request)
    assert offer.counselor_id == sleep.pk
    assert "close to what you wrote" in offer.reasons


def test_without_the_note_fit_the_engine_still_matches(settings):
    settings.MATCHING_NOTE_FIT = ""
    on_duty()
    request = ask(note="最近总是失眠")
    assert len(services.matching_round()) == 1
    assert "close to what you wrote" not in offer_of(request).reasons


def test_deleting_the_account_cancels_open_requests_and_erases_notes():
    from workflows.services import user_delete

    counselor = on_duty()
    request = ask(note="something private")
    services.matching_round()
    user_delete(user_id=request.client_id)
    request.refresh_from_db()
    assert request.status == "cancelled" and bytes(request.note_ciphertext) == b""
    assert Offer.objects.get(request=request).status == "withdrawn"
    assert counselor


def test_deleting_a_counselor_account_ends_their_duty():
    from workflows.services import user_delete

    counselor = on_duty()
    user_delete(user_id=counselor.pk)
    assert Presence.objects.get(pk=counselor.pk).online is False
