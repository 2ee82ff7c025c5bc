"""Surge mode: staff declare a surge for a region and languages; the matching reserve-pool
counselors are called up (and only they), talk-now requests from the region go first, the home
page shows the banner with crisis lines, staff see k-anonymous live figures; ending it restores
the normal rules; every change is audited."""

import asyncio
import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from channels.layers import get_channel_layer
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from accounts.models import Notice, User
from core.exceptions import Conflict
from core.realtime import duty_group
from matching import services
from matching.models import MatchRequest, Offer, Surge, SurgeCall, SurgeEvent
from matching.selectors import surge_figures
from tests.conftest import api_as
from tests.factories import ClientFactory, CounselorProfileFactory, StaffFactory
from tests.matching.helpers import on_duty, talk_now

pytestmark = pytest.mark.django_db

HK = "Asia/Hong_Kong"


def declare(staff=None, **overrides) -> Surge:
    fields = {
        "region": "HK",
        "languages": ["yue", "zh"],
        "banner_en": "Typhoon: counselors are standing by.",
        "banner_zh": "台风期间，咨询师随时在线。",
        "ends_at": timezone.now() + dt.timedelta(days=2),
        **overrides,
    }
    return services.surge_declare(actor=staff or StaffFactory(), **fields)


def ask(client, **overrides) -> MatchRequest:
    fields = talk_now(**overrides)
    fields.pop("when")
    return services.match_request_create(client=client, **fields)


def api_body(**overrides) -> dict:
    return {
        "region": "HK",
        "languages": ["yue"],
        "banner_en": "Typhoon: counselors are standing by.",
        "banner_zh": "台风期间，咨询师随时在线。",
        "ends_at": (timezone.now() + dt.timedelta(days=1)).isoformat(),
        **overrides,
    }


# --- Who is called up ----------------------------------------------------------------------


def test_declaring_calls_up_only_matching_reserve_counselors():
    reserve = CounselorProfileFactory(reserve_pool=True, languages=["yue"])
    CounselorProfileFactory(reserve_pool=False, languages=["yue"])  # not in the pool
    CounselorProfileFactory(reserve_pool=True, languages=["en"])  # other language
    CounselorProfileFactory(reserve_pool=True, languages=["zh"], verification="pending")
    surge = declare(languages=["yue"])
    assert list(surge.calls.values_list("counselor_id", flat=True)) == [reserve.pk]


def test_a_specialty_narrows_the_call_up_to_counselors_who_have_it():
    grief = CounselorProfileFactory(reserve_pool=True, specialties=["grief"])
    CounselorProfileFactory(reserve_pool=True, specialties=["career"])
    surge = declare(specialty="grief")
    assert list(surge.calls.values_list("counselor_id", flat=True)) == [grief.pk]


def test_sending_mails_notices_and_pushes_each_call_once(django_capture_on_commit_callbacks):
    reserve = CounselorProfileFactory(reserve_pool=True, user__language="zh-hans")
    # The counselor's socket, on an event loop of its own: with the pub/sub layer a member
    # hears what is published while it is subscribed, as a real socket does.
    joined, pool = threading.Event(), ThreadPoolExecutor(1)

    async def socket():
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(duty_group(reserve.pk), channel)
        joined.set()
        return await asyncio.wait_for(layer.receive(channel), 10)

    received = pool.submit(asyncio.run, socket())
    assert joined.wait(10)
    surge = declare()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.surge_calls_send(surge_id=surge.pk) == 1
    assert services.surge_calls_send(surge_id=surge.pk) == 0  # the sender runs again
    assert [m.to for m in mail.outbox] == [[reserve.user.email]]
    assert "HK" in mail.outbox[0].subject
    notice = Notice.objects.get(user=reserve.user)
    assert notice.kind == "surge_call" and notice.params == {"region": "HK", "surge_id": surge.pk}
    assert SurgeCall.objects.get(surge=surge).status == "sent"
    event = received.result(timeout=15)
    pool.shutdown()
    assert event["frame"]["type"] == "surge.call"
    assert event["frame"]["surge"]["banner"] == surge.banner_zh


