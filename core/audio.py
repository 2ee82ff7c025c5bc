"""Checking an uploaded audio file: the container is sniffed from the bytes (the client's
Content-Type is never trusted), it must hold audio streams only, and its length is read from
the file. Voice notes (listening/voice.py) and counselors' guided audio
(counselors/services.py) share it and differ only in their limits and wording."""

from dataclasses import dataclass

import av
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
class AudioFound:
    content_type: str
    seconds: float | None  # None: the file does not say and its packets do not either


def audio_probe(upload) -> AudioFound | None:
    """The audio in `upload`, or None if its bytes are not one of CONTAINERS holding audio
    streams only. Precondition: the caller checked `upload.size` against its limit, so a huge
    file is refused before it is read. Leaves the file at position 0."""
    try:
        upload.seek(0)
        with av.open(upload, mode="r") as container:
            content_type = CONTAINERS.get(container.format.name)
            has_audio = bool(container.streams.audio)
            only_audio = all(s.type == "audio" for s in container.streams)
            seconds = _duration(container) if has_audio else None
    except (av.error.FFmpegError, ValueError, OSError):
        return None
    finally:
        upload.seek(0)
    if content_type is None or not has_audio or not only_audio:
        return None
    return AudioFound(content_type=content_type, seconds=seconds)


def audio_inspect(upload, *, max_bytes: int, max_seconds: int, field: str = "audio") -> AudioFound:
    """Validate an uploaded audio file against the limits; ValidationError on `field` names
    the limit broken (size before anything is read, then the container, then the length)."""
    if upload.size > max_bytes:
        raise ValidationError(
            {field: [_("An audio file is at most %(mb)s MB.") % {"mb": max_bytes // (1024 * 1024)}]}
        )
    found = audio_probe(upload)
    if found is None:
        raise ValidationError(
            {
                field: [
                    _("Upload the audio as %(formats)s.")
                    % {"formats": _("webm, ogg, mp4 or mpeg audio")}
                ]
            }
        )
    if found.seconds is None or found.seconds > max_seconds:
        raise ValidationError(
            {
                field: [
                    _("An audio file is at most %(minutes)s minutes long.")
                    % {"minutes": max_seconds // 60}
                ]
            }
        )
    return AudioFound(content_type=found.content_type, seconds=round(found.seconds, 2))


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
