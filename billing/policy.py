"""The money rules, pure (no queries): the refund policy and the split of a charge into the
counselor's earning and the platform's fee. docs/billing.md states them for people."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum

CENT = Decimal("0.01")
# A client who cancels more than this long before the start gets everything back.
FREE_CANCELLATION = dt.timedelta(hours=2)


class Outcome(str, Enum):
    """What happens to a held charge."""

    REFUND = "refund"  # everything back to whoever paid
    EARN = "earn"  # the counselor is paid (less the platform fee)


class Party(str, Enum):
    """Who ended a session early, or did not come (listening's Booking.Party, plus staff)."""

    CLIENT = "client"
    COUNSELOR = "counselor"
    STAFF = "staff"
    BOTH = "both"


def cancellation_outcome(*, by: Party, cancelled_at: dt.datetime, start: dt.datetime) -> Outcome:
    """A cancellation before the start: the client cancelling more than two hours ahead gets
    a full refund and nothing after that (the counselor kept the time free for them); a
    counselor's or staff's cancellation (a suspension included) is always a full refund."""
    if by == Party.CLIENT and start - cancelled_at <= FREE_CANCELLATION:
        return Outcome.EARN
    return Outcome.REFUND


def no_show_outcome(*, absent: Party) -> Outcome:
    """Nobody held the session: a client who did not come still pays the counselor, who kept
    the time; a counselor who did not come (alone or with the client) refunds in full."""
    return Outcome.EARN if absent == Party.CLIENT else Outcome.REFUND


def fee_split(*, amount: Decimal, rate: Decimal) -> tuple[Decimal, Decimal]:
    """(earning, fee) of a charge: the fee rounded to the fen, half up, and the earning what
    remains, so the two always add up to the charge exactly."""
    fee = (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)
    return amount - fee, fee
