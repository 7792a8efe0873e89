"""An evaluation as one self-contained HTML page: for each outcome, the designs side by
side, the effect by group as a forest plot, the event study and the outcome's trend;
the balance of the matched comparison once. Charts are inline SVG (matplotlib) with
the same figures in tables beneath, so the page works offline, prints and reads aloud.
"""

from __future__ import annotations

import html
from typing import Any

from neighbourhood.evaluate.run import DESIGN_LABELS
from neighbourhood.phm.report_html import NHS_BLUE, NHS_WARM_YELLOW, STYLE, _figure, finished

GREY = "#768692"
EXTRA_STYLE = """
.biased { color: #d5281b; }
.scroll { max-height: 28em; overflow: auto; }
"""


def render(result: dict[str, Any]) -> str:
    p = result["protocol"]
    title = f"Evaluation: {html.escape(p['name'])}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en-GB"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title>",
        f"<style>{STYLE}{EXTRA_STYLE}</style></head><body>",
        f"<header><h1>{title}</h1><p>Protocol digest {html.escape(p['digest'])}</p></header><main>",
        summary(result),
        balance(result),
    ]
    for outcome in result["outcomes"]:
        parts.append(outcome_section(outcome))
    parts.append("</main></body></html>")
    return "\n".join(parts)


def summary(result: dict[str, Any]) -> str:
    data, m, p = result["data"], result["matching"], result["protocol"]
    amendments = "".join(
        f"<li>{html.escape(a['date'])}: {html.escape(a['reason'])}"
        + (f" ({html.escape(a['change'])})" if a.get("change") else "")
        + "</li>"
        for a in p["amendments"]
    )
    rows = [
        ("Data", html.escape(data["source"])),
        ("Period", f"{data['first_day']} to {data['last_day']}"),
        ("Neighbourhoods live", f"{data['live']} of {data['neighbourhoods']}"),
        ("Enrolled people matched", _n(m["treated"])),
        ("Comparators (not yet live)", _n(m["comparators"])),
        (
            "Enrolled but not meeting the rule on their index date",
            _n(m["enrolled_not_meeting_rule"]),
        ),
        ("Enrolled without a comparator in the caliper", _n(m["unmatched"])),
    ]
    body = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in rows)
    head = "<tr><th scope='col'>Rate ratios: enrolled against matched comparators</th><th scope='col'></th></tr>"
    return (
        "<section><h2>Summary</h2>"
        "<p class='note'>Each effect is a rate ratio with its 95% confidence interval: "
        "below 1, fewer events with the model of care. The before-and-after figure "
        "<strong class='biased'>is biased</strong>: people were case-found for high use, "
        "which falls on its own (regression to the mean). Counts are rounded to 5 and "
        "counts of 1 to 7 suppressed.</p>"
        f"<table><thead>{head}</thead><tbody>{body}</tbody></table>"
        + (f"<h3>Amendments to the protocol</h3><ul>{amendments}</ul>" if amendments else "")
        + "</section>"
    )


def balance(result: dict[str, Any]) -> str:
    rows = result["matching"]["balance"]
    if not rows:
        return "<section><h2>Balance</h2><p>No one could be matched.</p></section>"
    fig, ax = _figure(0.28 * len(rows) + 1.2)
    y = range(len(rows))
    ax.scatter([r["before"] or 0 for r in rows], y, color=GREY, label="Before matching")
    ax.scatter([r["after"] for r in rows], y, color=NHS_BLUE, label="After matching")
    for edge in (-0.1, 0.1):
        ax.axvline(edge, color=NHS_WARM_YELLOW, linestyle="--")
    ax.set_yticks(list(y))
    ax.set_yticklabels([r["covariate"] for r in rows])
    ax.invert_yaxis()
    ax.set_xlabel("Standardised mean difference (enrolled minus comparators)")
    chart = finished(fig, ax, "Balance of the matched comparison", "lower right")
    body = "".join(
        f"<tr><td>{html.escape(r['covariate'])}</td><td>{_f(r['before'])}</td><td>{_f(r['after'])}</td></tr>"
        for r in rows
    )
    verdict = (
        "All standardised differences are under 0.1 after matching."
        if result["matching"]["balanced"]
        else "<strong>Some standardised differences are 0.1 or more after matching</strong>: "
        "read the matched estimates with care."
    )
    return (
        f"<section><h2>Balance</h2><p>{verdict}</p><div class='chart'>{chart}</div>"
        "<div class='table-wrap scroll'><table><thead><tr><th scope='col'>Covariate</th>"
        "<th scope='col'>Before</th><th scope='col'>After</th></tr></thead>"
        f"<tbody>{body}</tbody></table></div></section>"
    )


