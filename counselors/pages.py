"""Counselor pages: the public directory and profiles, and a counselor's own dashboard,
profile and credentials, and availability editor. Thin: forms check the input; the
selectors and services the API uses do the work."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.availability import WeeklyRule, local_midnight, weekly_occurrences
from core.pages import counselor_required, form_submit, slots_by_local_day
from core.sessions import SessionLanguage, SessionMode, session_length_from
from counselors import forms
from counselors.filters import CounselorFilter
from counselors.models import AvailabilityWindow, CounselorProfile, Offering, TimeOff, ToolkitItem
from counselors.selectors import (
    counselor_get_listed,
    counselor_list_listed,
    offering_get_for_counselor,
    offerings_for_counselor,
    offerings_list,
    time_off_for_counselor,
    toolkit_item_get_for_counselor,
    toolkit_items_for_counselor,
)
from counselors.services import (
    OFFERING_EDITABLE,
    counselor_profile_update,
    credential_add,
    offering_create,
    offering_update,
    offering_withdraw,
    time_off_add,
    time_off_remove,
    toolkit_item_create,
    toolkit_item_delete,
    toolkit_item_update,
    window_create,
    window_delete,
)
from listening.selectors import (
    CounselorRules,
    counselor_busy_between,
    counselor_days,
    counselor_free_slots,
    counselor_reviews,
    time_off_sessions,
)

DIRECTORY_PAGE_SIZE = 20
SLOT_DAYS = 7


# --- the public directory and profiles -------------------------------------------------------


def _next_free(profiles: list[CounselorProfile], now: dt.datetime) -> dict[int, dt.datetime]:
    """Each counselor's next free 15-minute start within a week (two queries for the page)."""
    if not profiles:
        return {}
    end = now + dt.timedelta(days=SLOT_DAYS)
    days = counselor_days(
        profiles=[CounselorRules.of(p) for p in profiles], start=now, end=end, now=now
    )
    out = {}
    for pk, day in days.items():
        slots = day.free_slots(now, end, dt.timedelta(minutes=15), limit=1)
        if slots:
            out[pk] = slots[0][0]
    return out


def labels(codes: list[str], choices) -> list[str]:
    """Display names of language or mode codes, in the choices' order."""
    names = dict(choices)
    return [str(names[c]) for c, _label in choices if c in codes]


def card(profile: CounselorProfile, next_free: dt.datetime | None = None) -> dict:
    return {
        "profile": profile,
        "next_free": next_free,
        "languages": labels(profile.languages, SessionLanguage.choices),
        "modes": labels(profile.modes, SessionMode.choices),
        "specialties": [s.name for s in profile.specialties.all()],
        # Prefetched by counselor_list_listed (one query for the page); none in a preview.
        "offerings": [o.title for o in getattr(profile, "published_offerings", [])],
    }


def offering_cards(offerings) -> list[dict]:
    """Published offerings as the profile lists them, modes as display names."""
    return [
        {"offering": o, "modes": labels(o.modes, SessionMode.choices), "items": list(o.items.all())}
        for o in offerings
    ]


def directory(request):
    """Verified counselors, filtered by topic, language, mode and free time today (in the
    viewer's zone) through the API's own filter. With htmx only the results are sent back."""
    form = forms.DirectoryFilterForm(request.GET)
    if not form.is_valid():
        return render(
            request, "counselors/directory.html", {"form": form, "page": None}, status=400
        )
    data = form.cleaned_data
    query = {name: data[name] for name in ("specialty", "language", "mode") if data.get(name)}
    now = timezone.now()
    if data.get("available_today"):
        tomorrow = timezone.localdate(now) + dt.timedelta(days=1)
        query["available_from"] = now.isoformat()
        query["available_to"] = local_midnight(
            tomorrow, timezone.get_current_timezone()
        ).isoformat()
    found = CounselorFilter(query, queryset=counselor_list_listed())
    if not found.is_valid():
        return render(
            request,
            "counselors/directory.html",
            {"form": form, "page": None, "filter_errors": found.errors},
            status=400,
        )
    page = Paginator(found.qs, DIRECTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    next_free = _next_free(list(page.object_list), now)
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": params.urlencode(),
        "cards": [card(profile, next_free.get(profile.pk)) for profile in page.object_list],
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "counselors/_directory_results.html", context)
    return render(request, "counselors/directory.html", context)


