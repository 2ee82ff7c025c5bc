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
