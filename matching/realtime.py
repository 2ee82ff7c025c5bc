"""Frames for a counselor's talk-now socket (`/ws/counselor/`). Send only after commit."""

from __future__ import annotations

import logging

from core.realtime import group_send

logger = logging.getLogger(__name__)


def duty_group(counselor_id: int) -> str:
    return f"duty.{counselor_id}"


def duty_send(counselor_id: int, frame: dict) -> None:
    """Best effort: the offer row is the record; a counselor who misses the push still sees it
    in `offers/` (and on reconnect), so a channel-layer hiccup must not fail the step."""
    try:
        group_send(duty_group(counselor_id), {"type": "duty.frame", "frame": frame})
    except Exception:  # noqa: BLE001
        logger.exception("could not push to counselor %s", counselor_id)


def offer_frame(offer, *, language: str | None = None) -> dict:
    """What the counselor sees of an offer: what the client asked for, never who they are.
    `*_name` and `reasons_display` are in `language` (default: the active one)."""
    from django.utils import translation

    from matching.explain import reasons_display, topic_name
    from matching.services import match_request_note

    r = offer.request
    with translation.override(language or translation.get_language()):
        names = {"topic_name": topic_name(r.topic), "mode_name": str(r.get_mode_display())}
        shown = reasons_display(offer.reasons)
    return {
        "id": offer.pk,
        "status": offer.status,
        "request": {
            "id": r.pk,
            "topic": r.topic,
            "mode": r.mode,
            "language": r.language,
            "duration_minutes": r.duration_minutes,
            "note": match_request_note(r),
            "high_risk": r.risk == "high",
            **names,
        },
        "reasons": offer.reasons,
        "reasons_display": shown,
        "score": round(offer.score, 3),
        "created_at": offer.created_at.isoformat(),
        "expires_at": offer.expires_at.isoformat(),
        "booking": r.booking_id if offer.status == "accepted" else None,
    }
