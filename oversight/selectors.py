"""Reads for oversight: who sees which referral or flag, and the data export's part."""

from django.db.models import Q

from core.export import iso
from ethics.models import Complaint, Referral


def oversight_export(*, user) -> dict:
    """The user's referrals (made or received) and complaints, for their data export."""
    referrals = (
        Referral.objects.filter(Q(client=user) | Q(counselor_id=user.pk))
        .select_related("resource")
        .order_by("created_at", "pk")
    )
    return {
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
                "created_at": iso(r.created_at),
                "responded_at": iso(r.responded_at),
            }
            for r in referrals
        ],
        "complaints": [
            {"booking": c.booking_id, "text": c.text, "created_at": iso(c.created_at)}
            for c in Complaint.objects.filter(client=user).order_by("created_at", "pk")
        ],
    }
