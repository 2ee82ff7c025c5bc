"""The client's toolkit: the toolkit items that come with their sessions (the booked offering's
items, and items the counselor assigned from the room), and what the client writes into them.

An entry's answers are encrypted at rest (core.encryption), like the messages. An entry is the
client's alone unless they share it, and then only with the counselor of the session it
belongs to: no other counselor, no staff (the ethics review reads session content through its
own audited path, which does not include entries), no other client. Unsharing hides it at once.

Services here are the writes (`toolkit_assign`, `toolkit_entry_create`, `..._update`,
`..._delete`), selectors the reads that decide who sees what (`toolkit_for_client`,
`toolkit_entry_get_for_client`, `toolkit_entries_shared_with`); both are called alike by the
API views and the pages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.notices import TOOLKIT_ASSIGNED
from accounts.services import notice_send
from core.encryption import decrypt_text, encrypt_text
from core.exceptions import Conflict
from core.i18n import in_active_language
from counselors.models import ToolkitItem
from counselors.selectors import toolkit_item_audio_get_for_user
from listening.models import Booking, ToolkitAssignment, ToolkitEntry

# Longest free-text answer in an entry field.
ANSWER_MAX_CHARS = 2000
SCALE_MIN, SCALE_MAX = 0, 10


# --- reads ---------------------------------------------------------------------------------


@dataclass
class SessionToolkit:
    """One session's tools for its client: the items (offering's first, then assignments) and
    the client's entries in them."""

    booking: Booking
    items: list[ToolkitItem] = field(default_factory=list)
    notes: dict[int, str] = field(default_factory=dict)  # item id -> the counselor's note
    entries: list[ToolkitEntry] = field(default_factory=list)


def _items_of_booking(booking: Booking) -> tuple[list[ToolkitItem], dict[int, str]]:
    """The booking's tools, from prefetched `offering.items` and `assignments` (no queries)."""
    items: dict[int, ToolkitItem] = {}
    notes: dict[int, str] = {}
    if booking.offering is not None:
        for item in booking.offering.items.all():
            items.setdefault(item.pk, item)
    if booking.package_purchase is not None:  # a session of a package: the package's tools
        for item in booking.package_purchase.package.items.all():
            items.setdefault(item.pk, item)
    for assignment in booking.assignments.all():
        items.setdefault(assignment.item_id, assignment.item)
        if assignment.note:
            notes[assignment.item_id] = assignment.note
    return list(items.values()), notes


def _client_bookings(client: User | int):
    return (
        Booking.objects.filter(client=client)
        .exclude(status=Booking.Status.CANCELLED)
        .select_related("counselor", "offering", "package_purchase__package")
        .prefetch_related(
            "offering__items",
            "package_purchase__package__items",
            Prefetch("assignments", queryset=ToolkitAssignment.objects.select_related("item")),
        )
    )


def toolkit_for_client(*, client: User) -> list[SessionToolkit]:
    """The client's sessions that carry tools (an offering with items, or assignments), newest
    first, each with its items and the client's entries; sessions without tools are left out.
    Entries not tied to a session are not listed here (see `toolkit_entries_for_client`)."""
    bookings = (
        _client_bookings(client)
        .filter(
            Q(offering__items__isnull=False)
            | Q(package_purchase__package__items__isnull=False)
            | Q(assignments__isnull=False)
        )
        .distinct()
        .order_by("-start")
    )
    sessions = []
    by_booking: dict[int, SessionToolkit] = {}
    for booking in bookings:
        items, notes = _items_of_booking(booking)
        session = SessionToolkit(booking=booking, items=items, notes=notes)
        sessions.append(session)
        by_booking[booking.pk] = session
    for entry in toolkit_entries_for_client(client=client).filter(booking__in=list(by_booking)):
        by_booking[entry.booking_id].entries.append(entry)
    return sessions


def toolkit_entries_for_client(*, client: User):
    """The client's own entries, newest first."""
    return (
        ToolkitEntry.objects.filter(client=client)
        .select_related("item")
        .order_by("-created_at", "-pk")
    )


def toolkit_entry_get_for_client(*, client: User, entry_id: int) -> ToolkitEntry:
    """The client's own entry; ToolkitEntry.DoesNotExist (404) for anyone else's."""
    return toolkit_entries_for_client(client=client).get(pk=entry_id)


def toolkit_entries_shared_with(*, counselor: User, booking_id: int | None = None):
    """The entries clients shared with `counselor`: those of the counselor's own sessions with
    `shared_at` set. With `booking_id`, that session's only."""
    rows = ToolkitEntry.objects.filter(
        booking__counselor_id=counselor.pk, shared_at__isnull=False
    ).select_related("item", "booking")
    if booking_id is not None:
        rows = rows.filter(booking_id=booking_id)
    return rows.order_by("-created_at", "-pk")


