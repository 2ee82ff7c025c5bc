"""Template context for every page: the signed-in user's unread notices (base.html shows the
count in the header and the latest few above the content)."""

from functools import cached_property
from zoneinfo import ZoneInfo

from django.utils import timezone

from accounts.selectors import notice_rendered, notices_of

SHOWN = 5  # the latest unread notices above a page's content; the rest are on /notices/


class UnreadNotices:
    """Lazy: a page that never shows the header (none yet) costs no query."""

    def __init__(self, user):
        self.user = user

    @cached_property
    def count(self) -> int:
        return notices_of(user=self.user, unread_only=True).count()

    @cached_property
    def items(self) -> list[dict]:
        if not self.count:
            return []
        # The reader's zone, as the timezone middleware activated it for this request.
        zone = timezone.get_current_timezone()
        if not isinstance(zone, ZoneInfo):
            zone = ZoneInfo(self.user.timezone)
        return [
            notice_rendered(n, zone=zone)
            for n in notices_of(user=self.user, unread_only=True)[:SHOWN]
        ]


def notices(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_notices": None}
    return {"unread_notices": UnreadNotices(user)}
