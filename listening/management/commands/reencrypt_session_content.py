from django.core.management.base import BaseCommand

from listening.services import session_content_reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypt every chat message and voice note under the newest key in ENCRYPTION_KEYS. "
        "Run after putting a new key first; then the old keys can be removed."
    )

    def handle(self, *args, **options):
        messages, files = session_content_reencrypt()
        self.stdout.write(
            self.style.SUCCESS(
                f"Re-encrypted {messages} messages and notes and {files} voice notes."
            )
        )
