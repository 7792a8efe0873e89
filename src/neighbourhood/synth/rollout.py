"""The INT model of care rolled out across neighbourhoods, with a known effect planted.

Neighbourhoods go live in a staggered way: each on the first day of a month between
the end of the first year (so case finding has a year of history to look back on) and
a year before the period ends; some do not go live within the period, and stay as
comparators. On its go-live day a neighbourhood's team case-finds the adults whose
emergency use (emergency admissions and A&E attendances) in the year before reached
the threshold, and enrols each with the chance ``uptake``. From that day, an enrolled
person's emergency admissions, A&E attendances and care home admissions happen at
``effect`` times the rate they would have had (each such event after enrolment is kept
with that chance), with a different ratio in the most deprived quintile if asked.
People are case-found by high prior use, so regression to the mean is present: their
use falls after enrolment even where the effect is 1.

The operational history (enrolment with a care coordinator, the care plan agreed,
the first MDT review) is what the teams would have recorded, and comes back through
a feed of its own; the true effects and the events that did not happen go to the
ground truth.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import numpy as np

from neighbourhood import operational
from neighbourhood.synth.activity import Events
from neighbourhood.synth.dates import format_days
from neighbourhood.synth.geography import Geography
from neighbourhood.synth.options import Rollout
from neighbourhood.synth.population import EPOCH, BoolArray, IntArray, Period, Population
from neighbourhood.synth.world import World

# Events the model of care changes, and the outcomes the evaluation reads from them.
AFFECTED = ("emergency_admission", "ed_attendance", "care_home_admission")
PRIOR_USE = ("emergency_admission", "ed_attendance")
LOOK_BACK_DAYS = 365


def go_live_days(n_neighbourhoods: int, period: Period, rollout: Rollout, seed: int) -> IntArray:
    """Each neighbourhood's go-live day (days since 1970), or -1 if not within the period.

    Neighbourhoods go live in waves, on the first of a month, spread evenly from a year
    after the start to a year before the end; which neighbourhood joins which wave is
    drawn from the seed (so deprivation does not decide who goes first).
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 300]))
    start = EPOCH + dt.timedelta(days=int(period.start))
    months = _month_starts(start, period)
    out = np.full(n_neighbourhoods, -1, dtype=np.int64)
    first, last = 12, len(months) - 12
    if last < first:
        return out
    live = max(1, round(rollout.live_share * n_neighbourhoods))
    waves = np.unique(np.linspace(first, last, rollout.waves).round().astype(int))
    order = rng.permutation(n_neighbourhoods)
    for k, neighbourhood in enumerate(order[:live].tolist()):
        out[neighbourhood] = months[waves[k * len(waves) // live]]
    return out


def _month_starts(start: dt.date, period: Period) -> list[int]:
    out, month = [], start.replace(day=1)
    while (month - EPOCH).days <= period.end:
        if (month - EPOCH).days >= period.start:
            out.append((month - EPOCH).days)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return out


@dataclass
class Planted:
    """One chunk's rollout: who was enrolled and when, and the events taken away."""

    enrolled: IntArray  # positions in the chunk
    enrolled_on: IntArray
    neighbourhood: IntArray  # of each enrolled person
    removed: dict[str, Events] = field(default_factory=dict)


def neighbourhood_on(pop: Population, lsoa_neighbourhood: IntArray, day: IntArray) -> IntArray:
    """Where each person lived on ``day`` (their address before a move, if later)."""
    before = (pop.move_date >= 0) & (pop.move_date > day)
    return np.asarray(lsoa_neighbourhood[np.where(before, pop.lsoa_before_move, pop.lsoa)])


def plant(
    pop: Population,
    events: dict[str, Events],
    lsoa_neighbourhood: IntArray,
    live_on: IntArray,
    period: Period,
    rollout: Rollout,
    rng: np.random.Generator,
) -> Planted:
    """Enrol the case-found people of each live neighbourhood and change their events.

    ``events`` is changed in place: events that the model of care prevented are taken
    out (and returned, for the ground truth)."""
    n = len(pop)
    enrolled_on = np.full(n, -1, dtype=np.int64)
    home = np.full(n, -1, dtype=np.int64)
    for day in sorted({int(d) for d in live_on.tolist() if d >= 0}):
        where = neighbourhood_on(pop, lsoa_neighbourhood, np.full(n, day))
        going = np.isin(where, np.flatnonzero(live_on == day))
        alive = (pop.death_date < 0) | (pop.death_date > day)
        adult = (day - pop.dob) >= rollout.min_age * 365.25
        prior = np.zeros(n, dtype=np.int64)
        for kind in PRIOR_USE:
            e = events[kind]
            window = (e.start >= day - LOOK_BACK_DAYS) & (e.start < day)
            np.add.at(prior, e.person[window], 1)
        found = going & alive & adult & (prior >= rollout.threshold) & (enrolled_on < 0)
        enrol = found & (rng.random(n) < rollout.uptake)
        enrolled_on[enrol] = day
        home[enrol] = where[enrol]
    ratio = rollout.ratio(quintile_of(pop.imd_decile))
    removed: dict[str, Events] = {}
    for kind in AFFECTED:
        e = events[kind]
        since = enrolled_on[e.person]
        after = (since >= 0) & (e.start >= since)
        drop = after & (rng.random(len(e)) >= ratio[e.person])
        removed[kind] = _subset(e, drop)
        events[kind] = _subset(e, ~drop)
    who = np.flatnonzero(enrolled_on >= 0)
    return Planted(who, enrolled_on[who], home[who], removed)


def team_codes(geo: Geography) -> list[str]:
    """Each neighbourhood's code as the refresh and the teams know it: its primary care
    network's ODS code (a person's neighbourhood is their practice's network)."""
    codes = [o.ods_code for o in geo.orgs("pcn")]
    assert len(codes) == len(geo.neighbourhoods), "one network a neighbourhood"
    return codes


def quintile_of(imd_decile: IntArray) -> IntArray:
    return np.asarray((imd_decile + 1) // 2, dtype=np.int64)


def _subset(e: Events, keep: BoolArray) -> Events:
    return Events(e.kind, e.person[keep], e.start[keep], e.end[keep], e.code[keep], e.value[keep])


# The teams' record of each enrolled person: (activity words, earliest and latest day
# after enrolment).
RECORDED = (
    ("Enrolment", 0, 0),
    ("Assessment", 3, 14),
    ("Care plan agreed", 7, 28),
    ("MDT review", 14, 42),
)


def operational_rows(
    pop: Population,
    planted: Planted,
    neighbourhood_codes: list[str],
    period: Period,
    rng: np.random.Generator,
) -> tuple[str, str]:
    """The teams' record of this chunk's enrolled people, in the operational feed's
    shape: its people file and its activity file (no headers)."""
    who = planted.enrolled
    if not len(who):
        return "", ""
    record = [f"INT{i + 1:08d}" for i in pop.index[who].tolist()]
    dob = format_days(pop.dob[who], operational.DATE_FORMAT)
    sex = np.where(pop.sex_female[who], "F", "M").tolist()
    people = [
        [r, str(n), d, s, ""]
        for r, n, d, s in zip(record, pop.nhs_number[who].tolist(), dob, sex, strict=True)
    ]
    last = np.where(pop.death_date[who] >= 0, pop.death_date[who], period.end)
    last = np.minimum(last, period.end)
    rows: list[list[str]] = []
    for words, low, high in RECORDED:
        day = planted.enrolled_on + rng.integers(low, high + 1, len(who))
        keep = day <= last
        dates = format_days(day, operational.DATE_FORMAT)
        for k, (r, d, n, i) in enumerate(
            zip(record, dates, planted.neighbourhood.tolist(), pop.index[who].tolist(), strict=True)
        ):
            if keep[k]:
                event_id = f"INT{i + 1:08d}-{words[:3].upper()}"
                rows.append([event_id, r, d, "", words, neighbourhood_codes[n]])
    return operational.csv_text(people), operational.csv_text(rows)


def truth_rows(pop: Population, planted: Planted, codes: list[str]) -> tuple[str, str]:
    """The ground truth of this chunk: who was enrolled, when and where; and each event
    the model of care prevented."""
    ids = pop.person_id
    enrolled = [
        [ids[p], codes[n], str(d)]
        for p, n, d in zip(
            planted.enrolled.tolist(),
            planted.neighbourhood.tolist(),
            format_days(planted.enrolled_on, "%Y-%m-%d"),
            strict=True,
        )
    ]
    removed = [
        [ids[p], kind, s, e]
        for kind, ev in planted.removed.items()
        for p, s, e in zip(
            ev.person.tolist(),
            format_days(ev.start, "%Y-%m-%d"),
            format_days(ev.end, "%Y-%m-%d"),
            strict=True,
        )
    ]
    return operational.csv_text(enrolled), operational.csv_text(removed)


TRUTH_ENROLLED = ("person_id", "neighbourhood", "enrolled_on")
TRUTH_PREVENTED = ("person_id", "activity", "start_date", "end_date")


def write_rollout_start(world: World) -> None:
    """Before the chunks: the operational feed's headers, the truth files' headers, and
    the rollout itself (each neighbourhood's go-live, the true effects)."""
    options, rollout, live_on = world.options, world.options.rollout, world.live_on
    assert rollout is not None and live_on is not None
    operational.write_headers(options.out / operational.SOURCE_ID)
    for name, columns in (
        ("evaluation_enrolled.csv", TRUTH_ENROLLED),
        ("evaluation_prevented.csv", TRUTH_PREVENTED),
    ):
        (options.truth / world.suffix(name)).write_bytes(
            world.pack(operational.csv_text([columns]))
        )
    go_live = {
        code: (None if day < 0 else format_days(np.array([day]), "%Y-%m-%d")[0])
        for code, day in zip(team_codes(world.geo), live_on.tolist(), strict=True)
    }
    truth = {
        "rollout": rollout.as_dict(),
        "go_live": go_live,
        "effects": {
            "rate_ratio": {kind: rollout.effect for kind in AFFECTED},
            "rate_ratio_imd_quintile_1": {
                kind: rollout.effect
                if rollout.effect_most_deprived is None
                else rollout.effect_most_deprived
                for kind in AFFECTED
            },
            "unaffected": "deaths, elective admissions, GP appointments (rate ratio 1)",
        },
        "case_finding": {
            "rule": "emergency admissions and A&E attendances in the year before go-live",
            "threshold": rollout.threshold,
            "look_back_days": LOOK_BACK_DAYS,
            "min_age": rollout.min_age,
            "uptake": rollout.uptake,
        },
    }
    (options.truth / "evaluation.json").write_text(json.dumps(truth, indent=1) + "\n")
