"""Thin, idempotent tasks: each claims its rows (skip_locked or a conditional update) and calls
a service, so a redelivered or duplicated task does no harm.

Task bodies import the services module when they run: it imports this module at module level
(to queue tasks after commit), so the import goes the other way here."""

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def match_request(request_id: int) -> int:
    """A new (or returned) talk-now request: run a round, which takes every waiting request
    together (the batch assignment), this one included (coalesced: one round at a time)."""
    from matching import services  # at run time: services imports this module

    return len(services.matching_rounds())


@shared_task(acks_late=True, reject_on_worker_lost=True)
def matching_round() -> int:
    """The batch assignment over everything waiting and every free on-duty counselor
    (coalesced: one round at a time, see services.matching_rounds)."""
    from matching import services  # at run time: services imports this module

    return len(services.matching_rounds())


@shared_task(acks_late=True, reject_on_worker_lost=True)
def expire_offer(offer_id: int) -> bool:
    from matching import services  # at run time: services imports this module

    return services.offer_expire(offer_id=offer_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def match_request_deadline(request_id: int) -> bool:
    from matching import services  # at run time: services imports this module

    return services.match_request_expire(request_id=request_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def match_request_suggest(request_id: int) -> bool:
    from matching import services  # at run time: services imports this module

    return services.match_request_suggest(request_id=request_id)


@shared_task
def matching_sweep() -> dict:
    from matching import services  # at run time: services imports this module

    return services.matching_sweep()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def surge_calls_send(surge_id: int) -> int:
    """A new surge's call-ups (each claimed once, so a redelivery sends nothing twice)."""
    from matching import services  # at run time: services imports this module

    return services.surge_calls_send(surge_id=surge_id)


@shared_task
def surge_calls_sweep() -> int:
    """Beat: any call-up a lost task left pending."""
    from matching import services  # at run time: services imports this module

    return services.surge_calls_send()