def profile(request, counselor_id: int):
    """A counselor's public profile with their free times for the next week, by day in the
    viewer's zone. A counselor may preview their own profile before it is listed."""
    preview = False
    try:
        counselor = counselor_get_listed(counselor_id=counselor_id)
    except CounselorProfile.DoesNotExist:
        if not (
            request.user.is_authenticated
            and request.user.pk == counselor_id
            and request.user.is_counselor
        ):
            raise Http404 from None
        counselor = CounselorProfile.objects.select_related("user").get(pk=counselor_id)
        preview = True
    duration = session_length_from(request.GET.get("duration"))
    now = timezone.now()
    slots = counselor_free_slots(
        profile=counselor,
        start=now,
        end=now + dt.timedelta(days=SLOT_DAYS),
        duration_minutes=duration,
    )
    can_book = not request.user.is_authenticated or request.user.is_client
    return render(
        request,
        "counselors/profile.html",
        {
            "counselor": counselor,
            "offerings": offering_cards(offerings_list(counselor_id=counselor.pk)),
            "reviews": counselor_reviews(counselor_id=counselor.pk) if not preview else [],
            "card": card(counselor),
            "days": slots_by_local_day(slots),
            "duration": duration,
            "preview": preview,
            "can_book": can_book,
            "credentials": counselor.credentials.order_by("created_at")
            if counselor.is_listed
            else [],
        },
    )


# --- the counselor's dashboard ------------------------------------------------------------------


# --- the counselor's profile and credentials ------------------------------------------------------


def _profile_initial(profile: CounselorProfile) -> dict:
    return {
        "display_name": profile.display_name,
        "bio": profile.bio,
        "specialties": [s.slug for s in profile.specialties.all()],
        "languages": profile.languages,
        "modes": profile.modes,
        "price_15": profile.price_15,
        "price_30": profile.price_30,
        "timezone": profile.user.timezone,
        "daily_cap": profile.daily_cap,
        "min_notice_minutes": profile.min_notice_minutes,
        "buffer_minutes": profile.buffer_minutes,
        "reschedule_cutoff_minutes": profile.reschedule_cutoff_minutes,
    }


def _profile_page(request, profile, *, form=None, credential_form=None, status=200):
    return render(
        request,
        "counselors/profile_edit.html",
        {
            "profile": profile,
            "form": form or forms.CounselorProfileForm(initial=_profile_initial(profile)),
            "credential_form": credential_form or forms.CredentialForm(),
            "credentials": profile.credentials.order_by("created_at", "pk"),
            "last_review": profile.verification_records.first(),
        },
        status=status,
    )


@counselor_required
def profile_edit(request):
    profile = CounselorProfile.objects.select_related("user").get(pk=request.user.pk)
    if request.method != "POST":
        return _profile_page(request, profile)
    form = forms.CounselorProfileForm(request.POST)
    if form.is_valid():
        done = form_submit(form, counselor_profile_update, profile=profile, **form.cleaned_data)
        if done.ok:
            messages.success(request, _("Your profile is saved."))
            return redirect("counselors:counselor-profile-edit")
    profile.refresh_from_db()
    return _profile_page(request, profile, form=form, status=400)


@counselor_required
@require_POST
def credential_create(request):
    profile = CounselorProfile.objects.select_related("user").get(pk=request.user.pk)
    form = forms.CredentialForm(request.POST)
    if form.is_valid():
        done = form_submit(form, credential_add, profile=profile, **form.cleaned_data)
        if done.ok:
            messages.success(request, _("Credential added. Staff will review it."))
            return redirect(reverse("counselors:counselor-profile-edit") + "#credentials")
    return _profile_page(request, profile, credential_form=form, status=400)


