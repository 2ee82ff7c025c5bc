"""Every string the session room's scripts show (static/js/room*.js), translated on the server:
the scripts carry no English. The room page puts them on the page as JSON (`room-strings`)."""

from django.utils.translation import gettext as _


def room_strings(other: str) -> dict[str, str]:
    """The strings in the viewer's language; `other` is the other party's name.
    %(name)s, %(time)s, %(reason)s and %(seconds)s are filled in by the scripts."""
    return {
        "you": _("You"),
        "other": other,
        "connecting": _("Connecting…"),
        "connected": _("Connected"),
        "reconnecting": _("Connection lost. Reconnecting in %(seconds)s s…"),
        "offline": _("You are offline. Your messages will be sent when the connection is back."),
        "refused": _("You cannot enter this room now."),
        "signedOut": _("You are signed out. Sign in again to rejoin the session."),
        "opensIn": _("The room opens in %(time)s."),
        "startsIn": _("Starts in %(time)s"),
        "remaining": _("%(time)s left"),
        "timeUp": _("Time is up. The room closes in a moment."),
        "warning": _("About two minutes left. Time to start bringing the conversation to a close."),
        "ended": _("The session has ended."),
        "noShowClient": _("The client did not come, so the session is closed."),
        "noShowCounselor": _(
            "The counselor did not come, so the session is closed. You will not be charged."
        ),
        "noShowBoth": _("Nobody came, so the session is closed."),
        "sending": _("Sending…"),
        "delivered": _("Delivered"),
        "notSent": _("Not sent: %(reason)s"),
        "putBack": _("Put back in the message box"),
        "typing": _("%(name)s is typing…"),
        "peerHere": _("%(name)s is in the room."),
        "peerAway": _("Waiting for %(name)s to join."),
        "peerJoined": _("%(name)s joined the room."),
        "peerLeft": _("%(name)s left the room."),
        "voiceNote": _("Voice note"),
        "err_too_long": _("the message is too long (at most 4,000 characters)"),
        "err_invalid_text": _("the message is empty or cannot be stored"),
        "err_session_closed": _("the session is closed"),
        "err_duplicate_id": _("this message was already sent"),
        "err_rate_limited": _("You are sending very fast, so messages go out a little slower."),
        "err_generic": _("something went wrong"),
        # the call
        "mute": _("Mute"),
        "unmute": _("Unmute"),
        "cameraOff": _("Turn camera off"),
        "cameraOn": _("Turn camera on"),
        "callIdle": _("You are not in the call."),
        "callWaiting": _("Waiting for %(name)s to join the call."),
        "callConnecting": _("Connecting the call…"),
        "callConnected": _("Call connected."),
        "callInterrupted": _("The call was interrupted. Reconnecting…"),
        "callLeft": _("You left the call."),
        "peerLeftCall": _("%(name)s left the call."),
        "incomingCall": _("%(name)s started the call. Join when you are ready."),
        "mediaDenied": _(
            "Camera or microphone access was refused. Allow it in your browser's site settings, "
            "or continue by text."
        ),
        "mediaMissing": _(
            "No camera or microphone was found. You can still hear %(name)s and write."
        ),
        "mediaUnsupported": _(
            "This browser cannot make calls. Continue by text, or try a current browser."
        ),
        "play": _("Play %(name)s's audio and video"),
        # the counselor's tools
        "crisisCounselor": _(
            "A crisis signal was detected in this session. The on-call supervisors have been "
            "alerted and the client was shown crisis lines. Follow the crisis protocol."
        ),
        "saving": _("Saving…"),
        "saved": _("Saved at %(time)s"),
        "notSaved": _("Not saved: %(reason)s"),
        "unsaved": _("Unsaved changes"),
        "sentOk": _("Done."),
    }
