"""Accounts' signal receivers (connected in AccountsConfig.ready())."""

from django.db.models.signals import post_save
from django.dispatch import receiver
from rest_framework.authtoken.models import Token

from accounts.models import User


@receiver(post_save, sender=User, dispatch_uid="accounts.tokens_revoked_on_password_change")
def tokens_revoked_on_password_change(sender, instance: User, created: bool, **kwargs):
    """A new password revokes the account's API tokens, as a suspension does: a token made
    before it (a stolen one, say) must not keep opening sockets and calling the API. Browser
    sessions end by themselves (Django checks the session's password hash). `set_password`
    leaves the raw password on the instance until this save has run, which is how a change
    is told apart from any other save."""
    if not created and getattr(instance, "_password", None) is not None:
        Token.objects.filter(user=instance).delete()