# --- availability ------------------------------------------------------------------------------------

FIRST_HOUR, LAST_HOUR = 7, 23  # the grid shows at least these hours, more when windows lie outside
HEADER_ROWS = 4  # grid rows (quarter hours) taken by the day names


@dataclass
class Block:
    """Part of a window or booking on one local day of the grid."""

    kind: str  # weekly, one_off, booking
    day: dt.date
    start: dt.datetime  # local
    end: dt.datetime  # local
    window_id: int | None = None
    label: str = ""

    @property
    def start_minute(self) -> int:
        return self.start.hour * 60 + self.start.minute

    @property
    def end_minute(self) -> int:
        return 24 * 60 if self.end.date() > self.day else self.end.hour * 60 + self.end.minute


def _week_monday(request, tz) -> dt.date:
    try:
        day = dt.date.fromisoformat(request.GET.get("week") or request.POST.get("week") or "")
    except ValueError:
        day = timezone.localdate(timezone.now(), tz)
    return day - dt.timedelta(days=day.weekday())


def _split_by_day(
    kind: str, start: dt.datetime, end: dt.datetime, tz, days: list[dt.date], **extra
) -> list[Block]:
    blocks = []
    for day in days:
        lo, hi = local_midnight(day, tz), local_midnight(day + dt.timedelta(days=1), tz)
        s, e = max(start, lo), min(end, hi)
        if s < e:
            blocks.append(Block(kind, day, s.astimezone(tz), e.astimezone(tz), **extra))
    return blocks


def _week_blocks(profile: CounselorProfile, monday: dt.date, tz) -> list[Block]:
    """The counselor's windows and sessions in the week starting `monday`, in their own zone."""
    days = [monday + dt.timedelta(days=i) for i in range(7)]
    start, end = local_midnight(days[0], tz), local_midnight(monday + dt.timedelta(days=7), tz)
    blocks: list[Block] = []
    for window in AvailabilityWindow.objects.filter(counselor=profile):
        if window.kind == AvailabilityWindow.Kind.WEEKLY:
            rule = WeeklyRule(
                window.weekday,
                window.start_time,
                window.end_time,
                window.timezone,
                window.valid_from,
                window.valid_until,
            )
            intervals = list(weekly_occurrences(rule, start, end))
        else:
            intervals = (
                [(window.start, window.end)] if window.start < end and window.end > start else []
            )
        for s, e in intervals:
            blocks += _split_by_day(window.kind, s, e, tz, days, window_id=window.pk)
    for b_start, b_end, label in counselor_busy_between(
        counselor_id=profile.pk, start=start, end=end
    ):
        blocks += _split_by_day("booking", b_start, b_end, tz, days, label=label)
    return sorted(blocks, key=lambda b: (b.day, b.start_minute, b.kind))


