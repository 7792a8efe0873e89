"""The report as one self-contained HTML page: charts (SVG, drawn by matplotlib) above
tables of the same figures, so the page works offline, prints, and reads aloud."""

from __future__ import annotations

import html
import io
from typing import Any

from neighbourhood.phm.vocabulary import COHORTS

NHS_BLUE = "#005eb8"
NHS_DARK_BLUE = "#003087"
NHS_WARM_YELLOW = "#ffb81c"
STYLE = """
body { font-family: Arial, Helvetica, sans-serif; color: #212b32; margin: 0; background: #f0f4f5; }
header { background: #005eb8; color: #fff; padding: 16px 32px; }
header h1 { margin: 0; font-size: 28px; }
main { max-width: 1100px; margin: 0 auto; padding: 16px 32px 48px; }
section { background: #fff; padding: 16px 24px; margin: 24px 0; border-top: 4px solid #005eb8; }
h2 { font-size: 22px; margin-top: 0; }
table { border-collapse: collapse; width: 100%; font-size: 14px; margin-top: 12px; }
th, td { text-align: right; padding: 6px 8px; border-bottom: 1px solid #d8dde0; }
th:first-child, td:first-child { text-align: left; }
thead th { border-bottom: 2px solid #212b32; }
tfoot td { font-weight: bold; border-top: 2px solid #212b32; }
.note { color: #4c6272; font-size: 14px; }
.chart svg { max-width: 100%; height: auto; }
.table-wrap { overflow-x: auto; }
"""


def render(report: dict[str, Any]) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en-GB"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Population health report</title>",
        f"<style>{STYLE}</style></head><body>",
        "<header><h1>Population health report</h1>",
        f"<p>Refresh {report['refresh']}, as of {html.escape(report['as_of'])}</p></header>",
        "<main>",
        _summary(report),
        _model(report["risk_model"]),
    ]
    for key, dimension in report["dimensions"].items():
        parts.append(_dimension(key, dimension))
    parts.append("</main></body></html>")
    return "\n".join(parts)


def _summary(report: dict[str, Any]) -> str:
    neighbourhoods = report["dimensions"]["neighbourhood"]
    total = neighbourhoods["total"]
    excluded = report["opted_out_excluded"]
    return (
        "<section><h2>About these figures</h2>"
        f"<p>{_n(total['people'])} people, of whom {_n(total['complex_needs'])} have complex "
        "needs (in one or more of the five cohorts of the neighbourhood health guidelines).</p>"
        f"<p class='note'>Disclosure control: {html.escape(report['disclosure_control'])}. "
        f"People excluded for the national data opt-out: {_n(excluded)}. "
        "A dash (–) marks a suppressed figure.</p></section>"
    )


def _model(model: dict[str, Any]) -> str:
    calibration = model.get("calibration") or []
    chart = _calibration_chart(calibration) if calibration else ""
    forecast = _forecast(model.get("cost_forecast") or {})
    return (
        "<section><h2>Risk of emergency admission: how well the model works</h2>"
        f"<p>{html.escape(str(model.get('model') or ''))}: AUROC "
        f"{_f(model.get('auroc'))} against {_f(model.get('baseline_auroc'))} for the baseline "
        f"({html.escape(str(model.get('baseline') or ''))}); Brier score {_f(model.get('brier'))}."
        f"</p>{forecast}"
        f"<div class='chart'>{chart}</div></section>"
    )


def _forecast(forecast: dict[str, Any]) -> str:
    if not forecast:
        return ""
    return (
        f"<p>Cost in the next 12 months: {html.escape(str(forecast['model']))}, mean absolute "
        f"error £{forecast['mae_gbp']:,.0f} a person against £{forecast['baseline_mae_gbp']:,.0f} "
        f"for the baseline ({html.escape(str(forecast['baseline']))}); in the validation year it "
        f"forecast £{forecast['total_predicted_gbp']:,} against £{forecast['total_actual_gbp']:,} "
        "spent.</p>"
    )