def outcome_section(outcome: dict[str, Any]) -> str:
    label = html.escape(outcome["label"])
    if not outcome["available"]:
        return f"<section><h2>{label}</h2><p>Not available: {html.escape(outcome['reason'])}.</p></section>"
    truth = outcome.get("truth") or {}
    head = (
        "<th scope='col'>Design</th><th scope='col'>Rate ratio (95% CI)</th><th scope='col'>p</th>"
    )
    if truth:
        head += "<th scope='col'>Planted (synthetic truth)</th>"
    rows = []
    for key, design in outcome["designs"].items():
        css = " class='biased'" if key == "naive" else ""
        cells = (
            f"<td{css}>{DESIGN_LABELS[key]}</td><td>{ci(design)}</td><td>{_p(design.get('p'))}</td>"
        )
        if truth:
            cells += f"<td>{_f(truth.get(key))}</td>"
        rows.append(f"<tr>{cells}</tr>")
    parts = [
        f"<section><h2>{label}</h2>",
        f"<div class='table-wrap'><table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>",
    ]
    did = outcome["designs"].get("staggered_did", {})
    if did.get("event_study"):
        parts.append(event_study(did, outcome["label"]))
    if outcome.get("trend"):
        parts.append(trend(outcome["trend"], outcome["label"]))
    parts.append(forest(outcome))
    parts.append("</section>")
    return "\n".join(parts)


def ci(e: dict[str, Any]) -> str:
    if e.get("ratio") is None:
        return html.escape(e.get("note", "no estimate"))
    return f"{e['ratio']:.3f} ({e['low']:.3f} to {e['high']:.3f})"


def event_study(did: dict[str, Any], label: str) -> str:
    points = [e for e in did["event_study"] if -24 <= e["month"] <= 24]
    fig, ax = _figure(3)
    months = [e["month"] for e in points]
    ax.errorbar(
        months,
        [e["att"] for e in points],
        yerr=[1.96 * e["se"] for e in points],
        fmt="o",
        color=NHS_BLUE,
        ecolor=GREY,
        label="Effect (95% CI)",
    )
    ax.axhline(0, color="#212b32", linewidth=0.8)
    ax.axvline(-0.5, color=NHS_WARM_YELLOW, linestyle="--")
    ax.set_xlabel("Months from go-live")
    ax.set_ylabel("Difference per 1,000 residents a month")
    chart = finished(fig, ax, f"Event study: {label}")
    pre = did.get("pre_trend_p")
    note = (
        f"Joint test of the {did.get('pre_trend_months', 0)} months before the month before "
        f"go-live (no pre-trend): p {_p_is(pre)}."
        if pre is not None
        else "Too few months before go-live to test for a pre-trend."
    )
    return f"<h3>Event study</h3><p class='note'>{note}</p><div class='chart'>{chart}</div>"


