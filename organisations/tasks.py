"""Celery tasks of organisations: thin and idempotent; each takes ids.

Task bodies import the services module when they run: it imports this module at module level
(to queue the e-mail after commit), so the import goes the other way here."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from organisations.models import EmailVerification


@shared_task
def organisation_email_link_send(verification_id: int) -> None:
    """E-mail the confirmation link to the address a client gave, in the client's language.
    The link's token is signed over the row's id, so it is made here again and never stored
    or queued. A row already confirmed (or gone) sends nothing."""
    from organisations.services import email_link_token  # see the module docstring

    verification = (
        EmailVerification.objects.select_related("user", "organisation")
        .filter(pk=verification_id, confirmed_at__isnull=True)
        .first()
    )
    if verification is None or not verification.email:
        return
    url = (
        settings.PIANKE_SITE_URL
        + reverse("organisations:email-confirm")
        + "?"
        + urlencode({"token": email_link_token(verification)})
    )
    with translation.override(verification.user.language):
        send_mail(
            subject=_("Confirm your address for Pianke"),
            message=_(
                "Open this link to confirm this address and join %(organisation)s on Pianke, "
                "so it sponsors your sessions: %(url)s\n\nThe link works for three days. If you "
                "did not ask for it, ignore this e-mail."
            )
            % {"organisation": verification.organisation.name, "url": url},
            from_email=None,
            recipient_list=[verification.email],
        )
