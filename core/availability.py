"""Turning availability windows and bookings into bookable slots.

Pure functions over plain values (no queries), so the slot list, the directory's
"available between" filter and booking validation all share one definition of "free".
Every instant here is an aware UTC datetime; slot starts are UTC quarter hours, which
are quarter hours in every zone in use (all offsets are multiples of 15 minutes).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

UTC = dt.UTC
QUARTER = dt.timedelta(minutes=15)
MIDNIGHT = dt.time(0, 0)

Interval = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class WeeklyRule:
    weekday: int  # 0 = Monday
    start_time: dt.time
    end_time: dt.time  # 00:00 = the following midnight
    timezone: str
    valid_from: dt.date
    valid_until: dt.date | None


def weekly_occurrences(
    rule: WeeklyRule, start: dt.datetime, end: dt.datetime
) -> Iterator[Interval]:
    """Occurrences of a weekly rule that overlap [start, end), as UTC intervals.

    Each occurrence is built from the local date and wall-clock times in the rule's own
    zone, so the local time stays put when the zone's offset changes (DST)."""
    tz = ZoneInfo(rule.timezone)
    first = max(start.astimezone(tz).date() - dt.timedelta(days=1), rule.valid_from)
    last = end.astimezone(tz).date()
    if rule.valid_until is not None:
        last = min(last, rule.valid_until)
    day = first + dt.timedelta(days=(rule.weekday - first.weekday()) % 7)
    while day <= last:
        local_start = dt.datetime.combine(day, rule.start_time, tzinfo=tz)
        end_day = day + dt.timedelta(days=1) if rule.end_time == MIDNIGHT else day
        local_end = dt.datetime.combine(end_day, rule.end_time, tzinfo=tz)
        s, e = local_start.astimezone(UTC), local_end.astimezone(UTC)
        if s < end and e > start and e > s:
            yield s, e
        day += dt.timedelta(days=7)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Union of intervals; overlapping or touching ones become one."""
    merged: list[list[dt.datetime]] = []
    for s, e in sorted(intervals):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [(s, e) for s, e in merged]


def window_intervals(
    one_offs: Iterable[Interval], weekly: Iterable[WeeklyRule], start: dt.datetime, end: dt.datetime
) -> list[Interval]:
    """All of a counselor's windows overlapping [start, end), merged."""
    intervals = [(s, e) for s, e in one_offs if s < end and e > start]
    for rule in weekly:
        intervals.extend(weekly_occurrences(rule, start, end))
    return merge(intervals)


def days_off_intervals(
    days_off: Iterable[tuple[dt.date, dt.date]], timezone: str, start: dt.datetime, end: dt.datetime
) -> list[Interval]:
    """Time off given as inclusive local dates in `timezone`, as merged UTC intervals that
    overlap [start, end). Each range runs from local midnight of its first day to local
    midnight after its last, so a day of 23 or 25 hours (DST) is still exactly one day off."""
    tz = ZoneInfo(timezone)
    intervals = []
    for first, last in days_off:
        s = local_midnight(first, tz).astimezone(UTC)
        e = local_midnight(last + dt.timedelta(days=1), tz).astimezone(UTC)
        if s < end and e > start:
            intervals.append((s, e))
    return merge(intervals)


def subtract(intervals: list[Interval], holes: list[Interval]) -> list[Interval]:
    """The parts of the (merged, sorted) `intervals` outside every one of the (merged, sorted)
    `holes`."""
    if not holes:
        return intervals
    out: list[Interval] = []
    for s, e in intervals:
        for hs, he in holes:
            if he <= s or hs >= e:
                continue
            if hs > s:
                out.append((s, hs))
            s = max(s, he)
            if s >= e:
                break
        if s < e:
            out.append((s, e))
    return out


def overlaps(intervals: list[Interval], start: dt.datetime, end: dt.datetime) -> bool:
    """Whether [start, end) overlaps any of the intervals."""
    return any(s < end and e > start for s, e in intervals)


def contains(intervals: list[Interval], start: dt.datetime, end: dt.datetime) -> bool:
    """Whether [start, end) lies wholly inside one of the (merged, sorted) intervals."""
    i = bisect.bisect_right(intervals, (start, dt.datetime.max.replace(tzinfo=UTC))) - 1
    return i >= 0 and intervals[i][0] <= start and end <= intervals[i][1]


def local_midnight(day: dt.date, tz) -> dt.datetime:
    """The instant a local day begins in zone `tz` (a ZoneInfo)."""
    return dt.datetime.combine(day, MIDNIGHT, tzinfo=tz)


def ceil_quarter(t: dt.datetime) -> dt.datetime:
    floored = t.replace(minute=t.minute - t.minute % 15, second=0, microsecond=0)
    return floored if floored == t else floored + QUARTER


def is_quarter_hour(t: dt.datetime) -> bool:
    return t.minute % 15 == 0 and t.second == 0 and t.microsecond == 0


@dataclass
class CounselorDay:
    """What decides a counselor's free slots; built by the selectors from the database."""

    timezone: str
    daily_cap: int
    buffer: dt.timedelta
    earliest: dt.datetime  # now + minimum notice
    windows: list[Interval]  # merged
    busy: list[Interval]  # active bookings, sorted by start
    day_counts: Counter  # local date -> active bookings that day
    # Time off (whole local days), already cut out of `windows`; kept to say why a time is not free.
    away: list[Interval] = field(default_factory=list)

    def local_date(self, t: dt.datetime) -> dt.date:
        return t.astimezone(ZoneInfo(self.timezone)).date()

    def is_away(self, start: dt.datetime, end: dt.datetime) -> bool:
        """Whether [start, end) touches the counselor's time off."""
        return overlaps(self.away, start, end)

    def clashes(self, start: dt.datetime, end: dt.datetime) -> bool:
        """Whether [start, end) overlaps an active booking widened by the buffer."""
        # busy is sorted by start; only bookings starting before end + buffer can clash.
        hi = bisect.bisect_left(self.busy, (end + self.buffer,))
        return any(bs - self.buffer < end and be + self.buffer > start for bs, be in self.busy[:hi])

    def free_slots(
        self, start: dt.datetime, end: dt.datetime, duration: dt.timedelta, limit: int | None = None
    ) -> list[Interval]:
        """Free slot starts in [start, end), each `duration` long, in time order."""
        start, end = start.astimezone(UTC), end.astimezone(UTC)  # quarter hours are counted in UTC
        tz = ZoneInfo(self.timezone)
        slots: list[Interval] = []
        for ws, we in self.windows:
            t = ceil_quarter(max(ws, start, self.earliest))
            while t < end and t + duration <= we:
                if self.day_counts[t.astimezone(tz).date()] < self.daily_cap and not self.clashes(
                    t, t + duration
                ):
                    slots.append((t, t + duration))
                    if limit is not None and len(slots) >= limit:
                        return slots
                t += QUARTER
        return slots
