"""Counselor profiles, credentials, verification and availability windows."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Notice, User
from accounts.notices import notice_kind_register
from accounts.services import notice_send
from core.audio import audio_inspect
from core.availability import MIDNIGHT, is_quarter_hour
from core.exceptions import Conflict
from core.sessions import SESSION_LENGTHS
from counselors import tasks
from counselors.models import (
    AvailabilityWindow,
    CounselorProfile,
    Credential,
    HistoryShare,
    Offering,
    PreferredCounselor,
    Specialty,
    TimeOff,
    ToolkitItem,
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
    low, high = settings.OFFERING_PRICE_MIN, settings.OFFERING_PRICE_MAX
    out_of_bounds = {
        name: _("The price must be between %(low)s and %(high)s.") % {"low": low, "high": high}
        for name in ("price_15", "price_30")
        if name in fields and not low <= fields[name] <= high
    }
    if out_of_bounds:  # the platform's bounds, which every charge is held to (billing)
        raise ValidationError(out_of_bounds)
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
    profile = CounselorProfile.objects.select_for_update(no_key=True).get(pk=counselor_id)
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
    CounselorProfile.objects.select_for_update(no_key=True).get(
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
    CounselorProfile.objects.select_for_update(no_key=True).get(pk=profile.pk)
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
    profile = (
        CounselorProfile.objects.select_for_update(no_key=True)
        .select_related("user")
        .get(pk=profile.pk)
    )
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


# --- Offerings and toolkit items (issue 14) --------------------------------------------------

OFFERING_UNPUBLISHED_NOTICE = "offering_unpublished"
notice_kind_register(
    OFFERING_UNPUBLISHED_NOTICE,
    gettext_lazy(
        "Staff unpublished your offering “%(title)s”. The reason is shown on your offerings page."
    ),
)

MAX_OFFERING_ITEMS = 10
MAX_TOOLKIT_FIELDS = 30
FIELD_KEYS = {
    ToolkitItem.Kind.DIARY: ("key", "label_en", "label_zh", "type"),
    ToolkitItem.Kind.CHECKLIST: ("key", "label_en", "label_zh", "explain_en", "explain_zh"),
    ToolkitItem.Kind.WORKSHEET: ("key", "label_en", "label_zh"),
}
DIARY_FIELD_TYPES = ("text", "scale")
OFFERING_EDITABLE = (
    "title_en",
    "title_zh",
    "description_en",
    "description_zh",
    "duration_minutes",
    "modes",
    "price",
)
TOOLKIT_ITEM_EDITABLE = ("title_en", "title_zh", "body_en", "body_zh")


def _offering_clean(*, counselor: CounselorProfile, offering: Offering) -> None:
    """The rules the model's constraints do not spell out, with the field named."""
    errors: dict[str, list[str]] = {}
    if not (offering.title_en or "").strip() and not (offering.title_zh or "").strip():
        errors["title_en"] = [_("Give a title in English or Chinese.")]
    if offering.duration_minutes not in SESSION_LENGTHS:
        errors["duration_minutes"] = [_("A session is 15 or 30 minutes.")]
    low, high = settings.OFFERING_PRICE_MIN, settings.OFFERING_PRICE_MAX
    if offering.price is None or not (low <= offering.price <= high):
        errors["price"] = [
            _("The price must be between %(min)s and %(max)s.") % {"min": low, "max": high}
        ]
    modes = offering.modes or []
    if not modes:
        errors["modes"] = [_("Choose at least one mode.")]
    else:
        # An offering in a mode the counselor's profile does not offer could never be booked.
        stray = sorted(set(modes) - set(counselor.modes))
        if stray:
            errors["modes"] = [
                _("Your profile does not offer these modes: %(modes)s.")
                % {"modes": ", ".join(stray)}
            ]
    if errors:
        raise ValidationError(errors)


def _specialties_from(slugs: list[str]) -> list[Specialty]:
    found = list(Specialty.objects.filter(slug__in=slugs))
    missing = sorted(set(slugs) - {s.slug for s in found})
    if missing:
        raise ValidationError(
            {"specialties": [_("Unknown specialty: %(slug)s") % {"slug": s} for s in missing]}
        )
    return found


