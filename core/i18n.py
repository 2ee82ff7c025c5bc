"""Text kept in both of the UI's languages (a title in English and in Chinese), read in the
active one."""

from django.utils.translation import get_language


def in_active_language(en: str, zh: str) -> str:
    """`zh` when the active language is Chinese, else `en`; the other one when that is empty,
    so text written in one language only still shows."""
    preferred, other = (zh, en) if (get_language() or "").startswith("zh") else (en, zh)
    return preferred or other
