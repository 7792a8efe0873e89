"""Rendering a form's choices in Python: a choice list of a team's members is drawn on
every caseload page, and a template loop with filters per option costs more than the
rest of the page."""

from __future__ import annotations

from django import template
from django.forms import BoundField
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()
SELECTED = mark_safe(" selected")  # a constant attribute, no user data
NOT_SELECTED = mark_safe("")


@register.simple_tag
def options(field: BoundField) -> SafeString:
    """The ``<option>`` elements of a select field, the current value selected."""
    value = field.value()
    current = {str(v) for v in (value if isinstance(value, list | tuple) else [value])}
    choices = field.field.choices  # type: ignore[attr-defined]
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((key, SELECTED if str(key) in current else NOT_SELECTED, label) for key, label in choices),
    )
