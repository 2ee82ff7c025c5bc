"""Thin, idempotent tasks: each claims its rows (skip_locked or a conditional update) and calls
a service, so a redelivered or duplicated task does no harm."""

from celery import shared_task

from matching import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def match_request(request_id: int) -> int:
    """A new (or returned) talk-now request: run a round, which takes every waiting request
    together (the batch assignment), this one included."""
    return len(services.matching_round())


@shared_task(acks_late=True, reject_on_worker_lost=True)
def matching_round() -> int:
    """The batch assignment over everything waiting and every free on-duty counselor."""
    return len(services.matching_round())


@shared_task(acks_late=True, reject_on_worker_lost=True)
def expire_offer(offer_id: int) -> bool:
    return services.offer_expire(offer_id=offer_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def match_request_deadline(request_id: int) -> bool:
    return services.match_request_expire(request_id=request_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def match_request_suggest(request_id: int) -> bool:
    return services.match_request_suggest(request_id=request_id)


@shared_task
def matching_sweep() -> dict:
    return services.matching_sweep()
