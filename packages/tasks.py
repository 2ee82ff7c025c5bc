"""Celery tasks of packages: thin and idempotent; they call services (imported when they
run, as in listening.tasks)."""

from celery import shared_task


@shared_task
def packages_expire_due() -> int:
    """Beat, hourly: end the purchases past their end and refund their unused sessions."""
    from packages import services  # at run time, as the other apps' tasks do

    return services.packages_expire_due()
