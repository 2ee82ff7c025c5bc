"""Celery tasks of group sessions: thin and idempotent; each takes ids and calls a service.

Task bodies import the services module when they run, as in listening.tasks (services may
queue these tasks, so the import goes the other way here)."""

import datetime as dt

from celery import shared_task
from django.utils import timezone

CLOCK_LOOKAHEAD = dt.timedelta(seconds=30)


@shared_task
def group_warn(group_id: int) -> bool:
    from groups import services  # at run time: see the module docstring

    return services.group_warn(group_id=group_id)


@shared_task
def group_end(group_id: int) -> bool:
    from groups import services  # at run time: see the module docstring

    return services.group_end(group_id=group_id)


CLOCK_TASKS = {"warn": group_warn, "end": group_end}


@shared_task
def groups_clock_tick() -> int:
    """Beat, every 15 s: queue each group's warning and end due within the lookahead at its
    exact time (overdue ones now). The services claim their event in the database, so the
    copies the next tick queues are harmless."""
    from groups import services  # at run time: see the module docstring

    now = timezone.now()
    due = services.groups_clock_due(now=now, lookahead=CLOCK_LOOKAHEAD)
    for event, group_id, when in due:
        CLOCK_TASKS[event].apply_async(args=[group_id], eta=max(when, now))
    return len(due)
