"""``neighbourhood capacity run``: a scenario over every neighbourhood it names, its
replications in parallel, each figure the mean over replications with a 95% confidence
interval (Student's t).

The scenario's staff come from the published workforce map (filled posts, each person's
FTE times their share of time given to the INT times the clinically available share), its
demand from the refresh (``demand.learn``), projected under its levers.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import random
import resource
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats  # type: ignore[import-untyped]

from neighbourhood.capacity import demand as demand_mod
from neighbourhood.capacity.demand import Demand, Drawn
from neighbourhood.capacity.model import (
    INF,
    WORKING_DAYS_A_YEAR,
    Config,
    Pool,
    ServicePlan,
    simulate,
)
from neighbourhood.capacity.scenario import COHORTS, SERVICES, Scenario, draw
from neighbourhood.errors import UserError
from neighbourhood.phm.publish import open_published
from neighbourhood.phm.versions import has_table

QUINTILES = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Staff:
    """One pool's worth of the workforce map: role, employer, skills, FTE to the INT."""

    role: str
    employer: str
    skills: frozenset[str]
    fte: float


def workforce(data_dir: Path) -> dict[str, list[Staff]]:
    """Filled posts' FTE given to the INT, by neighbourhood, role, employer and skills."""
    con = open_published(data_dir)
    try:
        if not has_table(con, "workforce"):
            raise UserError(
                "the published refresh has no workforce map: ingest partners' workforce "
                "extracts (sources.toml), then refresh and publish"
            )
        rows = con.execute(
            "SELECT team, role, employer, coalesce(skills, ''), sum(fte * int_share) "
            "FROM workforce WHERE NOT vacancy AND team IS NOT NULL GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()
    return staff_by_team(rows)


def staff_by_team(rows: Iterable[tuple[str, str, str, str, float]]) -> dict[str, list[Staff]]:
    """(team, role, employer, skills as "a;b", FTE to the INT) rows as each team's pools,
    the FTE of the same pool added together."""
    pools: dict[str, dict[tuple[str, str, frozenset[str]], float]] = defaultdict(dict)
    for team, role, employer, skills, fte in rows:
        key = (role, employer, frozenset(s for s in skills.split(";") if s))
        pools[team][key] = pools[team].get(key, 0.0) + fte
    return {
        team: [
            Staff(r, e, s, fte)
            for (r, e, s), fte in sorted(held.items(), key=lambda kv: _key(kv[0]))
        ]
        for team, held in pools.items()
    }


def levers_for(scenario: Scenario, seed: int, replication: int) -> Drawn:
    """One replication's lever values, from a stream every scenario with this seed shares."""
    rng = random.Random(int(np.random.SeedSequence([seed, replication, 99]).generate_state(1)[0]))
    u = {k: rng.random() for k in ("growth", "shift", *COHORTS)}
    lv = scenario.levers
    return Drawn(
        growth=draw(lv.population_growth, u["growth"]),
        shift=draw(lv.shift_to_community, u["shift"]),
        enrolment={c: draw(v, u[c]) for c, v in lv.enrolment.items()},
        enrolled_contacts=dict(lv.enrolled_contacts),
        multiplier=lv.demand_multiplier,
    )


def pools_for(scenario: Scenario, staff: list[Staff]) -> tuple[Pool, ...]:
    """Servers by pool: FTE to the INT times the clinically available share, rounded;
    the scenario's staff changes added as a pool of their own (with every skill the role's
    services need) or taken from the role's largest pools."""
    share = scenario.availability.share
    fte: dict[tuple[str, str, frozenset[str]], float] = defaultdict(float)
    for s in staff:
        fte[(s.role, s.employer, s.skills)] += s.fte
    for role, change in sorted(scenario.staff.items()):
        if change >= 0:
            needed = frozenset(
                svc.skill for svc in scenario.services.values() if role in svc.roles and svc.skill
            )
            fte[(role, "scenario", needed)] += change
            continue
        left = -change
        for key in sorted((k for k in fte if k[0] == role), key=lambda k: -fte[k]):
            taken = min(left, fte[key])
            fte[key] -= taken
            left -= taken
    return tuple(
        Pool(role, employer, skills, max(0, round(total * share)))
        for (role, employer, skills), total in sorted(fte.items(), key=lambda kv: _key(kv[0]))
    )


def _key(k: tuple[str, str, frozenset[str]]) -> tuple[str, str, str]:
    return (k[0], k[1], ";".join(sorted(k[2])))


def config_for(
    scenario: Scenario,
    demand: Demand,
    neighbourhood: str,
    staff: list[Staff],
    levers: Drawn,
    start_month: int | None = None,
) -> Config:
    pools = pools_for(scenario, staff)
    annual = demand_mod.project(demand, neighbourhood, levers)
    day = scenario.hours_a_day
    plans = []
    for name in SERVICES:
        svc = scenario.services[name]
        groups = tuple(
            group
            for group in (
                tuple(
                    i
                    for i, p in enumerate(pools)
                    if p.role == role and p.servers and (svc.skill is None or svc.skill in p.skills)
                )
                for role in svc.roles
            )
            if group
        )
        allowed = tuple(i for group in groups for i in group)
        weights = tuple(annual.get((name, q), 0.0) for q in range(6))
        per_hour = sum(weights) * (1 - svc.follow_up_probability) / (WORKING_DAYS_A_YEAR * day)
        plans.append(
            ServicePlan(
                name,
                per_hour,
                weights if sum(weights) else (1.0,) * 6,
                svc.minutes / 60,
                svc.travel_minutes / 60,
                svc.follow_up_probability,
                svc.follow_up_days * day,
                svc.wait_limit_days * day if svc.wait_limit_days else INF,
                allowed,
                svc.distribution,
                groups,
            )
        )
    working = WORKING_DAYS_A_YEAR / 365
    month = demand.as_of.month % 12 if start_month is None else start_month
    return Config(
        tuple(plans),
        pools,
        hours=scenario.days * working * day,
        warm_up=scenario.warm_up_days * working * day,
        hours_a_day=day,
        seasonality=tuple(tuple(demand.seasonality.get(n, [1.0] * 12)) for n in SERVICES),
        start_month=month,
    )


def _job(task: tuple[Config, int, int]) -> dict[str, Any]:
    config, seed, replication = task
    figures = summarise(config, simulate(config, seed, replication))
    # The process's peak resident set so far, in MB (Linux reports kilobytes).
    figures["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def summarise(config: Config, result: Any) -> dict[str, Any]:
    """One replication's figures (small enough to cross between processes)."""
    day = config.hours_a_day
    out: dict[str, Any] = {"events": result.events, "services": {}, "quintiles": {}, "pools": []}
    for plan in config.services:
        waits = np.asarray(result.waits[plan.name]) / day
        arrivals = result.arrivals[plan.name]
        out["services"][plan.name] = {
            "arrivals": arrivals,
            "contacts": result.started[plan.name],
            "unmet": result.unmet[plan.name],
            "mean_wait_days": float(waits.mean()) if len(waits) else 0.0,
            "median_wait_days": float(np.median(waits)) if len(waits) else 0.0,
            "p95_wait_days": float(np.percentile(waits, 95)) if len(waits) else 0.0,
            "monthly": result.monthly[plan.name],
        }
    for q in range(6):
        waits = np.asarray(result.quintile_waits[q]) / day
        out["quintiles"][q] = {
            "arrivals": result.quintile_arrivals[q],
            "unmet": result.quintile_unmet[q],
            "median_wait_days": float(np.median(waits)) if len(waits) else 0.0,
            "p95_wait_days": float(np.percentile(waits, 95)) if len(waits) else 0.0,
            "mean_wait_days": float(waits.mean()) if len(waits) else 0.0,
        }
    for pool, used in zip(config.pools, result.utilisation, strict=True):
        out["pools"].append(
            {
                "role": pool.role,
                "employer": pool.employer,
                "servers": pool.servers,
                "utilisation": used,
            }
        )
    weeks = [result.backlog[i : i + 5] for i in range(0, len(result.backlog), 5)]
    out["backlog_weekly"] = [statistics.fmean(w) for w in weeks if w]
    measured = config.hours - config.warm_up
    out["little"] = {
        "L": result.in_system_area / measured,
        "lambda": sum(result.arrivals.values()) / measured,
        "W": statistics.fmean(result.sojourns) if result.sojourns else 0.0,
    }
    return out


def interval(values: Iterable[float]) -> dict[str, float]:
    """Mean and 95% confidence interval over replications (Student's t)."""
    xs = [float(v) for v in values]
    n = len(xs)
    mean = statistics.fmean(xs) if xs else 0.0
    if n < 2:
        return {"mean": mean, "low": mean, "high": mean}
    half = float(stats.t.ppf(0.975, n - 1)) * statistics.stdev(xs) / math.sqrt(n)
    return {"mean": mean, "low": mean - half, "high": mean + half}


def combine(reps: list[dict[str, Any]]) -> dict[str, Any]:
    """Replications' figures as means with 95% confidence intervals."""
    first = reps[0]
    services = {}
    for name in first["services"]:
        per = [r["services"][name] for r in reps]
        months = len(per[0]["monthly"])
        services[name] = {
            key: interval(p[key] for p in per)
            for key in (
                "arrivals",
                "contacts",
                "unmet",
                "mean_wait_days",
                "median_wait_days",
                "p95_wait_days",
            )
        } | {"monthly": [interval(p["monthly"][m] for p in per) for m in range(months)]}
    quintiles = {}
    for q in QUINTILES:
        per = [r["quintiles"][q] for r in reps]
        quintiles[str(q)] = {k: interval(p[k] for p in per) for k in per[0]}
        quintiles[str(q)]["unmet_share"] = interval(
            p["unmet"] / p["arrivals"] if p["arrivals"] else 0.0 for p in per
        )
    by_role: dict[tuple[str, str], list[float]] = defaultdict(list)
    servers: dict[tuple[str, str], int] = defaultdict(int)
    for r in reps:
        acc: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
        for p in r["pools"]:
            key = (p["role"], p["employer"])
            acc[key][0] += p["utilisation"] * p["servers"]
            acc[key][1] += p["servers"]
        for key, (busy, n) in acc.items():
            by_role[key].append(busy / n if n else 0.0)
            servers[key] = int(n)
    weeks = min(len(r["backlog_weekly"]) for r in reps)
    return {
        "services": services,
        "quintiles": quintiles,
        "utilisation": [
            {"role": role, "employer": employer, "servers": servers[(role, employer)]} | interval(v)
            for (role, employer), v in sorted(by_role.items())
        ],
        "backlog_weekly": [interval(r["backlog_weekly"][w] for r in reps) for w in range(weeks)],
        "events": sum(r["events"] for r in reps),
    }


def scenario_hash(scenario: Scenario) -> str:
    text = json.dumps(scenario.model_dump(mode="json", by_alias=True), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run(
    data_dir: Path,
    scenario: Scenario,
    progress: Callable[[int], None] | None = None,
    demand: Demand | None = None,
    staff: dict[str, list[Staff]] | None = None,
    start_month: int | None = None,
) -> dict[str, Any]:
    """Every neighbourhood the scenario names, every replication; the figures as JSON.
    Measurement starts in the month after the demand's date unless ``start_month``
    (0 = January) says otherwise."""
    demand = demand or demand_mod.learn(data_dir, scenario.history_months)
    if staff is None:
        staff = workforce(data_dir) if scenario.mode == "simulate" else {}
    wanted = list(scenario.neighbourhoods) or demand.neighbourhoods
    unknown = [n for n in wanted if n not in demand.neighbourhoods]
    if unknown:
        raise UserError(
            f"neighbourhood {', '.join(unknown)} is not in the refresh "
            f"(it has {', '.join(demand.neighbourhoods[:10])}"
            f"{' …' if len(demand.neighbourhoods) > 10 else ''})"
        )
    result: dict[str, Any] = {
        "scenario": scenario.name,
        "scenario_hash": scenario_hash(scenario),
        "mode": scenario.mode,
        "as_of": demand.as_of.isoformat(),
        "replications": scenario.replications,
        "seed": scenario.seed,
        "days": scenario.days,
        "warm_up_days": scenario.warm_up_days,
        "neighbourhoods": {},
    }
    if scenario.mode == "demand":
        for n in wanted:
            result["neighbourhoods"][n] = demand_only(scenario, demand, n)
            if progress:
                progress(scenario.replications)
        return result
    missing = [n for n in wanted if n not in staff]
    if missing:
        raise UserError(
            f"the workforce map has no staff for neighbourhood {', '.join(missing[:5])}: "
            "check the workforce extracts' team column"
        )
    tasks = [
        (
            config_for(
                scenario,
                demand,
                n,
                staff[n],
                levers_for(scenario, scenario.seed, r),
                start_month,
            ),
            n,
            r,
        )
        for n in wanted
        for r in range(scenario.replications)
    ]
    reps: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for (n, r), figures in _parallel(tasks, scenario.seed, scenario.workers, progress):
        reps[n].append((r, figures))
    # A service with referrals and nobody its skill mix allows: every referral waits.
    unstaffed = {
        n: sorted(
            {
                p.name
                for config, m, _ in tasks
                if m == n
                for p in config.services
                if p.per_hour and not p.pools
            }
        )
        for n in wanted
    }
    for n in wanted:
        ordered = [f for _, f in sorted(reps[n], key=lambda x: x[0])]
        result["neighbourhoods"][n] = (
            {"name": demand.names.get(n, n)} | combine(ordered) | {"unstaffed": unstaffed[n]}
        )
    # How the run went, apart from what it found (which is the same on any worker count).
    result["peak_worker_mb"] = max(f.get("peak_mb", 0.0) for n in wanted for _, f in reps[n])
    return result


def _parallel(
    tasks: list[tuple[Config, str, int]],
    seed: int,
    workers: int,
    progress: Callable[[int], None] | None,
) -> Iterable[tuple[tuple[str, int], dict[str, Any]]]:
    count = workers or multiprocessing.cpu_count() or 1
    jobs = [(config, seed, r) for config, _, r in tasks]
    keys = [(n, r) for _, n, r in tasks]
    if count == 1 or len(tasks) == 1:
        for key, job in zip(keys, jobs, strict=True):
            yield key, _job(job)
            if progress:
                progress(1)
        return
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(count, mp_context=context) as pool:
        for key, figures in zip(keys, pool.map(_job, jobs, chunksize=1), strict=True):
            yield key, figures
            if progress:
                progress(1)


BACKTEST_SERVICES = ("district_nursing", "therapy")


def backtest(
    data_dir: Path,
    scenario: Scenario,
    services: tuple[str, ...] = BACKTEST_SERVICES,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Re-simulate the last 12 months of community activity and compare the contacts done
    each month with those observed (mean absolute percentage error, by service and
    together).

    The replay drives referrals by what was observed that year (each month's contacts,
    less the follow-ups the model books itself), through today's workforce map, so it
    checks the model's mechanics: follow-up chains, skill mix, waits and capacity. A
    forecast from the year before (its rates and seasonality) is measured beside it: what
    a plan made then would have missed, trend included."""
    con = open_published(data_dir)
    try:
        as_of = demand_mod.published_as_of(con)
        start = demand_mod.months_before(as_of, 12)
        before = demand_mod.learn_from(con, scenario.history_months, start)
        year = demand_mod.learn_from(con, 12, as_of)
    finally:
        con.close()
    months = [demand_mod.months_before(as_of, 11 - k).strftime("%Y-%m") for k in range(12)]
    # The replay's seasonality: that year's own monthly profile, by calendar month.
    for service in SERVICES:
        counts = [
            sum(m.get(months[k], 0) for (_, s), m in year.monthly.items() if s == service)
            for k in range(12)
        ]
        total = sum(counts)
        profile = [1.0] * 12
        if total:
            for k, count in enumerate(counts):
                profile[int(months[k][5:]) - 1] = 12 * count / total
        year.seasonality[service] = profile
    replay = scenario.model_copy(update={"days": 365 + scenario.warm_up_days, "mode": "simulate"})
    staff = workforce(data_dir)  # read once for both runs
    out: dict[str, Any] = {"as_of": as_of.isoformat(), "months": months}
    for label, demand in (("replay", year), ("forecast", before)):
        # Measured from the month after the year began.
        result = run(data_dir, replay, progress, demand, staff, start.month % 12)
        out[label] = _compare(result, year, months, services)
    out["mape"] = out["replay"]["mape"]
    return out


def _compare(
    result: dict[str, Any], year: Demand, months: list[str], services: tuple[str, ...]
) -> dict[str, Any]:
    out: dict[str, Any] = {"services": {}}
    totals_sim, totals_obs = [0.0] * 12, [0.0] * 12
    for service in services:
        sim = [0.0] * 12
        obs = [0.0] * 12
        for n, figures in result["neighbourhoods"].items():
            series = figures["services"][service]["monthly"]
            for k in range(12):
                sim[k] += series[k]["mean"] if k < len(series) else 0.0
                obs[k] += year.monthly.get((n, service), {}).get(months[k], 0)
        out["services"][service] = {"simulated": sim, "observed": obs, "mape": mape(sim, obs)}
        totals_sim = [a + b for a, b in zip(totals_sim, sim, strict=True)]
        totals_obs = [a + b for a, b in zip(totals_obs, obs, strict=True)]
    out["simulated"], out["observed"] = totals_sim, totals_obs
    out["mape"] = mape(totals_sim, totals_obs)
    return out


def mape(simulated: list[float], observed: list[float]) -> float:
    """Mean absolute percentage error over the months with something observed."""
    pairs = [(s, o) for s, o in zip(simulated, observed, strict=True) if o]
    return 100 * statistics.fmean(abs(s - o) / o for s, o in pairs) if pairs else 0.0


def demand_only(scenario: Scenario, demand: Demand, neighbourhood: str) -> dict[str, Any]:
    """Monte Carlo of demand alone: each replication draws the levers and a Poisson year
    of contacts; the hours they need (contact and travel) by service, with intervals."""
    per: dict[str, list[float]] = defaultdict(list)
    contacts: dict[str, list[float]] = defaultdict(list)
    by_quintile: dict[int, list[float]] = defaultdict(list)
    for r in range(scenario.replications):
        levers = levers_for(scenario, scenario.seed, r)
        annual = demand_mod.project(demand, neighbourhood, levers)
        rng = np.random.default_rng(np.random.SeedSequence([scenario.seed, r, 7]))
        q_total: dict[int, float] = defaultdict(float)
        for name in SERVICES:
            svc = scenario.services[name]
            n = sum(int(rng.poisson(annual.get((name, q), 0.0))) for q in range(6))
            contacts[name].append(n)
            per[name].append(n * (svc.minutes + svc.travel_minutes) / 60)
            for q in range(6):
                q_total[q] += annual.get((name, q), 0.0)
        for q in QUINTILES:
            by_quintile[q].append(q_total[q])
    return {
        "name": demand.names.get(neighbourhood, neighbourhood),
        "contacts": {k: interval(v) for k, v in contacts.items()},
        "hours": {k: interval(v) for k, v in per.items()},
        "fte_needed": {
            k: interval(
                h / (WORKING_DAYS_A_YEAR * scenario.hours_a_day * scenario.availability.share)
                for h in v
            )
            for k, v in per.items()
        },
        "contacts_by_quintile": {str(q): interval(v) for q, v in by_quintile.items()},
    }
