from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.timezone import now as tz_now
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from accounts.models import Notice, User
from core.realtime import ACCOUNT_CLOSED, push_on_commit, user_group


def _set_validated_password(user: User, password: str) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)


@transaction.atomic
def user_register(
    *,
    username: str,
    password: str,
    role: str,
    email: str = "",
    timezone: str | None = None,
    language: str | None = None,
) -> User:
    """Create a client or counselor account (staff and supervisors are made by admins).
    Identity only: signing up (`workflows.services.user_sign_up`) adds a counselor's profile."""
    if role not in (User.Role.CLIENT, User.Role.COUNSELOR):
        raise ValidationError({"role": _("Choose client or counselor.")})
    user = User(username=username, email=email, role=role)
    if timezone:
        user.timezone = timezone
    if language:
        user.language = language
    _set_validated_password(user, password)
    user.full_clean(exclude=["password"])
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # two concurrent sign-ups with one name
        raise ValidationError({"username": _("A user with that username already exists.")}) from exc
    return user


def user_token_get(*, user: User) -> str:
    token, _created = Token.objects.get_or_create(user=user)
    return token.key


@transaction.atomic
def user_update(*, user: User, timezone: str | None = None, language: str | None = None) -> User:
    if timezone is not None:
        user.timezone = timezone
    if language is not None:
        user.language = language
    user.full_clean(exclude=["password"])
    user.save(update_fields=["timezone", "language"])
    return user


STAFF_GROUP = "Pianke staff"
STAFF_APPS = ["accounts", "counselors", "listening", "ethics", "authtoken"]


def staff_group_get() -> Group:
    """The admin group staff belong to: every permission on Pianke's own models, none on
    Django's internals (a staff member is not a superuser)."""
    group, _created = Group.objects.get_or_create(name=STAFF_GROUP)
    group.permissions.set(Permission.objects.filter(content_type__app_label__in=STAFF_APPS))
    return group


@transaction.atomic
def staff_create(
    *, username: str, password: str, email: str = "", role: str = User.Role.STAFF
) -> User:
    """Staff (who also use the Django admin) and on-call supervisors (who work in the product's
    own pages); used by the `create_staff` command and the demo data."""
    if role not in (User.Role.STAFF, User.Role.SUPERVISOR):
        raise ValidationError({"role": _("Choose staff or supervisor.")})
    user = User(username=username, email=email, role=role, is_staff=role == User.Role.STAFF)
    _set_validated_password(user, password)
    user.full_clean(exclude=["password"])
    user.save()
    if role == User.Role.STAFF:
        user.groups.add(staff_group_get())
    return user


@transaction.atomic
def user_suspend(*, user_id: int) -> User:
    """Suspend an account: it can no longer sign in, its API tokens are revoked and its open
    WebSockets are closed (after commit) within moments."""
    user = User.objects.select_for_update().get(pk=user_id)
    user.is_active = False
    user.save(update_fields=["is_active"])
    Token.objects.filter(user=user).delete()
    push_on_commit(user_group(user_id), ACCOUNT_CLOSED)
    return user


def user_anonymise(*, user_id: int) -> User:
    """Accounts' part of deleting an account: the row stays (bookings and alerts refer to it)
    but nothing identifying does; sign-in becomes impossible, tokens go and open sockets close
    after commit. Call inside the deletion's transaction, holding the user's row lock."""
    user = User.objects.get(pk=user_id)
    user.username = f"deleted-{user.pk}"
    user.email = user.first_name = user.last_name = ""
    user.set_unusable_password()
    user.is_active = False
    user.save()
    Token.objects.filter(user=user).delete()
    push_on_commit(user_group(user_id), ACCOUNT_CLOSED)
    return user


def user_lock(*, user_id: int) -> User:
    """The user's row, locked for the rest of the transaction (serialises changes to an account)."""
    return User.objects.select_for_update().get(pk=user_id)


def notice_send(*, user: User, kind: str, params: dict | None = None, url: str = "") -> Notice:
    """Leave a notice on the user's pages (shown from `accounts.selectors`, rendered in the
    reader's language from `kind` and `params`; never put a topic or content in `params`).
    Call inside the transaction whose change it announces: it is a row, so it commits or
    rolls back with that change."""
    return Notice.objects.create(
        user=user, kind=kind, params=params or {}, url=url, created_at=tz_now()
    )
