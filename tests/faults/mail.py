"""A slow file-based e-mail backend for the worker-kill test (through PIANKE_TEST_EMAIL_BACKEND
in a worker subprocess): before each send it appends the first message's kind ("alert" or
"reminder") to SLOW_MAIL_MARKER and waits SLOW_MAIL_SECONDS (or SLOW_MAIL_SECONDS_<KIND>, so
one kind can be kept in flight longer than another), so the test can kill the worker while a
crisis alert's or a reminder's e-mail is being sent."""

import os
import time

from django.core.mail.backends import filebased


def kind_of(subject: str) -> str:
    return "alert" if "crisis alert" in subject.lower() else "reminder"


class SlowFileBackend(filebased.EmailBackend):
    def send_messages(self, email_messages):
        kind = kind_of(email_messages[0].subject) if email_messages else ""
        if kind:
            with open(os.environ["SLOW_MAIL_MARKER"], "a") as marker:
                marker.write(kind + "\n")
        seconds = os.environ.get(f"SLOW_MAIL_SECONDS_{kind.upper()}") or os.environ.get(
            "SLOW_MAIL_SECONDS", "0.3"
        )
        time.sleep(float(seconds))
        return super().send_messages(email_messages)
