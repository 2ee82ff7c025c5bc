"""The authorization matrix: every HTTP route of the URL conf (pages and API) and every
WebSocket route, called by every persona, against the expected table in
authorization_matrix.txt. A route (or a method of it) without a row fails, naming it: a new
route cannot ship unexamined. Each call runs in a savepoint rolled back afterwards, so one
persona's change never decides the next one's answer.

The table's tokens: `ok` (allowed: 2xx, a redirect other than to the sign-in page, or a 400
or 409 about the input or the state, which only an allowed caller reaches), `401`, `403`,
`404` (not yours), `405`, `login` (a redirect to the sign-in page); for a WebSocket, `accept`
or the close code."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.test import Client
from rest_framework.authtoken.models import Token

from tests.conftest import seed_reference_data
from tests.security.routes import (
    EXCLUDED_PREFIXES,
    PRIVATE,
    ROLES,
    TABLE,
    Scene,
    http_routes,
    methods_of,
    websocket_routes,
)

WS_METHOD = "CONNECT"
# The personas who own the scene's private fields (Scene: its objects are theirs).
OWNERS = ("client", "counselor")
# Who, owning none of the scene, may still read its private fields, and where: the crisis
# queue (supervisors and staff) and the ethics review (staff). Anywhere else, and for every
# other persona (the organisation admin among them: the scene's booking is paid for by its
# organisation, and it may see none of it), an answer carrying them is a leak.
MAY_READ_PRIVATE = {
    "supervisor": ("ethics:api:crisis-alert", "ethics:oncall"),
    "staff": (
        "ethics:api:crisis-alert",
        "ethics:oncall",
        "oversight:api:flag",
        "oversight:staff-flag",
    ),
}


def load_table() -> dict[tuple[str, str], dict[str, str]]:
    rows = {}
    for number, line in enumerate(TABLE.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        route, method, *tokens = line.split()
        assert len(tokens) == len(ROLES), f"{TABLE.name}:{number}: {len(ROLES)} roles expected"
        assert (route, method) not in rows, f"{TABLE.name}:{number}: {route} {method} twice"
        rows[route, method] = dict(zip(ROLES, tokens, strict=True))
    return rows


EXPECTED = load_table()
ROUTES = {route.name: route for route in http_routes()}
HTTP_CASES = [(name, method) for name, route in ROUTES.items() for method in methods_of(route)]
WS_CASES = [(f"ws:{pattern}", WS_METHOD) for pattern in websocket_routes()]


# Bodies for the calls whose input is checked before the object is looked up, so that a
# caller who is not allowed meets the lookup (404) rather than the validation (400).
def _bodies(scene: Scene) -> dict[tuple[str, str], dict]:
    booking = scene.booking.pk
    later = (scene.booking.start + dt.timedelta(days=1)).isoformat()
    return {
        ("listening:api:booking-reschedule", "POST"): {"start": later, "reason": "moved"},
        ("listening:api:booking-messages", "POST"): {"text": "hello"},
        ("listening:api:booking-feedback", "POST"): {
            "pre_distress": 5,
            "post_distress": 3,
            "rating": 4,
        },
        ("oversight:api:ethics-report", "POST"): {
            "booking": booking,
            "kind": "boundary",
            "text": "a concern",
        },
        ("oversight:api:complaint-create", "POST"): {"booking": booking, "text": "a complaint"},
        ("oversight:api:referral-list", "POST"): {
            "booking": booking,
            "resource": scene.referral.resource_id,
            "reason": "longer-term care",
            "urgency": "routine",
        },
        ("ethics:api:crisis-raise", "POST"): {"booking": booking, "note": "worried"},
        ("counselors:api:counselor-verify", "POST"): {"approved": True, "note": "checked"},
        ("listening:api:booking-assignments", "POST"): {"item": scene.toolkit_audio.pk},
    }


def token_of(response) -> str:
    code = response.status_code
    if code in (401, 403, 404, 405):
        return str(code)
    if code in (301, 302, 303, 307, 308):
        return "login" if response["Location"].split("?")[0].endswith("/login/") else "ok"
    if 200 <= code < 300 or code in (400, 409):
        return "ok"
    return str(code)


def test_every_route_has_a_row_and_every_row_a_route():
    discovered = set(HTTP_CASES) | set(WS_CASES)
    missing = sorted(f"{r} {m}" for r, m in discovered - EXPECTED.keys())
    stale = sorted(f"{r} {m}" for r, m in EXPECTED.keys() - discovered)
    assert not missing, f"routes with no row in {TABLE.name}: {missing}"
    assert not stale, f"rows in {TABLE.name} naming no route: {stale}"


def test_the_exclusions_are_the_listed_ones():
    assert set(EXCLUDED_PREFIXES) == {"admin/", "api/schema/", "api/docs/", "i18n/"}


def test_every_persona_but_the_owners_is_checked_for_private_data():
    checked = {role for role in ROLES if role not in OWNERS}
    assert {"anon", "other_client", "other_counselor", "org_admin"} <= checked
    assert set(MAY_READ_PRIVATE) == {"supervisor", "staff"}


@pytest.fixture
def scene(db):
    return Scene()


@pytest.fixture
def personas(scene):
    clients = {}
    for role in ROLES:
        client = Client(raise_request_exception=False)
        if role != "anon":
            client.force_login(scene.users[role])
        clients[role] = client
    return clients


def call(client, method: str, path: str, body: dict | None):
    if method == "GET":
        return client.get(path)
    return getattr(client, method.lower())(path, body or {}, content_type="application/json")


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_http_route(name, scene, personas):
    route = ROUTES[name]
    path = scene.path_for(route)
    bodies = _bodies(scene)
    mismatches = []
    for method in methods_of(route):
        expected = EXPECTED.get((name, method))
        assert expected is not None, f"{name} {method} ({path}) has no row in {TABLE.name}"
        for role in ROLES:
            client = personas[role]
            cookies = copy.deepcopy(client.cookies)  # a deleted account signs its caller out
            with transaction.atomic():
                savepoint = transaction.savepoint()
                response = call(client, method, path, bodies.get((name, method)))
                transaction.savepoint_rollback(savepoint)
            client.cookies = cookies
            got = token_of(response)
            if got != expected[role]:
                error = getattr(response, "exc_info", None)
                error = f" ({error[1]!r})" if error else ""
                mismatches.append(
                    f"{method} {path} as {role}: {got}, expected {expected[role]}{error}"
                )
            elif (
                role not in OWNERS
                and not name.startswith(MAY_READ_PRIVATE.get(role, ("-",)))
                and PRIVATE.encode() in response.content
            ):
                mismatches.append(f"{method} {path} as {role}: the answer carries private data")
    assert not mismatches, "\n".join(mismatches)


def test_the_organisation_admin_reads_its_organisation(scene, personas):
    """Its `ok`s are the real pages, not a 400 about the input: the scene's organisation,
    its allowance and its usage tables, one row each, suppressed (one client)."""
    browser = personas["org_admin"]
    page = browser.get("/organisations/manage/")
    assert page.status_code == 200
    html = page.content.decode()
    assert scene.organisation.name in html and scene.organisation.join_code in html
    assert 'id="table-sessions_by_month"' in html and 'id="table-topics_by_month"' in html
    api = browser.get("/api/v1/insights/")
    assert api.status_code == 200
    tables = api.json()["tables"]
    assert set(tables) == {"sessions_by_month", "topics_by_month"}
    assert len(tables["sessions_by_month"]["rows"]) == 1
    assert [row["label"] for row in tables["topics_by_month"]["rows"]] == ["Other topics"]
    assert all(
        cell["suppressed"] for row in tables["sessions_by_month"]["rows"] for cell in row["cells"]
    )


@database_sync_to_async
def _ws_scene():
    seed_reference_data()  # a transactional test starts from a flushed database
    scene = Scene()
    tokens = {
        role: Token.objects.get_or_create(user=user)[0].key for role, user in scene.users.items()
    }
    return scene, tokens


async def _ws_token(pattern: str, scene: Scene, token: str | None) -> str:
    headers = [(b"origin", b"http://localhost")]
    if token is not None:
        headers.append((b"authorization", f"Token {token}".encode()))
    path = "/" + pattern.replace("<int:booking_id>", str(scene.booking.pk)).replace(
        "<int:group_id>", str(scene.group.pk)
    )
    from config.asgi import application

    comm = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await comm.connect(timeout=5)
    if not connected:
        return str(code or "refused")
    try:
        output = await comm.receive_output(timeout=2)
    except TimeoutError:
        return "accept"
    finally:
        await comm.disconnect()
    if output["type"] == "websocket.close":
        return str(output.get("code", 1000))
    return "accept"


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize("pattern", websocket_routes())
async def test_websocket_route(pattern):
    scene, tokens = await _ws_scene()
    assert set(tokens) == set(ROLES) - {"anon"}  # a persona without a token would call as anon
    expected = EXPECTED.get((f"ws:{pattern}", WS_METHOD))
    assert expected is not None, f"ws:{pattern} {WS_METHOD} has no row in {TABLE.name}"
    mismatches = []
    for role in ROLES:
        got = await _ws_token(pattern, scene, tokens.get(role))
        if got != expected[role]:
            mismatches.append(f"{pattern} as {role}: {got}, expected {expected[role]}")
    assert not mismatches, "\n".join(mismatches)
