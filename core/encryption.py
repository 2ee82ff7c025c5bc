"""Encryption at rest for session content (chat text and voice notes).

MultiFernet over settings.ENCRYPTION_KEYS: the first key encrypts, all keys decrypt, so keys
can be rotated without downtime (add the new key first, run `reencrypt_session_content`,
then drop the old key)."""

from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings


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
