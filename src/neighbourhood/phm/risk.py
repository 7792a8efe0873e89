"""Twelve-month risk of emergency admission: LightGBM trained on an earlier window,
validated on a later one, with each person's top contributing factors in words.

Windows, for measures as of date D: the model learns from features as of D - 2 years
and admissions in the year after; it is validated on features as of D - 1 year and
admissions in the year to D (AUROC, Brier score, calibration by decile, and the
same by group); the validated model then scores everyone as of D.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from neighbourhood.phm.engines import Source, to_arrow
from neighbourhood.phm.measures import features, person_events

NUMERIC = (
    "age",
    "ltc_count",
    "charlson",
    "deficits",
    "ed_attendances_12m",
    "emergency_admissions_12m",
    "cost_12m",
)
BANDS = ((0.95, "high"), (0.80, "rising"))  # by centile of risk in the population
TOP_FACTORS = 3


@dataclass
class RiskResult:
    scores: pa.Table  # person_id, risk, risk_band, risk_factors
    metrics: dict[str, Any]
    validation: pa.Table  # person_id, predicted, admitted: the later window, for groups
    timings: dict[str, float]


def feature_names(table: pa.Table) -> list[str]:
    flags = sorted(c for c in table.column_names if c.startswith(("has_", "marker_")))
    return [*NUMERIC, "female", *flags]


def _matrix(table: pa.Table, names: list[str]) -> np.ndarray:
    columns = []
    for name in names:
        if name == "female":
            female = pc.fill_null(pc.equal(table.column("sex"), "female"), False)
            values = np.asarray(female.to_numpy(zero_copy_only=False), np.float64)
        else:
            values = np.asarray(table.column(name).to_numpy(zero_copy_only=False), np.float64)
        columns.append(values)
    return np.column_stack(columns)


def _admitted(wh: Source, start: dt.date, end: dt.date) -> set[str]:
    events = person_events(wh, end)
    admitted = events.filter(
        (events.activity == "emergency_admission") & (events.start_date > start)
    )
    return set(to_arrow(wh, admitted.select("person_id").distinct()).column(0).to_pylist())


def _window(wh: Source, at: dt.date) -> pa.Table:
    table = features(wh, at)
    return to_arrow(wh, table.filter(table.age >= 0).order_by("person_id"))


def _auroc(y: np.ndarray, score: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    if len(set(y.tolist())) < 2:
        return None
    return round(float(roc_auc_score(y, score)), 4)


def fit_and_score(wh: Source, as_of: dt.date, now: pa.Table, seed: int) -> RiskResult:
    """Train, validate and score; ``now`` is the measures table as of ``as_of``."""
    from lightgbm import LGBMClassifier

    began = time.perf_counter()
    year = dt.timedelta(days=365)
    train = _window(wh, as_of - 2 * year)
    valid = _window(wh, as_of - year)
    names = feature_names(now)
    y_train = _labels(train, _admitted(wh, as_of - 2 * year, as_of - year))
    y_valid = _labels(valid, _admitted(wh, as_of - year, as_of))
    model = LGBMClassifier(
        # Few, shallow trees: explaining each person costs trees x leaves x depth^2, and
        # more or deeper trees validated no better (ADR 8 has the figures).
        n_estimators=100,
        learning_rate=0.12,
        num_leaves=15,
        max_depth=4,
        min_child_samples=50,
        random_state=seed,
        deterministic=True,
        force_row_wise=True,
        n_jobs=1,  # trained on one thread: the same model whatever the machine
        verbose=-1,
    )
    model.fit(_matrix(train, names), y_train)
    model.set_params(n_jobs=os.cpu_count() or 1)  # predictions do not depend on threads
    predicted = np.asarray(model.predict_proba(_matrix(valid, names)))[:, 1]
    baseline = valid.column("emergency_admissions_12m").to_numpy(zero_copy_only=False) * 1000.0
    baseline = baseline + valid.column("age").to_numpy(zero_copy_only=False)
    metrics = {
        "model": "LightGBM, 100 trees of depth 4",
        "trained_on": f"features as of {as_of - 2 * year}, admissions to {as_of - year}",
        "validated_on": f"features as of {as_of - year}, admissions to {as_of}",
        "people_trained": int(train.num_rows),
        "people_validated": int(valid.num_rows),
        "admission_rate": round(float(y_valid.mean()), 4),
        "mean_predicted": round(float(predicted.mean()), 4),
        "auroc": _auroc(y_valid, predicted),
        "baseline": "emergency admissions in the previous 12 months, then age",
        "baseline_auroc": _auroc(y_valid, baseline),
        "brier": round(float(np.mean((predicted - y_valid) ** 2)), 5),
        "calibration": _calibration(y_valid, predicted),
    }
    forecaster, metrics["cost_forecast"] = _fit_forecast(train, valid, now, names, seed)
    trained = time.perf_counter()
    matrix = _matrix(now, names)
    risk = np.asarray(model.predict_proba(matrix))[:, 1]
    bands = _bands(risk)
    # Each feature's contribution to a person's score (SHAP values; the last column is the
    # bias), for the people a team will look at: the case-finding list and rising or high
    # risk. Explaining everyone would cost minutes at ICS size for people nobody opens.
    shown = np.flatnonzero(
        np.asarray(now.column("complex_needs").to_numpy(zero_copy_only=False), dtype=bool)
        | (bands != "low")
    )
    factors = [""] * now.num_rows
    if len(shown):
        contributions = np.asarray(model.predict(matrix[shown], pred_contrib=True))[:, :-1]
        for row, words in zip(shown, _factors(now.take(shown), names, contributions), strict=True):
            factors[row] = words
    scores = pa.table(
        {
            "person_id": now.column("person_id"),
            "risk": pa.array(np.round(risk, 4)),
            "risk_band": pa.array(bands),
            "risk_factors": pa.array(factors),
            "forecast_cost_12m": pa.array(np.round(forecaster.predict(matrix), 2)),
        }
    )
    validation = pa.table(
        {
            "person_id": valid.column("person_id"),
            "predicted": pa.array(np.round(predicted, 5)),
            "admitted": pa.array(y_valid.astype(bool)),
        }
    )
    timings = {
        "training_seconds": round(trained - began, 2),  # both windows' measures, fit, validate
        "scoring_seconds": round(time.perf_counter() - trained, 2),  # everyone, explained
    }
    return RiskResult(scores, metrics, validation, timings)


def _costs_after(features: pa.Table, later: pa.Table) -> np.ndarray:
    """Each person's cost in the 12 months after ``features``: ``later``'s cost_12m."""
    cost = dict(
        zip(
            later.column("person_id").to_pylist(),
            later.column("cost_12m").to_pylist(),
            strict=True,
        )
    )
    return np.asarray(
        [cost.get(p) or 0.0 for p in features.column("person_id").to_pylist()], np.float64
    )


def _fit_forecast(
    train: pa.Table, valid: pa.Table, now: pa.Table, names: list[str], seed: int
) -> tuple[Any, dict[str, Any]]:
    """Cost in the next 12 months: LightGBM with a Tweedie loss (most people cost little,
    a few a great deal), trained and validated on the same windows as the risk model,
    against the baseline that next year costs what this year did."""
    from lightgbm import LGBMRegressor
    from sklearn.metrics import mean_absolute_error, r2_score

    model = LGBMRegressor(
        objective="tweedie",
        n_estimators=150,
        learning_rate=0.08,
        num_leaves=15,
        max_depth=5,
        min_child_samples=50,
        random_state=seed,
        deterministic=True,
        force_row_wise=True,
        n_jobs=1,
        verbose=-1,
    )
    model.fit(_matrix(train, names), _costs_after(train, valid))
    model.set_params(n_jobs=os.cpu_count() or 1)
    actual = _costs_after(valid, now)
    predicted = np.asarray(model.predict(_matrix(valid, names)))
    persistence = np.asarray(valid.column("cost_12m").to_numpy(zero_copy_only=False), np.float64)
    return model, {
        "model": "LightGBM (Tweedie loss), 150 trees of depth 5",
        "baseline": "next 12 months cost what the last 12 did",
        "mae_gbp": round(float(mean_absolute_error(actual, predicted)), 2),
        "baseline_mae_gbp": round(float(mean_absolute_error(actual, persistence)), 2),
        "r2": round(float(r2_score(actual, predicted)), 4),
        "baseline_r2": round(float(r2_score(actual, persistence)), 4),
        "total_predicted_gbp": round(float(predicted.sum())),
        "total_baseline_gbp": round(float(persistence.sum())),
        "total_actual_gbp": round(float(actual.sum())),
    }


def _labels(table: pa.Table, admitted: set[str]) -> np.ndarray:
    return np.asarray([p in admitted for p in table.column("person_id").to_pylist()], np.int8)


def _calibration(y: np.ndarray, predicted: np.ndarray) -> list[dict[str, float]]:
    """Mean predicted against observed rate, by decile of predicted risk."""
    order = np.argsort(predicted, kind="stable")
    return [
        {
            "decile": i + 1,
            "predicted": round(float(predicted[part].mean()), 4),
            "observed": round(float(y[part].mean()), 4),
        }
        for i, part in enumerate(np.array_split(order, 10))
        if len(part)
    ]


def _bands(risk: np.ndarray) -> np.ndarray:
    """Each person's band: the first of ``BANDS`` whose centile they reach, else low."""
    bands = np.full(len(risk), "low", dtype=object)
    for q, label in reversed(BANDS):  # the higher band written last wins
        bands[risk >= float(np.quantile(risk, q))] = label
    return bands


