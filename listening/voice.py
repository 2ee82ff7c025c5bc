"""Checking an uploaded voice note: the container is sniffed from the bytes (the client's
Content-Type is not trusted), it must hold audio only, and its length is read from the file."""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.audio import CONTAINERS, audio_probe  # noqa: F401  (CONTAINERS: kept importable here)


@dataclass(frozen=True)
class VoiceNote:
    content_type: str
    seconds: float


def voice_note_inspect(upload) -> VoiceNote:
    """Validate an uploaded file as a voice note; ValidationError on "audio" names the limit."""
    max_mb = settings.VOICE_NOTE_MAX_BYTES // (1024 * 1024)
    if upload.size > settings.VOICE_NOTE_MAX_BYTES:
        raise ValidationError({"audio": [_("A voice note is at most %(mb)s MB.") % {"mb": max_mb}]})
    formats = _("webm, ogg, mp4 or mpeg audio")
    found = audio_probe(upload)
    if found is None:
        raise ValidationError(
            {"audio": [_("Send a voice note as %(formats)s.") % {"formats": formats}]}
        )
    seconds = found.seconds
    if seconds is None or seconds > settings.VOICE_NOTE_MAX_SECONDS:
        raise ValidationError(
            {
                "audio": [
                    _("A voice note is at most %(minutes)s minutes long.")
                    % {"minutes": settings.VOICE_NOTE_MAX_SECONDS // 60}
                ]
            }
        )
    return VoiceNote(content_type=found.content_type, seconds=round(seconds, 2))
