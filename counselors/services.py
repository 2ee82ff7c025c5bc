"""Counselor profiles, credentials, verification and availability windows."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Notice, User
from accounts.services import notice_send
from core.availability import MIDNIGHT, is_quarter_hour
from counselors import tasks
from counselors.models import (
    AvailabilityWindow,
    CounselorProfile,
    Credential,
    HistoryShare,
    PreferredCounselor,
    Specialty,
    TimeOff,
    VerificationRecord,
)

MAX_WINDOW = dt.timedelta(hours=12)
MAX_TIME_OFF_DAYS = 366
# A preferred counselor's new windows notify each opted-in client at most once in this long.
NEW_WINDOW_NOTICE_EVERY = dt.timedelta(hours=24)
NEW_WINDOW_NOTICE = "preferred_new_window"


def counselor_profile_create(*, user: User) -> CounselorProfile:
    """An unverified, unlisted profile for a new counselor account."""
    return CounselorProfile.objects.create(user=user, display_name=user.username)


def counselor_profile_erase(*, counselor_id: int) -> None:
    """Counselors' part of deleting an account: the profile is unlisted and emptied (bookings
    still refer to it). Call inside the deletion's transaction."""
    CounselorProfile.objects.filter(pk=counselor_id).update(
        is_active=False, bio="", display_name=""
    )


@transaction.atomic
def counselor_profile_update(
    *,
    profile: CounselorProfile,
    specialties: list[str] | None = None,
    timezone: str | None = None,
    **fields,
) -> CounselorProfile:
    """Update the editable fields given; `specialties` are slugs, `timezone` is the counselor's own."""
    editable = {
        "display_name",
        "bio",
        "languages",
        "modes",
        "price_15",
        "price_30",
        "daily_cap",
        "min_notice_minutes",
        "buffer_minutes",
        "reschedule_cutoff_minutes",
        "reserve_pool",
    }
    unknown = set(fields) - editable
    if unknown:
        raise ValidationError({f: _("This field cannot be changed here.") for f in unknown})
    for name, value in fields.items():
        if name in ("languages", "modes"):
            value = sorted(set(value))
        setattr(profile, name, value)
    profile.full_clean(exclude=["user", "specialties"])
    profile.save()
    if timezone is not None:
        user = profile.user
        user.timezone = timezone
        user.full_clean(exclude=["password"])
        user.save(update_fields=["timezone"])
    if specialties is not None:
        found = list(Specialty.objects.filter(slug__in=specialties))
        missing = sorted(set(specialties) - {s.slug for s in found})
        if missing:
            raise ValidationError(
                {"specialties": [_("Unknown specialty: %(slug)s") % {"slug": s} for s in missing]}
            )
        profile.specialties.set(found)
    return profile


@transaction.atomic
def credential_add(
    *,
    profile: CounselorProfile,
    licence_type: str,
    number: str,
    issuing_body: str,
    valid_until: dt.date | None = None,
) -> Credential:
    if Credential.objects.filter(
        counselor=profile, licence_type=licence_type, number=number
    ).exists():
        raise ValidationError({"number": _("This credential is already on file.")})
    return Credential.objects.create(
        counselor=profile,
        licence_type=licence_type,
        number=number,
        issuing_body=issuing_body,
        valid_until=valid_until,
    )


@transaction.atomic
def counselor_verify(
    *, counselor_id: int, reviewer: User, approved: bool, note: str = ""
) -> CounselorProfile:
    """Record a staff decision; approval lists the counselor, rejection unlists them."""
    profile = CounselorProfile.objects.select_for_update().get(pk=counselor_id)
    VerificationRecord.objects.create(
        counselor=profile, reviewer=reviewer, approved=approved, note=note
    )
    profile.verification = (
        CounselorProfile.Verification.VERIFIED
        if approved
        else CounselorProfile.Verification.REJECTED
    )
    profile.save(update_fields=["verification", "updated_at"])
    return profile


# --- Availability windows -----------------------------------------------------------


def _quarter_time_errors(**times: dt.time) -> dict[str, list[str]]:
    return {
        name: [_("Use whole quarter hours (:00, :15, :30, :45).")]
        for name, t in times.items()
        if t.minute % 15 or t.second or t.microsecond
    }


def _weekly_length(start_time: dt.time, end_time: dt.time) -> dt.timedelta:
    day = dt.date(2000, 1, 3)
    end_day = day + dt.timedelta(days=1) if end_time == MIDNIGHT else day
    return dt.datetime.combine(end_day, end_time) - dt.datetime.combine(day, start_time)


