"""The designs: a matched comparison, staggered difference-in-differences, interrupted
time series, and the naive before-and-after figure shown beside them as biased.

- **Matched comparison** (scikit-learn, statsmodels): on each index date, the people
  enrolled that month who meet the protocol's case-finding rule, against people who
  meet the same rule on the same day in neighbourhoods not yet live; a propensity score
  (logistic regression on prior use, age band, sex, deprivation) with exact strata,
  nearest neighbours within a caliper, with replacement. Outcomes by Poisson regression
  with the follow-up as exposure offset, matching weights, and variance clustered by
  person, since a comparator may serve several people and several index dates.
  Comparators are censored when their own neighbourhood goes live.
- **Staggered DiD** (diff-diff's Callaway–Sant'Anna estimator, not-yet-treated
  comparison): neighbourhood × month rates per 1,000 residents; the overall effect as a
  ratio to the treated areas' counterfactual rate, the event study, and a joint test of
  the pre-period coefficients.
- **Interrupted time series** (statsmodels): the live neighbourhoods' monthly counts,
  Poisson with the residents as exposure, a neighbourhood effect, a trend, seasonality
  (one annual harmonic) and a step at go-live; variance clustered by neighbourhood.
- **Naive before-and-after**: the enrolled people's rate in the year after enrolment
  against the year before. They were chosen for high use in that year, so it shows
  regression to the mean as if it were an effect.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import statsmodels.api as sm
from scipy import stats  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import NearestNeighbors

from neighbourhood.evaluate.outcomes import BY_KEY, FloatArray, IntArray, Outcome, measure
from neighbourhood.evaluate.protocol import Protocol
from neighbourhood.evaluate.study import Study, month_index, month_start

Z = 1.959963984540054
PRIOR = ("emergency_admission", "ed_attendance")
SMALLEST_GROUP = 8  # fewer treated people than this in a subgroup: no estimate
PRE_TREND_MONTHS = 12  # the event study's months before go-live tested jointly


@dataclass
class Estimate:
    """A rate ratio with its 95% interval and p-value (two-sided, ratio 1)."""

    ratio: float | None
    low: float | None = None
    high: float | None = None
    p: float | None = None
    note: str = ""

    @classmethod
    def from_log(cls, b: float, se: float, t_df: int | None = None) -> Estimate:
        if not (math.isfinite(b) and math.isfinite(se)) or se <= 0:
            return cls(None, note="the model did not converge")
        if abs(b) > 20 or se > 20:  # a ratio beyond 10^8: one side had no events
            return cls(None, note="no estimate: one side has no events")
        crit = Z if t_df is None else float(stats.t.ppf(0.975, t_df))
        dist_p = (
            2 * stats.norm.sf(abs(b / se)) if t_df is None else 2 * stats.t.sf(abs(b / se), t_df)
        )
        return cls(math.exp(b), math.exp(b - crit * se), math.exp(b + crit * se), float(dist_p))

    def covers(self, truth: float) -> bool:
        return self.low is not None and self.high is not None and self.low <= truth <= self.high

    def as_dict(self) -> dict[str, Any]:
        return {
            "ratio": rounded(self.ratio),
            "low": rounded(self.low),
            "high": rounded(self.high),
            "p": None if self.p is None else float(f"{self.p:.4g}"),
            **({"note": self.note} if self.note else {}),
        }


def rounded(x: float | None) -> float | None:
    return None if x is None else round(float(x), 4)


# -- the matched comparison -------------------------------------------------------------


@dataclass
class Sample:
    """Everyone considered on each index date: the enrolled (treated) and the people
    case-found by the same rule in neighbourhoods not yet live (candidates)."""

    person: IntArray
    index: IntArray  # the index date (the first of a month)
    treated: npt.NDArray[np.bool_]
    end: IntArray  # end of follow-up, exclusive (death, censoring, period end)
    features: FloatArray  # for the propensity score
    feature_names: list[str]
    strata: npt.NDArray[np.object_]
    enrolled_not_eligible: int = 0
    index_dates_without_history: int = 0


@dataclass
class Matched:
    """The analysis rows: each treated person once (weight 1) and, for each, their matched
    comparators (weights summing to 1), carrying the treated person's subgroups."""

    sample: Sample
    rows: IntArray  # positions in the sample
    weight: FloatArray
    treated: npt.NDArray[np.bool_]
    pair: IntArray  # the treated row of each row's match (itself for the treated)
    unmatched: int
    balance: list[dict[str, Any]] = field(default_factory=list)


