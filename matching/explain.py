"""The scoring's reasons (plain English, stable in the API's `reasons`) in the viewer's language
for the pages (`reasons_display`)."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from core.sessions import SessionLanguage, SessionMode
from counselors.models import Specialty


def topic_name(slug: str, topics: dict | None = None) -> str:
    """The specialty's name for `slug` (the slug if there is none). `topics` (slug:
    Specialty, read once for a list) spares the query."""
    if topics is not None:
        specialty = topics.get(slug)
    else:
        specialty = Specialty.objects.filter(slug=slug).first()
    return specialty.name if specialty else slug


def reason_display(reason: str, topics: dict | None = None) -> str:
    if m := re.fullmatch(r"specialty: (.+)", reason):
        return _("specialty: %(topic)s") % {"topic": topic_name(m[1], topics)}
    if m := re.fullmatch(r"rated ([\d.]+) \(Bayesian\)", reason):
        return _("rated %(rating)s") % {"rating": m[1]}
    if m := re.fullmatch(r"speaks (.+)", reason):
        return _("speaks %(language)s") % {
            "language": dict(SessionLanguage.choices).get(m[1], m[1])
        }
    if m := re.fullmatch(r"offers (.+)", reason):
        return _("offers %(mode)s") % {"mode": dict(SessionMode.choices).get(m[1], m[1])}
    fixed = {
        "related specialty": _("related specialty"),
        "close time zone": _("close time zone"),
        "time zone": _("time zone"),
        "your past counselor": _("your past counselor"),
        "your preferred counselor": _("your preferred counselor"),
        "fewer offers this week": _("fewer offers this week"),
        "close to what you wrote": _("close to what you wrote"),
        "crisis-trained, for a high-risk request": _("crisis-trained, for a high-risk request"),
    }
    return fixed.get(reason, reason)


def reasons_display(reasons: list[str], topics: dict | None = None) -> list[str]:
    return [reason_display(r, topics) for r in reasons]
