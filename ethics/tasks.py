from celery import shared_task

from ethics import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def alert_notify(alert_id: int) -> bool:
    return services.alert_notify(alert_id=alert_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def alert_escalate(alert_id: int, level: int) -> bool:
    return services.alert_escalate(alert_id=alert_id, level=level)


@shared_task
def alerts_sweep() -> int:
    return services.alerts_sweep()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def referral_follow_up(referral_id: int) -> bool:
    """The seven-day check-in of an accepted referral (scheduled with an eta; claims the row)."""
    from ethics import review

    return review.referral_follow_up(referral_id=referral_id)


@shared_task
def referrals_follow_up_due() -> int:
    """Beat: send any check-in that is due and was not sent (the safety net behind the eta tasks)."""
    from ethics import review

    return review.referrals_follow_up_due()