def _dimension(key: str, dimension: dict[str, Any]) -> str:
    groups = dimension["groups"]
    label = html.escape(dimension["label"])
    head = ["Group", "People", "Complex needs", "%", "Moderate or severe frailty", "%"]
    head += ["High risk", "Rising risk", *(SHORT_COHORTS[c] for c in COHORTS)]
    head += ["Cost, last 12 months (£)", "Forecast, next 12 months (£)"]
    head += ["Model AUROC", "Predicted %", "Observed %"]
    rows = []
    for g in groups:
        cells = [html.escape(g["group"]), _n(g["people"]), _n(g["complex_needs"])]
        cells += [_f(g["complex_needs_pct"]), _n(g["frail"]), _f(g["frail_pct"])]
        cells += [_n(g["high_risk"]), _n(g["rising_risk"])]
        cells += [_n(g[f"cohort_{c}"]) for c in COHORTS]
        cells += [_n(g["cost_12m"]), _n(g["forecast_cost_12m"]), _f(g["model"]["auroc"])]
        cells += [_f(g["model"]["mean_predicted_pct"]), _f(g["model"]["observed_pct"])]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    total = dimension["total"]
    foot = ["Total (of the cells shown)", _n(total["people"]), _n(total["complex_needs"]), ""]
    foot += [_n(total["frail"]), "", _n(total["high_risk"]), _n(total["rising_risk"])]
    foot += [_n(total[f"cohort_{c}"]) for c in COHORTS]
    foot += ["", "", "", "", ""]
    return (
        f"<section id='{key}'><h2>By {lower_first(label)}</h2>"
        f"<div class='chart'>{_bars(dimension)}</div>"
        f"<div class='table-wrap'><table><caption class='note'>{label}</caption><thead><tr>"
        + "".join(f"<th scope='col'>{html.escape(h)}</th>" for h in head)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody><tfoot><tr>"
        + "".join(f"<td>{c}</td>" for c in foot)
        + "</tr></tfoot></table></div></section>"
    )


SHORT_COHORTS = {
    "frailty": "Frailty cohort",
    "palliative": "Palliative",
    "complex_ltc": "Complex LTCs",
    "children": "Children, complex",
    "high_ed_use": "High A&E use",
}


def lower_first(label: str) -> str:
    """'Age band' reads 'age band' after 'By'; 'IMD decile' keeps its capitals."""
    first = label.split(" ", 1)[0]
    return label if first.isupper() else label[0].lower() + label[1:]


def _n(value: Any) -> str:
    return "–" if value is None else f"{value:,}"


def _f(value: Any) -> str:
    return "–" if value is None else f"{value:g}"


def _figure(height: float) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 10, "svg.fonttype": "none"})
    return plt.subplots(figsize=(9, height))


def _svg(fig: Any, title: str) -> str:
    import matplotlib.pyplot as plt

    out = io.StringIO()
    fig.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = out.getvalue()
    start = text.index("<svg")
    svg = text[start:]
    return svg.replace("<svg", f'<svg role="img" aria-label="{html.escape(title)}"', 1)


def finished(fig: Any, ax: Any, title: str, legend: str = "best") -> str:
    """A chart in our house style (no top or right frame, a plain legend, the title on the
    left), as inline SVG."""
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, loc=legend)
    ax.set_title(title, loc="left")
    return _svg(fig, title)


def _bars(dimension: dict[str, Any]) -> str:
    """Complex needs and high risk, as a share of each group, side by side."""
    groups = [g for g in dimension["groups"] if g["people"]]
    if not groups:
        return "<p class='note'>No group is large enough to show.</p>"
    names = [g["group"] for g in groups]
    complex_pct = [g["complex_needs_pct"] or 0 for g in groups]
    high_pct = [g["high_risk_pct"] or 0 for g in groups]
    fig, ax = _figure(0.45 * len(names) + 1.2)
    positions = range(len(names))
    ax.barh([p - 0.2 for p in positions], complex_pct, 0.4, color=NHS_BLUE, label="Complex needs")
    ax.barh([p + 0.2 for p in positions], high_pct, 0.4, color=NHS_WARM_YELLOW, label="High risk")
    ax.set_yticks(list(positions), names)
    ax.invert_yaxis()
    ax.set_xlabel("% of the group")
    title = f"Complex needs and high risk by {lower_first(dimension['label'])}"
    return finished(fig, ax, title, "lower right")


def _calibration_chart(calibration: list[dict[str, float]]) -> str:
    fig, ax = _figure(3.6)
    predicted = [100 * c["predicted"] for c in calibration]
    observed = [100 * c["observed"] for c in calibration]
    top = max([*predicted, *observed, 1.0]) * 1.05
    ax.plot([0, top], [0, top], color="#aeb7bd", linestyle="--", label="Perfect calibration")
    ax.plot(predicted, observed, marker="o", color=NHS_DARK_BLUE, label="Deciles of risk")
    ax.set_xlabel("Predicted admissions, % of the decile")
    ax.set_ylabel("Observed, %")
    return finished(
        fig, ax, "Calibration: predicted against observed emergency admission, by decile"
    )
