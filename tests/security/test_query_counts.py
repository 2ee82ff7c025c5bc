"""Every list endpoint of the API answers in a number of queries that does not grow with the
number of rows it lists: the same count for 1 row as for 10 (an N+1 would add 9). The list
endpoints are discovered from the served schema (a GET whose answer is an array or a page of
results), so a new one without a row in ROWS fails here until it has one.

Each row is made with its own related objects (another counselor, another client, another
booking) so that a relation read per row shows up as a query per row."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from drf_spectacular.settings import spectacular_settings

from accounts.models import User
from accounts.services import notice_send
from core.encryption import encrypt_text
from counselors.models import Credential, Specialty
from ethics.models import CrisisAlert, EthicsFlag, Referral, Resource, RiskCheck
from groups.services import group_join
from listening.models import Booking, SessionMessage, ToolkitEntry
from matching.models import MatchRequest, Offer, Surge
from packages.services import package_buy
from tests.conftest import api_as
from tests.factories import (
    BookingFactory,
    ClientFactory,
    CounselorProfileFactory,
    OfferingFactory,
    OneOffWindowFactory,
    PreferredCounselorFactory,
    StaffFactory,
    TimeOffFactory,
    ToolkitItemFactory,
    UserFactory,
    next_quarter,
)
from tests.groups.factories import open_group
from tests.packages.factories import make_package


def _list_endpoints() -> list[str]:
    # What /api/schema/ serves (SpectacularAPIView renders the configured generator's output).
    schema = spectacular_settings.DEFAULT_GENERATOR_CLASS().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]

    def resolve(node: dict) -> dict:
        while "$ref" in node:
            node = components[node["$ref"].rsplit("/", 1)[1]]
        return node

    found = []
    for path, operations in schema["paths"].items():
        answer = operations.get("get", {}).get("responses", {}).get("200", {})
        body = answer.get("content", {}).get("application/json", {}).get("schema")
        if body is None:
            continue
        body = resolve(body)
        if body.get("type") == "array" or "results" in body.get("properties", {}):
            found.append(path)
    return found


LIST_ENDPOINTS = _list_endpoints()


class World:
    """The personas, and the one object a list under a path belongs to."""

    def __init__(self):
        self.client = ClientFactory(username="q-alice")
        self.counselor = CounselorProfileFactory(user__username="q-chen")
        self.staff = StaffFactory(username="q-sam")
        self.supervisor = UserFactory(username="q-sue", role=User.Role.SUPERVISOR)
        start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=1)
        self.booking = BookingFactory(
            client=self.client,
            counselor=self.counselor,
            start=start,
            end=start + dt.timedelta(minutes=30),
        )
        self.resource = Resource.objects.first()
        self.specialty = Specialty.objects.first()

    def persona(self, role: str) -> User | None:
        return {
            "anon": None,
            "client": self.client,
            "counselor": self.counselor.user,
            "staff": self.staff,
            "supervisor": self.supervisor,
        }[role]


def _other_booking(world: World, i: int, **kwargs) -> Booking:
    """A booking of another client with another counselor, in the past by default."""
    start = next_quarter(days=-(i + 2))
    kwargs.setdefault("client", ClientFactory())
    kwargs.setdefault("counselor", CounselorProfileFactory())
    return BookingFactory(start=start, end=start + dt.timedelta(minutes=30), **kwargs)


def _message(world: World, i: int):
    SessionMessage.objects.create(
        booking=world.booking,
        seq=i + 1,
        uid=uuid.uuid4(),
        sender=world.client if i % 2 else world.counselor.user,
        ciphertext=encrypt_text(f"message {i}"),
        sent_at=timezone.now(),
    )
    Booking.objects.filter(pk=world.booking.pk).update(message_seq=i + 1)


def _risk_check(world: World, i: int):
    RiskCheck.objects.create(
        booking=world.booking,
        counselor=world.counselor.user,
        q1_wish_dead=False,
        q2_thoughts=False,
        q6_behavior=False,
        outcome=RiskCheck.Outcome.NONE,
        created_at=timezone.now() - dt.timedelta(minutes=i),
    )


def _booking(world: World, i: int):
    start = next_quarter(days=i + 1)
    BookingFactory(
        client=world.client,
        counselor=CounselorProfileFactory(),
        start=start,
        end=start + dt.timedelta(minutes=30),
    )


def _listed_counselor(world: World, i: int):
    profile = CounselorProfileFactory(specialties=["anxiety", "grief"])
    OneOffWindowFactory(counselor=profile, start=next_quarter(days=1))


def _window(world: World, i: int):
    start = next_quarter(days=i + 2).replace(minute=0)
    OneOffWindowFactory(counselor=world.counselor, start=start, end=start + dt.timedelta(hours=2))


def _slot_day(world: World, i: int):
    """Another day with a window and a booking in it: more windows and bookings to read."""
    start = next_quarter(days=1 + i % 6).replace(hour=i, minute=0)
    OneOffWindowFactory(counselor=world.counselor, start=start, end=start + dt.timedelta(hours=1))
    BookingFactory(
        counselor=world.counselor,
        client=ClientFactory(),
        start=start,
        end=start + dt.timedelta(minutes=15),
        duration_minutes=15,
    )


def _credential(world: World, i: int):
    Credential.objects.create(
        counselor=world.counselor,
        licence_type=f"licence {i}",
        number=f"N-{i}",
        issuing_body="board",
    )


def _time_off(world: World, i: int):
    day = timezone.now().date() + dt.timedelta(days=20 + 2 * i)
    TimeOffFactory(counselor=world.counselor, start_date=day, end_date=day)


def _crisis_alert(world: World, i: int):
    booking = _other_booking(world, i)
    CrisisAlert.objects.create(
        client=booking.client,
        booking=booking,
        source=CrisisAlert.Source.CHAT,
        reasons=["client: a signal"],
        created_at=timezone.now(),
    )


def _flag(world: World, i: int):
    booking = _other_booking(world, i)
    EthicsFlag.objects.create(
        kind=EthicsFlag.Kind.COMPLAINT,
        booking=booking,
        counselor=booking.counselor,
        summary="a flag",
    )


def _flag_about_me(world: World, i: int):
    booking = _other_booking(world, i, counselor=world.counselor)
    EthicsFlag.objects.create(
        kind=EthicsFlag.Kind.QUALITY,
        booking=booking,
        counselor=world.counselor,
        summary="a flag",
        status=EthicsFlag.Status.RESOLVED,
        resolved_at=timezone.now(),
    )


def _match_request(world: World, i: int, client: User | None = None) -> MatchRequest:
    """The client's first request is open; the earlier ones ended (one open at a time)."""
    now = timezone.now()
    return MatchRequest.objects.create(
        client=client or world.client,
        topic="anxiety",
        mode="text",
        language="zh",
        duration_minutes=15,
        when="now",
        created_at=now,
        deadline_at=now + dt.timedelta(minutes=3),
        status=MatchRequest.Status.OFFERED if i == 0 else MatchRequest.Status.NO_MATCH,
    )


