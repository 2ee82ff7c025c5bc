"""Reads about consent and the intake."""

from accounts.models import ConsentRecord, Intake
from core.export import iso

# The consent text is data; pages and views read it (and its current version) through here.
from intake.consent import CURRENT_VERSION, WITHDRAWN_MESSAGE, consent_text, pick_language

__all__ = [
    "CURRENT_VERSION",
    "WITHDRAWN_MESSAGE",
    "consent_text",
    "health_information_export",
    "pick_language",
]


def health_information_export(*, user) -> dict:
    """The user's consents and intakes, for their data export."""
    return {
        "consents": [
            {
                "version": c.version,
                "language": c.language,
                "agreed_at": iso(c.agreed_at),
                "withdrawn_at": iso(c.withdrawn_at),
            }
            for c in ConsentRecord.objects.filter(user=user).order_by("agreed_at", "pk")
        ],
        "intakes": [
            {
                "created_at": iso(i.created_at),
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
    }
