from django.core.management.base import BaseCommand

from ethics.services import risk_checks_reencrypt
from listening.services import session_content_reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypt every chat message, voice note, counselor note and risk check under the newest key in ENCRYPTION_KEYS. "
        "Run after putting a new key first; then the old keys can be removed."
    )

    def handle(self, *args, **options):
        messages, files = session_content_reencrypt()
        checks = risk_checks_reencrypt()
        self.stdout.write(
            self.style.SUCCESS(
                f"Re-encrypted {messages} messages and notes, {files} voice notes and "
                f"{checks} risk checks."
            )
        )
