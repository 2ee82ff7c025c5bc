"""Receivers of other apps' domain signals (connected in MatchingConfig.ready())."""

from matching.services import matching_round_schedule


def counselor_free_again(sender, *, booking_id: int, counselor_id: int, **kwargs) -> None:
    """A session ended: its counselor, if on talk-now duty, may take the next waiting request
    now rather than at the next sweep (which would also find it, within 10 seconds)."""
    matching_round_schedule()