def prior_counts(study: Study, day: int, days: int) -> dict[str, IntArray]:
    out = {}
    for key in ("emergency_admission", "ed_attendance", "elective_admission", "gp_appointment"):
        e = study.events[key]
        window = (e.start >= day - days) & (e.start < day)
        out[key] = np.bincount(e.person[window], minlength=len(study)).astype(np.int64)
    e = study.events["emergency_admission"]
    window = (e.start >= day - days) & (e.start < day)
    out["bed_days"] = np.bincount(
        e.person[window], weights=(e.end - e.start + 1)[window], minlength=len(study)
    ).astype(np.int64)
    return out


def sample(study: Study, protocol: Protocol, go_live: IntArray) -> Sample:
    rule = protocol.population
    follow = protocol.follow_up_days
    enrolled_month = month_start(study.enrolled_on) if len(study.enrolled) else study.enrolled_on
    enrolled_by = np.full(len(study), np.iinfo(np.int64).max)
    np.minimum.at(enrolled_by, study.enrolled, enrolled_month)
    where = study.neighbourhood
    live = np.where(where >= 0, go_live[np.maximum(where, 0)], -1)
    age_labels = sorted(set(study.groups["age_band"].tolist()))
    parts: dict[str, list[Any]] = {k: [] for k in ("person", "index", "treated", "end", "f", "s")}
    names: list[str] = []
    not_eligible = without_history = 0
    for day in sorted(set(enrolled_month.tolist())):
        mine = study.enrolled[enrolled_month == day]
        if day - rule.look_back_days < study.first_day:
            without_history += 1
            not_eligible += len(mine)
            continue
        prior = prior_counts(study, day, rule.look_back_days)
        use = prior["emergency_admission"] + prior["ed_attendance"]
        alive = (study.died < 0) | (study.died > day)
        eligible = alive & study.adult & (use >= rule.threshold) & (where >= 0)
        treated = mine[eligible[mine]]
        not_eligible += len(mine) - len(treated)
        not_yet = (live < 0) | (live > day)
        candidates = np.flatnonzero(eligible & not_yet & (enrolled_by > day))
        person = np.concatenate([treated, candidates])
        flag = np.concatenate([np.ones(len(treated), bool), np.zeros(len(candidates), bool)])
        end = np.full(len(person), min(day + follow, study.last_day + 1), dtype=np.int64)
        dead = study.died[person]
        end = np.where(dead >= 0, np.minimum(end, dead + 1), end)
        censor = live[person]
        end = np.where(~flag & (censor > day), np.minimum(end, censor), end)
        cols = [np.log1p(prior[k][person]) for k in prior] + [
            (study.groups["age_band"][person] == a).astype(float) for a in age_labels[1:]
        ]
        cols.append((study.groups["sex"][person] == "female").astype(float))
        quintile = study.groups["imd_quintile"][person]
        cols += [(quintile == q).astype(float) for q in ("1", "2", "3", "4")]
        names = [f"prior {k.replace('_', ' ')} (log)" for k in prior]
        names += [f"age {a}" for a in age_labels[1:]] + ["female"]
        names += [f"IMD quintile {q}" for q in ("1", "2", "3", "4")]
        strata = np.full(len(person), str(day), dtype=object)
        for key in protocol.comparison.exact:
            strata = strata + "|" + study.groups[key][person].astype(str)
        for k, v in zip(
            ("person", "index", "treated", "end", "f", "s"),
            (person, np.full(len(person), day), flag, end, np.column_stack(cols), strata),
            strict=True,
        ):
            parts[k].append(v)
    if not parts["person"]:
        empty = np.zeros(0, dtype=np.int64)
        return Sample(
            empty,
            empty,
            np.zeros(0, bool),
            empty,
            np.zeros((0, 0)),
            [],
            np.zeros(0, object),
            not_eligible,
            without_history,
        )
    return Sample(
        np.concatenate(parts["person"]),
        np.concatenate(parts["index"]).astype(np.int64),
        np.concatenate(parts["treated"]),
        np.concatenate(parts["end"]),
        np.vstack(parts["f"]),
        names,
        np.concatenate(parts["s"]),
        not_eligible,
        without_history,
    )


