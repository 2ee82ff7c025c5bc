"""The kinds of in-page notice and how each one reads.

A notice is stored as a kind and its params (`accounts.services.notice_send`), never as text,
so it reads in the language and time zone of whoever looks at it, when they look. Each kind
registers a message here; any app may add its own kinds (an app above `accounts` imports this
module and calls `notice_kind_register` at import time, e.g. in its `services.py`). A kind
nobody registered, or params that do not fit the message, read as a generic line instead of
an error, so an old row never breaks a page.

Params never hold a topic, a note or message content: the text must be safe to show on any
screen, including one someone else is looking at."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy as _

# Renders params in the active language, times in `zone`.
NoticeRenderer = Callable[[dict, ZoneInfo], str]

GENERIC_TEXT = _("You have a new notice on Pianke.")


def local_time(value: str | dt.datetime, zone: ZoneInfo) -> str:
    """An ISO timestamp (as stored in params) or aware datetime, as wall-clock time in `zone`."""
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:  # params are written in UTC; a naive one is a bug, not a crash
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


@dataclass(frozen=True)
class _Template:
    """A message with %(name)s placeholders; `times` name the params that are ISO timestamps."""

    text: object  # a lazy translation
    times: tuple[str, ...]

    def __call__(self, params: dict, zone: ZoneInfo) -> str:
        values = dict(params)
        for name in self.times:
            values[name] = local_time(params[name], zone)
        return str(self.text) % values


_KINDS: dict[str, NoticeRenderer] = {}


def notice_kind_register(
    kind: str, text=None, *, times: Iterable[str] = (), renderer: NoticeRenderer | None = None
) -> None:
    """Register how notices of `kind` read: either `text`, a gettext_lazy message with
    %(param)s placeholders (the params named in `times` are ISO timestamps, shown in the
    reader's zone), or a `renderer(params, zone) -> str` for anything else. Registering a kind
    again replaces it (module reloads in development)."""
    if (text is None) == (renderer is None):
        raise TypeError("give either text or renderer")
    _KINDS[kind] = renderer or _Template(text=text, times=tuple(times))


def notice_kinds() -> list[str]:
    return sorted(_KINDS)


def notice_text(*, kind: str, params: dict, zone: ZoneInfo) -> str:
    """The notice in the active language, times in `zone`. Unknown kinds and params that do
    not fit their message (a key missing, a time that does not parse) give the generic text."""
    render = _KINDS.get(kind)
    if render is None:
        return str(GENERIC_TEXT)
    try:
        return render(params or {}, zone)
    except (KeyError, ValueError, TypeError):
        return str(GENERIC_TEXT)


# --- the kinds of accounts and listening (listening sits above and cannot be imported here,
# but its session notices are the ones every user sees, so they are registered with the rest)

REMINDER_24H = "reminder_24h"
REMINDER_1H = "reminder_1h"
BOOKING_CANCELLED = "booking_cancelled"
BOOKING_MOVED = "booking_moved"

notice_kind_register(
    REMINDER_24H,
    _("Reminder: your %(minutes)s-minute session is tomorrow, %(start)s."),
    times=["start"],
)
notice_kind_register(
    REMINDER_1H,
    _("Reminder: your %(minutes)s-minute session starts in about an hour, at %(start)s."),
    times=["start"],
)
notice_kind_register(
    BOOKING_CANCELLED,
    _("Your session on %(start)s was cancelled."),
    times=["start"],
)
notice_kind_register(
    BOOKING_MOVED,
    _("Your session on %(old_start)s was moved to %(start)s."),
    times=["start", "old_start"],
)

TOOLKIT_ASSIGNED = "toolkit_assigned"
notice_kind_register(
    TOOLKIT_ASSIGNED,
    _("Your counselor gave you a tool to try before next time. It is in your toolkit."),
)