def toolkit_items_named(
    *, counselor: CounselorProfile | None, item_ids: list[int]
) -> list[ToolkitItem]:
    """The counselor's own or library items named (with `counselor` None, as for a platform
    package: library items only), at most MAX_OFFERING_ITEMS; any other id (another
    counselor's) is a 400 on `items`."""
    ids = list(dict.fromkeys(item_ids))
    if len(ids) > MAX_OFFERING_ITEMS:
        raise ValidationError(
            {"items": [_("At most %(n)s toolkit items.") % {"n": MAX_OFFERING_ITEMS}]}
        )
    allowed = models.Q(owner__isnull=True)
    if counselor is not None:
        allowed |= models.Q(owner=counselor)
    found = list(ToolkitItem.objects.filter(pk__in=ids).filter(allowed))
    missing = sorted(set(ids) - {i.pk for i in found})
    if missing:
        raise ValidationError(
            {
                "items": [
                    _("Toolkit item %(id)s is neither yours nor in the library.") % {"id": i}
                    for i in missing
                ]
            }
        )
    return found


@transaction.atomic
def offering_create(
    *,
    counselor: CounselorProfile,
    title_en: str = "",
    title_zh: str = "",
    description_en: str = "",
    description_zh: str = "",
    duration_minutes: int,
    modes: list[str],
    price,
    specialties: list[str] | None = None,
    items: list[int] | None = None,
) -> Offering:
    """Publish a new offering of the counselor's. `specialties` are slugs, `items` toolkit item
    ids (the counselor's own or the library's)."""
    offering = Offering(
        counselor=counselor,
        title_en=title_en.strip(),
        title_zh=title_zh.strip(),
        description_en=description_en.strip(),
        description_zh=description_zh.strip(),
        duration_minutes=duration_minutes,
        modes=sorted(set(modes)),
        price=price,
    )
    _offering_clean(counselor=counselor, offering=offering)
    found_specialties = _specialties_from(specialties or [])
    found_items = toolkit_items_named(counselor=counselor, item_ids=items or [])
    offering.full_clean(exclude=["counselor", "specialties", "items", "unpublished_by"])
    offering.save()
    offering.specialties.set(found_specialties)
    offering.items.set(found_items)
    return offering


@transaction.atomic
def offering_update(
    *,
    counselor: CounselorProfile,
    offering_id: int,
    specialties: list[str] | None = None,
    items: list[int] | None = None,
    **fields,
) -> Offering:
    """Change the fields given of the counselor's own published offering (another's: 404).
    Bookings already made keep the price and duration they were made with."""
    unknown = set(fields) - set(OFFERING_EDITABLE)
    if unknown:
        raise ValidationError({f: _("This field cannot be changed here.") for f in unknown})
    offering = Offering.objects.select_for_update().get(pk=offering_id, counselor=counselor)
    if offering.status != Offering.Status.PUBLISHED:
        raise Conflict(
            _("Only a published offering can be changed; create a new one instead."),
            code="offering_not_published",
        )
    for name, value in fields.items():
        if name == "modes":
            value = sorted(set(value))
        elif isinstance(value, str):
            value = value.strip()
        setattr(offering, name, value)
    _offering_clean(counselor=counselor, offering=offering)
    offering.full_clean(exclude=["counselor", "specialties", "items", "unpublished_by"])
    offering.save()
    if specialties is not None:
        offering.specialties.set(_specialties_from(specialties))
    if items is not None:
        offering.items.set(toolkit_items_named(counselor=counselor, item_ids=items))
    return offering


@transaction.atomic
def offering_withdraw(*, counselor: CounselorProfile, offering_id: int) -> Offering:
    """The counselor takes their own offering off their profile (another's: 404). The row stays:
    bookings refer to it. Idempotent; an offering staff unpublished stays unpublished (409)."""
    offering = Offering.objects.select_for_update().get(pk=offering_id, counselor=counselor)
    if offering.status == Offering.Status.UNPUBLISHED:
        raise Conflict(_("Staff already unpublished this offering."), code="offering_unpublished")
    if offering.status == Offering.Status.PUBLISHED:
        offering.status = Offering.Status.WITHDRAWN
        offering.save(update_fields=["status", "updated_at"])
    return offering


