from django.core.management.base import BaseCommand

from ethics.services import risk_checks_reencrypt
from listening.services import session_content_reencrypt
from matching.services import match_request_notes_reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypt everything stored encrypted (chat messages, voice notes, counselors' notes, "
        "risk checks, talk-now notes) under the newest key in ENCRYPTION_KEYS. "
        "Run after putting a new key first; then the old keys can be removed."
    )

    def handle(self, *args, **options):
        messages, files = session_content_reencrypt()
        checks = risk_checks_reencrypt()
        notes = match_request_notes_reencrypt()
        self.stdout.write(
            self.style.SUCCESS(
                f"Re-encrypted {messages} messages and notes, {files} voice notes, "
                f"{checks} risk checks and {notes} talk-now notes."
            )
        )
