"""Reads about accounts."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from accounts.models import ConsentRecord, Intake, User

EXPORT_FORMAT = "pianke-data-export/1"


def _iso(value):
    return value.isoformat() if value is not None else None


def _money(value):
    return str(value) if value is not None else None


def _counselor_part(user: User) -> dict | None:
    from counselors.models import CounselorProfile

    profile = CounselorProfile.objects.filter(pk=user.pk).prefetch_related("specialties").first()
    if profile is None:
        return None
    return {
        "display_name": profile.display_name,
        "bio": profile.bio,
        "specialties": sorted(s.slug for s in profile.specialties.all()),
        "languages": profile.languages,
        "modes": profile.modes,
        "price_15": _money(profile.price_15),
        "price_30": _money(profile.price_30),
        "daily_cap": profile.daily_cap,
        "min_notice_minutes": profile.min_notice_minutes,
        "buffer_minutes": profile.buffer_minutes,
        "verification": profile.verification,
        "is_active": profile.is_active,
        "rating": _money(profile.rating),
        "review_count": profile.review_count,
        "credentials": [
            {
                "licence_type": c.licence_type,
                "number": c.number,
                "issuing_body": c.issuing_body,
                "valid_until": _iso(c.valid_until),
                "added_at": _iso(c.created_at),
            }
            for c in profile.credentials.order_by("created_at", "pk")
        ],
        "availability_windows": [
            {
                "kind": w.kind,
                "start": _iso(w.start),
                "end": _iso(w.end),
                "weekday": w.weekday,
                "start_time": _iso(w.start_time),
                "end_time": _iso(w.end_time),
                "timezone": w.timezone or None,
                "valid_from": _iso(w.valid_from),
                "valid_until": _iso(w.valid_until),
            }
            for w in profile.windows.order_by("created_at", "pk")
        ],
    }


def _message(message, *, user: User) -> dict:
    from core.encryption import decrypt_text

    out = {
        "seq": message.seq,
        "sent_at": _iso(message.sent_at),
        "from": "me" if message.sender_id == user.pk else "other",
        "kind": message.kind,
        "text": decrypt_text(message.ciphertext) if message.ciphertext else "",
    }
    if message.kind == message.Kind.VOICE:
        # The recording itself stays downloadable from the booking's messages while it is kept.
        out["audio_seconds"] = message.audio_seconds
        out["audio_url"] = f"/api/v1/bookings/{message.booking_id}/messages/{message.seq}/audio/"
    return out


def _booking(booking, *, user: User) -> dict:
    feedback = getattr(booking, "feedback", None)
    as_client = booking.client_id == user.pk
    return {
        "id": booking.pk,
        "my_role": "client" if as_client else "counselor",
        "counselor": booking.counselor.display_name or booking.counselor.user.username,
        "client": booking.client.username,
        "start": _iso(booking.start),
        "end": _iso(booking.end),
        "duration_minutes": booking.duration_minutes,
        "mode": booking.mode,
        "topic": booking.topic,
        "note": booking.note,
        "price": _money(booking.price),
        "status": booking.status,
        "booked_at": _iso(booking.created_at),
        "cancelled_at": _iso(booking.cancelled_at),
        "cancelled_by": (
            None
            if booking.cancelled_by_id is None
            else "me"
            if booking.cancelled_by_id == user.pk
            else "other"
        ),
        "cancel_reason": booking.cancel_reason,
        "completed_at": _iso(booking.completed_at),
        "no_show_party": booking.no_show_party or None,
        "messages": [_message(m, user=user) for m in booking.messages.order_by("seq")],
        "feedback": None
        if feedback is None
        else {
            "pre_distress": feedback.pre_distress,
            "post_distress": feedback.post_distress,
            "rating": feedback.rating,
            "comment": feedback.comment,
            "given_at": _iso(feedback.created_at),
        },
    }


def user_data_export(*, user: User) -> dict:
    """Everything Pianke keeps about `user`, for them to download (their right of access):
    the account, a counselor's profile, consents, intakes, bookings with their messages
    decrypted, feedback, referrals and complaints. Only the user's own data, and the other
    side of their own sessions only as far as the session itself (a name, their messages)."""
    from ethics.models import Complaint, Referral
    from listening.models import Booking

    bookings = (
        Booking.objects.filter(Q(client=user) | Q(counselor_id=user.pk))
        .select_related("counselor__user", "client", "feedback")
        .order_by("start", "pk")
    )
    referrals = (
        Referral.objects.filter(Q(client=user) | Q(counselor_id=user.pk))
        .select_related("resource")
        .order_by("created_at", "pk")
    )
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(timezone.now()),
        "account": {
            "id": user.pk,
            "username": user.username,
            "email": user.email,
            "role": user.role,
            "timezone": user.timezone,
            "language": user.language,
            "joined_at": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
        },
        "counselor_profile": _counselor_part(user) if user.is_counselor else None,
        "consents": [
            {
                "version": c.version,
                "language": c.language,
                "agreed_at": _iso(c.agreed_at),
                "withdrawn_at": _iso(c.withdrawn_at),
            }
            for c in ConsentRecord.objects.filter(user=user).order_by("agreed_at", "pk")
        ],
        "intakes": [
            {
                "created_at": _iso(i.created_at),
                "consent_version": i.consent.version,
                "topic": i.topic,
                "distress": i.distress,
                "phq4": i.phq4,
                "phq4_score": i.phq4_score,
                "band": i.band,
                "item9": i.item9,
                "risk": i.risk,
            }
            for i in Intake.objects.filter(user=user)
            .select_related("consent")
            .order_by("created_at", "pk")
        ],
        "bookings": [_booking(b, user=user) for b in bookings],
        "referrals": [
            {
                "id": r.pk,
                "booking": r.booking_id,
                "my_role": "client" if r.client_id == user.pk else "counselor",
                "resource": r.resource.name,
                "resource_kind": r.resource.kind,
                "resource_contact": r.resource.contact,
                "reason": r.reason,
                "urgency": r.urgency,
                "status": r.status,
                "created_at": _iso(r.created_at),
                "responded_at": _iso(r.responded_at),
            }
            for r in referrals
        ],
        "complaints": [
            {"booking": c.booking_id, "text": c.text, "created_at": _iso(c.created_at)}
            for c in Complaint.objects.filter(client=user).order_by("created_at", "pk")
        ],
    }
