"""Showing a toolkit entry's answers under the item's own labels, in the reader's language."""

from django import template

from listening.toolkit import field_label

register = template.Library()


@register.filter
def answer_rows(item, answers: dict) -> list[tuple[str, object]]:
    """(label, value) for each field of `item` that `answers` holds, in the item's order."""
    return [
        (field_label(spec), answers[spec["key"]]) for spec in item.fields if spec["key"] in answers
    ]