def toolkit_entry_get_shared(*, counselor: User, entry_id: int) -> ToolkitEntry:
    """One entry shared with `counselor`; DoesNotExist (404) otherwise, also once unshared."""
    return toolkit_entries_shared_with(counselor=counselor).get(pk=entry_id)


def toolkit_items_of_booking(*, booking: Booking) -> list[ToolkitItem]:
    """The tools of one booking (offering's items and assignments), for the room."""
    booking = _client_bookings(booking.client_id).get(pk=booking.pk)
    return _items_of_booking(booking)[0]


def field_label(spec: dict) -> str:
    """A toolkit item field's label in the active language (its key if it has none)."""
    return in_active_language(spec.get("label_en", ""), spec.get("label_zh", "")) or spec["key"]


def toolkit_items_assignable(*, counselor: User):
    """What a counselor can give a client: their own items and the platform library."""
    return ToolkitItem.objects.filter(Q(owner__isnull=True) | Q(owner_id=counselor.pk))


def toolkit_library_items():
    """The platform's starter library (any client may use it privately)."""
    return ToolkitItem.objects.filter(owner__isnull=True).exclude(kind=ToolkitItem.Kind.AUDIO)


def toolkit_audio_get_for_user(*, user: User, item_id: int) -> ToolkitItem:
    """A guided audio `user` may play: what counselors' selector allows anyone (the library,
    items of listed counselors' published offerings) and a counselor their own, or one that
    comes with one of the user's sessions. ToolkitItem.DoesNotExist (404) otherwise."""
    try:
        return toolkit_item_audio_get_for_user(user=user, item_id=item_id)
    except ToolkitItem.DoesNotExist:
        pass
    sessions = (
        Q(offerings__bookings__client_id=user.pk)
        | Q(assignments__booking__client_id=user.pk)
        | Q(packages__purchases__client_id=user.pk)  # a package they bought
    )
    return (
        ToolkitItem.objects.filter(sessions, pk=item_id, kind=ToolkitItem.Kind.AUDIO)
        .exclude(audio="")
        .distinct()
        .get()
    )


def entry_answers(entry: ToolkitEntry) -> dict:
    """The decrypted answers of an entry."""
    return json.loads(decrypt_text(bytes(entry.ciphertext))) if entry.ciphertext else {}


def toolkit_entries_export(*, user: User) -> list[dict]:
    """The user's own entries, decrypted, for their data export."""
    return [
        {
            "id": entry.pk,
            "item": entry.item.slug,
            "kind": entry.item.kind,
            "booking": entry.booking_id,
            "answers": entry_answers(entry),
            "shared_with_counselor": entry.shared_at is not None,
            "created_at": entry.created_at.isoformat(),
            "updated_at": entry.updated_at.isoformat(),
        }
        for entry in toolkit_entries_for_client(client=user)
    ]


# --- writes --------------------------------------------------------------------------------


def _answers_clean(item: ToolkitItem, answers) -> dict:
    """The answers checked against the item's structure: ValidationError on `answers` naming
    the problem. Unknown keys are refused, not dropped, so nothing is silently lost."""
    if not isinstance(answers, dict):
        raise ValidationError({"answers": [_("Answers are an object of field: value.")]})
    if item.kind == ToolkitItem.Kind.AUDIO:
        raise ValidationError({"item": [_("A guided audio has nothing to fill in.")]})
    fields = {f["key"]: f for f in item.fields}
    unknown = sorted(set(answers) - set(fields))
    if unknown:
        raise ValidationError(
            {"answers": [_("Not a field of this item: %(keys)s.") % {"keys": ", ".join(unknown)}]}
        )
    clean: dict = {}
    for key, value in answers.items():
        if item.kind == ToolkitItem.Kind.CHECKLIST:
            if not isinstance(value, bool):
                raise ValidationError(
                    {"answers": [_("%(key)s: tick true or false.") % {"key": key}]}
                )
        elif fields[key].get("type") == "scale":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValidationError(
                    {"answers": [_("%(key)s: a whole number from 0 to 10.") % {"key": key}]}
                )
            if not SCALE_MIN <= value <= SCALE_MAX:
                raise ValidationError(
                    {"answers": [_("%(key)s: a whole number from 0 to 10.") % {"key": key}]}
                )
        else:
            if not isinstance(value, str):
                raise ValidationError({"answers": [_("%(key)s: write text.") % {"key": key}]})
            value = value.strip()
            if len(value) > ANSWER_MAX_CHARS:
                raise ValidationError(
                    {
                        "answers": [
                            _("%(key)s: at most %(n)s characters.")
                            % {"key": key, "n": ANSWER_MAX_CHARS}
                        ]
                    }
                )
        clean[key] = value
    if not any(v not in ("", False, None) for v in clean.values()):
        raise ValidationError({"answers": [_("Fill in at least one field.")]})
    return clean