@transaction.atomic
def offering_unpublish(*, staff: User, offering_id: int, reason: str) -> Offering:
    """Staff take an offering down, with a reason kept with who and when; the counselor is told
    by a notice (the reason is on their offerings page, not in the notice). Only a published
    offering can be unpublished (409 otherwise)."""
    if not staff.is_staff_member:
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Give the reason the counselor will read.")]})
    if len(reason) > 500:
        raise ValidationError({"reason": [_("At most 500 characters.")]})
    offering = (
        Offering.objects.select_for_update(of=("self",))
        .select_related("counselor__user")
        .get(pk=offering_id)
    )
    if offering.status != Offering.Status.PUBLISHED:
        raise Conflict(_("This offering is not published."), code="offering_not_published")
    offering.status = Offering.Status.UNPUBLISHED
    offering.unpublished_reason = reason
    offering.unpublished_by = staff
    offering.unpublished_at = timezone.now()
    offering.save(
        update_fields=[
            "status",
            "unpublished_reason",
            "unpublished_by",
            "unpublished_at",
            "updated_at",
        ]
    )
    notice_send(
        user=offering.counselor.user,
        kind=OFFERING_UNPUBLISHED_NOTICE,
        params={"title": offering.title_en or offering.title_zh, "offering_id": offering.pk},
        url=reverse("counselors:counselor-offerings"),
    )
    return offering


def toolkit_fields_clean(*, kind: str, fields) -> list[dict]:
    """`fields` checked against the structure of `kind` (see ToolkitItem), trimmed, with keys
    made unique; ValidationError on "fields" names the entry and the problem."""
    if kind == ToolkitItem.Kind.AUDIO:
        if fields:
            raise ValidationError({"fields": [_("A guided audio has no fields.")]})
        return []
    if not isinstance(fields, list) or not fields:
        raise ValidationError({"fields": [_("Give at least one field.")]})
    if len(fields) > MAX_TOOLKIT_FIELDS:
        raise ValidationError({"fields": [_("At most %(n)s fields.") % {"n": MAX_TOOLKIT_FIELDS}]})
    keys = FIELD_KEYS[kind]
    cleaned, seen, problems = [], set(), []
    for n, entry in enumerate(fields, start=1):
        if not isinstance(entry, dict) or any(not isinstance(entry.get(k, ""), str) for k in keys):
            problems.append(_("Field %(n)s is not an object of text values.") % {"n": n})
            continue
        stray = sorted(set(entry) - set(keys))
        if stray:
            problems.append(
                _("Field %(n)s has unknown keys: %(keys)s.") % {"n": n, "keys": ", ".join(stray)}
            )
            continue
        row = {k: entry.get(k, "").strip() for k in keys}
        if not row["label_en"] and not row["label_zh"]:
            problems.append(_("Field %(n)s needs a label in English or Chinese.") % {"n": n})
            continue
        if kind == ToolkitItem.Kind.DIARY:
            row["type"] = row["type"] or "text"
            if row["type"] not in DIARY_FIELD_TYPES:
                problems.append(_("Field %(n)s: the type is text or scale.") % {"n": n})
                continue
        if any(len(v) > 600 for v in row.values()):
            problems.append(_("Field %(n)s: at most 600 characters a value.") % {"n": n})
            continue
        key = slugify(row["key"] or row["label_en"] or "")[:40] or f"field-{n}"
        while key in seen:
            key = f"{key}-{n}"
        seen.add(key)
        row["key"] = key
        cleaned.append(row)
    if problems:
        raise ValidationError({"fields": problems})
    return cleaned


