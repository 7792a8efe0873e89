"""The workforce map per neighbourhood, and capacity scenarios compared side by side.

Both read planning data only: the published workforce map (posts, no staff references)
and the results ``neighbourhood capacity run`` saved (simulated aggregates).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from neighbourhood.capacity import results as saved
from neighbourhood.capacity.report_html import SERVICE_NAMES
from neighbourhood.capacity.workforce import ROLES, SKILLS
from neighbourhood.care import published
from neighbourhood.care.access import requires, staff_of
from neighbourhood.care.audit.chain import record_by
from neighbourhood.care.people.presenters import publication
from neighbourhood.care.roles import Permission

GROUPS = {"role": "Role", "sector": "Sector", "employer": "Employer", "skill": "Skill"}
SECTORS = {
    "community": "Community health",
    "mental_health": "Mental health",
    "acute": "Acute hospital",
    "general_practice": "General practice",
    "social_care": "Adult social care",
    "vcfse": "Voluntary, community, faith and social enterprise",
}
COMPARED_AT_MOST = 4


class MapQuery(forms.Form):
    by = forms.ChoiceField(choices=list(GROUPS.items()), required=False)
    team = forms.CharField(required=False, max_length=20)


def _label(group: str, value: Any, names: dict[str, str]) -> str:
    text = str(value) if value is not None else "Not recorded"
    if group == "role":
        return ROLES.get(text, text)
    if group == "sector":
        return SECTORS.get(text, text)
    if group == "skill":
        return "No listed skill" if text == "none" else SKILLS.get(text, text)
    return names.get(text, text)


@requires(Permission.VIEW_PLANNING)
def workforce_map(request: HttpRequest) -> HttpResponse:
    """Posts, whole-time equivalents and what of them each partner gives the INT, by role,
    sector, employer or skill, for one neighbourhood or all."""
    query = MapQuery(request.GET)
    query.is_valid()
    by = query.cleaned_data.get("by") or "role"
    teams = published.workforce_teams()
    codes = {t["code"] for t in teams}
    team = query.cleaned_data.get("team") or ""
    team = team if team in codes else ""
    names = {o["ods_code"]: o["name"] for o in published.organisations()}
    rows = published.workforce_map(by, team or None)
    for row in rows:
        row["label"] = _label(by, row["grp"], names)
    chart = [(r["label"], [r["int_fte"] or 0, r["vacant_fte"] or 0]) for r in rows]
    top = max((v for _, values in chart for v in values), default=0) or 1
    totals = {
        key: round(sum(r[key] or 0 for r in rows), 1)
        for key in ("posts", "vacancies", "fte", "int_fte", "vacant_fte")
    }
    record_by(staff_of(request), "view_workforce_map", reason="planning", detail={"by": by})
    return render(
        request,
        "capacity/workforce.html",
        {
            "rows": rows,
            "by": by,
            "groups": GROUPS,
            "teams": teams,
            "team": team,
            "team_name": names.get(team, team),
            "top": top,
            "chart": chart,
            "totals": totals if by != "skill" else None,
            "info": publication(published.current_info()),
        },
    )


@requires(Permission.VIEW_PLANNING)
def scenarios(request: HttpRequest) -> HttpResponse:
    """Every saved run; those ticked (up to four), side by side for one neighbourhood."""
    runs = saved.listed(settings.DATA_DIR)
    chosen_ids = [i for i in request.GET.getlist("run") if i in {r["id"] for r in runs}]
    error = ""
    if len(chosen_ids) > COMPARED_AT_MOST:
        error = f"Choose at most {COMPARED_AT_MOST} runs to compare."
        chosen_ids = []
    chosen = []
    for run_id in chosen_ids:
        try:
            chosen.append(saved.load(settings.DATA_DIR, run_id))
        except (OSError, ValueError):
            error = "A run chosen is no longer there: choose again."
    modes = {c.get("mode") for c in chosen}
    if len(modes) > 1:
        error = "Compare simulations with simulations, and demand with demand."
        chosen = []
    common = (
        sorted(set.intersection(*(set(c.get("neighbourhoods") or {}) for c in chosen)))
        if chosen
        else []
    )
    neighbourhood = request.GET.get("neighbourhood", "")
    if neighbourhood not in common:
        neighbourhood = common[0] if common else ""
    compared = None
    if neighbourhood:
        try:
            compared = _compared(chosen, neighbourhood)
        except (KeyError, TypeError, IndexError):
            error = "A run chosen was kept by an earlier version: run its scenario again."
    record_by(
        staff_of(request),
        "view_capacity_scenarios",
        reason="planning",
        detail={"runs": chosen_ids, "neighbourhood": neighbourhood},
    )
    return render(
        request,
        "capacity/scenarios.html",
        {
            "runs": runs,
            "chosen_ids": chosen_ids,
            "chosen": chosen,
            "common": [(n, chosen[0]["neighbourhoods"][n].get("name", n)) for n in common],
            "neighbourhood": neighbourhood,
            "compared": compared,
            "error": error,
            "services": SERVICE_NAMES,
        },
    )


def _compared(chosen: list[dict[str, Any]], neighbourhood: str) -> dict[str, Any]:
    """What the page draws: per scenario its figures for the neighbourhood, and the rows
    of each chart with a common scale."""
    figures = [c["neighbourhoods"][neighbourhood] for c in chosen]
    out: dict[str, Any] = {"names": [c["scenario"] for c in chosen], "mode": chosen[0]["mode"]}
    if out["mode"] == "demand":
        out["fte"] = [
            (SERVICE_NAMES[s], [f["fte_needed"][s] for f in figures]) for s in SERVICE_NAMES
        ]
        out["fte_chart"] = [(label, [x["mean"] for x in xs]) for label, xs in out["fte"]]
        out["fte_top"] = max((x["mean"] for _, xs in out["fte"] for x in xs), default=1) or 1
        return out
    out["unstaffed"] = [
        (name, [SERVICE_NAMES.get(s, s) for s in f.get("unstaffed", [])])
        for name, f in zip(out["names"], figures, strict=True)
    ]
    roles = sorted(
        {(u["role"], u["employer"]) for f in figures for u in f["utilisation"] if u["servers"]}
    )
    out["utilisation"] = [
        (
            f"{ROLES.get(role, role)} ({employer})",
            [
                next(
                    (u for u in f["utilisation"] if (u["role"], u["employer"]) == (role, employer)),
                    None,
                )
                for f in figures
            ],
        )
        for role, employer in roles
    ]
    # The chart shows the roles with work to do; the table below has every pool.
    out["utilisation_chart"] = [
        (label, [100 * u["mean"] if u else None for u in us])
        for label, us in out["utilisation"]
        if any(u and u["mean"] >= 0.005 for u in us)
    ]
    out["waits"] = [(SERVICE_NAMES[s], [f["services"][s] for f in figures]) for s in SERVICE_NAMES]
    out["quintiles"] = [
        (q, [f["quintiles"][q] for f in figures]) for q in ("1", "2", "3", "4", "5")
    ]
    out["quintile_chart"] = [
        (f"Quintile {q}", [100 * x["unmet_share"]["mean"] for x in xs])
        for q, xs in out["quintiles"]
    ]
    out["quintile_top"] = max((v for _, vs in out["quintile_chart"] for v in vs), default=0) or 1
    weeks = min(len(f["backlog_weekly"]) for f in figures)
    out["backlog"] = [[f["backlog_weekly"][w]["mean"] for w in range(weeks)] for f in figures]
    out["backlog_top"] = max((v for series in out["backlog"] for v in series), default=1) or 1
    out["weeks"] = weeks
    return out
