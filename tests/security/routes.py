"""The routes of the authorization matrix: every HTTP route discovered from the URL conf and
every WebSocket route from config/routing.py, the methods each answers, the scene of objects
their placeholders name, and the personas that call them."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.contrib.auth.views import LogoutView
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.views import APIView

from accounts.models import User
from accounts.services import notice_send, unsubscribe_token_make
from core.encryption import encrypt, encrypt_text
from counselors.models import ToolkitItem
from ethics.models import CrisisAlert, EthicsFlag, Referral, Resource
from groups.models import GroupSession
from groups.services import group_create, group_join
from insights.services import insights_materialise
from listening.feeds import calendar_feed_create
from listening.models import SessionMessage, ToolkitEntry
from matching.models import MatchRequest, Offer, Surge
from organisations.services import allowance_claim
from packages.services import package_buy, package_create
from tests.factories import (
    BookingFactory,
    ClientFactory,
    CounselorProfileFactory,
    OfferingFactory,
    OneOffWindowFactory,
    StaffFactory,
    TimeOffFactory,
    UserFactory,
    next_quarter,
)
from tests.organisations.factories import (
    AllowanceFactory,
    MembershipFactory,
    OrganisationAdminFactory,
)

ROLES = (
    "anon",
    "client",
    "other_client",
    "counselor",
    "other_counselor",
    "supervisor",
    "staff",
    "org_admin",
)

# Written into every private field of the scene: no answer to anyone who owns none of it may
# carry it (a list that leaks another user's rows answers 200 all the same).
PRIVATE = "zz-private"

TABLE = Path(__file__).with_name("authorization_matrix.txt")
# A real guided audio (the starter library's), for the counselor's own audio item.
LIBRARY_OGG = Path(__file__).resolve().parents[2] / "counselors/library/box-breathing-en.ogg"

# Routes the matrix does not walk, each with the reason. Everything else must have rows.
EXCLUDED_PREFIXES = {
    "admin/": "Django's own admin: is_staff + its own permission checks, tested by Django",
    "api/schema/": "the public OpenAPI schema (no object, no role)",
    "api/docs/": "Swagger UI for the public schema (no object, no role)",
    "i18n/": "Django's set_language view (a cookie, no object, no role)",
}


@dataclass(frozen=True)
class Route:
    name: str  # namespace:name (or the pattern itself when unnamed)
    pattern: str  # the full pattern, e.g. api/v1/bookings/<int:pk>/
    callback: object
    default_kwargs: dict

    @property
    def is_api(self) -> bool:
        return self.pattern.startswith("api/")


def _walk(patterns, prefix: str = "", namespace: str = ""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = namespace
            if p.namespace:
                ns = f"{namespace}:{p.namespace}" if namespace else p.namespace
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            pattern = prefix + str(p.pattern)
            name = f"{namespace}:{p.name}" if namespace and p.name else (p.name or pattern)
            yield Route(name, pattern, p.callback, dict(p.default_args))


def http_routes() -> list[Route]:
    """Every HTTP route of the URL conf but the listed exceptions."""
    return [
        r
        for r in _walk(get_resolver().url_patterns)
        if not r.pattern.startswith(tuple(EXCLUDED_PREFIXES))
    ]


def websocket_routes() -> list[str]:
    from config.routing import websocket_urlpatterns

    return [str(p.pattern) for p in websocket_urlpatterns]


def methods_of(route: Route) -> list[str]:
    """The methods to try: a class-based view's handlers; GET and POST for a function view
    (it answers the other, if it does not take it, with 405: that is a row too)."""
    view_class = getattr(route.callback, "view_class", None) or getattr(route.callback, "cls", None)
    if view_class is None:
        return ["GET", "POST"]
    if issubclass(view_class, LogoutView):
        return ["POST"]
    found = [m.upper() for m in ("get", "post", "put", "patch", "delete") if hasattr(view_class, m)]
    if issubclass(view_class, APIView) or found:
        return found
    return ["GET"]


class Scene:
    """One object of each kind a placeholder names, all belonging to `client` and `counselor`
    (their booking, their flag, …); the other personas own nothing of them. `client` is a
    member of an organisation with an allowance, which pays for their booking; `org_admin`
    administers it (an ordinary client, a member too, like any organisation's admin) and
    owns nothing of the scene either: what it may see of its members is k-anonymous usage
    only (organisations:manage, the organisation's slice of GET /api/v1/insights/)."""

    def __init__(self):
        now = timezone.now()
        self.users = {
            "client": ClientFactory(username="m-alice"),
            "other_client": ClientFactory(username="m-bob"),
            "supervisor": UserFactory(username="m-sue", role=User.Role.SUPERVISOR),
            "staff": StaffFactory(username="m-sam"),
        }
        profile = CounselorProfileFactory(user__username="m-chen")
        other = CounselorProfileFactory(user__username="m-dana")
        self.users["counselor"] = profile.user
        self.users["other_counselor"] = other.user
        client = self.users["client"]
        # A session that started a minute ago: its room is open.
        start = now.replace(microsecond=0) - dt.timedelta(minutes=1)
        self.booking = BookingFactory(
            counselor=profile,
            client=client,
            start=start,
            end=start + dt.timedelta(minutes=30),
            topic=f"{PRIVATE} topic",
        )
        SessionMessage.objects.create(
            booking=self.booking,
            seq=1,
            uid=uuid.uuid4(),
            sender=client,
            ciphertext=encrypt_text(f"{PRIVATE} message"),
            sent_at=now,
        )
        voice = SessionMessage(
            booking=self.booking,
            seq=2,
            uid=uuid.uuid4(),
            sender=client,
            kind=SessionMessage.Kind.VOICE,
            audio_content_type="audio/webm",
            audio_seconds=1.0,
            sent_at=now,
        )
        voice.audio.save("x.bin", ContentFile(encrypt(b"\x1a\x45\xdf\xa3")), save=True)
        self.booking.message_seq = 2
        self.booking.save(update_fields=["message_seq"])
        self.counselor = profile
        self.window = OneOffWindowFactory(counselor=profile, start=next_quarter(days=2))
        self.time_off = TimeOffFactory(
            counselor=profile, start_date=(now + dt.timedelta(days=20)).date()
        )
        self.notice = notice_send(user=client, kind="session_cancelled", params={})
        self.alert = CrisisAlert.objects.create(
            client=client,
            booking=self.booking,
            source=CrisisAlert.Source.CHAT,
            reasons=[f"client: {PRIVATE} alert"],
            created_at=now,
        )
        self.flag = EthicsFlag.objects.create(
            kind=EthicsFlag.Kind.COMPLAINT,
            booking=self.booking,
            counselor=profile,
            summary=f"{PRIVATE} flag",
        )
        self.referral = Referral.objects.create(
            booking=self.booking,
            counselor=profile,
            client=client,
            resource=Resource.objects.first(),
            reason=f"{PRIVATE} referral",
        )
        self.match_request = MatchRequest.objects.create(
            client=client,
            topic="anxiety",
            mode="text",
            language="zh",
            duration_minutes=15,
            when="now",
            created_at=now,
            deadline_at=now + dt.timedelta(minutes=3),
            status=MatchRequest.Status.OFFERED,
        )
        self.offer = Offer.objects.create(
            request=self.match_request,
            counselor=profile,
            score=1.0,
            created_at=now,
            expires_at=now + dt.timedelta(seconds=45),
        )
        self.surge = Surge.objects.create(
            region="HK",
            languages=["zh"],
            banner_en="b",
            banner_zh="b",
            starts_at=now,
            ends_at=now + dt.timedelta(hours=1),
            declared_by=self.users["staff"],
            created_at=now,
        )
        # The client's toolkit: an entry in a tool of the scene's booking, shared with its
        # counselor; a library guided audio (seeded by counselors' data migration).
        self.toolkit_entry = ToolkitEntry.objects.create(
            client=client,
            item=ToolkitItem.objects.filter(owner=None).exclude(kind="audio").first(),
            booking=self.booking,
            ciphertext=encrypt_text(json.dumps({"note": f"{PRIVATE} entry"})),
            shared_at=now,
            created_at=now,
            updated_at=now,
        )
        self.toolkit_audio = ToolkitItem.objects.filter(owner=None, kind="audio").first()
        # The counselor's own guided audio (in no published offering: only they may hear it)
        # and a published offering of theirs using a library item.
        self.toolkit_item = ToolkitItem(
            owner=profile, slug="m-breathing", kind="audio", title_en="Breathing", title_zh="呼吸"
        )
        self.toolkit_item.audio.save("x.bin", ContentFile(LIBRARY_OGG.read_bytes()), save=False)
        self.toolkit_item.audio_content_type = "audio/ogg"
        self.toolkit_item.save()
        self.offering = OfferingFactory(counselor=profile, items=[self.toolkit_audio])
        # The counselor's group, started a minute ago (its room is open), `client` in seat 1.
        self.group = group_create(
            counselor_user=profile.user,
            title="After graduation",
            topic="first weeks after graduation",
            start=now + dt.timedelta(days=1),
            duration_minutes=30,
            capacity=4,
            price=Decimal(20),
        )
        group_join(group_id=self.group.pk, client=client)
        GroupSession.objects.filter(pk=self.group.pk).update(start=start)
        # The counselor's package, bought by `client`.
        self.package = package_create(
            user=profile.user,
            life_stage="graduation",
            title_en="After graduation",
            sessions=3,
            duration_minutes=30,
            within_days=42,
            price=Decimal(300),
        )
        self.purchase = package_buy(client=client, package_id=self.package.pk)
        # The client's organisation: its allowance pays for the scene's booking; its admin.
        self.allowance = AllowanceFactory(organisation__name="m-Acme")
        self.organisation = self.allowance.organisation
        MembershipFactory(organisation=self.organisation, user=client)
        self.claim = allowance_claim(
            client=client, duration_minutes=30, mode=self.booking.mode, at=self.booking.start
        ).claim
        self.booking.allowance_claim = self.claim
        self.booking.save(update_fields=["allowance_claim"])
        org_admin = OrganisationAdminFactory(
            organisation=self.organisation, user__username="m-olga"
        ).user
        MembershipFactory(organisation=self.organisation, user=org_admin)
        self.users["org_admin"] = org_admin
        # A past session of `client` the allowance paid for, and built insights: the admin's
        # page and the organisation's insights have a row to show, suppressed (one client).
        # Its topic is not marked private: staff's insights name every topic, whatever the
        # number of clients (insights.selectors._top_topics); an organisation's admin sees it
        # only as "Other topics" (tests/organisations/test_admin_privacy.py checks the topic).
        past = start - dt.timedelta(days=7)
        BookingFactory(
            counselor=profile,
            client=client,
            start=past,
            end=past + dt.timedelta(minutes=30),
            status="completed",
            topic="work stress",
            allowance_claim=allowance_claim(
                client=client, duration_minutes=30, mode="text", at=past
            ).claim,
        )
        insights_materialise()
        self.unsubscribe_token = unsubscribe_token_make(user=client)
        _, self.feed_token = calendar_feed_create(user=client)

    # `pk` in an API path names the object of the path's collection.
    PK_BY_PREFIX = (
        ("api/v1/bookings/", "booking"),
        ("api/v1/group-sessions/", "group"),
        ("api/v1/packages/", "package"),
        ("api/v1/toolkit/entries/", "toolkit_entry"),
        ("api/v1/counselors/me/offerings/", "offering"),
        ("api/v1/counselors/me/toolkit-items/", "toolkit_item"),
        ("api/v1/offerings/", "offering"),
        ("api/v1/toolkits/", "toolkit_item"),
        ("api/v1/counselors/me/windows/", "window"),
        ("api/v1/counselors/me/time-off/", "time_off"),
        ("api/v1/counselors/", "counselor"),
        ("api/v1/notices/", "notice"),
        ("api/v1/crisis/alerts/", "alert"),
        ("api/v1/match-requests/", "match_request"),
        ("api/v1/surges/", "surge"),
        ("api/v1/offers/", "offer"),
        ("api/v1/referrals/", "referral"),
        ("api/v1/ethics/flags/", "flag"),
    )
    BY_KWARG = {
        "booking_id": "booking",
        "group_id": "group",
        "package_id": "package",
        "entry_id": "toolkit_entry",
        "item_id": "toolkit_audio",
        "counselor_id": "counselor",
        "notice_id": "notice",
        "window_id": "window",
        "offering_id": "offering",
        "toolkit_item_id": "toolkit_item",
        "time_off_id": "time_off",
        "alert_id": "alert",
        "flag_id": "flag",
        "referral_id": "referral",
        "request_id": "match_request",
        "surge_id": "surge",
        "offer_id": "offer",
    }

    def kwargs_for(self, route: Route) -> dict:
        from django.urls.resolvers import RoutePattern

        names = RoutePattern(route.pattern).converters.keys()
        kwargs = {}
        for name in names:
            if name == "pk":
                attr = next(a for p, a in self.PK_BY_PREFIX if route.pattern.startswith(p))
                kwargs[name] = getattr(self, attr).pk
            elif name in self.BY_KWARG:
                kwargs[name] = getattr(self, self.BY_KWARG[name]).pk
            elif name == "seq":
                kwargs[name] = 2  # the voice note
            elif name == "token":
                kwargs[name] = (
                    self.feed_token
                    if route.pattern.startswith("calendar/")
                    else self.unsubscribe_token
                )
            elif name == "action":
                kwargs[name] = "accept"
            elif name == "table":
                kwargs[name] = (
                    "outcomes_by_topic"  # an insights table staff and counselors both have
                )
            else:
                raise KeyError(f"{route.name}: no scene object for <{name}>")
        return kwargs

    def path_for(self, route: Route) -> str:
        from django.urls.resolvers import RoutePattern

        path = route.pattern
        for name, value in self.kwargs_for(route).items():
            converter = RoutePattern(route.pattern).converters[name]
            kind = {"IntConverter": "int", "SlugConverter": "slug", "StringConverter": "str"}[
                type(converter).__name__
            ]
            path = path.replace(f"<{kind}:{name}>", str(value))
        return "/" + path
