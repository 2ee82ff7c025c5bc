"""The on-call queue page (/oncall/): who may see it, the order, acknowledge and resolve."""

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ethics.models import CrisisAlert
from tests.ethics.test_escalation_support import SupervisorFactory, bare_alert, on_shift
from tests.factories import BookingFactory, ClientFactory, CounselorProfileFactory, StaffFactory

pytestmark = pytest.mark.django_db


def browser(user=None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


@pytest.fixture
def supervisor(db):
    return SupervisorFactory()


def test_anonymous_visitor_is_sent_to_log_in():
    response = browser().get(reverse("ethics:oncall"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse(settings.LOGIN_URL))


@pytest.mark.parametrize("make", [ClientFactory, lambda: CounselorProfileFactory().user])
def test_clients_and_counselors_get_403(make):
    assert browser(make()).get(reverse("ethics:oncall")).status_code == 403
    assert browser(make()).get(reverse("ethics:oncall-queue")).status_code == 403


def test_supervisor_and_staff_see_the_queue_most_severe_then_oldest(supervisor):
    newer_high = bare_alert(BookingFactory(), minutes_ago=1)
    older_high = bare_alert(BookingFactory(), minutes_ago=9)
    low = bare_alert(BookingFactory(), severity=CrisisAlert.Severity.LOW, minutes_ago=30)
    bare_alert(
        BookingFactory(),
        minutes_ago=60,
        status="resolved",
        outcome="contacted",
        outcome_note="ok",
        acknowledged_at=timezone.now(),
        resolved_at=timezone.now(),
    )
    for user in (supervisor, StaffFactory()):
        body = browser(user).get(reverse("ethics:oncall")).content.decode()
        order = [body.index(f'id="alert-{a.pk}"') for a in (older_high, newer_high, low)]
        assert order == sorted(order)
    resolved_tab = (
        browser(supervisor).get(reverse("ethics:oncall") + "?show=resolved").content.decode()
    )
    assert f'id="alert-{low.pk}"' not in resolved_tab


def test_page_says_who_is_on_call(supervisor):
    on_shift(supervisor)
    body = browser(supervisor).get(reverse("ethics:oncall")).content.decode()
    assert "You are on call until" in body


def test_queue_fragment_is_just_the_list(supervisor):
    alert = bare_alert(BookingFactory())
    response = browser(supervisor).get(reverse("ethics:oncall-queue"))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<ol class="alert-queue"') and f'id="alert-{alert.pk}"' in body


def test_supervisor_acknowledges_an_alert(supervisor):
    alert = bare_alert(BookingFactory())
    response = browser(supervisor).post(
        reverse("ethics:oncall-acknowledge", args=[alert.pk]), {"note": "calling now"}
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert (alert.status, alert.acknowledged_by, alert.outcome_note) == (
        "acknowledged",
        supervisor,
        "calling now",
    )


def test_acknowledging_twice_is_409_and_keeps_the_first(supervisor):
    alert = bare_alert(BookingFactory())
    first = SupervisorFactory()
    browser(first).post(reverse("ethics:oncall-acknowledge", args=[alert.pk]), {})
    response = browser(supervisor).post(reverse("ethics:oncall-acknowledge", args=[alert.pk]), {})
    assert response.status_code == 409
    alert.refresh_from_db()
    assert alert.acknowledged_by == first


def test_resolving_without_outcome_or_note_is_400_naming_both(supervisor):
    alert = bare_alert(BookingFactory())
    response = browser(supervisor).post(
        reverse("ethics:oncall-resolve", args=[alert.pk]), {"outcome": "", "note": ""}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert (
        f'id="resolve{alert.pk}_outcome_error"' in body
        and f'id="resolve{alert.pk}_note_error"' in body
    )
    alert.refresh_from_db()
    assert alert.status == "open"


def test_resolving_with_an_unknown_outcome_is_400(supervisor):
    alert = bare_alert(BookingFactory())
    response = browser(supervisor).post(
        reverse("ethics:oncall-resolve", args=[alert.pk]), {"outcome": "vanished", "note": "n"}
    )
    assert response.status_code == 400
    alert.refresh_from_db()
    assert alert.status == "open"


def test_supervisor_resolves_an_alert_with_its_outcome(supervisor):
    alert = bare_alert(BookingFactory())
    response = browser(supervisor).post(
        reverse("ethics:oncall-resolve", args=[alert.pk]),
        {"outcome": "referred", "note": "referred to the hospital line"},
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert (alert.status, alert.outcome, alert.resolved_by) == ("resolved", "referred", supervisor)
    assert alert.acknowledged_by == supervisor  # resolving answers it too


def test_unknown_alert_is_404(supervisor):
    assert (
        browser(supervisor)
        .post(reverse("ethics:oncall-acknowledge", args=[999999]), {})
        .status_code
        == 404
    )


def test_counselor_may_not_acknowledge():
    alert = bare_alert(BookingFactory())
    response = browser(CounselorProfileFactory().user).post(
        reverse("ethics:oncall-acknowledge", args=[alert.pk]), {}
    )
    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.status == "open"


def test_overdue_alert_is_marked(supervisor):
    alert = bare_alert(BookingFactory(), minutes_ago=6, escalation_level=2, overdue=True)
    body = browser(supervisor).get(reverse("ethics:oncall")).content.decode()
    assert f'id="alert-{alert.pk}"' in body and "overdue" in body


def test_alert_without_a_session_is_shown(supervisor):
    client = ClientFactory()
    alert = CrisisAlert.objects.create(
        client=client,
        source=CrisisAlert.Source.INTAKE,
        reasons=["intake: item9"],
        created_at=timezone.now() - dt.timedelta(minutes=1),
    )
    body = browser(supervisor).get(reverse("ethics:oncall")).content.decode()
    assert f'id="alert-{alert.pk}"' in body and client.username in body


def test_queue_renders_in_chinese(supervisor):
    bare_alert(BookingFactory())
    c = browser(supervisor)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    body = c.get(reverse("ethics:oncall")).content.decode()
    assert "危机警报" in body and "响应" in body and "Acknowledge" not in body