def _offer(world: World, i: int):
    now = timezone.now()
    Offer.objects.create(
        request=_match_request(world, 0, client=ClientFactory()),
        counselor=world.counselor,
        # One pending offer at a time; the others were declined.
        status=Offer.Status.PENDING if i == 0 else Offer.Status.DECLINED,
        reasons=["specialty: anxiety", "speaks zh"],  # as the scoring gives them
        score=1.0,
        created_at=now,
        expires_at=now + dt.timedelta(seconds=45),
    )


def _met_counselor(world: World, i: int):
    booking = _other_booking(world, i, client=world.client, status=Booking.Status.COMPLETED)
    if i % 2:
        PreferredCounselorFactory(client=world.client, counselor=booking.counselor)


def _toolkit_entry(world: World, i: int):
    booking = _other_booking(world, i, client=world.client)
    now = timezone.now()
    ToolkitEntry.objects.create(
        client=world.client,
        item=ToolkitItemFactory(owner=booking.counselor),
        booking=booking,
        ciphertext=encrypt_text(json.dumps({"prompt": f"entry {i}"})),
        shared_at=now if i % 2 else None,
        created_at=now,
        updated_at=now,
    )


def _notice(world: World, i: int):
    notice_send(user=world.client, kind="session_cancelled", params={})


def _referral(world: World, i: int):
    booking = _other_booking(world, i, client=world.client)
    Referral.objects.create(
        booking=booking,
        counselor=booking.counselor,
        client=world.client,
        resource=world.resource,
        reason="longer-term care",
    )


def _resource(world: World, i: int):
    Resource.objects.create(
        kind=Resource.Kind.HOTLINE,
        name=f"Line {i}",
        region="CN",
        language="zh",
        contact=f"400-000-{i:04d}",
        source="test",
        last_verified=timezone.now().date(),
    )


def _specialty(world: World, i: int):
    specialty = Specialty.objects.create(slug=f"q-topic-{i}", name_en=f"T{i}", name_zh=f"T{i}")
    specialty.related.add(world.specialty)


def _surge(world: World, i: int):
    now = timezone.now()
    Surge.objects.create(
        region="HK",
        languages=["zh"],
        specialty=world.specialty,
        banner_en="b",
        banner_zh="b",
        starts_at=now - dt.timedelta(minutes=i),
        ends_at=now + dt.timedelta(hours=1),
        declared_by=StaffFactory(),
        created_at=now,
    )


def _offering(world: World, i: int):
    """A published offering of another counselor, with its own item and a topic."""
    counselor = CounselorProfileFactory()
    offering = OfferingFactory(counselor=counselor, items=[ToolkitItemFactory(owner=counselor)])
    offering.specialties.add(world.specialty)


