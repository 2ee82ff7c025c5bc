"""Personas and helpers shared by the whole suite. Everything runs against the real
PostgreSQL and Redis given by DATABASE_URL / REDIS_URL (see scripts/devservices.py)."""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from tests.factories import (ClientFactory, CounselorProfileFactory, OneOffWindowFactory, StaffFactory,
                             next_quarter)


def api_as(user=None) -> APIClient:
    api = APIClient()
    if user is not None:
        api.force_authenticate(user)
    return api


@pytest.fixture
def anon():
    return APIClient()


@pytest.fixture
def client_user(db):
    return ClientFactory(username="alice")


@pytest.fixture
def other_client_user(db):
    return ClientFactory(username="bob")


@pytest.fixture
def counselor(db):
    """A verified counselor (Asia/Shanghai) with a three-hour window tomorrow."""
    profile = CounselorProfileFactory(user__username="chen")
    start = next_quarter(days=1).replace(minute=0)
    OneOffWindowFactory(counselor=profile, start=start, end=start + dt.timedelta(hours=3))
    return profile


@pytest.fixture
def other_counselor(db):
    return CounselorProfileFactory(user__username="dana", user__timezone="Europe/Berlin")


@pytest.fixture
def staff_user(db):
    return StaffFactory(username="sam")


@pytest.fixture
def as_client(client_user):
    return api_as(client_user)


@pytest.fixture
def as_other_client(other_client_user):
    return api_as(other_client_user)


@pytest.fixture
def as_counselor(counselor):
    return api_as(counselor.user)


@pytest.fixture
def as_other_counselor(other_counselor):
    return api_as(other_counselor.user)


@pytest.fixture
def as_staff(staff_user):
    return api_as(staff_user)
