"""One neighbourhood's community services as a discrete-event simulation (SimPy).

The clock runs in working hours (a working day is ``hours_a_day``; 260 working days a
year). Referrals arrive for each service type as a Poisson process whose rate follows
the service's seasonality (drawn by thinning), each from a deprivation quintile in
proportion to that quintile's demand. Staff are pools of servers (role x employer x
skills), each server one whole-time equivalent of clinically available time. A contact
may be done by any pool whose role the service's skill mix allows (in the order given)
and which has the skill it needs; an arriving contact goes to the first role with anyone
free, to that role's pool (employer) with the most free (between equals, the one given
the least work so far), and a pool that frees up takes
the longest-waiting contact it may do. A contact lasts its own
time plus travel; with some probability it books a follow-up some days later, which
queues like any other. A contact not started within the service's wait limit leaves the
queue and counts as unmet demand.

Random numbers come from one stream per service and purpose (arrivals, durations,
follow-ups), seeded by (seed, replication, service), so two scenarios compared share
their draws, and a replication gives the same answer whichever process runs it.
"""

from __future__ import annotations

import bisect
import math
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

WORKING_DAYS_A_YEAR = 260
INF = math.inf
WAITING, STARTED, GONE = 0, 1, 2


@dataclass(frozen=True)
class Pool:
    role: str
    employer: str
    skills: frozenset[str]
    servers: int


@dataclass(frozen=True)
class ServicePlan:
    name: str
    per_hour: float  # new referrals a working hour, before seasonality
    quintile_weights: tuple[float, ...]  # quintiles 0 (unknown) to 5
    hours: float  # mean contact time
    travel_hours: float
    follow_up: float  # probability of a follow-up after each contact
    follow_up_after: float  # working hours
    wait_limit: float  # working hours (INF: no limit)
    pools: tuple[int, ...]  # the pools that may do it, in order of preference
    distribution: str = "lognormal"
    # Pools of equal preference (one role's, across employers): a referral goes to the
    # one with the most free; none given, each pool is its own preference.
    groups: tuple[tuple[int, ...], ...] = ()


@dataclass(frozen=True)
class Config:
    services: tuple[ServicePlan, ...]
    pools: tuple[Pool, ...]
    hours: float  # the whole run, warm-up included
    warm_up: float
    hours_a_day: float = 7.5
    seasonality: tuple[tuple[float, ...], ...] = ()  # per service, 12 months
    start_month: int = 0  # the calendar month (0 = January) measurement starts in

    @property
    def month_hours(self) -> float:
        return WORKING_DAYS_A_YEAR / 12 * self.hours_a_day


@dataclass
class Result:
    """One replication, measured after the warm-up."""

    arrivals: dict[str, int] = field(default_factory=dict)
    started: dict[str, int] = field(default_factory=dict)
    unmet: dict[str, int] = field(default_factory=dict)
    waits: dict[str, list[float]] = field(default_factory=dict)  # working hours
    quintile_waits: dict[int, list[float]] = field(default_factory=dict)
    quintile_unmet: dict[int, int] = field(default_factory=dict)
    quintile_arrivals: dict[int, int] = field(default_factory=dict)
    busy: list[float] = field(default_factory=list)
    utilisation: list[float] = field(default_factory=list)
    backlog: list[int] = field(default_factory=list)  # waiting at each day's end
    monthly: dict[str, list[int]] = field(default_factory=dict)  # contacts per month
    in_system_area: float = 0.0
    sojourns: list[float] = field(default_factory=list)
    events: int = 0


def _stream(seed: int, replication: int, service: int, purpose: int) -> random.Random:
    state = np.random.SeedSequence([seed, replication, service, purpose]).generate_state(2)
    return random.Random(int(state[0]) << 32 | int(state[1]))


