"""``neighbourhood report``: the population's figures by neighbourhood and by group.

A planning output, so (ADR 9): people who opted out (national data opt-out) are left
out; every count is disclosure-controlled (1 to 7 suppressed, others rounded to the
nearest 5; a total is the sum of the cells shown; a rate is computed from the cells
shown and suppressed with them); costs and the risk model's figures are shown only
for groups whose count is shown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from neighbourhood.phm.refresh import open_current
from neighbourhood.phm.versions import recorded_info, scalar
from neighbourhood.phm.vocabulary import COHORTS, SEGMENTS
from neighbourhood.standards.disclosure import ROUND_TO, SMALLEST_SHOWN, protect, rate

COST_ROUND_TO = 1000
# Each dimension: its column and the order its groups are shown in (None: as found).
DIMENSIONS: dict[str, tuple[str, str, tuple[Any, ...] | None]] = {
    "neighbourhood": ("Neighbourhood", "coalesce(neighbourhood_name, 'Not registered')", None),
    "imd_quintile": (
        "IMD quintile (1 most deprived)",
        "coalesce(CAST(imd_quintile AS VARCHAR), 'Unknown')",
        ("1", "2", "3", "4", "5", "Unknown"),
    ),
    "imd_decile": (
        "IMD decile (1 most deprived)",
        "coalesce(CAST(imd_decile AS VARCHAR), 'Unknown')",
        (*(str(d) for d in range(1, 11)), "Unknown"),
    ),
    "ethnic_group": ("Ethnic group", "ethnic_group", None),
    "age_band": (
        "Age band",
        "age_band",
        ("0-17", "18-44", "45-64", "65-74", "75-84", "85+"),
    ),
    "sex": ("Sex", "coalesce(sex, 'Not recorded')", None),
    "disability": (
        "Disability (reasonable adjustment flag)",
        "CASE WHEN reasonable_adjustment THEN 'Flag recorded' ELSE 'No flag' END",
        ("Flag recorded", "No flag"),
    ),
    "inclusion_health": (
        "Inclusion health group",
        "coalesce(inclusion_health, 'None recorded')",
        None,
    ),
}


COUNTED = (
    "people",
    "complex_needs",
    "frail",
    "high_risk",
    "rising_risk",
    *(f"cohort_{c}" for c in COHORTS),
)


def build(data_dir: Path) -> dict[str, Any]:
    """Every figure of the report, disclosure-controlled, as one JSON-ready object."""
    con = open_current(data_dir)
    try:
        info = recorded_info(con)
        excluded = scalar(con, "SELECT count(*) FROM person_measures WHERE opted_out")
        dimensions = {}
        for key, (label, expression, order) in DIMENSIONS.items():
            groups = _groups(con, expression, order)
            dimensions[key] = {
                "label": label,
                "groups": groups,
                "total": {name: totals(groups, name) for name in COUNTED},
            }
    finally:
        con.close()
    model = info.get("risk_model", {})
    return {
        "report": "population health, by neighbourhood and group",
        "refresh": info["version"],
        "as_of": info["as_of"],
        "opted_out_excluded": protect(excluded),
        "disclosure_control": (
            f"counts of 1 to {SMALLEST_SHOWN - 1} suppressed (null), others rounded to the "
            f"nearest {ROUND_TO}; totals are sums of the cells shown; rates use the cells "
            f"shown; costs rounded to the nearest £{COST_ROUND_TO:,} and shown only where "
            "the group's count is; people who opted out (national data opt-out) excluded"
        ),
        "risk_model": {
            k: model.get(k)
            for k in (
                "model",
                "auroc",
                "baseline",
                "baseline_auroc",
                "brier",
                "calibration",
                "cost_forecast",
            )
        },
        "dimensions": dimensions,
    }


def _groups(
    con: duckdb.DuckDBPyConnection, expression: str, order: tuple[Any, ...] | None
) -> list[dict[str, Any]]:
    cohorts = ", ".join(f"count(*) FILTER (WHERE cohort_{c}) AS cohort_{c}" for c in COHORTS)
    segments = ", ".join(
        f"count(*) FILTER (WHERE segment = '{s}') AS \"segment {s}\"" for s in SEGMENTS
    )
    rows = con.execute(f"""
        WITH planning AS (SELECT * FROM person_measures WHERE NOT opted_out),
        measured AS (
            SELECT {expression} AS grp, count(*) AS people,
                   count(*) FILTER (WHERE complex_needs) AS complex_needs,
                   count(*) FILTER (WHERE frailty IN ('moderate', 'severe')) AS frail,
                   count(*) FILTER (WHERE risk_band = 'high') AS high_risk,
                   count(*) FILTER (WHERE risk_band = 'rising') AS rising_risk,
                   {cohorts}, {segments},
                   sum(cost_12m) AS cost_12m, sum(hospital_cost_12m) AS hospital_cost_12m,
                   sum(forecast_cost_12m) AS forecast_cost_12m
            FROM planning GROUP BY ALL
        ),
        validated AS (
            SELECT {expression} AS grp, count(*) AS validated,
                   count(*) FILTER (WHERE v.admitted) AS admitted,
                   avg(v.predicted) AS mean_predicted,
                   avg(CASE WHEN v.admitted THEN 1.0 ELSE 0.0 END) AS observed
            FROM planning p JOIN risk_validation v USING (person_id) GROUP BY ALL
        )
        SELECT m.*, v.validated, v.admitted, v.mean_predicted, v.observed
        FROM measured m LEFT JOIN validated v USING (grp)
    """).fetch_arrow_table()
    aurocs = _aurocs(con, expression)
    found = {r["grp"]: r for r in rows.to_pylist()}
    names = [g for g in order if g in found] if order else sorted(found, key=str)
    names += sorted((g for g in found if g not in names), key=str)
    return [_shown(str(g), found[g], aurocs.get(g)) for g in names]


def _shown(group: str, row: dict[str, Any], auroc: float | None) -> dict[str, Any]:
    people = protect(int(row["people"]))
    out: dict[str, Any] = {"group": group, "people": people}
    for name in COUNTED[1:]:
        out[name] = protect(int(row[name]))
        out[f"{name}_pct"] = rate(out[name], people)
    out["segments"] = {s: protect(int(row[f"segment {s}"])) for s in SEGMENTS}
    shown = people is not None and people > 0
    for name in ("cost_12m", "hospital_cost_12m", "forecast_cost_12m"):
        value = row[name]
        out[name] = (
            int(COST_ROUND_TO * round(float(value) / COST_ROUND_TO))
            if shown and value is not None
            else None
        )
    admitted = protect(int(row["admitted"] or 0))
    not_admitted = protect(int((row["validated"] or 0) - (row["admitted"] or 0)))
    enough = bool(admitted) and bool(not_admitted)  # both shown and not zero
    out["model"] = {
        "auroc": auroc if enough else None,
        "mean_predicted_pct": round(100 * row["mean_predicted"], 1) if enough else None,
        "observed_pct": round(100 * row["observed"], 1) if enough else None,
    }
    return out


def _aurocs(con: duckdb.DuckDBPyConnection, expression: str) -> dict[Any, float | None]:
    """The risk model's AUROC within each group, on the validation window."""
    from sklearn.metrics import roc_auc_score

    table = con.execute(f"""
        SELECT {expression} AS grp, v.predicted, v.admitted
        FROM person_measures p JOIN risk_validation v USING (person_id)
        WHERE NOT p.opted_out
    """).fetch_arrow_table()
    by_group: dict[Any, tuple[list[float], list[bool]]] = {}
    for g, predicted, admitted in zip(
        table.column("grp").to_pylist(),
        table.column("predicted").to_pylist(),
        table.column("admitted").to_pylist(),
        strict=True,
    ):
        scores, labels = by_group.setdefault(g, ([], []))
        scores.append(predicted)
        labels.append(bool(admitted))
    return {
        g: round(float(roc_auc_score(labels, scores)), 3) if len(set(labels)) == 2 else None
        for g, (scores, labels) in by_group.items()
    }


def totals(groups: list[dict[str, Any]], name: str) -> int:
    """A total from the cells shown (suppressed cells count nothing), so no cell can be
    recovered by subtracting the others from it."""
    return sum(g[name] or 0 for g in groups)