def _validate_one_off(*, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> None:
    errors: dict[str, list[str]] = {}
    for name, value in (("start", start), ("end", end)):
        if not is_quarter_hour(value):
            errors.setdefault(name, []).append(_("Use whole quarter hours (:00, :15, :30, :45)."))
    if end <= start:
        errors.setdefault("end", []).append(_("The end must be after the start."))
    elif end - start > MAX_WINDOW:
        errors.setdefault("end", []).append(_("A window is at most 12 hours long."))
    if start < now:
        errors.setdefault("start", []).append(_("The window cannot start in the past."))
    if errors:
        raise ValidationError(errors)


def _validate_weekly(
    *,
    weekday: int,
    start_time: dt.time,
    end_time: dt.time,
    tz: str,
    valid_from: dt.date,
    valid_until: dt.date | None,
    now: dt.datetime,
) -> None:
    errors: dict[str, list[str]] = {}
    if not 0 <= weekday <= 6:
        errors["weekday"] = [_("Use 0 (Monday) to 6 (Sunday).")]
    errors.update(_quarter_time_errors(start_time=start_time, end_time=end_time))
    length = _weekly_length(start_time, end_time)
    if length <= dt.timedelta(0):
        errors.setdefault("end_time", []).append(_("The end must be after the start."))
    elif length > MAX_WINDOW:
        errors.setdefault("end_time", []).append(_("A window is at most 12 hours long."))
    if tz not in zoneinfo.available_timezones():
        errors["timezone"] = [_("Not an IANA time zone such as Asia/Shanghai.")]
    else:
        today = now.astimezone(zoneinfo.ZoneInfo(tz)).date()
        if valid_until is not None and valid_until < today:
            errors["valid_until"] = [_("The window cannot end in the past.")]
        elif valid_until is not None and valid_until < valid_from:
            errors["valid_until"] = [_("valid_until must not be before valid_from.")]
    if errors:
        raise ValidationError(errors)


def _merge_one_off(window: AvailabilityWindow) -> AvailabilityWindow:
    """Absorb the counselor's one-off windows that overlap or touch `window` into it."""
    others = (
        AvailabilityWindow.objects.select_for_update()
        .filter(
            counselor=window.counselor,
            kind=AvailabilityWindow.Kind.ONE_OFF,
            start__lte=window.end,
            end__gte=window.start,
        )
        .exclude(pk=window.pk)
    )
    absorbed = list(others)
    if absorbed:
        window.start = min([window.start] + [w.start for w in absorbed])
        window.end = max([window.end] + [w.end for w in absorbed])
        AvailabilityWindow.objects.filter(pk__in=[w.pk for w in absorbed]).delete()
    window.save()
    return window


def _merge_weekly(window: AvailabilityWindow) -> AvailabilityWindow:
    """Absorb weekly windows with the same day, zone and validity whose times overlap or touch."""

    def span(w):
        end = dt.time.max if w.end_time == MIDNIGHT else w.end_time
        return w.start_time, end

    same_rule = (
        AvailabilityWindow.objects.select_for_update()
        .filter(
            counselor=window.counselor,
            kind=AvailabilityWindow.Kind.WEEKLY,
            weekday=window.weekday,
            timezone=window.timezone,
            valid_from=window.valid_from,
            valid_until=window.valid_until,
        )
        .exclude(pk=window.pk)
    )
    changed = True
    candidates = list(same_rule)
    while changed:  # a merge can make the window reach another one
        changed = False
        for other in list(candidates):
            (s1, e1), (s2, e2) = span(window), span(other)
            if s2 <= e1 and s1 <= e2:
                window.start_time = min(s1, s2)
                window.end_time = MIDNIGHT if max(e1, e2) == dt.time.max else max(e1, e2)
                other.delete()
                candidates.remove(other)
                changed = True
    window.save()
    return window


def _window_save(
    window: AvailabilityWindow,
    *,
    profile: CounselorProfile,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    weekday: int | None = None,
    start_time: dt.time | None = None,
    end_time: dt.time | None = None,
    timezone_name: str | None = None,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
) -> AvailabilityWindow:
    """Validate and store `window` as the one-off or weekly window described, merging it with
    the counselor's overlapping windows. Call while holding the counselor's profile row lock."""
    now = timezone.now()
    if weekday is None:
        if start is None or end is None:
            raise ValidationError({"start": [_("Give start and end, or a weekly rule.")]})
        _validate_one_off(start=start, end=end, now=now)
        window.kind, window.start, window.end = AvailabilityWindow.Kind.ONE_OFF, start, end
        window.weekday = window.start_time = window.end_time = window.valid_from = (
            window.valid_until
        ) = None
        window.timezone = ""
        return _merge_one_off(window)
    if start_time is None or end_time is None:
        raise ValidationError({"start_time": [_("A weekly window needs start_time and end_time.")]})
    tz = timezone_name or profile.user.timezone
    if valid_from is None and tz in zoneinfo.available_timezones():
        valid_from = now.astimezone(zoneinfo.ZoneInfo(tz)).date()
    _validate_weekly(
        weekday=weekday,
        start_time=start_time,
        end_time=end_time,
        tz=tz,
        valid_from=valid_from or now.date(),
        valid_until=valid_until,
        now=now,
    )
    window.kind, window.start, window.end = AvailabilityWindow.Kind.WEEKLY, None, None
    window.weekday, window.start_time, window.end_time = weekday, start_time, end_time
    window.timezone, window.valid_from, window.valid_until = tz, valid_from, valid_until
    return _merge_weekly(window)


@transaction.atomic
def window_create(*, profile: CounselorProfile, **fields) -> AvailabilityWindow:
    """Publish a one-off window ({start, end}) or a weekly one ({weekday, start_time, end_time,
    timezone_name, valid_from, valid_until}). Overlapping windows merge. Existing bookings are
    never touched."""
    CounselorProfile.objects.select_for_update().get(
        pk=profile.pk
    )  # one window edit at a time per counselor
    window = _window_save(AvailabilityWindow(counselor=profile), profile=profile, **fields)
    _new_window_notify(profile=profile)
    return window


def _new_window_notify(*, profile: CounselorProfile) -> int:
    """Tell the clients who marked this counselor preferred and opted in that there are new
    times: an in-page notice, and an e-mail after commit if they gave an address. At most one
    per client and counselor every NEW_WINDOW_NOTICE_EVERY (a counselor publishing a week of
    windows sends one), counted from the notices themselves; the caller holds the profile row
    lock, so two window edits cannot both send. Never a topic. Returns how many were told."""
    if not profile.is_listed:  # nothing bookable to announce
        return 0
    prefs = list(
        PreferredCounselor.objects.filter(
            counselor=profile, notify_new_windows=True, client__is_active=True
        ).select_related("client")
    )
    if not prefs:
        return 0
    now = timezone.now()
    recent = set(
        Notice.objects.filter(
            user_id__in=[p.client_id for p in prefs],
            kind=NEW_WINDOW_NOTICE,
            params__counselor_id=profile.pk,
            created_at__gt=now - NEW_WINDOW_NOTICE_EVERY,
        ).values_list("user_id", flat=True)
    )
    url = reverse("counselors:counselor-profile", args=[profile.pk])
    name = str(profile)
    told = 0
    for pref in prefs:
        if pref.client_id in recent:
            continue
        notice = notice_send(
            user=pref.client,
            kind=NEW_WINDOW_NOTICE,
            params={"counselor": name, "counselor_id": profile.pk},
            url=url,
        )
        if pref.client.email:
            tasks.preferred_new_window_email.delay_on_commit(notice.pk)
        told += 1
    return told


@transaction.atomic
def window_update(*, profile: CounselorProfile, window_id: int, **changes) -> AvailabilityWindow:
    """Change one of the counselor's own windows: the given fields replace the old ones; the
    kind stays. Validation and merging are those of a new window; bookings already made are
    never touched."""
    CounselorProfile.objects.select_for_update().get(pk=profile.pk)
    window = AvailabilityWindow.objects.get(pk=window_id, counselor=profile)
    if window.kind == AvailabilityWindow.Kind.WEEKLY:
        fields = {
            "weekday": window.weekday,
            "start_time": window.start_time,
            "end_time": window.end_time,
            "timezone_name": window.timezone,
            "valid_from": window.valid_from,
            "valid_until": window.valid_until,
        }
    else:
        fields = {"start": window.start, "end": window.end}
    stray = sorted(set(changes) - set(fields))
    if stray:
        label = window.get_kind_display().lower()
        raise ValidationError(
            {
                ("timezone" if f == "timezone_name" else f): [
                    _("Not a field of a %(kind)s window.") % {"kind": label}
                ]
                for f in stray
            }
        )
    fields.update(changes)
    return _window_save(window, profile=profile, **fields)


@transaction.atomic
def window_delete(*, profile: CounselorProfile, window_id: int) -> None:
    """Remove one of the counselor's own windows; bookings already made stay."""
    window = AvailabilityWindow.objects.get(pk=window_id, counselor=profile)
    window.delete()


# --- Time off ------------------------------------------------------------------------------


def _time_off_errors(*, start_date: dt.date, end_date: dt.date, today: dt.date, note: str) -> dict:
    errors: dict[str, list[str]] = {}
    if end_date < start_date:
        errors["end_date"] = [_("The last day must not be before the first day.")]
    elif (end_date - start_date).days + 1 > MAX_TIME_OFF_DAYS:
        errors["end_date"] = [_("Time off is at most 366 days at a time.")]
    elif end_date < today:
        errors["end_date"] = [_("That time off is already over.")]
    if len(note) > 200:
        errors["note"] = [_("Keep the note to 200 characters.")]
    return errors


@transaction.atomic
def time_off_add(
    *, profile: CounselorProfile, start_date: dt.date, end_date: dt.date, note: str = ""
) -> TimeOff:
    """Mark whole days off, both dates inclusive, as local dates in the counselor's own zone.
    Their windows stay; no slot inside is offered or bookable. Sessions already booked inside
    stay booked: the counselor keeps or cancels each (listening.selectors.time_off_sessions),
    they are never cancelled here. Ranges may overlap (each keeps its note; a day is off if any
    range covers it). The profile row lock orders this against bookings being made, so a
    session is either refused or listed inside the range, never lost between the two."""
    profile = CounselorProfile.objects.select_for_update().select_related("user").get(pk=profile.pk)
    note = (note or "").strip()
    today = timezone.now().astimezone(zoneinfo.ZoneInfo(profile.user.timezone)).date()
    errors = _time_off_errors(start_date=start_date, end_date=end_date, today=today, note=note)
    if errors:
        raise ValidationError(errors)
    return TimeOff.objects.create(
        counselor=profile, start_date=start_date, end_date=end_date, note=note
    )


@transaction.atomic
def time_off_remove(*, profile: CounselorProfile, time_off_id: int) -> None:
    """Remove one of the counselor's own time-off ranges (TimeOff.DoesNotExist if not theirs):
    its days are bookable again where windows and other ranges allow."""
    TimeOff.objects.get(pk=time_off_id, counselor=profile).delete()


# --- A client's counselors: preference, new-window notices, history sharing -----------------------


def _client_only(client: User) -> None:
    if not client.is_client:
        raise PermissionDenied("only clients mark counselors or share their history")


@transaction.atomic
def preferred_counselor_set(
    *, client: User, counselor: CounselorProfile, notify_new_windows: bool = False
) -> PreferredCounselor:
    """Mark `counselor` preferred for `client` (again: only the notice opt-in changes).
    Precondition: the client has met the counselor (listening.selectors.met_counselor_get);
    the caller checks it, since bookings are a layer above."""
    _client_only(client)
    pref, _created = PreferredCounselor.objects.update_or_create(
        client=client, counselor=counselor, defaults={"notify_new_windows": notify_new_windows}
    )
    return pref


@transaction.atomic
def preferred_counselor_remove(*, client: User, counselor_id: int) -> bool:
    """Unmark a preferred counselor (and so stop their new-window notices). Idempotent."""
    deleted, _ = PreferredCounselor.objects.filter(
        client=client, counselor_id=counselor_id
    ).delete()
    return bool(deleted)


@transaction.atomic
def history_share_grant(*, client: User, counselor: CounselorProfile) -> HistoryShare:
    """The client agrees that this one counselor sees their own earlier sessions with the
    client (dates, topics, that counselor's private notes), never anyone else's. Granting
    while a consent stands returns it. Precondition: the client has met the counselor (see
    preferred_counselor_set)."""
    _client_only(client)
    standing = HistoryShare.objects.filter(
        client=client, counselor=counselor, withdrawn_at__isnull=True
    ).first()
    if standing is not None:
        return standing
    try:
        with transaction.atomic():
            return HistoryShare.objects.create(
                client=client, counselor=counselor, granted_at=timezone.now()
            )
    except IntegrityError:  # a concurrent grant won (history_share_one_standing)
        return HistoryShare.objects.get(
            client=client, counselor=counselor, withdrawn_at__isnull=True
        )


@transaction.atomic
def history_share_withdraw(*, client: User, counselor_id: int) -> bool:
    """End the client's consent at once: the counselor's next read sees nothing. The row stays
    as the record. Idempotent; True if a consent was standing."""
    return bool(
        HistoryShare.objects.filter(
            client=client, counselor_id=counselor_id, withdrawn_at__isnull=True
        ).update(withdrawn_at=timezone.now())
    )


def counselor_links_erase(*, user: User) -> None:
    """Counselors' part of deleting an account: standing history consents withdrawn and
    preferences deleted, on both sides (the user as client, and as counselor). Call inside
    the deletion's transaction."""
    now = timezone.now()
    HistoryShare.objects.filter(withdrawn_at__isnull=True).filter(
        models.Q(client=user) | models.Q(counselor_id=user.pk)
    ).update(withdrawn_at=now)
    PreferredCounselor.objects.filter(
        models.Q(client=user) | models.Q(counselor_id=user.pk)
    ).delete()