def toolkit_entry_target(
    *, client: User, item_id: int, booking_id: int | None
) -> tuple[ToolkitItem, Booking | None]:
    """The item and the client's booking it comes with (ValidationError naming `item` or
    `booking` if the client cannot write into it). Without a booking the item must come
    with one of the client's sessions, or be in the platform library."""
    if booking_id is not None:
        try:
            booking = _client_bookings(client).get(pk=booking_id)
        except Booking.DoesNotExist:
            raise ValidationError({"booking": [_("You have no session with this id.")]}) from None
        items, _notes = _items_of_booking(booking)
        item = next((i for i in items if i.pk == item_id), None)
        if item is None:
            raise ValidationError({"item": [_("This item does not come with that session.")]})
        return item, booking
    item = ToolkitItem.objects.filter(pk=item_id).first()
    available = item is not None and (
        item.is_library
        or _client_bookings(client)
        .filter(
            Q(offering__items=item)
            | Q(package_purchase__package__items=item)
            | Q(assignments__item=item)
        )
        .exists()
    )
    if not available:
        raise ValidationError({"item": [_("This item is not in your toolkit.")]})
    return item, None


@transaction.atomic
def toolkit_entry_create(
    *,
    client: User,
    item_id: int,
    answers: dict,
    booking_id: int | None = None,
    share: bool = False,
) -> ToolkitEntry:
    """A new entry of the client's in an item of their toolkit. `share` shares it with the
    counselor of `booking_id` (400 without a session: there is nobody to share it with)."""
    if not client.is_client:
        raise PermissionDenied
    item, booking = toolkit_entry_target(client=client, item_id=item_id, booking_id=booking_id)
    clean = _answers_clean(item, answers)
    if share and booking is None:
        raise ValidationError({"share": [_("Only an entry of a session can be shared.")]})
    now = timezone.now()
    return ToolkitEntry.objects.create(
        client=client,
        item=item,
        booking=booking,
        ciphertext=encrypt_text(json.dumps(clean, ensure_ascii=False)),
        shared_at=now if share else None,
        created_at=now,
        updated_at=now,
    )


@transaction.atomic
def toolkit_entry_update(
    *, client: User, entry_id: int, answers: dict | None = None, share: bool | None = None
) -> ToolkitEntry:
    """Change the client's entry: new answers, and/or share or unshare it (unsharing hides it
    from the counselor at once)."""
    entry = (
        toolkit_entries_for_client(client=client).select_for_update(of=("self",)).get(pk=entry_id)
    )
    if answers is not None:
        entry.ciphertext = encrypt_text(json.dumps(_answers_clean(entry.item, answers)))
    if share is not None:
        if share and entry.booking_id is None:
            raise ValidationError({"share": [_("Only an entry of a session can be shared.")]})
        if share and entry.shared_at is None:
            entry.shared_at = timezone.now()
        elif not share:
            entry.shared_at = None
    entry.updated_at = timezone.now()
    entry.save(update_fields=["ciphertext", "shared_at", "updated_at"])
    return entry


@transaction.atomic
def toolkit_entry_delete(*, client: User, entry_id: int) -> None:
    toolkit_entry_get_for_client(client=client, entry_id=entry_id).delete()


def toolkit_entries_erase(*, user: User) -> None:
    """Account deletion: the user's entries go, content and all. Call inside its transaction."""
    ToolkitEntry.objects.filter(client=user).delete()


@transaction.atomic
def toolkit_assign(
    *, counselor: User, booking_id: int, item_id: int, note: str = ""
) -> ToolkitAssignment:
    """The counselor gives the client of one of their sessions a toolkit item ("try this
    before next time"): one of their own items or a library item. 404 for a booking that is
    not theirs, 400 for an item they may not use, 409 if it is already assigned there, and the
    client gets a notice."""
    try:
        booking = Booking.objects.select_related("client").get(
            pk=booking_id, counselor_id=counselor.pk
        )
    except Booking.DoesNotExist:
        raise ObjectDoesNotExist from None
    if booking.status == Booking.Status.CANCELLED:
        raise Conflict(_("This session was cancelled."), code="booking_cancelled")
    note = (note or "").strip()
    if len(note) > 300:
        raise ValidationError({"note": [_("Keep the note to 300 characters.")]})
    item = toolkit_items_assignable(counselor=counselor).filter(pk=item_id).first()
    if item is None:
        raise ValidationError({"item": [_("Pick one of your toolkit items or a library item.")]})
    assignment, created = ToolkitAssignment.objects.get_or_create(
        booking=booking, item=item, defaults={"note": note, "created_at": timezone.now()}
    )
    if not created:
        raise Conflict(_("This item is already assigned in this session."), code="already_assigned")
    notice_send(user=booking.client, kind=TOOLKIT_ASSIGNED, url="/toolkit/")
    return assignment
