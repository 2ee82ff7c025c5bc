"""The security headers Django's SecurityMiddleware does not set: a Content-Security-Policy
and a Permissions-Policy, on every response (HSTS, the referrer policy, nosniff and
X-Frame-Options come from Django's own settings, see config/settings/production.py).

The policy: scripts only from this origin, never inline and never `eval` (every script is a
static file: htmx and the page modules), so an injected `<script>` or `onclick=` does not run;
no plugins; no framing at all (`frame-ancestors 'none'`, as X-Frame-Options DENY); forms and
`<base>` only to this origin; sockets only back to this host. Styles may be inline (`style=`
attributes lay out the availability grid, htmx adds its indicator style), which lets no script
run. Camera and microphone are allowed only on the session room page, for its own origin; every
other page (and every other feature) asks for none."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import DisallowedHost

# The pages that may use the camera and the microphone: the session room (voice and video).
MEDIA_PAGES = frozenset({"listening:session-room"})

_BASE_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data: blob:",
    "media-src": "'self' blob:",
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "worker-src": "'self'",
    "manifest-src": "'self'",
}

# Features no page uses. (Not autoplay: the room plays the other side's voice and video.)
_NO_FEATURES = (
    "accelerometer",
    "display-capture",
    "geolocation",
    "gyroscope",
    "magnetometer",
    "payment",
    "usb",
)


def content_security_policy(host: str) -> str:
    policy = dict(_BASE_POLICY)
    # 'self' covers same-origin ws:/wss: in current browsers; the host is named for the others.
    policy["connect-src"] = f"'self' ws://{host} wss://{host}" if host else "'self'"
    extra = getattr(settings, "CSP_EXTRA", {})  # e.g. {"connect-src": "https://turn.example"}
    for directive, sources in extra.items():
        policy[directive] = f"{policy.get(directive, '')} {sources}".strip()
    return "; ".join(f"{directive} {sources}" for directive, sources in policy.items())


def permissions_policy(*, media: bool) -> str:
    allowed = "(self)" if media else "()"
    features = [f"camera={allowed}", f"microphone={allowed}"]
    features += [f"{feature}=()" for feature in _NO_FEATURES]
    return ", ".join(features)


class SecurityHeadersMiddleware:
    """Sets Content-Security-Policy and Permissions-Policy unless the view set its own. With
    CSP_REPORT_ONLY the policy is only reported by browsers, not enforced (to try a change)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        try:
            host = request.get_host()
        except DisallowedHost:  # the answer is an error page: keep the policy strict
            host = ""
        header = (
            "Content-Security-Policy-Report-Only"
            if getattr(settings, "CSP_REPORT_ONLY", False)
            else "Content-Security-Policy"
        )
        response.headers.setdefault(header, content_security_policy(host))
        match = getattr(request, "resolver_match", None)
        media = bool(match) and match.view_name in MEDIA_PAGES
        response.headers.setdefault("Permissions-Policy", permissions_policy(media=media))
        return response
