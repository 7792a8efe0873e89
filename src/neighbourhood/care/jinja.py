"""The Jinja2 environment our pages are drawn with (ADR 14).

Jinja2 compiles a template to Python once; Django's own engine walks a node tree on
every render, which cost a quarter of a worker's time under load. The Django admin keeps
Django's engine. The helpers below are Django's own, so a page formats a date, a name or
a number exactly as before.
"""

from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.forms import BoundField
from django.template import defaultfilters
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe
from jinja2 import ChainableUndefined, Environment

SELECTED = mark_safe(" selected")  # a constant attribute, no user data
NOT_SELECTED = mark_safe("")


@lru_cache(maxsize=16_384)
def _reversed(prefix: str, urlconf: str | None, name: str, args: tuple[Any, ...]) -> str:
    # ``prefix`` is only part of the key: ``reverse`` reads the same script prefix itself.
    return reverse(name, urlconf=urlconf, args=args or None)


def url(name: str, *args: Any) -> str:
    """Django's ``reverse``, kept: a list page links every row, and reversing costs more
    than drawing the row. Keyed by the script prefix and URL configuration in force, so
    a kept address is always the one ``reverse`` would give."""
    return _reversed(get_script_prefix(), get_urlconf(), name, args)


@receiver(setting_changed)
def _forget_addresses(*, setting: str, **_: Any) -> None:
    if setting == "ROOT_URLCONF":
        _reversed.cache_clear()


def date(value: Any, format_string: str) -> str:
    """Django's ``date`` filter: an aware time shown in the site's time zone."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):  # a date kept in JSON, as ISO 8601
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return str(dateformat.format(value, format_string))


def percent(value: Any) -> str:
    """A proportion as a whole percentage, rounded as Django's ``widthratio`` does."""
    if value is None:
        return ""
    return str(round(float(value) * 100))


def options(field: BoundField) -> SafeString:
    """The ``<option>`` elements of a select field, the current value selected. Drawn in
    Python: a caseload page lists every member of a team."""
    value = field.value()
    current = {str(v) for v in (value if isinstance(value, list | tuple) else [value])}
    choices = field.field.choices  # type: ignore[attr-defined]
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((key, SELECTED if str(key) in current else NOT_SELECTED, label) for key, label in choices),
    )


def _log2(x: float) -> float:
    """For the charts' log scales; nothing positive, far off the scale."""
    return math.log2(x) if x and x > 0 else -99.0


def environment(**options_: Any) -> Environment:
    # A missing value draws as nothing, as it did under Django's engine, rather than
    # failing the page.
    env = Environment(**{**options_, "undefined": ChainableUndefined})
    env.globals.update(url=url, static=static, options=options, log2=_log2)
    env.filters.update(
        capfirst=defaultfilters.capfirst,
        date=date,
        floatformat=defaultfilters.floatformat,
        percent=percent,
        pluralize=defaultfilters.pluralize,
    )
    return env
