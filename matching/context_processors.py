"""`live_surges` for every page: the surge banners, in the reader's language, with crisis lines.

Lazy: the value is a callable the template calls only where it shows the banner (the home and
talk-now pages), once per render, so other pages cost no query."""

from __future__ import annotations

from functools import cache

from matching.selectors import surges_for_banner


def surges(request) -> dict:
    @cache
    def live_surges() -> list[dict]:
        return surges_for_banner()

    return {"live_surges": live_surges}