def _own_offering(world: World, i: int):
    offering = OfferingFactory(
        counselor=world.counselor, items=[ToolkitItemFactory(owner=world.counselor)]
    )
    offering.specialties.add(world.specialty)


def _library_item(world: World, i: int):
    ToolkitItemFactory(owner=None, slug=f"q-library-{i}")


def _own_toolkit_item(world: World, i: int):
    ToolkitItemFactory(owner=world.counselor)


@dataclass(frozen=True)
class Rows:
    role: str  # who asks for the list
    make: Callable[[World, int], object]  # adds the i-th row that the role sees
    path_object: str | None = None  # the World attribute whose pk fills {id}


def _group(world: World, i: int):
    """A group of another counselor, open for seats, with one seat taken by another client."""
    group = open_group(CounselorProfileFactory(), capacity=3)
    group_join(group_id=group.pk, client=ClientFactory())


def _package(world: World, i: int):
    make_package(CounselorProfileFactory().user, title_en=f"Package {i}")


def _purchase(world: World, i: int):
    package = make_package(CounselorProfileFactory().user, title_en=f"Package {i}")
    package_buy(client=world.client, package_id=package.pk)


ROWS: dict[str, Rows] = {
    "/api/v1/bookings/": Rows("client", _booking),
    "/api/v1/bookings/{id}/messages/": Rows("client", _message, "booking"),
    "/api/v1/bookings/{id}/risk-check/": Rows("counselor", _risk_check, "booking"),
    "/api/v1/counselors/": Rows("client", _listed_counselor),
    "/api/v1/counselors/{id}/slots/": Rows("client", _slot_day, "counselor"),
    "/api/v1/counselors/me/credentials/": Rows("counselor", _credential),
    "/api/v1/counselors/me/offerings/": Rows("counselor", _own_offering),
    "/api/v1/counselors/me/time-off/": Rows("counselor", _time_off),
    "/api/v1/counselors/me/toolkit-items/": Rows("counselor", _own_toolkit_item),
    "/api/v1/counselors/me/windows/": Rows("counselor", _window),
    "/api/v1/crisis/alerts/": Rows("supervisor", _crisis_alert),
    "/api/v1/ethics/flags/": Rows("staff", _flag),
    "/api/v1/ethics/flags/mine/": Rows("counselor", _flag_about_me),
    "/api/v1/match-requests/": Rows("client", _match_request),
    "/api/v1/my-counselors/": Rows("client", _met_counselor),
    "/api/v1/notices/": Rows("client", _notice),
    "/api/v1/offers/": Rows("counselor", _offer),
    "/api/v1/offerings/": Rows("anon", _offering),
    "/api/v1/referrals/": Rows("client", _referral),
    "/api/v1/resources/": Rows("anon", _resource),
    "/api/v1/specialties/": Rows("anon", _specialty),
    "/api/v1/surges/": Rows("staff", _surge),
    "/api/v1/toolkit/entries/": Rows("client", _toolkit_entry),
    "/api/v1/toolkits/": Rows("anon", _library_item),
    "/api/v1/group-sessions/": Rows("client", _group),
    "/api/v1/packages/": Rows("anon", _package),
    "/api/v1/packages/purchases/": Rows("client", _purchase),
}


def test_every_list_endpoint_has_rows_and_every_row_an_endpoint():
    assert sorted(set(LIST_ENDPOINTS) - ROWS.keys()) == [], "list endpoints with no ROWS entry"
    assert sorted(ROWS.keys() - set(LIST_ENDPOINTS)) == [], "ROWS entries naming no endpoint"


def _count(api, path: str) -> tuple[int, int, list[str]]:
    """(queries, items listed, their SQL)."""
    with CaptureQueriesContext(connection) as queries:
        response = api.get(path)
    assert response.status_code == 200, (path, response.status_code, response.content[:300])
    body = response.json()
    items = body["count"] if isinstance(body, dict) else len(body)
    return len(queries), items, [q["sql"] for q in queries.captured_queries]


@pytest.mark.parametrize("endpoint", sorted(ROWS))
def test_list_query_count_is_constant_in_the_rows(endpoint, db):
    world = World()
    rows = ROWS[endpoint]
    path = endpoint
    if rows.path_object:
        path = path.replace("{id}", str(getattr(world, rows.path_object).pk))
    api = api_as(world.persona(rows.role))
    rows.make(world, 0)
    api.get(path)  # warm what is read once per process (content types, translations)
    one, items_one, _ = _count(api, path)
    for i in range(1, 10):
        rows.make(world, i)
    ten, items_ten, sql = _count(api, path)
    assert items_ten >= items_one + 9, f"{endpoint}: the new rows are not listed"
    assert ten == one, f"{endpoint}: {one} queries for 1 row, {ten} for 10:\n" + "\n".join(
        q[:160] for q in sql
    )
