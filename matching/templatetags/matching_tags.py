from django import template

from matching import explain
from matching.models import Offer
from matching.selectors import match_request_note, offers_for_counselor, presence_of

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