def _grid(blocks: list[Block], monday: dt.date) -> dict:
    """Rows and columns for the CSS grid: one row per quarter hour of the hours shown."""
    first = min([FIRST_HOUR] + [b.start_minute // 60 for b in blocks])
    last = max([LAST_HOUR] + [-(-b.end_minute // 60) for b in blocks])

    def row(minute: int) -> int:
        return HEADER_ROWS + 1 + (minute - first * 60) // 15

    placed = [
        {
            "block": b,
            "column": b.day.weekday() + 2,
            "row_start": row(b.start_minute),
            "row_end": row(b.end_minute),
        }
        for b in blocks
    ]
    hours = [{"hour": h, "label": f"{h:02d}:00", "row": row(h * 60)} for h in range(first, last)]
    return {
        "blocks": placed,
        "hours": hours,
        "first": first,
        "last": last,
        "rows": row(last * 60) - 1,
        "body_row": HEADER_ROWS + 1,
        "days": [(i + 2, monday + dt.timedelta(days=i)) for i in range(7)],
    }


def _time_off_rows(profile: CounselorProfile, today: dt.date) -> list[dict]:
    """The counselor's time off not yet over, each with the sessions still booked inside it.
    Each session's cancel form posts to the bookings' own cancel page (listening), which
    comes back here: a cancellation always goes through the one cancel flow."""
    ranges = [t for t in time_off_for_counselor(user=profile.user) if t.end_date >= today]
    sessions = time_off_sessions(counselor=profile, ranges=ranges)
    return [{"range": t, "sessions": sessions[t.pk]} for t in ranges]


def _availability_page(
    request,
    *,
    weekly_form=None,
    one_off_form=None,
    time_off_form=None,
    status=200,
):
    user = request.user
    profile = CounselorProfile.objects.select_related("user").get(pk=user.pk)
    tz = ZoneInfo(user.timezone)
    monday = _week_monday(request, tz)
    today = timezone.localdate(timezone.now(), tz)
    blocks = _week_blocks(profile, monday, tz)
    windows = AvailabilityWindow.objects.filter(counselor=profile)
    weekly = [w for w in windows if w.kind == AvailabilityWindow.Kind.WEEKLY]
    for w in weekly:
        w.day_name = dict(forms.WEEKDAYS)[w.weekday]
    one_offs = sorted(
        (
            w
            for w in windows
            if w.kind == AvailabilityWindow.Kind.ONE_OFF and w.end > timezone.now()
        ),
        key=lambda w: w.start,
    )
    by_day = {
        day: [b for b in blocks if b.day == day] for _col, day in _grid(blocks, monday)["days"]
    }
    ranges = time_off_for_counselor(user=user).filter(
        start_date__lte=monday + dt.timedelta(days=6), end_date__gte=monday
    )
    away_days = {day for day in by_day if any(t.start_date <= day <= t.end_date for t in ranges)}
    return render(
        request,
        "counselors/availability.html",
        {
            "profile": profile,
            "zone": user.timezone,
            "monday": monday,
            "sunday": monday + dt.timedelta(days=6),
            "prev_week": monday - dt.timedelta(days=7),
            "next_week": monday + dt.timedelta(days=7),
            "this_week": today - dt.timedelta(days=today.weekday()),
            "today": today,
            "grid": _grid(blocks, monday),
            "by_day": [(day, day_blocks, day in away_days) for day, day_blocks in by_day.items()],
            "away_days": away_days,
            "weekly": weekly,
            "one_offs": one_offs,
            "weekly_form": weekly_form
            or forms.WeeklyWindowForm(
                prefix="weekly",
                initial={"weekday": max(monday, today).weekday(), "valid_from": max(monday, today)},
            ),
            "one_off_form": one_off_form
            or forms.OneOffWindowForm(prefix="oneoff", initial={"date": max(monday, today)}),
            "time_off_form": time_off_form or forms.TimeOffForm(prefix="timeoff"),
            "time_off": _time_off_rows(profile, today),
        },
        status=status,
    )


def _back_to_week(monday: dt.date | str) -> str:
    return f"{reverse('counselors:counselor-availability')}?{urlencode({'week': str(monday)})}"


@counselor_required
def availability(request):
    return _availability_page(request)


@counselor_required
@require_POST
def window_weekly_create(request):
    form = forms.WeeklyWindowForm(request.POST, prefix="weekly")
    if form.is_valid():
        done = form_submit(
            form,
            window_create,
            profile=request.user.counselor_profile,
            timezone_name=request.user.timezone,
            **form.cleaned_data,
        )
        if done.ok:
            messages.success(request, _("Weekly window published."))
            return redirect(_back_to_week(_week_monday(request, ZoneInfo(request.user.timezone))))
    return _availability_page(request, weekly_form=form, status=400)


@counselor_required
@require_POST
def window_one_off_create(request):
    form = forms.OneOffWindowForm(request.POST, prefix="oneoff")
    if form.is_valid():
        start, end = form.interval(ZoneInfo(request.user.timezone))
        done = form_submit(
            form,
            window_create,
            field_map={"start": "start_time", "end": "end_time"},
            profile=request.user.counselor_profile,
            start=start,
            end=end,
        )
        if done.ok:
            messages.success(request, _("One-off window published."))
            return redirect(_back_to_week(form.cleaned_data["date"]))
    return _availability_page(request, one_off_form=form, status=400)


@counselor_required
@require_POST
def window_remove(request, window_id: int):
    try:
        window_delete(profile=request.user.counselor_profile, window_id=window_id)
    except AvailabilityWindow.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("Window removed. Sessions already booked in it stay booked."))
    return redirect(_back_to_week(_week_monday(request, ZoneInfo(request.user.timezone))))


# --- time off -------------------------------------------------------------------------------------


@counselor_required
@require_POST
def time_off_create(request):
    form = forms.TimeOffForm(request.POST, prefix="timeoff")
    if form.is_valid():
        done = form_submit(
            form, time_off_add, profile=request.user.counselor_profile, **form.cleaned_data
        )
        if done.ok:
            messages.success(
                request,
                _(
                    "Time off added: no new sessions can be booked on those days. Sessions "
                    "already booked are listed below; they stay booked unless you cancel them."
                ),
            )
            return redirect(f"{reverse('counselors:counselor-availability')}#time-off")
    return _availability_page(request, time_off_form=form, status=400)


@counselor_required
@require_POST
def time_off_delete(request, time_off_id: int):
    try:
        time_off_remove(profile=request.user.counselor_profile, time_off_id=time_off_id)
    except TimeOff.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("Time off removed: those days are bookable again."))
    return redirect(f"{reverse('counselors:counselor-availability')}#time-off")


# --- offerings and toolkit items -------------------------------------------------------------


def _own_profile(request) -> CounselorProfile:
    return CounselorProfile.objects.select_related("user").get(pk=request.user.pk)


@counselor_required
@require_GET
def offerings(request):
    """The counselor's offerings, every status (staff's reason shown on unpublished ones)."""
    profile = _own_profile(request)
    return render(
        request,
        "counselors/offerings.html",
        {
            "profile": profile,
            "offerings": offering_cards(offerings_for_counselor(counselor=profile)),
        },
    )


def _offering_form_page(request, profile, form, *, offering=None, status=200):
    return render(
        request,
        "counselors/offering_form.html",
        {"profile": profile, "form": form, "offering": offering},
        status=status,
    )


@counselor_required
def offering_create_page(request):
    profile = _own_profile(request)
    items = toolkit_items_for_counselor(counselor=profile)
    if request.method != "POST":
        form = forms.OfferingForm(
            items=items, initial={"duration_minutes": 15, "modes": profile.modes}
        )
        return _offering_form_page(request, profile, form)
    form = forms.OfferingForm(request.POST, items=items)
    if form.is_valid():
        done = form_submit(form, offering_create, counselor=profile, **form.cleaned_data)
        if done.ok:
            messages.success(request, _("Your offering is published on your profile."))
            return redirect("counselors:counselor-offerings")
    return _offering_form_page(request, profile, form, status=400)


@counselor_required
def offering_edit_page(request, offering_id: int):
    profile = _own_profile(request)
    try:
        offering = offering_get_for_counselor(counselor=profile, offering_id=offering_id)
    except Offering.DoesNotExist:
        raise Http404 from None
    items = toolkit_items_for_counselor(counselor=profile)
    if request.method != "POST":
        form = forms.OfferingForm(
            items=items,
            initial={
                **{name: getattr(offering, name) for name in OFFERING_EDITABLE},
                "specialties": [s.slug for s in offering.specialties.all()],
                "items": [i.pk for i in offering.items.all()],
            },
        )
        return _offering_form_page(request, profile, form, offering=offering)
    form = forms.OfferingForm(request.POST, items=items)
    if form.is_valid():
        done = form_submit(
            form,
            offering_update,
            counselor=profile,
            offering_id=offering.pk,
            **form.cleaned_data,
        )
        if done.ok:
            messages.success(request, _("Your offering is saved."))
            return redirect("counselors:counselor-offerings")
        return _offering_form_page(request, profile, form, offering=offering, status=done.status)
    return _offering_form_page(request, profile, form, offering=offering, status=400)


@counselor_required
@require_POST
def offering_withdraw_page(request, offering_id: int):
    try:
        offering_withdraw(counselor=_own_profile(request), offering_id=offering_id)
    except Offering.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("The offering is withdrawn: clients no longer see it."))
    return redirect("counselors:counselor-offerings")


@counselor_required
@require_GET
def toolkit(request):
    """The library and the counselor's own toolkit items."""
    profile = _own_profile(request)
    items = list(toolkit_items_for_counselor(counselor=profile))
    return render(
        request,
        "counselors/toolkit.html",
        {
            "profile": profile,
            "library": [i for i in items if i.is_library],
            "own": [i for i in items if not i.is_library],
        },
    )


def _item_form_page(request, profile, form, *, item=None, status=200):
    return render(
        request,
        "counselors/toolkit_item_form.html",
        {"profile": profile, "form": form, "item": item},
        status=status,
    )


def _item_values(data: dict) -> dict:
    return {k: data[k] for k in ("title_en", "title_zh", "body_en", "body_zh") if k in data}


@counselor_required
def toolkit_item_create_page(request):
    profile = _own_profile(request)
    if request.method != "POST":
        return _item_form_page(request, profile, forms.ToolkitItemForm())
    form = forms.ToolkitItemForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        done = form_submit(
            form,
            toolkit_item_create,
            field_map={"fields": "lines"},
            counselor=profile,
            kind=data["kind"],
            fields=data["fields"],
            audio=data.get("audio"),
            **_item_values(data),
        )
        if done.ok:
            messages.success(request, _("The toolkit item is saved."))
            return redirect("counselors:counselor-toolkit")
    return _item_form_page(request, profile, form, status=400)


@counselor_required
def toolkit_item_edit_page(request, toolkit_item_id: int):
    """Edit one of the counselor's own items; a library item is shown read-only."""
    profile = _own_profile(request)
    try:
        item = toolkit_item_get_for_counselor(counselor=profile, item_id=toolkit_item_id)
    except ToolkitItem.DoesNotExist:
        raise Http404 from None
    if item.is_library:
        if request.method == "POST":
            raise PermissionDenied
        return render(request, "counselors/toolkit_item.html", {"item": item})
    if request.method != "POST":
        form = forms.ToolkitItemForm(
            kind_fixed=item.kind,
            initial={
                **_item_values(vars(item)),
                "lines": forms.fields_as_lines(item.kind, item.fields),
            },
        )
        return _item_form_page(request, profile, form, item=item)
    form = forms.ToolkitItemForm(request.POST, request.FILES, kind_fixed=item.kind)
    if form.is_valid():
        data = form.cleaned_data
        done = form_submit(
            form,
            toolkit_item_update,
            field_map={"fields": "lines"},
            counselor=profile,
            item_id=item.pk,
            fields=data["fields"] if item.kind != ToolkitItem.Kind.AUDIO else None,
            audio=data.get("audio"),
            **_item_values(data),
        )
        if done.ok:
            messages.success(request, _("The toolkit item is saved."))
            return redirect("counselors:counselor-toolkit")
    return _item_form_page(request, profile, form, item=item, status=400)


@counselor_required
@require_POST
def toolkit_item_delete_page(request, toolkit_item_id: int):
    try:
        toolkit_item_delete(counselor=_own_profile(request), item_id=toolkit_item_id)
    except ToolkitItem.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("The toolkit item is deleted."))
    return redirect("counselors:counselor-toolkit")
