"""What a session can be, in one place: its lengths, its modes and its languages.

The database constraints (`booking_duration_15_30`, `match_duration_15_30`) are built from
SESSION_LENGTHS; a new length is a migration as well as a change here."""

from django.db import models
from django.utils.translation import gettext_lazy as _

SESSION_LENGTHS = (15, 30)  # minutes
# For forms: (value, label), the label translated when shown (one msgid per length).
_LENGTH_LABELS = {15: _("15 minutes"), 30: _("30 minutes")}
SESSION_LENGTH_CHOICES = [(m, _LENGTH_LABELS[m]) for m in SESSION_LENGTHS]
DEFAULT_SESSION_LENGTH = 30


def session_length_from(value, *, default: int = DEFAULT_SESSION_LENGTH) -> int:
    """A session length from a query parameter ("15"), or `default` when it is not one."""
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        return default
    return minutes if minutes in SESSION_LENGTHS else default


class SessionMode(models.TextChoices):
    TEXT = "text", _("Text chat")
    ASYNC = "async", _("Async messages")
    VOICE = "voice", _("Voice")
    VIDEO = "video", _("Video")


class SessionLanguage(models.TextChoices):
    """Languages a session can be held in (not the UI language)."""

    ZH = "zh", "普通话 / Mandarin"
    YUE = "yue", "粤语 / Cantonese"
    EN = "en", "English"
    JA = "ja", "日本語"
    KO = "ko", "한국어"
    FR = "fr", "Français"
    DE = "de", "Deutsch"
    ES = "es", "Español"


# The tags people, browsers and our own UI language use for the same language: an account's
# `zh-hans`, a browser's `zh-Hans-CN` or `en-GB`. Chinese written for Hong Kong or Macau, and
# `zh-yue`, mean Cantonese; any other Chinese tag means Mandarin.
_CANTONESE_SUBTAGS = {"yue", "hk", "mo"}
_LANGUAGE_ALIASES = {"cmn": "zh"}
SESSION_LANGUAGE_HELP = (
    "A session language: "
    + ", ".join(SessionLanguage.values)
    + ". Any language tag is read as its language, case and `_` or `-` alike: zh-hans,"
    " zh-Hans-CN and zh_CN are zh; en-GB is en; zh-HK, zh-Hant-HK and zh-yue are yue."
)


def session_language_from(value: str) -> str:
    """The session language a tag names (`zh-Hans` → `zh`, `en-GB` → `en`, `zh-HK` → `yue`);
    ValueError for a language no session is held in. The one normaliser of the API's inputs."""
    tag = str(value).strip().lower().replace("_", "-")
    if tag in SessionLanguage.values:
        return tag
    primary, *subtags = tag.split("-")
    primary = _LANGUAGE_ALIASES.get(primary, primary)
    if primary == "zh" and _CANTONESE_SUBTAGS & set(subtags):
        primary = "yue"
    if primary not in SessionLanguage.values:
        raise ValueError(
            f"Unknown language {value!r}; use one of {', '.join(SessionLanguage.values)}."
        )
    return primary
