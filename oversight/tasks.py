"""Celery tasks of oversight: the referral check-ins.

The registered names are the ones these tasks had in `ethics.tasks`: check-ins sit queued
with a seven-day eta and beat names the sweep, so renaming them would strand queued work.
Task bodies import the services module when they run: it imports this module at module level
(to schedule the check-in after commit), so the import goes the other way here."""

from celery import shared_task


@shared_task(name="ethics.tasks.referral_follow_up", acks_late=True, reject_on_worker_lost=True)
def referral_follow_up(referral_id: int) -> bool:
    """The seven-day check-in of an accepted referral (scheduled with an eta; claims the row)."""
    from oversight import services  # at run time: services imports this module

    return services.referral_follow_up(referral_id=referral_id)


@shared_task(name="ethics.tasks.referrals_follow_up_due")
def referrals_follow_up_due() -> int:
    """Beat: send any check-in that is due and was not sent (the safety net behind the eta tasks)."""
    from oversight import services  # at run time: services imports this module

    return services.referrals_follow_up_due()