def test_calls_of_an_ended_surge_are_not_sent():
    CounselorProfileFactory(reserve_pool=True)
    surge = declare()
    services.surge_end(actor=StaffFactory(), surge_id=surge.pk)
    assert services.surge_calls_send(surge_id=surge.pk) == 0
    assert SurgeCall.objects.get(surge=surge).status == "pending"


# --- The queue -----------------------------------------------------------------------------


def test_a_surge_region_request_is_offered_first_although_newer():
    on_duty()
    older = ask(ClientFactory(timezone="Asia/Shanghai"))
    newer = ask(ClientFactory(timezone=HK))
    MatchRequest.objects.filter(pk=older.pk).update(
        created_at=timezone.now() - dt.timedelta(seconds=90)
    )
    assert (older.region, newer.region) == ("CN", "HK")
    declare()
    services.matching_round()
    assert Offer.objects.get(status="pending").request_id == newer.pk


def test_after_the_surge_ends_the_oldest_is_offered_first_again():
    on_duty()
    older = ask(ClientFactory(timezone="Asia/Shanghai"))
    ask(ClientFactory(timezone=HK))
    MatchRequest.objects.filter(pk=older.pk).update(
        created_at=timezone.now() - dt.timedelta(seconds=90)
    )
    surge = declare()
    services.surge_end(actor=StaffFactory(), surge_id=surge.pk)
    services.matching_round()
    assert Offer.objects.get(status="pending").request_id == older.pk


def test_a_surge_past_its_end_no_longer_prioritises():
    on_duty()
    older = ask(ClientFactory(timezone="Asia/Shanghai"))
    ask(ClientFactory(timezone=HK))
    MatchRequest.objects.filter(pk=older.pk).update(
        created_at=timezone.now() - dt.timedelta(seconds=90)
    )
    surge = declare()
    Surge.objects.filter(pk=surge.pk).update(
        starts_at=timezone.now() - dt.timedelta(hours=2),
        ends_at=timezone.now() - dt.timedelta(seconds=1),
    )
    services.matching_round()
    assert Offer.objects.get(status="pending").request_id == older.pk


def test_high_risk_still_comes_before_the_surge_region():
    on_duty()
    declare()
    ask(ClientFactory(timezone=HK))
    urgent = ask(ClientFactory(timezone="Asia/Shanghai"), note="I want to kill myself tonight")
    services.matching_round()
    assert Offer.objects.get(status="pending").request_id == urgent.pk


# --- Audit ---------------------------------------------------------------------------------


def test_declare_update_and_end_are_audited():
    staff = StaffFactory()
    surge = declare(staff)
    new_end = surge.ends_at + dt.timedelta(hours=6)
    services.surge_update(actor=staff, surge_id=surge.pk, banner_en="Still here.", ends_at=new_end)
    services.surge_end(actor=staff, surge_id=surge.pk)
    events = list(SurgeEvent.objects.filter(surge=surge))
    assert [(e.action, e.actor_id) for e in events] == [
        ("declare", staff.pk),
        ("update", staff.pk),
        ("end", staff.pk),
    ]
    assert events[0].changes["region"] == "HK"
    assert events[1].changes["banner_en"][1] == "Still here."
    assert "ends_at" in events[1].changes


def test_an_ended_surge_cannot_be_changed_or_ended_again():
    staff = StaffFactory()
    surge = declare(staff)
    services.surge_end(actor=staff, surge_id=surge.pk)
    with pytest.raises(Conflict):
        services.surge_end(actor=staff, surge_id=surge.pk)
    with pytest.raises(Conflict):
        services.surge_update(actor=staff, surge_id=surge.pk, banner_en="x")
    assert SurgeEvent.objects.filter(surge=surge).count() == 2


# --- The API: authz and bad input ----------------------------------------------------------


