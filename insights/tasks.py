"""Celery tasks of `insights`, run by beat. They take no arguments: each reads everything it
needs. Task bodies import the services module when they run (it imports this module)."""

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def insights_materialise() -> None:
    """Nightly: rebuild the anonymised facts (a run already being built elsewhere is left to it)."""
    from insights import services  # at run time: services imports this module

    services.insights_materialise()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def duty_sample() -> None:
    """Every minute: sample talk-now duty, for exposure fairness."""
    from insights import services  # at run time: services imports this module

    services.duty_sample_record()
