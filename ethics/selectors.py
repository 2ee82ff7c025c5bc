from django.db.models import QuerySet

from accounts.models import User
from ethics.models import CrisisAlert, RiskCheck


def alert_queue() -> QuerySet[CrisisAlert]:
    """The on-call queue: most severe first, then oldest first."""
    return CrisisAlert.objects.select_related("booking").order_by("-severity", "created_at", "pk")


def risk_checks_for(*, counselor: User, booking_id: int) -> QuerySet[RiskCheck]:
    """The counselor's own risk checks on one booking, newest first (nobody else's)."""
    return RiskCheck.objects.filter(
        booking_id=booking_id, booking__counselor_id=counselor.pk, counselor=counselor
    )


def booking_is_counselors(*, counselor: User, booking_id: int) -> bool:
    return (
        RiskCheck._meta.get_field("booking")
        .related_model.objects.filter(pk=booking_id, counselor_id=counselor.pk)
        .exists()
    )