def _factors(table: pa.Table, names: list[str], contributions: np.ndarray) -> list[str]:
    values = {n: table.column(n).to_pylist() for n in names if n != "female"}
    sexes = table.column("sex").to_pylist()
    top = np.argsort(-contributions, axis=1, kind="stable")[:, :TOP_FACTORS]
    out = []
    for row, columns in enumerate(top):
        words = [_words(names[c], values, sexes, row) for c in columns if contributions[row, c] > 0]
        out.append("; ".join(w for w in words if w))
    return out


def _words(name: str, values: dict[str, list[Any]], sexes: list[Any], row: int) -> str:
    if name == "female":
        return str(sexes[row] or "")
    v = values[name][row]
    if name.startswith(("has_", "marker_")):
        return name.split("_", 1)[1].replace("_", " ") if v else ""
    if v is None:  # not recorded: nothing to say of it
        return ""
    # Each phrase made only for its own feature (a value of another kind, such as an
    # electronic frailty index, would not format as money).
    phrases = {
        "age": lambda: f"age {v}",
        "ltc_count": lambda: _count(v, "long-term condition"),
        "charlson": lambda: f"Charlson index {v}",
        "deficits": lambda: _count(v, "frailty deficit"),
        "ed_attendances_12m": lambda: _count(v, "A&E attendance") + " in 12 months",
        "emergency_admissions_12m": lambda: _count(v, "emergency admission") + " in 12 months",
        "cost_12m": lambda: f"£{v:,.0f} of care in 12 months",
    }
    phrase = phrases.get(name)
    return phrase() if phrase else name


def _count(n: Any, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
