"""Reads about accounts."""

from accounts.models import User
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