def match(s: Sample, protocol: Protocol) -> Matched:
    """Nearest neighbours on the logit of the propensity score, within exact strata and
    the caliper, with replacement."""
    k, caliper = protocol.comparison.controls_per_person, protocol.comparison.caliper
    keep = s.end > s.index
    treated_rows = np.flatnonzero(s.treated & keep)
    empty = np.zeros(0, dtype=np.int64)
    if not len(treated_rows) or not (~s.treated & keep).any():
        return Matched(s, empty, np.zeros(0), np.zeros(0, bool), empty, len(treated_rows))
    x = s.features
    scale = x.std(axis=0)
    scale[scale == 0] = 1
    model = LogisticRegression(C=1.0, max_iter=500)
    model.fit((x - x.mean(axis=0)) / scale, s.treated)
    logit = model.decision_function((x - x.mean(axis=0)) / scale)
    width = caliper * float(np.std(logit[keep])) or caliper
    rows, weights, flags, pairs = [], [], [], []
    unmatched = 0
    order = np.argsort(s.strata, kind="stable")
    bounds = np.flatnonzero(np.r_[True, s.strata[order][1:] != s.strata[order][:-1], True])
    for a, b in itertools.pairwise(bounds):
        block = order[a:b]
        block = block[keep[block]]
        t = block[s.treated[block]]
        c = block[~s.treated[block]]
        if not len(t):
            continue
        if not len(c):
            unmatched += len(t)
            continue
        nn = NearestNeighbors(n_neighbors=min(k, len(c))).fit(logit[c, None])
        dist, idx = nn.kneighbors(logit[t, None])
        ok = dist <= width
        got = ok.sum(axis=1)
        unmatched += int((got == 0).sum())
        for i in np.flatnonzero(got > 0):
            chosen = c[idx[i][ok[i]]]
            rows += [t[i], *chosen.tolist()]
            weights += [1.0, *([1.0 / got[i]] * len(chosen))]
            flags += [True, *([False] * len(chosen))]
            pairs += [t[i]] * (1 + len(chosen))
    m = Matched(
        s,
        np.array(rows, dtype=np.int64),
        np.array(weights),
        np.array(flags, dtype=bool),
        np.array(pairs, dtype=np.int64),
        unmatched,
    )
    m.balance = balance(s, m)
    return m


def balance(s: Sample, m: Matched) -> list[dict[str, Any]]:
    """Standardised mean differences of each covariate, before and after matching."""
    out = []
    before_t, before_c = s.features[s.treated], s.features[~s.treated]
    after = s.features[m.rows]
    for j, name in enumerate(s.feature_names):
        pooled = math.sqrt((before_t[:, j].var() + before_c[:, j].var()) / 2) or 1.0
        t_mean = after[m.treated, j].mean() if m.treated.any() else 0.0
        c_w = m.weight[~m.treated]
        c_mean = float(np.average(after[~m.treated, j], weights=c_w)) if len(c_w) else 0.0
        out.append(
            {
                "covariate": name,
                "before": round(float((before_t[:, j].mean() - before_c[:, j].mean()) / pooled), 3)
                if len(before_c) and len(before_t)
                else None,
                "after": round(float((t_mean - c_mean) / pooled), 3),
            }
        )
    return out


