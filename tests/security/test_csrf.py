"""CSRF on every browser form: each route that takes a POST (pages, and the API when it is
called with the session cookie) refuses one without the CSRF token with 403, for a persona
the authorization matrix allows. The exceptions are listed, each with its reason."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.security.routes import ROLES, Scene
from tests.security.test_authorization_matrix import EXPECTED, ROUTES

# Routes that take a POST without a CSRF token, by design.
CSRF_EXEMPT = {
    # RFC 8058 one-click unsubscribe: the mail client POSTs with no session and no token;
    # the unguessable token in the URL is the credential, and all it can do is stop e-mails.
    "accounts:unsubscribe": "one-click unsubscribe (RFC 8058)",
    # The API without a session: no cookie rides along, so there is no ambient authority to
    # forge. Registering and getting a token need neither a session nor CSRF.
    "accounts:api:register": "API, anonymous: no session cookie to ride on",
    "accounts:api:token": "API, anonymous: no session cookie to ride on",
}
# (The calendar feed `calendar/<token>.ics` takes GET only, so it needs no exception here.)

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
CASES = sorted(
    (name, method, next(role for role in ROLES if row[role] == "ok"))
    for (name, method), row in EXPECTED.items()
    if name in ROUTES and method in UNSAFE and "ok" in row.values()
)


def test_every_exemption_names_a_route_that_takes_a_post():
    assert set(CSRF_EXEMPT) <= {name for name, _, _ in CASES}


@pytest.fixture
def scene(db):
    return Scene()


@pytest.mark.parametrize(("name", "method", "role"), CASES, ids=[f"{n}-{m}" for n, m, _ in CASES])
def test_a_post_without_the_csrf_token_is_refused(name, method, role, scene):
    browser = Client(enforce_csrf_checks=True)
    if role != "anon":
        browser.force_login(scene.users[role])
    browser.get("/")  # the CSRF cookie is set, as on any page; only the token is missing
    path = scene.path_for(ROUTES[name])
    response = getattr(browser, method.lower())(path, {}, content_type="application/json")
    if name in CSRF_EXEMPT:
        assert response.status_code != 403, f"{method} {path}: exempt ({CSRF_EXEMPT[name]})"
    else:
        assert response.status_code == 403, f"{method} {path} as {role} without a CSRF token"
