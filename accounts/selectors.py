"""Reads about accounts."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from accounts.models import Notice, NotificationPreference, User
from accounts.notices import notice_text
from core.export import iso


def user_account_export(*, user: User) -> dict:
    """The account itself, for the user's data export."""
    return {
        "id": user.pk,
        "username": user.username,
        "email": user.email,
        "role": user.role,
        "timezone": user.timezone,
        "language": user.language,
        "joined_at": iso(user.date_joined),
        "last_login": iso(user.last_login),
    }


# --- Notification preferences and in-page notices ---------------------------------------------


def notification_preference_for(*, user: User) -> NotificationPreference:
    """The user's preferences: their row, or (unsaved) the defaults when they never chose."""
    try:
        return NotificationPreference.objects.get(user=user)
    except NotificationPreference.DoesNotExist:
        return NotificationPreference(user=user)


def quiet_hours_contain(pref: NotificationPreference, moment: dt.datetime, zone: ZoneInfo) -> bool:
    """Whether `moment` falls inside the quiet hours, read as wall-clock times in `zone`
    (start included, end excluded; a window may wrap midnight, 22:00-07:00)."""
    if pref.quiet_start is None or pref.quiet_end is None or pref.quiet_start == pref.quiet_end:
        return False
    local = moment.astimezone(zone).time().replace(tzinfo=None)
    start, end = pref.quiet_start, pref.quiet_end
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_hours_end_after(
    pref: NotificationPreference, moment: dt.datetime, zone: ZoneInfo
) -> dt.datetime:
    """The first end of the quiet hours after `moment` (a UTC instant). Precondition:
    `quiet_hours_contain(pref, moment, zone)`. The end is a wall-clock time on the local day
    of `moment` or the next; in a spring-forward gap, zoneinfo's reading (fold 0) is taken."""
    local = moment.astimezone(zone)
    end = dt.datetime.combine(local.date(), pref.quiet_end, tzinfo=zone)
    if end <= local:
        end = dt.datetime.combine(local.date() + dt.timedelta(days=1), pref.quiet_end, tzinfo=zone)
    return end.astimezone(dt.UTC)


def notices_of(*, user: User, unread_only: bool = False) -> QuerySet[Notice]:
    """The user's own notices, newest first (nobody sees another's)."""
    notices = Notice.objects.filter(user=user)
    return notices.filter(read_at__isnull=True) if unread_only else notices


def notice_get_for(*, user: User, notice_id: int) -> Notice:
    """One of the user's own notices; anybody else's is Notice.DoesNotExist (a 404)."""
    return Notice.objects.get(pk=notice_id, user=user)


def notice_rendered(notice: Notice, *, zone: ZoneInfo) -> dict:
    """A notice as shown: its text in the active language with times in `zone`, and its link
    only when it is a path on this site (params and urls come from other apps' code, and a
    page must never carry a `javascript:` or off-site link it did not mean to)."""
    url = notice.url if notice.url.startswith("/") and not notice.url.startswith("//") else ""
    return {
        "id": notice.pk,
        "kind": notice.kind,
        "text": notice_text(kind=notice.kind, params=notice.params, zone=zone),
        "url": url,
        "created_at": notice.created_at,
        "read_at": notice.read_at,
    }


def notifications_export(*, user: User) -> dict:
    """The user's notification preferences and notices, for their data export."""
    pref = NotificationPreference.objects.filter(user=user).first()
    return {
        "notification_preferences": None
        if pref is None
        else {
            "email_reminders": pref.email_reminders,
            "in_page_reminders": pref.in_page_reminders,
            "remind_24h": pref.remind_24h,
            "remind_1h": pref.remind_1h,
            "quiet_start": iso(pref.quiet_start),
            "quiet_end": iso(pref.quiet_end),
            "updated_at": iso(pref.updated_at),
        },
        "notices": [
            {
                "kind": n.kind,
                "params": n.params,
                "url": n.url,
                "created_at": iso(n.created_at),
                "read_at": iso(n.read_at),
            }
            for n in Notice.objects.filter(user=user).order_by("created_at", "pk")
        ],
    }
