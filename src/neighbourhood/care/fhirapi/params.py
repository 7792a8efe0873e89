"""FHIR search parameters read into database filters: dates with their prefixes
(``ge2026-01-01``), tokens (``system|code``, comma for OR), references
(``Patient/123``, or ``:identifier`` with an NHS number)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone

from neighbourhood.care.fhirapi.outcome import invalid

PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le")
_DATE = re.compile(
    r"^(?P<year>\d{4})(-(?P<month>\d{2})(-(?P<day>\d{2})(T(?P<time>[0-9:.]+)(?P<zone>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)
# Parameters every search takes, beside its resource type's own.
RESULT = ("_count", "_offset", "_include", "_revinclude", "_total", "_format", "_summary", "_sort")
DEFAULT_COUNT = 20
MAX_COUNT = 100


@dataclass
class Search:
    """A search's parameters, read once; each type's handler takes what it knows."""

    params: dict[str, list[str]]
    count: int = DEFAULT_COUNT
    offset: int = 0
    include: list[str] = field(default_factory=list)
    revinclude: list[str] = field(default_factory=list)
    total: bool = False

    @classmethod
    def read(cls, query: QueryDict, known: set[str], resource_type: str) -> Search:
        params: dict[str, list[str]] = {}
        for name in query:
            values = query.getlist(name)
            base = name.split(":", 1)[0]
            if name in RESULT:
                continue
            if base not in known and name not in known:
                raise invalid(
                    f"{resource_type} cannot be searched by '{name}': the parameters it takes "
                    f"are {', '.join(sorted(known))} (see /fhir/metadata)",
                    name,
                )
            params[name] = [v for v in values if v != ""]
        search = cls(params)
        search.count = _number(query.get("_count"), "_count", DEFAULT_COUNT, 0, MAX_COUNT)
        search.offset = _number(query.get("_offset"), "_offset", 0, 0, 10**9)
        search.include = query.getlist("_include")
        search.revinclude = query.getlist("_revinclude")
        search.total = query.get("_total") == "accurate"
        if query.get("_sort") not in (None, "", "_id", "_lastUpdated"):
            raise invalid("results can be sorted by _id or _lastUpdated only", "_sort")
        return search

    def values(self, name: str) -> list[str]:
        """Every value given for ``name``, commas meaning OR."""
        return [part for value in self.params.get(name, []) for part in value.split(",") if part]


def whole(text: str) -> bool:
    """An id: digits 0 to 9 only (``str.isdigit`` also takes '²', which ``int`` refuses),
    few enough for the database's 64-bit integers."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def _number(text: str | None, name: str, default: int, low: int, high: int) -> int:
    if text in (None, ""):
        return default
    assert text is not None
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        raise invalid(f"{name} must be a whole number, not '{text}'", name)
    return max(low, min(int(text), high))


def date_range(text: str, name: str) -> tuple[str, dt.datetime, dt.datetime]:
    """The prefix and the instant range ``[start, end)`` a date parameter's value names."""
    prefix = text[:2] if text[:2] in PREFIXES else "eq"
    value = text[2:] if text[:2] in PREFIXES else text
    found = _DATE.match(value)
    if found is None:
        raise invalid(
            f"{name}: '{value}' is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or a dateTime "
            "with a time zone), optionally after eq, gt, lt, ge or le",
            name,
        )
    try:
        if found.group("time"):
            if found.group("zone") is None:
                raise invalid(f"{name}: a date with a time needs a time zone, e.g. Z", name)
            start = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return prefix, start, start + dt.timedelta(seconds=1)
        year = int(found.group("year"))
        month = int(found.group("month") or 1)
        day = int(found.group("day") or 1)
        zone = timezone.get_current_timezone()
        start = dt.datetime(year, month, day, tzinfo=zone)
        if found.group("day"):
            end = start + dt.timedelta(days=1)
        elif found.group("month"):
            end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
        else:
            end = dt.datetime(year + 1, 1, 1, tzinfo=zone)
    except ValueError as error:
        raise invalid(f"{name}: '{value}' is not a date: {error}", name) from None
    return prefix, start, end


# Each prefix as a half-open interval [low, high) drawn from the value's own range
# [start, end): which bound of that range, if any, is the low and the high; and whether
# the instant must be outside it instead (ne).
INTERVALS = {
    "eq": ("start", "end", False),
    "ne": ("start", "end", True),
    "gt": ("end", None, False),
    "ge": ("start", None, False),
    "lt": (None, "start", False),
    "le": (None, "end", False),
}


def _intervals(search: Search, name: str) -> list[tuple[Any, Any, bool]]:
    out = []
    for text in search.params.get(name, []):
        prefix, start, end = date_range(text, name)
        low, high, outside = INTERVALS[prefix]
        bounds = {"start": start, "end": end, None: None}
        out.append((bounds[low], bounds[high], outside))
    return out


def date_q(search: Search, name: str, column: str, is_date: bool = False) -> Q:
    """Every value of a date parameter, ANDed (``ge…&le…`` is a range)."""
    out = Q()
    for low, high, outside in _intervals(search, name):
        within = Q()
        if low is not None:
            within &= Q(**{f"{column}__gte": low.date() if is_date else low})
        if high is not None:
            within &= Q(**{f"{column}__lt": high.date() if is_date else high})
        out &= ~within if outside else within
    return out


def date_matches(search: Search, name: str, at: dt.datetime) -> bool:
    """Whether an instant meets every value of a date parameter (for records searched
    in memory, as ``date_q`` does in the database)."""
    for low, high, outside in _intervals(search, name):
        within = (low is None or at >= low) and (high is None or at < high)
        if within == outside:
            return False
    return True


def token(text: str) -> tuple[str | None, str]:
    """``system|code`` as (system, code); a bare ``code`` has no system (None)."""
    if "|" in text:
        system, code = text.split("|", 1)
        return system, code
    return None, text


def reference_id(text: str, resource_type: str, name: str) -> str:
    """The id of ``Type/id`` (or a bare id, or a full URL ending so)."""
    parts = text.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] != resource_type:
        raise invalid(f"{name} must refer to a {resource_type}, not '{text}'", name)
    if not parts[-1]:
        raise invalid(f"{name} is empty", name)
    return parts[-1]
