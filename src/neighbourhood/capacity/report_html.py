"""Capacity scenarios side by side, as one self-contained page (charts as inline SVG)."""

from __future__ import annotations

import html
from typing import Any

from neighbourhood.capacity.scenario import SERVICES
from neighbourhood.phm.report_html import NHS_BLUE, NHS_WARM_YELLOW, STYLE, _figure, finished

COLOURS = (NHS_BLUE, NHS_WARM_YELLOW, "#007f3b", "#d5281b", "#330072")
SERVICE_NAMES = {
    "district_nursing": "District nursing",
    "therapy": "Therapy",
    "gp": "General practice",
    "social_work": "Social work",
    "urgent_community_response": "Urgent community response",
    "mental_health": "Mental health",
    "social_prescribing": "Social prescribing",
}


def render(results: list[dict[str, Any]]) -> str:
    names = " against ".join(html.escape(r["scenario"]) for r in results)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en-GB"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Capacity: {names}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<header><h1>Demand and capacity: {names}</h1>",
        f"<p>Demand learned from the refresh as of {html.escape(results[0]['as_of'])}; "
        f"{results[0]['replications']} replications each; 95% confidence intervals.</p>"
        "</header><main>",
    ]
    for n in results[0]["neighbourhoods"]:
        parts.append(neighbourhood(n, [r["neighbourhoods"][n] for r in results], results))
    parts.append("</main></body></html>")
    return "\n".join(parts)


def _ci(x: dict[str, float], digits: int = 1) -> str:
    return f"{x['mean']:.{digits}f} ({x['low']:.{digits}f} to {x['high']:.{digits}f})"


def neighbourhood(code: str, figures: list[dict[str, Any]], results: list[dict[str, Any]]) -> str:
    """One neighbourhood's section: a table per measure with a column per scenario."""
    title = html.escape(f"{figures[0].get('name', code)} ({code})")
    heads = "".join(f"<th scope='col'>{html.escape(r['scenario'])}</th>" for r in results)
    if results[0]["mode"] == "demand":
        rows = "".join(
            f"<tr><td>{SERVICE_NAMES[s]}</td>"
            + "".join(f"<td>{_ci(f['fte_needed'][s])}</td>" for f in figures)
            + "</tr>"
            for s in SERVICES
        )
        return (
            f"<section><h2>{title}</h2><h3>Whole-time equivalents needed</h3>"
            f"<div class='table-wrap'><table><thead><tr><th scope='col'>Service</th>{heads}"
            f"</tr></thead><tbody>{rows}</tbody></table></div></section>"
        )
    waits = "".join(
        f"<tr><td>{SERVICE_NAMES[s]}</td>"
        + "".join(
            f"<td>{_ci(f['services'][s]['median_wait_days'], 2)} / "
            f"{_ci(f['services'][s]['p95_wait_days'], 2)}</td>"
            for f in figures
        )
        + "</tr>"
        for s in SERVICES
    )
    unmet = "".join(
        f"<tr><td>{SERVICE_NAMES[s]}</td>"
        + "".join(f"<td>{_ci(f['services'][s]['unmet'], 0)}</td>" for f in figures)
        + "</tr>"
        for s in SERVICES
    )
    quintiles = "".join(
        f"<tr><td>{q} ({'most' if q == 1 else 'least' if q == 5 else ''} deprived)</td>".replace(
            " ( deprived)", ""
        )
        + "".join(
            f"<td>{_ci(f['quintiles'][str(q)]['median_wait_days'], 2)} / "
            f"{_ci(f['quintiles'][str(q)]['p95_wait_days'], 2)}; "
            f"{100 * f['quintiles'][str(q)]['unmet_share']['mean']:.1f}% unmet</td>"
            for f in figures
        )
        + "</tr>"
        for q in (1, 2, 3, 4, 5)
    )
    warnings = "".join(
        f"<p class='note'><strong>{html.escape(r['scenario'])}:</strong> no one the skill mix "
        f"allows for {html.escape(', '.join(SERVICE_NAMES.get(s, s) for s in f['unstaffed']))}"
        "; every such referral waits.</p>"
        for f, r in zip(figures, results, strict=True)
        if f.get("unstaffed")
    )
    return (
        f"<section><h2>{title}</h2>"
        + warnings
        + _utilisation_chart(figures, results)
        + _backlog_chart(figures, results)
        + "<h3>Waits: median / 95th percentile (working days)</h3>"
        f"<div class='table-wrap'><table><thead><tr><th scope='col'>Service</th>{heads}</tr>"
        f"</thead><tbody>{waits}</tbody></table></div>"
        "<h3>Unmet demand (contacts not started within the service's wait limit)</h3>"
        f"<div class='table-wrap'><table><thead><tr><th scope='col'>Service</th>{heads}</tr>"
        f"</thead><tbody>{unmet}</tbody></table></div>"
        "<h3>By deprivation quintile: median / 95th percentile wait (working days) and unmet "
        "share</h3>"
        f"<div class='table-wrap'><table><thead><tr><th scope='col'>Quintile</th>{heads}</tr>"
        f"</thead><tbody>{quintiles}</tbody></table></div></section>"
    )


def _utilisation_chart(figures: list[dict[str, Any]], results: list[dict[str, Any]]) -> str:
    roles = sorted(
        {(u["role"], u["employer"]) for f in figures for u in f["utilisation"] if u["servers"]}
    )
    if not roles:
        return "<p class='note'>No staff in this neighbourhood's map.</p>"
    fig, ax = _figure(0.35 * len(roles) * max(1, len(figures)) / 1.5 + 1.2)
    width = 0.8 / len(figures)
    for i, (f, r) in enumerate(zip(figures, results, strict=True)):
        by = {(u["role"], u["employer"]): u for u in f["utilisation"]}
        means = [100 * by[k]["mean"] if k in by else 0 for k in roles]
        errors = [100 * (by[k]["high"] - by[k]["mean"]) if k in by else 0 for k in roles]
        ax.barh(
            [p + i * width for p in range(len(roles))],
            means,
            width,
            xerr=errors,
            color=COLOURS[i % len(COLOURS)],
            label=r["scenario"],
        )
    ax.set_yticks([p + width * (len(figures) - 1) / 2 for p in range(len(roles))])
    ax.set_yticklabels([f"{role.replace('_', ' ')} ({employer})" for role, employer in roles])
    ax.invert_yaxis()
    ax.set_xlabel("Utilisation of clinically available time (%)")
    chart = finished(fig, ax, "Utilisation by role and organisation", "lower right")
    return f"<div class='chart'>{chart}</div>"


def _backlog_chart(figures: list[dict[str, Any]], results: list[dict[str, Any]]) -> str:
    fig, ax = _figure(3)
    for i, (f, r) in enumerate(zip(figures, results, strict=True)):
        series = f["backlog_weekly"]
        weeks = range(1, len(series) + 1)
        colour = COLOURS[i % len(COLOURS)]
        ax.plot(weeks, [s["mean"] for s in series], color=colour, label=r["scenario"])
        ax.fill_between(
            weeks, [s["low"] for s in series], [s["high"] for s in series], color=colour, alpha=0.2
        )
    ax.set_xlabel("Week after the warm-up")
    ax.set_ylabel("Contacts waiting")
    chart = finished(fig, ax, "Backlog over time (95% confidence band)")
    return f"<div class='chart'>{chart}</div>"
