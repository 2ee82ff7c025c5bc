"""Checking an uploaded voice note: the container is sniffed from the bytes (the client's
Content-Type is not trusted), it must hold audio only, and its length is read from the file."""

from dataclasses import dataclass

import av
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# PyAV/FFmpeg demuxer names -> the content type we store and serve.
CONTAINERS = {
    "matroska,webm": "audio/webm",
    "ogg": "audio/ogg",
    "mov,mp4,m4a,3gp,3g2,mj2": "audio/mp4",
    "mp3": "audio/mpeg",
}


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
    try:
        upload.seek(0)
        with av.open(upload, mode="r") as container:
            content_type = CONTAINERS.get(container.format.name)
            has_audio = bool(container.streams.audio)
            only_audio = all(s.type == "audio" for s in container.streams)
            seconds = _duration(container)
    except (av.error.FFmpegError, ValueError, OSError):
        raise ValidationError(
            {"audio": [_("Send a voice note as %(formats)s.") % {"formats": formats}]}
        ) from None
    finally:
        upload.seek(0)
    if content_type is None or not has_audio or not only_audio:
        raise ValidationError(
            {"audio": [_("Send a voice note as %(formats)s.") % {"formats": formats}]}
        )
    if seconds is None or seconds > settings.VOICE_NOTE_MAX_SECONDS:
        raise ValidationError(
            {
                "audio": [
                    _("A voice note is at most %(minutes)s minutes long.")
                    % {"minutes": settings.VOICE_NOTE_MAX_SECONDS // 60}
                ]
            }
        )
    return VoiceNote(content_type=content_type, seconds=round(seconds, 2))


def _duration(container) -> float | None:
    if container.duration:
        return container.duration / av.time_base
    # Browser-recorded webm often has no duration in its header: read the packets' times.
    last = None
    for packet in container.demux(container.streams.audio[0]):
        if packet.pts is not None and packet.time_base is not None:
            end = float((packet.pts + (packet.duration or 0)) * packet.time_base)
            last = end if last is None else max(last, end)
    return last
