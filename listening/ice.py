"""ICE servers handed to a session's participants (`session.config`).

STUN/TURN URLs come from settings. TURN credentials are never long-lived secrets sent to
browsers: with TURN_SECRET set (coturn's `use-auth-secret`), each participant gets a
username/credential pair that expires an hour after the session ends (the TURN REST API
scheme: username "<expiry>:<user id>", credential base64(HMAC-SHA1(secret, username)))."""

import base64
import datetime as dt
import hashlib
import hmac

from django.conf import settings

CREDENTIAL_MARGIN = dt.timedelta(hours=1)


def ice_servers_for(*, user_id: int, session_end: dt.datetime) -> list[dict]:
    servers = [dict(server) for server in settings.ICE_SERVERS]
    if settings.TURN_URLS and settings.TURN_SECRET:
        expiry = int((session_end + CREDENTIAL_MARGIN).timestamp())
        username = f"{expiry}:{user_id}"
        digest = hmac.new(settings.TURN_SECRET.encode(), username.encode(), hashlib.sha1).digest()
        servers.append(
            {
                "urls": list(settings.TURN_URLS),
                "username": username,
                "credential": base64.b64encode(digest).decode(),
            }
        )
    return servers
