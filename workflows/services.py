"""Cross-domain orchestrations, written out as explicit calls in one atomic block (in the
manner of Zulip's `do_delete_user_core`): each app does its own part through its own service
or selector, and this module is the only place that knows the whole sequence."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.selectors import notifications_export, user_account_export
from accounts.services import (
    user_anonymise,
    user_lock,
    user_notifications_erase,
    user_register,
)
from core.export import EXPORT_FORMAT, iso
from counselors.selectors import counselor_links_export, counselor_profile_export
from counselors.services import (
    counselor_links_erase,
    counselor_profile_create,
    counselor_profile_erase,
)
from ethics.services import conversation_risk_erase, conversation_risk_export
from groups.services import group_data_erase, group_data_export
from intake.selectors import health_information_export
from intake.services import user_health_information_erase
from listening.feeds import calendar_feeds_erase, calendar_feeds_export
from listening.selectors import bookings_export
from listening.services import user_bookings_erase
from listening.toolkit import toolkit_entries_erase, toolkit_entries_export
from matching.services import user_match_requests_erase
from organisations.services import organisation_data_erase, organisation_data_export
from oversight.selectors import oversight_export


@transaction.atomic
def user_sign_up(
    *,
    username: str,
    password: str,
    role: str,
    email: str = "",
    timezone: str | None = None,
    language: str | None = None,
) -> User:
    """Create a client or counselor account; a counselor gets an unverified, unlisted profile
    in the same transaction."""
    user = user_register(
        username=username,
        password=password,
        role=role,
        email=email,
        timezone=timezone,
        language=language,
    )
    if user.role == User.Role.COUNSELOR:
        counselor_profile_create(user=user)
    return user


@transaction.atomic
def user_delete(*, user_id: int) -> None:
    """Delete an account at its owner's request. The row stays (bookings and alerts refer to
    it) but nothing identifying does: the name and e-mail are replaced, sign-in is impossible,
    tokens go, open sockets close. Future sessions are cancelled (the other side is told),
    session content of bookings not under an ethics hold is erased, toolkit entries go, talk-now requests are
    cancelled and their notes erased, and a counselor's profile is unlisted and their duty
    ended. Health information (consent, intake) is deleted."""
    user = user_lock(user_id=user_id)
    user_bookings_erase(user=user)
    toolkit_entries_erase(user=user)
    calendar_feeds_erase(user=user)
    counselor_links_erase(user=user)
    user_match_requests_erase(user=user)
    user_health_information_erase(user=user)
    conversation_risk_erase(user=user)
    group_data_erase(user=user)
    organisation_data_erase(user=user)
    # After the bookings: cancelling them leaves notices for the other side, not for this user.
    user_notifications_erase(user=user)
    if user.role == User.Role.COUNSELOR:
        counselor_profile_erase(counselor_id=user.pk)
    user_anonymise(user_id=user.pk)


def user_data_export(*, user: User) -> dict:
    """Everything Pianke keeps about `user`, for them to download (their right of access):
    the account, a counselor's profile, consents, intakes, bookings with their messages
    decrypted, feedback, referrals and complaints. Only the user's own data, and the other
    side of their own sessions only as far as the session itself (a name, their messages)."""
    return {
        "format": EXPORT_FORMAT,
        "exported_at": iso(timezone.now()),
        "account": user_account_export(user=user),
        "counselor_profile": counselor_profile_export(user=user) if user.is_counselor else None,
        **health_information_export(user=user),
        **conversation_risk_export(user=user),
        "bookings": bookings_export(user=user),
        # What the client wrote into their toolkit (diary entries, checklists), decrypted.
        "toolkit_entries": toolkit_entries_export(user=user),
        # Group seats (as pseudonyms) and the lines the user wrote there, decrypted.
        **group_data_export(user=user),
        # The organisation that sponsors the user's sessions, and one they administer.
        **organisation_data_export(user=user),
        # Time off, preferred counselors, history consents; the feeds without their tokens.
        **counselor_links_export(user=user),
        "calendar_feeds": calendar_feeds_export(user=user),
        **oversight_export(user=user),
        **notifications_export(user=user),
    }
