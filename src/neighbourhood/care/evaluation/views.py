"""Evaluations of the model of care: the runs ``neighbourhood evaluate`` kept, one read.

Planning output only: the kept results are aggregates under disclosure control (no one
is named, no pseudonym is kept), so the page needs the planning permission and records
each view in the audit trail.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from neighbourhood.care.access import requires, staff_of
from neighbourhood.care.audit.chain import record_by
from neighbourhood.care.roles import Permission
from neighbourhood.evaluate import results as kept
from neighbourhood.evaluate.run import DESIGN_LABELS

EVENT_MONTHS = (-12, 24)


@requires(Permission.VIEW_PLANNING)
def evaluations(request: HttpRequest) -> HttpResponse:
    """Every kept evaluation, newest first; the one chosen (else the newest) read out."""
    runs = kept.listed(settings.DATA_DIR)
    ids = [r["id"] for r in runs]
    chosen_id = request.GET.get("run", "")
    error = ""
    if chosen_id and chosen_id not in ids:
        error = "That evaluation is no longer kept: choose another."
        chosen_id = ""
    chosen_id = chosen_id or (ids[0] if ids else "")
    shown = None
    if chosen_id:
        try:
            shown = _shown(kept.load(settings.DATA_DIR, chosen_id))
        except (OSError, ValueError, KeyError, TypeError):
            error = "That evaluation was kept by an earlier version: run its protocol again."
    record_by(staff_of(request), "view_evaluation", reason="planning", detail={"run": chosen_id})
    return render(
        request,
        "evaluation/evaluations.html",
        {"runs": runs, "chosen_id": chosen_id, "shown": shown, "error": error},
    )


def _shown(result: dict[str, Any]) -> dict[str, Any]:
    """What the page draws, worked out here so the template only lays it out."""
    outcomes = []
    for o in result["outcomes"]:
        if not o["available"]:
            outcomes.append({"label": o["label"], "reason": o["reason"]})
            continue
        designs = [(DESIGN_LABELS[k], k, v) for k, v in o["designs"].items()]
        did = o["designs"].get("staggered_did") or {}
        points = [
            p
            for p in did.get("event_study", [])
            if EVENT_MONTHS[0] <= p["month"] <= EVENT_MONTHS[1]
        ]
        top = max((abs(p["att"]) + 1.96 * p["se"] for p in points), default=1.0) or 1.0
        forest, table, tests = [], [], []
        for group in o["groups"].values():
            for level in group["levels"]:
                m = level.get("matched") or {}
                name = f"{group['label']}: {level['level']}"
                table.append((name, m))
                if m.get("ratio") is not None:
                    forest.append((name, m["ratio"], m["low"], m["high"]))
            tests.append((group["label"], group["p_difference"]))
        trend = o.get("trend") or {}
        series = [trend.get("live", []), trend.get("not_yet_live", [])]
        outcomes.append(
            {
                "key": o["key"],
                "label": o["label"],
                "designs": designs,
                "truth": o.get("truth"),
                "event_study": points,
                "event_top": top,
                "pre_trend_p": did.get("pre_trend_p"),
                "pre_trend_months": did.get("pre_trend_months", 0),
                "forest": forest,
                "groups": table,
                "tests": tests,
                "trend": series if trend else None,
                "trend_top": max((v for s in series for v in s if v is not None), default=0) or 1,
                "trend_months": trend.get("months") or [""],
            }
        )
    return {
        "protocol": result["protocol"],
        "data": result["data"],
        "matching": result["matching"],
        "run_at": result.get("run_at", ""),
        "outcomes": outcomes,
    }
