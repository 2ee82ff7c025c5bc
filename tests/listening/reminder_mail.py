"""A slow file-based e-mail backend for the reminder worker test (used by a Celery worker
subprocess through PIANKE_TEST_EMAIL_BACKEND): before each message it notes in
SLOW_MAIL_MARKER that a send has begun and waits SLOW_MAIL_SECONDS, so the test can kill the
worker while a reminder is in the middle of being sent."""

import os
import smtplib
import time

from django.core.mail.backends import filebased
from django.core.mail.backends.base import BaseEmailBackend


class SlowFileBackend(filebased.EmailBackend):
    def send_messages(self, email_messages):
        with open(os.environ["SLOW_MAIL_MARKER"], "a") as marker:
            marker.write("begun\n")
        time.sleep(float(os.environ.get("SLOW_MAIL_SECONDS", "0.3")))
        return super().send_messages(email_messages)


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses every message (for the retry tests)."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("the mail server went away")
