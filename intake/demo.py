"""Demo data, intake's part (`load_demo`): consent and a low-risk intake for the demo
client, so they can book at once."""

from __future__ import annotations

from accounts.models import User
from intake.consent import CURRENT_VERSION
from intake.services import consent_agree, intake_current_for, intake_submit


def intake_seed(user: User) -> None:
    """Agree to the current consent and submit a low-risk intake for `user`, unless they
    already have a current intake."""
    if intake_current_for(user) is not None:
        return
    consent_agree(user=user, version=CURRENT_VERSION)
    intake_submit(
        user=user,
        consent_version=CURRENT_VERSION,
        topic="stress",
        distress=4,
        phq4=[1, 1, 0, 0],
        item9=0,
    )
