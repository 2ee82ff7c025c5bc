import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import PASSWORD, ClientFactory, CounselorProfileFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/token/"


def obtain(api, username, password=PASSWORD):
    return api.post(URL, {"username": username, "password": password}, format="json")


def test_token_obtain_returns_200_with_token(anon, client_user):
    response = obtain(anon, "alice")
    assert response.status_code == 200, response.json()
    assert response.json() == {"token": Token.objects.get(user=client_user).key}


def test_token_authenticates_me_endpoint(anon, client_user):
    key = obtain(anon, "alice").json()["token"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api.get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["id"] == client_user.id
    assert response.json()["username"] == "alice"


def test_token_obtain_twice_returns_the_same_token(anon, client_user):
    first = obtain(anon, "alice").json()["token"]
    second = obtain(anon, "alice").json()["token"]
    assert first == second
    assert Token.objects.filter(user=client_user).count() == 1


def test_counselor_obtains_token_too(anon):
    profile = CounselorProfileFactory(user__username="chen")
    response = obtain(anon, "chen")
    assert response.status_code == 200
    assert Token.objects.get(user=profile.user).key == response.json()["token"]


def test_token_wrong_password_is_400_and_creates_no_token(anon, client_user):
    response = obtain(anon, "alice", password="not-my-password")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    assert not Token.objects.exists()


def test_token_unknown_username_is_400_and_creates_no_token(anon, db):
    response = obtain(anon, "nobody")
    assert response.status_code == 400
    assert not Token.objects.exists()


def test_token_wrong_password_and_unknown_user_answer_alike(anon, client_user):
    """No hint about which usernames exist."""
    wrong_password = obtain(anon, "alice", password="not-my-password").json()
    unknown_user = obtain(anon, "nobody").json()
    assert wrong_password == unknown_user


def test_token_missing_fields_are_each_named(anon, db):
    response = anon.post(URL, {}, format="json")
    assert response.status_code == 400
    assert {"username", "password"} <= set(response.json())


def test_inactive_user_cannot_obtain_token(anon):
    ClientFactory(username="suspended", is_active=False)
    response = obtain(anon, "suspended")
    assert response.status_code == 400
    assert not Token.objects.exists()


def test_token_of_deactivated_user_stops_working(anon, client_user):
    key = obtain(anon, "alice").json()["token"]
    client_user.is_active = False
    client_user.save(update_fields=["is_active"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/me/").status_code == 401


def test_made_up_token_is_401(db):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert api.get("/api/v1/me/").status_code == 401


def test_token_third_request_from_one_address_is_throttled(throttled_api, client_user):
    api = throttled_api("10.77.1.1")
    assert obtain(api, "alice").status_code == 200
    assert obtain(api, "alice").status_code == 200
    response = obtain(api, "alice")
    assert response.status_code == 429
    assert "Retry-After" in response.headers


def test_a_made_up_x_forwarded_for_does_not_dodge_the_token_throttle(throttled_api, client_user):
    api = throttled_api("10.77.1.4")
    codes = [
        api.post(
            "/api/v1/auth/token/",
            {"username": "alice", "password": "guess"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{i}",
        ).status_code
        for i in range(3)
    ]
    assert codes == [400, 400, 429]


def test_token_throttle_counts_wrong_passwords(throttled_api, client_user):
    """Password guessing is what the throttle is for: failures count, and the right password is
    refused once the limit is reached."""
    api = throttled_api("10.77.1.2")
    assert obtain(api, "alice", password="guess-1").status_code == 400
    assert obtain(api, "alice", password="guess-2").status_code == 400
    assert obtain(api, "alice").status_code == 429
    assert not Token.objects.exists()


def test_token_throttle_is_independent_of_register_throttle(throttled_api, client_user):
    api = throttled_api("10.77.1.3")
    for username in ("r1", "r2"):
        body = {"username": username, "password": PASSWORD, "role": "client"}
        assert api.post("/api/v1/auth/register/", body, format="json").status_code == 201
    assert obtain(api, "alice").status_code == 200