def outcome_rows(study: Study, m: Matched, outcome: Outcome) -> tuple[FloatArray, FloatArray]:
    """Each analysis row's outcome and follow-up (days)."""
    person = m.sample.person[m.rows]
    lo, hi = m.sample.index[m.rows], m.sample.end[m.rows]
    return measure(outcome, study.events, study.died, person, lo, hi), (hi - lo).astype(float)


def poisson(
    y: FloatArray,
    exposure: FloatArray,
    x: FloatArray,
    weight: FloatArray,
    cluster: IntArray,
) -> tuple[FloatArray, FloatArray] | None:
    """Poisson regression with an exposure offset and variance clustered; None if it
    cannot be fitted."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = sm.GLM(
                y, x, family=sm.families.Poisson(), offset=np.log(exposure), var_weights=weight
            ).fit(cov_type="cluster", cov_kwds={"groups": cluster})
    except (ValueError, np.linalg.LinAlgError, ZeroDivisionError):
        return None
    return np.asarray(fit.params), np.asarray(fit.cov_params())


def matched_effect(
    study: Study, m: Matched, outcome: Outcome, subset: npt.NDArray[np.bool_] | None = None
) -> tuple[Estimate, dict[str, float]]:
    y, exposure = outcome_rows(study, m, outcome)
    use = exposure > 0 if subset is None else (exposure > 0) & subset
    counts = {
        "treated": int((m.treated & use).sum()),
        "comparators": len(set(m.sample.person[m.rows[~m.treated & use]].tolist())),
        "treated_events": float(y[m.treated & use].sum()),
        "comparator_events": float((y * m.weight)[~m.treated & use].sum()),
    }
    if counts["treated"] < SMALLEST_GROUP or not (~m.treated & use).any():
        return Estimate(None, note="too few people to estimate"), counts
    if y[use].sum() == 0:
        return Estimate(None, note="no events"), counts
    fixed = np.column_stack([np.ones(use.sum()), m.treated[use].astype(float)])
    x = design_matrix(fixed, m.sample.features[m.rows][use])
    fitted = poisson(y[use], exposure[use], x, m.weight[use], m.sample.person[m.rows][use])
    if fitted is None:
        return Estimate(None, note="the model could not be fitted"), counts
    b, v = fitted
    return Estimate.from_log(float(b[1]), math.sqrt(max(v[1, 1], 0.0))), counts


def design_matrix(fixed: FloatArray, features: FloatArray) -> FloatArray:
    """The outcome model's columns: ``fixed`` (intercept, treatment and any interaction
    terms) and then the covariates it adjusts for (doubly robust, after matching), each
    kept only if it is not a combination of the columns before it in the rows used (a
    subgroup leaves some covariates constant or collinear)."""
    x = fixed
    rank = np.linalg.matrix_rank(fixed)
    for j in range(features.shape[1]):
        trial = np.column_stack([x, features[:, j]])
        found = np.linalg.matrix_rank(trial)
        if found > rank:
            x, rank = trial, found
    return x


def interaction_p(
    study: Study, m: Matched, outcome: Outcome, labels: npt.NDArray[np.object_]
) -> float | None:
    """Does the effect differ between a subgroup's levels? A Wald test of the treatment ×
    level terms, clustered by person."""
    y, exposure = outcome_rows(study, m, outcome)
    levels = [
        v for v in sorted(set(labels.tolist())) if (labels[m.treated] == v).sum() >= SMALLEST_GROUP
    ]
    use = (exposure > 0) & np.isin(labels, levels)
    if len(levels) < 2 or y[use].sum() == 0:
        return None
    t = m.treated.astype(float)
    cols = [np.ones(len(y)), t]
    for v in levels[1:]:
        d = (labels == v).astype(float)
        cols += [d, d * t]
    x = design_matrix(np.column_stack(cols)[use], m.sample.features[m.rows][use])
    fitted = poisson(y[use], exposure[use], x, m.weight[use], m.sample.person[m.rows][use])
    if fitted is None:
        return None
    b, v = fitted
    idx = [2 + 2 * i + 1 for i in range(len(levels) - 1)]
    sub_b, sub_v = b[idx], v[np.ix_(idx, idx)]
    try:
        chi2 = float(sub_b @ np.linalg.solve(sub_v, sub_b))
    except np.linalg.LinAlgError:
        return None
    return float(stats.chi2.sf(chi2, len(idx)))


def naive(study: Study, m: Matched, outcome: Outcome, follow: int) -> Estimate:
    """The enrolled people's rate after enrolment against the year before."""
    s = m.sample
    rows = np.flatnonzero(s.treated & (s.end > s.index))
    if len(rows) < SMALLEST_GROUP:
        return Estimate(None, note="too few people to estimate")
    person, index = s.person[rows], s.index[rows]
    before_lo = np.maximum(index - follow, study.first_day)
    before = measure(outcome, study.events, study.died, person, before_lo, index)
    after = measure(outcome, study.events, study.died, person, index, s.end[rows])
    y = np.concatenate([before, after])
    exposure = np.concatenate([index - before_lo, s.end[rows] - index]).astype(float)
    if before.sum() == 0 or after.sum() == 0:
        return Estimate(None, note="no estimate: no events before or none after")
    if (exposure <= 0).any():
        return Estimate(None, note="no estimate: no time before enrolment")
    x = np.column_stack([np.ones(len(y)), np.r_[np.zeros(len(rows)), np.ones(len(rows))]])
    fitted = poisson(y, exposure, x, np.ones(len(y)), np.r_[person, person])
    if fitted is None:
        return Estimate(None, note="the model could not be fitted")
    b, v = fitted
    return Estimate.from_log(float(b[1]), math.sqrt(max(v[1, 1], 0.0)))


