"""Encryption at rest for session content (chat text and voice notes).

MultiFernet over settings.ENCRYPTION_KEYS: the first key encrypts, all keys decrypt, so keys
can be rotated without downtime (add the new key first, run `reencrypt_session_content`,
then drop the old key)."""

from collections.abc import Sequence
from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.db import models, transaction


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.ENCRYPTION_KEYS))


def encrypt(data: bytes) -> bytes:
    return fernet().encrypt(data)


def decrypt(token: bytes) -> bytes:
    return fernet().decrypt(bytes(token))


def encrypt_text(text: str) -> bytes:
    return encrypt(text.encode("utf-8"))


def decrypt_text(token: bytes) -> str:
    return decrypt(token).decode("utf-8")


def rotate(token: bytes) -> bytes:
    """Re-encrypt under the newest key (a no-op in meaning, not in bytes)."""
    return fernet().rotate(bytes(token))


def rows_reencrypt(queryset: models.QuerySet, fields: Sequence[str], *, batch: int = 200) -> int:
    """Re-encrypt the token fields `fields` of every row of `queryset` under the newest key
    (empty ones stay empty): batches of locked rows in primary-key order, one transaction
    each, so it is safe while the service runs and safe to re-run. Returns the rows visited."""
    done = last_pk = 0
    while True:
        with transaction.atomic():
            rows = list(queryset.select_for_update().filter(pk__gt=last_pk).order_by("pk")[:batch])
            if not rows:
                return done
            for row in rows:
                for name in fields:
                    if token := getattr(row, name):
                        setattr(row, name, rotate(token))
            queryset.model.objects.bulk_update(rows, list(fields))
            done += len(rows)
            last_pk = rows[-1].pk
