"""Celery tasks of the safety kernel: thin, idempotent, each claiming its row in the service.

Each task body imports its service when it runs: the services module imports this one at
module level (to queue the steps after commit), so the import goes the other way here."""

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def alert_notify(alert_id: int) -> bool:
    from ethics import services  # at run time: services imports this module

    return services.alert_notify(alert_id=alert_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def alert_escalate(alert_id: int, level: int) -> bool:
    from ethics import services  # at run time: services imports this module

    return services.alert_escalate(alert_id=alert_id, level=level)


@shared_task
def alerts_sweep() -> int:
    from ethics import services  # at run time: services imports this module

    return services.alerts_sweep()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def risk_check_overdue(assessment_id: int) -> bool:
    from ethics import services  # at run time: services imports this module

    return services.risk_check_overdue(assessment_id=assessment_id)
