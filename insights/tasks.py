"""Celery tasks of `insights`, run by beat. They take no arguments: each reads everything it
needs, and calls a service."""

from celery import shared_task

from insights import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def insights_materialise() -> None:
    """Nightly: rebuild the anonymised facts (a run already being built elsewhere is left to it)."""
    services.insights_materialise()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def duty_sample() -> None:
    """Every minute: sample talk-now duty, for exposure fairness."""
    services.duty_sample_record()