# -- the area designs --------------------------------------------------------------------


@dataclass
class Panel:
    """Neighbourhood × month counts of one outcome, with residents as the exposure."""

    count: FloatArray  # neighbourhood × month
    residents: FloatArray
    first_month: IntArray  # each neighbourhood's go-live month (-1 never)
    months: int
    first_day: int


def panel(
    study: Study,
    outcome: Outcome,
    go_live: IntArray,
    people: npt.NDArray[np.bool_] | None = None,
    extra: dict[str, Any] | None = None,
) -> Panel:
    """Counts by neighbourhood and month for everyone (or the people in ``people``);
    ``extra`` adds the events of study.prevented (for the truth)."""
    n_areas = len(study.neighbourhoods)
    first = int(month_start(np.array([study.first_day]))[0])
    if first < study.first_day:  # a part month at the start is left out
        first = int(month_start(np.array([first + 31]))[0])
    months = int(month_index(np.array([study.last_day + 1]), first)[0])
    mine = np.ones(len(study), bool) if people is None else people
    area = study.neighbourhood
    counts = np.zeros((n_areas, months))
    source = extra if extra is not None else study.events

    def add(person: IntArray, day: IntArray, weight: FloatArray | None = None) -> None:
        m = month_index(day, first)
        ok = (m >= 0) & (m < months) & (area[person] >= 0) & mine[person]
        cell = area[person[ok]] * months + m[ok]
        found = np.bincount(
            cell, None if weight is None else weight[ok], minlength=n_areas * months
        )
        counts[:] += found.reshape(n_areas, months)

    if outcome.measure == "deaths":
        if extra is None:
            dead = np.flatnonzero(study.died >= 0)
            add(dead, study.died[dead])
    elif outcome.source in source:
        e = source[outcome.source]
        if outcome.measure == "days":
            add(e.person, e.start, (e.end - e.start + 1).astype(float))
        elif outcome.measure == "acs":
            add(e.person, e.start, e.acs.astype(float))
        else:
            add(e.person, e.start)
    # Residents at the start of each month: everyone placed, less those who died before.
    placed = np.flatnonzero((area >= 0) & mine)
    residents = np.repeat(
        np.bincount(area[placed], minlength=n_areas).astype(float)[:, None], months, axis=1
    )
    dead = placed[study.died[placed] >= 0]
    gone_from = np.clip(month_index(study.died[dead], first) + 1, 0, months)
    gone = np.bincount(area[dead] * (months + 1) + gone_from, minlength=n_areas * (months + 1))
    residents -= np.cumsum(gone.reshape(n_areas, months + 1), axis=1)[:, :months]
    gl = np.where(go_live >= 0, month_index(np.maximum(go_live, 0), first), -1)
    return Panel(counts, residents, gl, months, first)


