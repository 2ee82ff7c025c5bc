from django.db.models import QuerySet

from ethics.models import CrisisAlert


def alert_queue() -> QuerySet[CrisisAlert]:
    """The on-call queue: most severe first, then oldest first."""
    return CrisisAlert.objects.select_related("booking").order_by("-severity", "created_at", "pk")
