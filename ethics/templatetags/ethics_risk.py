"""Template tags of the risk check panel (templates/ethics/_risk_check.html)."""

from django import template
from django.utils import translation

from ethics import cssrs

register = template.Library()


@register.simple_tag
def cssrs_questions() -> list[dict]:
    """The C-SSRS screen questions in the page's language."""
    return cssrs.questions("en" if (translation.get_language() or "").startswith("en") else "zh")