def month_days(first: int, months: int) -> IntArray:
    starts = (
        (np.datetime64(int(first), "D").astype("datetime64[M]") + np.arange(months + 1))
        .astype("datetime64[D]")
        .astype(np.int64)
    )
    return np.asarray(starts[:-1], dtype=np.int64)


@dataclass
class AreaResult:
    estimate: Estimate
    att_per_1000: float | None = None
    counterfactual_per_1000: float | None = None
    event_study: list[dict[str, Any]] = field(default_factory=list)
    pre_trend_p: float | None = None
    pre_trend_months: int = 0


def staggered_did(p: Panel) -> AreaResult:
    """Callaway and Sant'Anna's estimator, not-yet-treated comparison, on rates per 1,000."""
    import pandas as pd
    from diff_diff import CallawaySantAnna

    areas = np.flatnonzero(p.residents.sum(axis=1) > 0)
    treated = [a for a in areas if 0 < p.first_month[a] < p.months]
    if len(treated) < 2 or len(areas) < 3:
        return AreaResult(Estimate(None, note="fewer than two neighbourhoods went live"))
    rate = np.divide(1000 * p.count, p.residents, out=np.zeros_like(p.count), where=p.residents > 0)
    unit = np.repeat(areas, p.months)
    time = np.tile(np.arange(1, p.months + 1), len(areas))
    first = np.where(p.first_month[areas] > 0, p.first_month[areas] + 1, 0)
    first = np.where(p.first_month[areas] >= p.months, 0, first)
    frame = pd.DataFrame(
        {"unit": unit, "time": time, "y": rate[areas].ravel(), "g": np.repeat(first, p.months)}
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = CallawaySantAnna(control_group="not_yet_treated", estimation_method="reg").fit(
                frame, "y", "unit", "time", "g"
            )
            es = fit.aggregate("event_study")
    except (ValueError, np.linalg.LinAlgError) as error:
        return AreaResult(Estimate(None, note=f"the estimator failed: {error}"))
    att, se = float(fit.overall_att), float(fit.overall_se)
    post = (frame["g"] > 0) & (frame["time"] >= frame["g"])
    observed = float(frame.loc[post, "y"].mean())
    counterfactual = observed - att
    if not math.isfinite(att) or not math.isfinite(se) or counterfactual <= 0:
        return AreaResult(Estimate(None, note="no estimate (no events in the treated areas)"))
    ratio = 1 + att / counterfactual
    # Few neighbourhoods: Student's t with one fewer degree of freedom than areas.
    df = len(areas) - 1
    crit = float(stats.t.ppf(0.975, df))
    p_value = float(2 * stats.t.sf(abs(att / se), df)) if se > 0 else None
    # A rate cannot fall below zero: the interval's lower end is cut there.
    low = max(0.0, 1 + (att - crit * se) / counterfactual)
    estimate = Estimate(ratio, low, 1 + (att + crit * se) / counterfactual, p_value)
    times = np.asarray(es.event_time)
    effects, ses = np.asarray(es.att, dtype=float), np.asarray(es.se, dtype=float)
    study = [
        {"month": int(t), "att": round(float(a), 4), "se": round(float(s), 4)}
        for t, a, s in zip(times, effects, ses, strict=True)
        if math.isfinite(a)
    ]
    # The months before go-live tested together: up to a year, and fewer than the areas
    # whose covariance they are estimated from.
    months = min(PRE_TREND_MONTHS - 1, len(areas) - 2)
    pre = (times >= -1 - months) & (times < -1) & np.isfinite(effects) & (ses > 0)
    pre_p = pre_trend(effects, ses, getattr(es, "vcov", None), pre, len(areas))
    return AreaResult(estimate, att, counterfactual, study, pre_p, int(pre.sum()))


def pre_trend(
    effects: FloatArray, ses: FloatArray, vcov: Any, pre: npt.NDArray[np.bool_], areas: int
) -> float | None:
    """A joint test that the event study's months before go-live are zero: Hotelling's
    T-squared as an F test, since the covariance is estimated from few areas (a chi-squared
    test on it rejects a true null about one time in five with 40 areas; this about one
    in 40, measured on synthetic ICSs with no effect)."""
    k = int(pre.sum())
    if not k or areas - k < 1:
        return None
    b = effects[pre]
    if vcov is not None and np.shape(vcov) == (len(effects), len(effects)):
        v = np.asarray(vcov)[np.ix_(pre, pre)]
    else:
        v = np.diag(ses[pre] ** 2)
    try:
        t2 = float(b @ np.linalg.solve(v, b))
    except np.linalg.LinAlgError:
        return None
    return float(stats.f.sf((areas - k) / (k * (areas - 1)) * t2, k, areas - k))


def interrupted_time_series(p: Panel) -> AreaResult:
    """The live neighbourhoods' own before and after: Poisson, residents as exposure,
    neighbourhood effects, a trend, an annual harmonic and a step at go-live."""
    areas = [a for a in range(len(p.first_month)) if 0 < p.first_month[a] < p.months]
    if not areas:
        return AreaResult(Estimate(None, note="no neighbourhood went live within the data"))
    month = np.tile(np.arange(p.months), len(areas))
    unit = np.repeat(areas, p.months)
    y = p.count[areas].ravel()
    exposure = p.residents[areas].ravel()
    use = exposure > 0
    if y[use].sum() == 0:
        return AreaResult(Estimate(None, note="no events"))
    step = (month >= np.repeat(p.first_month[areas], p.months)).astype(float)
    calendar = (
        np.datetime64(int(p.first_day), "D").astype("datetime64[M]").astype(int) + month
    ) % 12
    cols = [
        step,
        (month - p.months / 2) / 12,
        np.sin(2 * np.pi * calendar / 12),
        np.cos(2 * np.pi * calendar / 12),
    ]
    cols += [(unit == a).astype(float) for a in areas]
    x = np.column_stack(cols)[use]
    fitted = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = sm.GLM(y[use], x, family=sm.families.Poisson(), offset=np.log(exposure[use])).fit(
                cov_type="cluster", cov_kwds={"groups": unit[use]}, use_t=True
            )
        fitted = (np.asarray(fit.params), np.asarray(fit.cov_params()))
    except (ValueError, np.linalg.LinAlgError, ZeroDivisionError):
        fitted = None
    if fitted is None:
        return AreaResult(Estimate(None, note="the model could not be fitted"))
    b, v = fitted
    return AreaResult(Estimate.from_log(float(b[0]), math.sqrt(max(v[0, 0], 0.0)), len(areas) - 1))


def heterogeneity_p(estimates: list[Estimate]) -> float | None:
    """Cochran's Q on the log ratios of independent subgroups' estimates."""
    usable = [
        (e.ratio, e.low, e.high)
        for e in estimates
        if e.ratio is not None and e.low is not None and e.high is not None and e.low > 0
    ]
    if len(usable) < 2:
        return None
    b = np.log([r for r, _, _ in usable])
    se = (np.log([h for _, _, h in usable]) - np.log([lo for _, lo, _ in usable])) / (2 * Z)
    if (se <= 0).any():
        return None
    w = 1 / se**2
    mean = float((w * b).sum() / w.sum())
    q = float((w * (b - mean) ** 2).sum())
    return float(stats.chi2.sf(q, len(usable) - 1))


def outcome(key: str) -> Outcome:
    return BY_KEY[key]