@pytest.mark.parametrize("who", ["client", "counselor"])
def test_clients_and_counselors_get_403(who, client_user, counselor):
    user = client_user if who == "client" else counselor.user
    api = api_as(user)
    assert api.get("/api/v1/surges/").status_code == 403
    assert api.post("/api/v1/surges/", api_body(), format="json").status_code == 403
    assert Surge.objects.count() == 0


def test_anonymous_gets_401(anon):
    assert anon.get("/api/v1/surges/").status_code == 401
    assert anon.post("/api/v1/surges/", api_body(), format="json").status_code == 401


def test_staff_declare_by_api_and_see_the_surge(as_staff):
    CounselorProfileFactory(reserve_pool=True, languages=["yue"])
    response = as_staff.post("/api/v1/surges/", api_body(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "live" and body["calls"]["pending"] + body["calls"]["sent"] == 1
    assert body["events"][0]["action"] == "declare"
    listed = as_staff.get("/api/v1/surges/").json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == body["id"]
    detail = as_staff.get(f"/api/v1/surges/{body['id']}/").json()
    assert detail["figures"]["counselors_on_duty"] == 0


@pytest.mark.parametrize(
    "field, value",
    [
        ("region", "ZZ"),
        ("languages", ["klingon"]),
        ("languages", []),
        ("banner_zh", ""),
        ("banner_en", "  "),
        ("ends_at", "2020-01-01T00:00:00+00:00"),
        ("specialty", "no-such-topic"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_changes_nothing(as_staff, field, value):
    CounselorProfileFactory(reserve_pool=True)
    response = as_staff.post("/api/v1/surges/", api_body(**{field: value}), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert (Surge.objects.count(), SurgeCall.objects.count(), SurgeEvent.objects.count()) == (
        0,
        0,
        0,
    )


def test_end_before_start_is_400(as_staff):
    start = timezone.now() + dt.timedelta(days=1)
    body = api_body(
        starts_at=start.isoformat(), ends_at=(start - dt.timedelta(hours=1)).isoformat()
    )
    response = as_staff.post("/api/v1/surges/", body, format="json")
    assert response.status_code == 400 and "ends_at" in response.json()
    assert Surge.objects.count() == 0


def test_patch_changes_the_banner_and_bad_patch_changes_nothing(as_staff, staff_user):
    surge = declare(staff_user)
    response = as_staff.patch(f"/api/v1/surges/{surge.pk}/", {"banner_en": "New"}, format="json")
    assert response.status_code == 200 and response.json()["banner_en"] == "New"
    bad = as_staff.patch(f"/api/v1/surges/{surge.pk}/", {"banner_zh": ""}, format="json")
    assert bad.status_code == 400 and "banner_zh" in bad.json()
    surge.refresh_from_db()
    assert surge.banner_zh == "台风期间，咨询师随时在线。"
    assert SurgeEvent.objects.filter(surge=surge).count() == 2


def test_end_by_api_then_409(as_staff, staff_user):
    surge = declare(staff_user)
    response = as_staff.post(f"/api/v1/surges/{surge.pk}/end/")
    assert response.status_code == 200 and response.json()["state"] == "ended"
    again = as_staff.post(f"/api/v1/surges/{surge.pk}/end/")
    assert again.status_code == 409 and again.json()["code"] == "surge_ended"


# --- Figures: k-anonymous ------------------------------------------------------------------


def test_figures_about_fewer_than_five_clients_are_suppressed():
    surge = declare()
    for _ in range(4):
        ask(ClientFactory(timezone=HK))
    figures = surge_figures(surge)
    assert figures["queue_length"] is None and figures["requests_last_hour"] is None
    assert figures["median_wait_seconds"] is None


def test_figures_about_five_clients_are_shown():
    surge = declare()
    on_duty(languages=["yue"])
    for _ in range(5):
        ask(ClientFactory(timezone=HK))
    ask(ClientFactory(timezone="Asia/Shanghai"))  # another region: not counted
    figures = surge_figures(surge)
    assert figures["queue_length"] == 5 and figures["requests_last_hour"] == 5
    assert figures["counselors_on_duty"] == 1


# --- Pages ---------------------------------------------------------------------------------


def browser(user=None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def test_home_shows_the_banner_with_crisis_lines_during_the_surge_and_not_after():
    staff = StaffFactory()
    surge = declare(staff)
    html = browser().get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'data-surge="{surge.pk}"' in html and surge.banner_en in html
    assert "2389 2222" in html  # the Samaritans Hong Kong
    services.surge_end(actor=staff, surge_id=surge.pk)
    assert "data-surge=" not in browser().get("/").content.decode()


def test_home_banner_is_in_the_readers_language():
    surge = declare()
    html = browser().get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert surge.banner_zh in html and surge.banner_en not in html


def test_staff_page_declares_and_shows_figures(staff_user):
    page = browser(staff_user)
    assert page.get("/staff/surges/").status_code == 200
    local_end = timezone.localtime(timezone.now() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = page.post(
        "/staff/surges/",
        {
            "region": "HK",
            "languages": ["yue"],
            "banner_zh": "台风",
            "banner_en": "Typhoon",
            "ends_at": local_end,
        },
    )
    assert response.status_code == 302
    surge = Surge.objects.get()
    html = page.get(f"/staff/surges/{surge.pk}/").content.decode()
    assert "data-figures" in html and "&lt;5" in html
    assert page.post(f"/staff/surges/{surge.pk}/end/").status_code == 302
    surge.refresh_from_db()
    assert surge.ended_at is not None


def test_staff_page_bad_input_is_400_and_changes_nothing(staff_user):
    response = browser(staff_user).post(
        "/staff/surges/", {"region": "HK", "languages": ["yue"], "banner_zh": "台风"}
    )
    assert response.status_code == 400
    assert Surge.objects.count() == 0


def test_staff_pages_are_403_for_counselors(counselor):
    assert browser(counselor.user).get("/staff/surges/").status_code == 403


def test_dashboard_shows_the_call_with_duty_and_windows_links():
    reserve = CounselorProfileFactory(reserve_pool=True)
    declare()
    html = browser(reserve.user).get("/counselor/").content.decode()
    assert "data-surge-call" in html
    assert "/counselor/duty/" in html and "/counselor/availability/" in html


def test_counselor_opts_into_the_reserve_pool_by_api(counselor, as_counselor):
    response = as_counselor.put(
        "/api/v1/counselors/me/reserve-pool/", {"reserve_pool": True}, format="json"
    )
    assert response.status_code == 200 and response.json() == {"reserve_pool": True}
    fresh = api_as(User.objects.get(pk=counselor.pk))  # not the fixture's cached profile
    assert fresh.get("/api/v1/counselors/me/").json()["reserve_pool"] is True
    bad = as_counselor.put("/api/v1/counselors/me/reserve-pool/", {}, format="json")
    assert bad.status_code == 400 and "reserve_pool" in bad.json()
    counselor.refresh_from_db()
    assert counselor.reserve_pool is True


def test_counselor_opts_in_from_the_page(counselor):
    page = browser(counselor.user)
    assert page.post("/counselor/reserve-pool/", {"reserve_pool": "1"}).status_code == 302
    counselor.refresh_from_db()
    assert counselor.reserve_pool is True


def test_service_rejects_non_staff(client_user):
    with pytest.raises(PermissionDenied):
        declare(client_user)
    with pytest.raises(ValidationError):
        declare(region="XX")


def test_profile_and_dashboard_show_the_reserve_pool_switch_for_the_current_state(counselor):
    page = browser(counselor.user)
    assert "Join the reserve pool" in page.get("/counselor/profile/").content.decode()
    page.post("/counselor/reserve-pool/", {"reserve_pool": "1", "next": "profile"})
    for path in ("/counselor/profile/", "/counselor/"):
        html = page.get(path).content.decode()
        assert "Leave the reserve pool" in html and "Join the reserve pool" not in html