def trend(t: dict[str, Any], label: str) -> str:
    fig, ax = _figure(3)
    x = range(len(t["months"]))
    ax.plot(
        x, [v if v is not None else float("nan") for v in t["live"]], color=NHS_BLUE, label="Live"
    )
    ax.plot(
        x,
        [v if v is not None else float("nan") for v in t["not_yet_live"]],
        color=GREY,
        label="Not yet live",
    )
    step = max(1, len(t["months"]) // 8)
    ax.set_xticks(list(x)[::step])
    ax.set_xticklabels([m[:7] for m in t["months"]][::step])
    ax.set_ylabel("Per 1,000 residents a month")
    chart = finished(fig, ax, f"{label}: neighbourhoods live and not yet live")
    return f"<h3>Trend</h3><div class='chart'>{chart}</div>"


def forest(outcome: dict[str, Any]) -> str:
    """The matched estimate by group, one row per subgroup level, with each subgroup's
    test of difference."""
    rows: list[tuple[str, dict[str, Any]]] = []
    tests = []
    for group in outcome["groups"].values():
        for level in group["levels"]:
            if "matched" in level:
                rows.append((f"{group['label']}: {level['level']}", level["matched"]))
        tests.append((group["label"], group["p_difference"]))
    if not rows:
        return ""
    shown = [(name, e) for name, e in rows if e.get("ratio") is not None]
    parts = ["<h3>For whom: the matched estimate by group</h3>"]
    if shown:
        fig, ax = _figure(0.25 * len(shown) + 1.2)
        y = list(range(len(shown)))
        ratio = [e["ratio"] for _, e in shown]
        ax.errorbar(
            ratio,
            y,
            xerr=[
                [r - e["low"] for r, (_, e) in zip(ratio, shown, strict=True)],
                [e["high"] - r for r, (_, e) in zip(ratio, shown, strict=True)],
            ],
            fmt="s",
            color=NHS_BLUE,
            ecolor=GREY,
            label="Rate ratio (95% CI)",
        )
        ax.axvline(1, color="#212b32", linewidth=0.8)
        ax.set_xscale("log")
        ticks = [
            t
            for t in (0.25, 0.5, 1, 2, 4)
            if min(e["low"] for _, e in shown) / 2 <= t <= 2 * max(e["high"] for _, e in shown)
        ]
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.minorticks_off()
        ax.set_yticks(y)
        ax.set_yticklabels([name for name, _ in shown])
        ax.invert_yaxis()
        chart = finished(fig, ax, f"{outcome['label']} by group", "lower right")
        parts.append(f"<div class='chart'>{chart}</div>")
    body = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{ci(e)}</td><td>{_n(e.get('treated'))}</td></tr>"
        for name, e in rows
    )
    test_rows = "".join(
        f"<tr><td>{html.escape(label)}</td>"
        + "".join(f"<td>{_p(p.get(k))}</td>" for k in ("matched", "staggered_did", "its"))
        + "</tr>"
        for label, p in tests
    )
    parts.append(
        "<div class='table-wrap scroll'><table><thead><tr><th scope='col'>Group</th>"
        "<th scope='col'>Rate ratio (95% CI)</th><th scope='col'>Enrolled</th></tr></thead>"
        f"<tbody>{body}</tbody></table></div>"
        "<h4>Does the effect differ between groups? (p-values)</h4>"
        "<div class='table-wrap'><table><thead><tr><th scope='col'>Subgroup</th>"
        "<th scope='col'>Matched (interaction)</th><th scope='col'>DiD (Cochran's Q)</th>"
        "<th scope='col'>ITS (Cochran's Q)</th></tr></thead>"
        f"<tbody>{test_rows}</tbody></table></div>"
    )
    return "\n".join(parts)


def _n(x: Any) -> str:
    return "fewer than 8" if x is None else f"{x:,}"


def _f(x: Any) -> str:
    return "–" if x is None else f"{x:.3f}"


def _p_is(x: Any) -> str:
    return "< 0.001" if x < 0.001 else f"= {x:.3f}"


def _p(x: Any) -> str:
    if x is None:
        return "–"
    return "<0.001" if x < 0.001 else f"{x:.3f}"
