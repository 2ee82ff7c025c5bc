import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from accounts.models import User
from counselors.models import CounselorProfile, VerificationRecord
from tests.factories import CounselorProfileFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/"


def test_me_anonymous_is_401_with_www_authenticate(anon):
    response = anon.get(URL)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Token")


def test_me_patch_anonymous_is_401(anon):
    assert anon.patch(URL, {"timezone": "Europe/Berlin"}, format="json").status_code == 401


def test_me_returns_id_username_role_timezone_language(as_client, client_user):
    response = as_client.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("id", "username", "role", "timezone", "language")} == {
        "id": client_user.id,
        "username": "alice",
        "role": "client",
        "timezone": "Asia/Shanghai",
        "language": "en",
    }


def test_me_shows_counselor_role(as_counselor, counselor):
    body = as_counselor.get(URL).json()
    assert body["role"] == "counselor"
    assert body["id"] == counselor.pk


def test_me_works_with_session_login(client_user):
    from tests.factories import PASSWORD

    api = APIClient()
    assert api.login(username="alice", password=PASSWORD)
    assert api.get(URL).json()["username"] == "alice"


def test_me_patch_timezone(as_client, client_user):
    response = as_client.patch(URL, {"timezone": "America/New_York"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["timezone"] == "America/New_York"
    client_user.refresh_from_db()
    assert client_user.timezone == "America/New_York"


def test_me_patch_language(as_client, client_user):
    response = as_client.patch(URL, {"language": "zh-hans"}, format="json")
    assert response.status_code == 200
    assert response.json()["language"] == "zh-hans"
    client_user.refresh_from_db()
    assert client_user.language == "zh-hans"


def test_me_patch_bad_timezone_is_400_and_changes_nothing(as_client, client_user):
    response = as_client.patch(
        URL, {"timezone": "Nowhere/Land", "language": "zh-hans"}, format="json"
    )
    assert response.status_code == 400
    assert "timezone" in response.json()
    client_user.refresh_from_db()
    assert (client_user.timezone, client_user.language) == ("Asia/Shanghai", "en")


def test_me_patch_bad_language_is_400_naming_language(as_client, client_user):
    response = as_client.patch(URL, {"language": "de"}, format="json")
    assert response.status_code == 400
    assert "language" in response.json()
    client_user.refresh_from_db()
    assert client_user.language == "en"


def test_me_patch_cannot_change_role_or_username(as_client, client_user):
    response = as_client.patch(URL, {"role": "staff", "username": "mallory"}, format="json")
    assert response.status_code == 200
    client_user.refresh_from_db()
    assert (client_user.role, client_user.username) == ("client", "alice")


def test_me_patch_empty_body_changes_nothing(as_client, client_user):
    response = as_client.patch(URL, {}, format="json")
    assert response.status_code == 200
    client_user.refresh_from_db()
    assert (client_user.timezone, client_user.language) == ("Asia/Shanghai", "en")


# --- create_staff management command ----------------------------------------------------


def create_staff(*args):
    out = io.StringIO()
    call_command("create_staff", *args, stdout=out)
    return out.getvalue()


def test_create_staff_command_makes_a_staff_user(db):
    output = create_staff("sam", "--password", "a-long-staff-secret")
    user = User.objects.get(username="sam")
    assert user.role == User.Role.STAFF
    assert user.is_staff
    assert user.check_password("a-long-staff-secret")
    assert "sam" in output


def test_create_staff_command_user_can_verify_a_counselor(anon):
    create_staff("sam", "--password", "a-long-staff-secret")
    profile = CounselorProfileFactory(verification=CounselorProfile.Verification.PENDING)
    token = anon.post(
        "/api/v1/auth/token/", {"username": "sam", "password": "a-long-staff-secret"}, format="json"
    ).json()["token"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = api.post(
        f"/api/v1/counselors/{profile.pk}/verify/", {"approved": True, "note": "ok"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert VerificationRecord.objects.get(counselor=profile).reviewer.username == "sam"


def test_create_staff_command_supervisor_role(db):
    create_staff("sup", "--role", "supervisor", "--password", "a-long-staff-secret")
    user = User.objects.get(username="sup")
    assert user.role == User.Role.SUPERVISOR
    assert not user.is_superuser


def test_create_staff_command_supervisor_cannot_verify(db):
    create_staff("sup", "--role", "supervisor", "--password", "a-long-staff-secret")
    profile = CounselorProfileFactory(verification=CounselorProfile.Verification.PENDING)
    api = APIClient()
    api.force_authenticate(User.objects.get(username="sup"))
    response = api.post(
        f"/api/v1/counselors/{profile.pk}/verify/", {"approved": True}, format="json"
    )
    assert response.status_code == 403


def test_create_staff_command_duplicate_username_fails(db):
    create_staff("sam", "--password", "a-long-staff-secret")
    with pytest.raises(CommandError):
        create_staff("sam", "--password", "another-long-secret")
    assert User.objects.filter(username="sam").count() == 1


def test_create_staff_command_refuses_a_weak_password(db):
    with pytest.raises(CommandError, match="password"):
        create_staff("sam", "--password", "123")
    assert not User.objects.filter(username="sam").exists()


def test_staff_get_pianke_admin_permissions_but_are_not_superusers(db):
    create_staff("sam", "--password", "a-long-staff-secret")
    user = User.objects.get(username="sam")
    assert not user.is_superuser
    assert user.has_perm("counselors.change_counselorprofile")
    assert user.has_perm("listening.view_booking")
    assert not user.has_perm("auth.change_permission")
