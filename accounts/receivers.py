"""Accounts' signal receivers (connected in AccountsConfig.ready())."""

from django.apps import apps as global_apps
from django.db.models.signals import post_migrate, post_save
from django.dispatch import receiver
from rest_framework.authtoken.models import Token

from accounts.models import User
from accounts.services import staff_group_sync


@receiver(post_save, sender=User, dispatch_uid="accounts.tokens_revoked_on_password_change")
def tokens_revoked_on_password_change(sender, instance: User, created: bool, **kwargs):
    """A new password revokes the account's API tokens, as a suspension does: a token made
    before it (a stolen one, say) must not keep opening sockets and calling the API. Browser
    sessions end by themselves (Django checks the session's password hash). `set_password`
    leaves the raw password on the instance until this save has run, which is how a change
    is told apart from any other save."""
    if not created and getattr(instance, "_password", None) is not None:
        Token.objects.filter(user=instance).delete()


def _last_app_with_models() -> str:
    return [c.label for c in global_apps.get_app_configs() if c.models_module][-1]


@receiver(post_migrate, dispatch_uid="accounts.staff_group_synced_after_migrate")
def staff_group_synced_after_migrate(sender, apps=global_apps, **kwargs):
    """Every `migrate` brings the staff group up to date: a group made by an earlier
    `create_staff` would otherwise never gain the permissions of a model or app added since
    (nor lose one taken away). post_migrate is where Django itself creates the permissions
    (django.contrib.auth's create_permissions): it is sent once per app, in INSTALLED_APPS
    order, after the whole migration plan, and each app's permissions are made by a receiver
    connected before this one (auth's ready() runs before accounts'). So the sync runs once,
    for the last app with models, when every app's permissions exist; it is idempotent, so a
    migrate with nothing new changes nothing. `flush` sends the signal too, which restores
    the group in a flushed database (flush sends no `apps`: the real registry, as for
    create_permissions)."""
    if sender.label != _last_app_with_models():
        return
    try:  # as create_permissions does: no auth tables in this state (migrated to zero)
        apps.get_model("auth", "Permission")
    except LookupError:
        return
    staff_group_sync()
