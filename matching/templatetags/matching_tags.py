from django import template
from django.utils.translation import ngettext

from matching import explain
from matching.models import Offer
from matching.selectors import (
    match_request_note,
    offers_for_counselor,
    presence_of,
    reserve_state_for_counselor,
)

register = template.Library()


@register.simple_tag
def duty_state(user) -> dict:
    """The counselor's talk-now duty and pending offers, for the dashboard's duty panel."""
    if not getattr(user, "is_authenticated", False) or user.role != "counselor":
        return {}
    return {
        "presence": presence_of(counselor_id=user.pk),
        "offers": list(offers_for_counselor(user=user).filter(status=Offer.Status.PENDING)),
    }


@register.filter
def reasons_display(reasons) -> list[str]:
    return explain.reasons_display(list(reasons or []))


@register.filter
def topic_name(slug: str) -> str:
    return explain.topic_name(slug)


@register.filter
def request_note(match_request) -> str:
    return match_request_note(match_request)


@register.filter
def seconds_to_minutes(seconds) -> int:
    """Whole minutes, rounded up (a wait is never shown shorter than it is)."""
    return -(-int(seconds or 0) // 60)


@register.filter
def wait_display(seconds) -> str:
    """A wait as people say it: "40 seconds" under a minute, else whole minutes rounded up."""
    seconds = int(seconds or 0)
    if seconds < 60:
        return ngettext("%(n)s second", "%(n)s seconds", seconds) % {"n": seconds}
    minutes = -(-seconds // 60)
    return ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": minutes}


@register.simple_tag
def reserve_state(user) -> dict:
    """The counselor's reserve-pool opt-in and call-ups for surges not over, for the dashboard."""
    if not getattr(user, "is_authenticated", False) or not user.is_counselor:
        return {}
    return reserve_state_for_counselor(user=user)
