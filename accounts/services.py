from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.timezone import now as tz_now
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from accounts.models import Notice, NotificationPreference, User
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
# The apps whose models staff look after in the admin (labels as strings: accounts imports no
# app above it). On each model the group holds view, add and change; the model's admin refuses
# add or change itself where rows come only from a service (an intake, a ledger entry).
STAFF_APPS = [
    "accounts",
    "counselors",
    "listening",
    "ethics",
    "billing",
    "organisations",
    "packages",
    "groups",
    "matching",
    "authtoken",
]
# The only models staff may delete rows of: reference data they maintain, and revoking access.
# Everything else (every clinical and audit record, and any model added later) has no delete
# permission in the group; its admin refuses deletion too (core.admin), and its rows go only
# through the services (the retention purge, account erasure) or never.
STAFF_MAY_DELETE = [
    "counselors.specialty",  # the taxonomy (used ones are protected by the rows naming them)
    "counselors.availabilitywindow",  # a counselor's free time; bookings made stay
    "ethics.resource",  # the help directory (a referred resource is protected)
    "ethics.oncallshift",  # the rota
    "organisations.organisationadmin",  # revoking an organisation admin's role
    "authtoken.token",  # revoking an API token
    "authtoken.tokenproxy",
]


def _staff_permissions():
    deletable = Q()
    for label in STAFF_MAY_DELETE:
        app_label, model = label.split(".")
        deletable |= Q(content_type__app_label=app_label, content_type__model=model)
    # Our models have only Django's default permissions, so `delete_` is the delete one.
    return Permission.objects.filter(content_type__app_label__in=STAFF_APPS).filter(
        ~Q(codename__startswith="delete_") | deletable
    )


@transaction.atomic
def staff_group_sync() -> Group:
    """The admin group staff belong to, made or brought up to date: the permissions above on
    Pianke's own models, none on Django's internals (a staff member is not a superuser).
    Idempotent: run by `create_staff` and after every `migrate` (accounts.receivers), so an
    existing group gains the permissions of new models and apps and loses those taken away;
    a few queries when nothing changed."""
    group, _created = Group.objects.get_or_create(name=STAFF_GROUP)
    group.permissions.set(_staff_permissions())
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
        user.groups.add(staff_group_sync())
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


# --- Notification preferences, notices, the one-click unsubscribe -----------------------------

PREFERENCE_FIELDS = (
    "email_reminders",
    "in_page_reminders",
    "remind_24h",
    "remind_1h",
    "quiet_start",
    "quiet_end",
)


@transaction.atomic
def notification_preference_update(*, user: User, **changes) -> NotificationPreference:
    """Change some of the user's preferences (the others keep their values). Quiet hours are
    both given or both empty, on the minute, and not the same time twice; anything wrong is a
    ValidationError naming the field, and nothing is saved."""
    unknown = set(changes) - set(PREFERENCE_FIELDS)
    if unknown:
        raise ValidationError({name: [_("Unknown setting.")] for name in sorted(unknown)})
    # The row is made, or locked, first: two saves at once cannot lose each other's fields.
    pref, _created = NotificationPreference.objects.select_for_update().get_or_create(user=user)
    for name, value in changes.items():
        setattr(pref, name, value)
    errors: dict[str, list[str]] = {}
    for name in ("quiet_start", "quiet_end"):
        value = getattr(pref, name)
        if value is not None and (value.second or value.microsecond):
            errors[name] = [_("Give the time in whole minutes.")]
    if (pref.quiet_start is None) != (pref.quiet_end is None):
        missing = "quiet_end" if pref.quiet_end is None else "quiet_start"
        errors.setdefault(missing, []).append(
            _("Give both the start and the end of the quiet hours, or neither.")
        )
    elif pref.quiet_start is not None and pref.quiet_start == pref.quiet_end:
        errors.setdefault("quiet_end", []).append(
            _("The quiet hours must end at another time than they start.")
        )
    if errors:
        raise ValidationError(errors)
    pref.save()
    return pref


@transaction.atomic
def notice_mark_read(*, user: User, notice_id: int) -> Notice:
    """Mark one of the user's own notices read (again is a no-op); anyone else's: DoesNotExist."""
    notice = Notice.objects.select_for_update().get(pk=notice_id, user=user)
    if notice.read_at is None:
        notice.read_at = tz_now()
        notice.save(update_fields=["read_at"])
    return notice


@transaction.atomic
def notices_mark_all_read(*, user: User) -> int:
    """Mark all of the user's unread notices read; returns how many there were."""
    return Notice.objects.filter(user=user, read_at__isnull=True).update(read_at=tz_now())


UNSUBSCRIBE_SALT = "accounts.reminder-emails.unsubscribe"


def unsubscribe_token_make(*, user: User) -> str:
    """The signed token of a reminder e-mail's one-click unsubscribe link. It does not expire:
    a link in an old e-mail must still work (RFC 8058), and all it can do is turn e-mails off."""
    return signing.dumps(user.pk, salt=UNSUBSCRIBE_SALT)


def unsubscribe_token_user(*, token: str) -> User:
    """The user a token was made for; a bad signature or unknown user is User.DoesNotExist."""
    try:
        user_id = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        raise User.DoesNotExist from None
    if not isinstance(user_id, int):
        raise User.DoesNotExist
    return User.objects.get(pk=user_id)


@transaction.atomic
def reminder_emails_unsubscribe(*, user: User) -> NotificationPreference:
    """Turn off reminder e-mails (the one-click link); in-page notices stay as they were."""
    return notification_preference_update(user=user, email_reminders=False)


def user_notifications_erase(*, user: User) -> None:
    """Accounts' part of deleting an account: the notification preferences and every notice go.
    Call inside the deletion's transaction."""
    NotificationPreference.objects.filter(user=user).delete()
    Notice.objects.filter(user=user).delete()
