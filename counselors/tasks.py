"""Celery tasks of `counselors`: thin and idempotent, each takes ids."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import Notice
from counselors.models import CounselorProfile, PreferredCounselor


@shared_task
def preferred_new_window_email(notice_id: int) -> None:
    """E-mail a client that a preferred counselor published new times, in the client's
    language; the in-page notice `notice_id` (kind preferred_new_window) is the record. Sent
    only if the client still prefers the counselor with notices on (they may have opted out
    since) and has an address; never names a topic. Queued once, after the commit."""
    notice = Notice.objects.select_related("user").filter(pk=notice_id).first()
    if notice is None:
        return
    client, counselor_id = notice.user, notice.params.get("counselor_id")
    if not client.email or not client.is_active:
        return
    if not PreferredCounselor.objects.filter(
        client=client, counselor_id=counselor_id, notify_new_windows=True
    ).exists():
        return
    profile = CounselorProfile.objects.select_related("user").get(pk=counselor_id)
    with translation.override(client.language):
        send_mail(
            subject=_("New times from a counselor you prefer"),
            message=_(
                "%(counselor)s has published new times on Pianke. See them and book: %(url)s\n\n"
                "You get this because you asked to hear of this counselor's new times. To stop, "
                "open My counselors: %(settings_url)s"
            )
            % {
                "counselor": str(profile),
                "url": settings.PIANKE_SITE_URL + notice.url,
                "settings_url": settings.PIANKE_SITE_URL + reverse("listening:my-counselors"),
            },
            from_email=None,
            recipient_list=[client.email],
        )
