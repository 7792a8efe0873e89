"""What the people pages show, worked out from the published rows: dates to display,
events in words, reasons as a list, and planning counts under disclosure control."""

from __future__ import annotations

import datetime as dt
from typing import Any

from neighbourhood.phm.vocabulary import COHORTS, term
from neighbourhood.standards.disclosure import protect, rate


def publication(info: dict[str, Any] | None) -> dict[str, Any] | None:
    """When the figures were published and what date they describe, as dates to show."""
    if not info:
        return None
    return {
        "published_at": dt.datetime.fromisoformat(info["published_at"]),
        "as_of": dt.date.fromisoformat(info["as_of"]),
    }


def readable(event: dict[str, Any]) -> dict[str, Any]:
    """An event of the timeline with its sector and activity as words ("acute", "ed
    attendance"), and its SNOMED CT code's term ("Emergency hospital admission")."""
    for key in ("sector", "activity"):
        event[key] = str(event.get(key) or "").replace("_", " ")
    event["term"] = term(event.get("code"))
    return event


def split_reasons(text: Any) -> list[str]:
    """Reasons or risk factors, published as one text joined by "; ", as a list."""
    return [part.strip() for part in str(text or "").split(";") if part.strip()]


def planning_row(row: dict[str, Any]) -> dict[str, Any]:
    """One group's planning figures, every count disclosure-controlled and each rate
    computed from the counts shown (ADR 9)."""
    people = protect(int(row["people"]))
    complex_needs = protect(int(row["complex_needs"]))
    return {
        "neighbourhood": row["neighbourhood_name"] or "No neighbourhood recorded",
        "group": row["grp"] if row["grp"] is not None else "Not recorded",
        "people": people,
        "complex_needs": complex_needs,
        "complex_rate": rate(complex_needs, people),
        "high_risk": protect(int(row["high_risk"])),
        "cohorts": [protect(int(row[f"cohort_{c}"])) for c in COHORTS],
    }


def planning_chart(table: list[dict[str, Any]]) -> tuple[list[tuple[str, list[float]]], float]:
    """Per group, the share with complex needs and the share at high risk, from the counts
    shown (each a sum of disclosure-controlled cells, so nothing suppressed comes back)."""
    sums: dict[str, list[int]] = {}
    for r in table:
        got = sums.setdefault(r["group"], [0, 0, 0])
        for i, key in enumerate(("people", "complex_needs", "high_risk")):
            got[i] += r[key] or 0
    rows = [
        (group, [rate(c, p) or 0.0, rate(h, p) or 0.0])
        for group, (p, c, h) in sorted(sums.items())
        if p
    ]
    return rows, max((v for _, vs in rows for v in vs), default=0.0) or 1.0