def _toolkit_slug(*, owner: CounselorProfile, title: str) -> str:
    base = slugify(title)[:50] or "item"
    slug, n = base, 1
    while ToolkitItem.objects.filter(owner=owner, slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _toolkit_audio_set(item: ToolkitItem, audio) -> None:
    found = audio_inspect(
        audio,
        max_bytes=settings.TOOLKIT_AUDIO_MAX_BYTES,
        max_seconds=settings.TOOLKIT_AUDIO_MAX_SECONDS,
    )
    item.audio_content_type = found.content_type
    item.audio_seconds = found.seconds
    item.audio.save("audio.bin", audio, save=False)


@transaction.atomic
def toolkit_item_create(
    *,
    counselor: CounselorProfile,
    kind: str,
    title_en: str = "",
    title_zh: str = "",
    body_en: str = "",
    body_zh: str = "",
    fields=None,
    audio=None,
) -> ToolkitItem:
    """A toolkit item of the counselor's own. A guided audio needs `audio` (an uploaded file,
    checked like a voice note); the other kinds need `fields` of their structure."""
    if kind not in ToolkitItem.Kind.values:
        raise ValidationError({"kind": [_("Unknown kind.")]})
    title_en, title_zh = title_en.strip(), title_zh.strip()
    if not title_en and not title_zh:
        raise ValidationError({"title_en": [_("Give a title in English or Chinese.")]})
    cleaned = toolkit_fields_clean(kind=kind, fields=fields if fields is not None else [])
    if kind == ToolkitItem.Kind.AUDIO and audio is None:
        raise ValidationError({"audio": [_("A guided audio needs its audio file.")]})
    if kind != ToolkitItem.Kind.AUDIO and audio is not None:
        raise ValidationError({"audio": [_("Only a guided audio has an audio file.")]})
    item = ToolkitItem(
        owner=counselor,
        slug=_toolkit_slug(owner=counselor, title=title_en or title_zh),
        kind=kind,
        title_en=title_en,
        title_zh=title_zh,
        body_en=body_en.strip(),
        body_zh=body_zh.strip(),
        fields=cleaned,
    )
    if audio is not None:
        _toolkit_audio_set(item, audio)
    item.full_clean(exclude=["owner", "audio"])
    item.save()
    return item


def _own_item_for_update(*, counselor: CounselorProfile, item_id: int) -> ToolkitItem:
    """The counselor's own item, locked; a library item is 403 (readable, not theirs to
    change), another counselor's 404."""
    item = (
        ToolkitItem.objects.select_for_update()
        .filter(models.Q(owner__isnull=True) | models.Q(owner=counselor))
        .get(pk=item_id)
    )
    if item.owner_id is None:
        raise PermissionDenied
    return item


@transaction.atomic
def toolkit_item_update(
    *, counselor: CounselorProfile, item_id: int, fields=None, audio=None, **values
) -> ToolkitItem:
    """Change the counselor's own item: titles, bodies, `fields` (checked for its kind) and, for
    a guided audio, the file. The kind stays. Entries already written keep their answers."""
    unknown = set(values) - set(TOOLKIT_ITEM_EDITABLE)
    if unknown:
        raise ValidationError({f: _("This field cannot be changed here.") for f in unknown})
    item = _own_item_for_update(counselor=counselor, item_id=item_id)
    for name, value in values.items():
        setattr(item, name, value.strip())
    if not item.title_en and not item.title_zh:
        raise ValidationError({"title_en": [_("Give a title in English or Chinese.")]})
    if fields is not None:
        item.fields = toolkit_fields_clean(kind=item.kind, fields=fields)
    if audio is not None:
        if item.kind != ToolkitItem.Kind.AUDIO:
            raise ValidationError({"audio": [_("Only a guided audio has an audio file.")]})
        old = item.audio.name
        _toolkit_audio_set(item, audio)
        if old:
            transaction.on_commit(lambda: item.audio.storage.delete(old))
    item.full_clean(exclude=["owner", "audio"])
    item.save()
    return item


@transaction.atomic
def toolkit_item_delete(*, counselor: CounselorProfile, item_id: int) -> None:
    """Delete the counselor's own item, unless an offering lists it, it was given to a client
    or a client wrote into it (409: withdraw the offering, or keep the item)."""
    item = _own_item_for_update(counselor=counselor, item_id=item_id)
    # Reverse relations of listening (assignments, entries) are read by name: no import upward.
    if item.offerings.exists():
        raise Conflict(
            _("An offering lists this item: remove it from the offering first."),
            code="toolkit_item_in_use",
        )
    if item.assignments.exists() or item.entries.exists():
        raise Conflict(
            _("Clients have this item from their sessions; it cannot be deleted."),
            code="toolkit_item_in_use",
        )
    name = item.audio.name
    try:
        with transaction.atomic():
            item.delete()
    except models.ProtectedError:  # an entry written meanwhile (ToolkitEntry.item is PROTECT)
        raise Conflict(
            _("Clients have this item from their sessions; it cannot be deleted."),
            code="toolkit_item_in_use",
        ) from None
    if name:
        storage = ToolkitItem._meta.get_field("audio").storage
        transaction.on_commit(lambda: storage.delete(name))
