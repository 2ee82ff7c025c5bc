"""Show every time in the viewer's zone.

Times are stored in UTC. A signed-in user has their own zone (User.timezone, IANA); an
anonymous visitor gets the zone their browser reports, which static/js/tz.js stores in the
`tz` cookie. Templates then render aware datetimes in that zone (`{{ dt|date:"..." }}`).
Without either, Django's default (settings.TIME_ZONE, UTC) stays, and pages say which zone
they show."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

TZ_COOKIE = "tz"


def zone_or_none(name: str | None) -> ZoneInfo | None:
    """The zone called `name`, or None for anything that is not an IANA zone (the cookie is
    user input: ZoneInfo itself refuses paths and unknown keys)."""
    if not name or len(name) > 64:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def viewer_zone_name(request) -> str | None:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and zone_or_none(user.timezone):
        return user.timezone
    cookie = request.COOKIES.get(TZ_COOKIE)
    return cookie if zone_or_none(cookie) else None


class TimezoneMiddleware:
    """Activates the viewer's zone for the request (after AuthenticationMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = viewer_zone_name(request)
        if name:
            timezone.activate(ZoneInfo(name))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            # Threads (and ASGI's sync workers) are reused across requests.
            timezone.deactivate()
