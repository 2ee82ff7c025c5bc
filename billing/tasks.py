"""Celery tasks: thin and idempotent; each takes ids and calls a service.

Task bodies import the services module when they run: it imports this module at module level
(to queue the gateway calls after commit), so the import goes the other way here."""

from celery import shared_task


@shared_task
def payment_process(payment_id: int) -> bool:
    """Send one pending payment to the gateway (claimed once: a duplicate task is a no-op)."""
    from billing import services  # see the module's docstring

    return services.payment_process(payment_id=payment_id)