def simulate(config: Config, seed: int, replication: int) -> Result:
    env = simpy.Environment()
    n_services = len(config.services)
    free = [p.servers for p in config.pools]
    queues: list[deque[list[Any]]] = [deque() for _ in range(n_services)]
    serves: list[list[int]] = [[] for _ in config.pools]
    for s, plan in enumerate(config.services):
        for p in plan.pools:
            serves[p].append(s)
    choices = [plan.groups or tuple((p,) for p in plan.pools) for plan in config.services]
    worked = [0.0] * len(config.pools)  # hours of work given to each pool so far
    warm, end = config.warm_up, config.hours
    out = Result()
    for plan in config.services:
        out.arrivals[plan.name] = out.started[plan.name] = out.unmet[plan.name] = 0
        out.waits[plan.name] = []
        out.monthly[plan.name] = [0] * max(1, math.ceil((end - warm) / config.month_hours))
    for q in range(6):
        out.quintile_waits[q], out.quintile_unmet[q], out.quintile_arrivals[q] = [], 0, 0
    out.busy = [0.0] * len(config.pools)
    durations = [_stream(seed, replication, s, 2) for s in range(n_services)]
    follow = [_stream(seed, replication, s, 3) for s in range(n_services)]
    state: dict[str, float] = {"n": 0, "last": 0.0, "area": 0.0, "waiting": 0, "events": 0}

    def count_in_system(delta: int) -> None:
        now = env.now
        if now > warm:
            state["area"] += state["n"] * (now - max(state["last"], warm))
        state["last"] = now
        state["n"] += delta

    def duration(s: int) -> float:
        plan, rng = config.services[s], durations[s]
        if plan.distribution == "exponential":
            work = rng.expovariate(1 / plan.hours)
        else:  # a right-skewed contact time with the mean given (coefficient of variation 0.5)
            sigma = 0.47238
            work = rng.lognormvariate(math.log(plan.hours) - sigma * sigma / 2, sigma)
        travel = rng.expovariate(1 / plan.travel_hours) if plan.travel_hours else 0.0
        return work + travel

    def arrive(s: int, quintile: int) -> None:
        state["events"] += 1
        now = env.now
        # job: ready time, service, quintile, duration, state
        job = [now, s, quintile, duration(s), WAITING]
        count_in_system(+1)
        if now >= warm:
            out.arrivals[config.services[s].name] += 1
            out.quintile_arrivals[quintile] += 1
        for group in choices[s]:
            best, most = -1, 0
            for p in group:
                # The most free; between equals, the one given the least work so far.
                if free[p] > most or (free[p] == most and most and worked[p] < worked[best]):
                    best, most = p, free[p]
            if best >= 0:
                start(job, best)
                return
        queues[s].append(job)
        state["waiting"] += 1
        limit = config.services[s].wait_limit
        if limit < INF:
            env.timeout(limit).callbacks.append(lambda _e: renege(job))

    def renege(job: list[Any]) -> None:
        if job[4] != WAITING:
            return
        state["events"] += 1
        job[4] = GONE
        state["waiting"] -= 1
        count_in_system(-1)
        if job[0] >= warm:
            name = config.services[job[1]].name
            out.unmet[name] += 1
            out.quintile_unmet[job[2]] += 1
            out.sojourns.append(env.now - job[0])

    def start(job: list[Any], p: int) -> None:
        now = env.now
        free[p] -= 1
        job[4] = STARTED
        ready, s, quintile, took = job[0], job[1], job[2], job[3]
        if ready >= warm:
            name = config.services[s].name
            out.started[name] += 1
            out.waits[name].append(now - ready)
            out.quintile_waits[quintile].append(now - ready)
        worked[p] += took
        overlap = min(now + took, end) - max(now, warm)
        if overlap > 0:
            out.busy[p] += overlap
        env.timeout(took).callbacks.append(lambda _e: finish(job, p))

    def finish(job: list[Any], p: int) -> None:
        state["events"] += 1
        now = env.now
        free[p] += 1
        s = job[1]
        plan = config.services[s]
        count_in_system(-1)
        if job[0] >= warm:
            out.sojourns.append(now - job[0])
        if now >= warm:
            month = int((now - warm) // config.month_hours)
            series = out.monthly[plan.name]
            if month < len(series):
                series[month] += 1
        if plan.follow_up and follow[s].random() < plan.follow_up:
            quintile = job[2]
            env.timeout(plan.follow_up_after).callbacks.append(lambda _e: arrive(s, quintile))
        # The longest-waiting contact this pool may do.
        best: deque[list[Any]] | None = None
        for t in serves[p]:
            queue = queues[t]
            while queue and queue[0][4] != WAITING:
                queue.popleft()
            if queue and (best is None or queue[0][0] < best[0][0]):
                best = queue
        if best is not None:
            state["waiting"] -= 1
            start(best.popleft(), p)

    def arrivals(s: int) -> Any:
        plan = config.services[s]
        season = config.seasonality[s] if config.seasonality else (1.0,) * 12
        peak = plan.per_hour * max(season)
        if peak <= 0:
            return
        rng = _stream(seed, replication, s, 1)
        cumulative = list(np.cumsum(plan.quintile_weights) / sum(plan.quintile_weights))
        month_hours = config.month_hours
        while True:
            yield env.timeout(rng.expovariate(peak))
            # The warm-up runs at the first month's rate: a run-in to that month's state.
            month = (config.start_month + max(0, math.floor((env.now - warm) / month_hours))) % 12
            accept = rng.random() < season[month] / max(season)
            quintile = min(bisect.bisect_right(cumulative, rng.random()), 5)
            if accept:
                arrive(s, quintile)

    def backlog() -> Any:
        while True:
            yield env.timeout(config.hours_a_day)
            if env.now > warm:
                out.backlog.append(int(state["waiting"]))

    for s in range(n_services):
        env.process(arrivals(s))
    env.process(backlog())
    env.run(until=end)
    count_in_system(0)
    measured = end - warm
    out.utilisation = [
        b / (pool.servers * measured) if pool.servers else 0.0
        for b, pool in zip(out.busy, config.pools, strict=True)
    ]
    out.in_system_area = state["area"]
    out.events = int(state["events"])
    return out


def erlang_c_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """The mean wait in queue of an M/M/c queue (Erlang C), in the same time unit."""
    a = arrival_rate / service_rate
    rho = a / servers
    if rho >= 1:
        return INF
    top = a**servers / math.factorial(servers) / (1 - rho)
    bottom = sum(a**k / math.factorial(k) for k in range(servers)) + top
    return top / bottom / (servers * service_rate - arrival_rate)
