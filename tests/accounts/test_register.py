import pytest
from rest_framework.authtoken.models import Token

from accounts.models import User
from counselors.models import CounselorProfile
from tests.factories import PASSWORD, ClientFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/register/"


def register(api, **overrides):
    body = {"username": "newcomer", "password": PASSWORD, "role": "client"}
    body.update(overrides)
    return api.post(URL, body, format="json")


def test_register_client_returns_201_with_id_username_role(anon):
    response = register(anon)
    assert response.status_code == 201, response.json()
    user = User.objects.get(username="newcomer")
    assert response.json() == {"id": user.id, "username": "newcomer", "role": "client"}


def test_register_client_creates_no_counselor_profile(anon):
    register(anon)
    assert not CounselorProfile.objects.exists()


def test_register_does_not_return_the_password(anon):
    body = register(anon).json()
    assert "password" not in body
    assert PASSWORD not in str(body)


def test_registered_password_is_stored_hashed_and_usable(anon):
    register(anon)
    user = User.objects.get(username="newcomer")
    assert user.password != PASSWORD
    assert user.check_password(PASSWORD)


def test_register_counselor_gets_profile_with_the_same_id(anon):
    response = register(anon, username="therapist", role="counselor")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["role"] == "counselor"
    profile = CounselorProfile.objects.get(pk=body["id"])
    assert profile.user.username == "therapist"


def test_registered_counselor_profile_is_unverified(anon):
    body = register(anon, username="therapist", role="counselor").json()
    profile = CounselorProfile.objects.get(pk=body["id"])
    assert profile.verification == CounselorProfile.Verification.PENDING


def test_registered_counselor_is_not_listed_in_directory(anon):
    body = register(anon, username="therapist", role="counselor").json()
    listing = anon.get("/api/v1/counselors/").json()
    assert body["id"] not in [c["id"] for c in listing["results"]]
    assert anon.get(f"/api/v1/counselors/{body['id']}/").status_code == 404


def test_register_stores_optional_email_timezone_and_language(anon):
    response = register(anon, email="n@example.org", timezone="Europe/Berlin", language="en")
    assert response.status_code == 201, response.json()
    user = User.objects.get(username="newcomer")
    assert (user.email, user.timezone, user.language) == ("n@example.org", "Europe/Berlin", "en")


def test_register_defaults_to_shanghai_and_simplified_chinese(anon):
    register(anon)
    user = User.objects.get(username="newcomer")
    assert (user.timezone, user.language) == ("Asia/Shanghai", "zh-hans")


def test_register_duplicate_username_is_400_naming_username(anon):
    ClientFactory(username="taken")
    response = register(anon, username="taken")
    assert response.status_code == 400
    assert "username" in response.json()
    assert User.objects.filter(username="taken").count() == 1


def test_register_duplicate_counselor_username_creates_no_second_profile(anon):
    register(anon, username="therapist", role="counselor")
    response = register(anon, username="therapist", role="counselor")
    assert response.status_code == 400
    assert "username" in response.json()
    assert CounselorProfile.objects.count() == 1


@pytest.mark.parametrize(
    "password",
    ["123", "12345678901", "password", "newcomer1"],
    ids=["short", "numeric", "common", "like-username"],
)
def test_register_weak_password_is_400_naming_password(anon, password):
    response = register(anon, password=password)
    assert response.status_code == 400
    assert "password" in response.json()
    assert not User.objects.filter(username="newcomer").exists()


@pytest.mark.parametrize("role", ["staff", "supervisor"])
def test_register_refuses_privileged_role(anon, role):
    response = register(anon, role=role)
    assert response.status_code == 400
    assert "role" in response.json()
    assert not User.objects.filter(username="newcomer").exists()


def test_register_unknown_role_is_400_naming_role(anon):
    response = register(anon, role="admin")
    assert response.status_code == 400
    assert "role" in response.json()


def test_register_bad_timezone_is_400_naming_timezone(anon):
    response = register(anon, timezone="Mars/Olympus_Mons")
    assert response.status_code == 400
    assert "timezone" in response.json()
    assert not User.objects.filter(username="newcomer").exists()


def test_register_bad_language_is_400_naming_language(anon):
    response = register(anon, language="fr")
    assert response.status_code == 400
    assert "language" in response.json()
    assert not User.objects.filter(username="newcomer").exists()


def test_register_missing_fields_are_each_named(anon):
    response = anon.post(URL, {}, format="json")
    assert response.status_code == 400
    assert {"username", "password", "role"} <= set(response.json())


def test_register_invalid_username_characters_is_400(anon):
    response = register(anon, username="no spaces please")
    assert response.status_code == 400
    assert "username" in response.json()


def test_register_invalid_email_is_400_naming_email(anon):
    response = register(anon, email="not-an-email")
    assert response.status_code == 400
    assert "email" in response.json()


def test_register_does_not_log_in_or_issue_a_token(anon):
    register(anon)
    assert not Token.objects.exists()
    assert anon.get("/api/v1/me/").status_code == 401


def test_register_ignores_session_and_token_credentials(as_client):
    """Registration is open; an existing login neither helps nor hinders it."""
    response = register(as_client, username="second-account")
    assert response.status_code == 201, response.json()


def test_register_third_request_from_one_address_is_throttled(throttled_api):
    api = throttled_api("10.77.0.1")
    assert register(api, username="first").status_code == 201
    assert register(api, username="second").status_code == 201
    response = register(api, username="third")
    assert response.status_code == 429
    assert "Retry-After" in response.headers
    assert not User.objects.filter(username="third").exists()


def test_register_throttle_counts_failed_attempts(throttled_api):
    api = throttled_api("10.77.0.2")
    assert register(api, password="123").status_code == 400
    assert register(api, password="123").status_code == 400
    assert register(api).status_code == 429


def test_register_throttle_is_per_client_address(throttled_api):
    first, other = throttled_api("10.77.0.3"), throttled_api("10.77.0.4")
    assert register(first, username="a1").status_code == 201
    assert register(first, username="a2").status_code == 201
    assert register(first, username="a3").status_code == 429
    assert register(other, username="b1").status_code == 201
