import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.demo import DEMO_PASSWORD
from accounts.models import User
from counselors.models import AvailabilityWindow, Credential, VerificationRecord
from counselors.selectors import counselor_list_listed
from listening.selectors import counselor_ids_with_free_slots

pytestmark = pytest.mark.django_db


def load_demo(**options) -> str:
    out = StringIO()
    call_command("load_demo", stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def snapshot() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "windows": AvailabilityWindow.objects.count(),
        "credentials": Credential.objects.count(),
        "verifications": VerificationRecord.objects.count(),
    }


def test_demo_counselors_are_listed_with_free_slots_this_week(settings, anon):
    settings.DEBUG = True
    output = load_demo()

    listed = counselor_list_listed()
    assert listed.count() >= 12
    now = timezone.now()
    week = now + dt.timedelta(days=7)
    assert sorted(
        counselor_ids_with_free_slots(profiles=listed, start=now, end=week, duration_minutes=30)
    ) == sorted(p.pk for p in listed)
    for profile in listed:
        assert profile.credentials.exists()
        assert profile.verification_records.filter(
            approved=True, reviewer__username="demo-staff"
        ).exists()

    # The same through the public API.
    response = anon.get(
        "/api/v1/counselors/",
        {"available_from": now.isoformat(), "available_to": week.isoformat(), "page_size": 100},
    )
    assert response.status_code == 200
    assert response.json()["count"] >= 12
    first = response.json()["results"][0]["id"]
    slots = anon.get(f"/api/v1/counselors/{first}/slots/", {"duration": 15}).json()
    assert slots and all(dt.datetime.fromisoformat(s["start"]) > now for s in slots)

    roles = dict(
        User.objects.filter(
            username__in=["demo-client", "demo-staff", "demo-supervisor"]
        ).values_list("username", "role")
    )
    assert roles == {
        "demo-client": "client",
        "demo-staff": "staff",
        "demo-supervisor": "supervisor",
    }
    assert User.objects.get(username="demo-client").check_password(DEMO_PASSWORD)
    assert DEMO_PASSWORD in output and "demo-supervisor" in output


def test_running_twice_changes_nothing(settings):
    settings.DEBUG = True
    load_demo()
    before = snapshot()
    output = load_demo()
    assert snapshot() == before
    assert "nothing changed" in output


def test_windows_are_restored_for_a_counselor_who_has_none(settings):
    settings.DEBUG = True
    load_demo()
    profile = counselor_list_listed().first()
    profile.windows.all().delete()
    load_demo()
    assert profile.windows.exists()


def test_refuses_without_debug_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        load_demo()
    assert User.objects.count() == 0

    load_demo(force=True)
    assert counselor_list_listed().count() >= 12
