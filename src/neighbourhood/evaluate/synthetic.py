"""A synthetic ICS with the model of care rolled out and a known effect planted, made in
memory as a Study: the gate the estimators must pass, over many seeds.

It uses synth's own population, activity and rollout (the same code that writes the
files), so what is gated is what ``neighbourhood synth --rollout`` plants; it skips
the files, ingest and linkage, which the end-to-end test covers once.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neighbourhood.evaluate.outcomes import ACS_CODES, ACTIVITIES, Events
from neighbourhood.evaluate.study import Study
from neighbourhood.phm.measures import AGE_BANDS  # the refresh's bands, as published
from neighbourhood.synth import catalogue as cat
from neighbourhood.synth.activity import ActivityModel
from neighbourhood.synth.activity import Events as SynthEvents
from neighbourhood.synth.geography import build_geography
from neighbourhood.synth.names import name_bank
from neighbourhood.synth.options import Rollout, SynthOptions
from neighbourhood.synth.population import (
    Period,
    allocate_nhs_numbers,
    build_population,
    calibrate_intercepts,
)
from neighbourhood.synth.rollout import go_live_days, plant, quintile_of, team_codes


def synthetic(people: int, seed: int, rollout: Rollout, neighbourhood_size: int = 1_000) -> Study:
    """A synthetic ICS of ``people`` in neighbourhoods of ``neighbourhood_size``."""
    options = SynthOptions(
        people=people,
        seed=seed,
        out=Path("unused-extracts"),
        truth=Path("unused-truth"),
        neighbourhood_size=neighbourhood_size,
        rollout=rollout,
    )
    names = name_bank()
    geo = build_geography(people, neighbourhood_size, seed, names)
    period = Period.of(options)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 100, 0]))
    pop = build_population(
        geo,
        options,
        period,
        calibrate_intercepts(seed),
        names,
        0,
        allocate_nhs_numbers(people, seed),
        rng,
    )
    events = ActivityModel(pop, period, rng).all()
    live_on = go_live_days(len(geo.neighbourhoods), period, rollout, seed)
    planted = plant(
        pop,
        events,
        geo.lsoa_neighbourhood,
        live_on,
        period,
        rollout,
        np.random.default_rng(np.random.SeedSequence([seed, 200, 0])),
    )
    ethnic = np.array([e.group for e in cat.ETHNICITIES], dtype=object)[pop.ethnicity]
    age_band = np.full(len(pop), "85+", dtype=object)
    for top, label in reversed(AGE_BANDS):
        age_band[pop.age < top] = label
    segment = np.where(
        pop.complex_needs,
        "complex needs",
        np.where(pop.n_long_term > 0, "long-term conditions", "mostly healthy"),
    ).astype(object)
    groups = {
        "imd_quintile": quintile_of(pop.imd_decile).astype(str).astype(object),
        "ethnic_group": ethnic,
        "age_band": age_band,
        "sex": np.where(pop.sex_female, "female", "male").astype(object),
        "disability": np.where(pop.reasonable_adjustment, "yes", "no").astype(object),
        "inclusion_health": np.full(len(pop), "none", dtype=object),
        "segment": segment,
    }
    return Study(
        ids=pop.person_id,
        neighbourhood=np.asarray(geo.lsoa_neighbourhood[pop.lsoa], dtype=np.int64),
        neighbourhoods=[
            (code, name)
            for code, (_, name, _) in zip(team_codes(geo), geo.neighbourhoods, strict=True)
        ],
        died=pop.death_date.astype(np.int64),
        groups=groups,
        adult=age_band != "0-17",
        events=_events(events),
        enrolled=planted.enrolled,
        enrolled_on=planted.enrolled_on,
        enrolled_team=planted.neighbourhood,
        first_day=period.start,
        last_day=period.end,
        source=f"synthetic ICS of {people:,} people, seed {seed}",
        truth={
            "rollout": rollout.as_dict(),
            "ratio": rollout.ratio(quintile_of(pop.imd_decile)),
            "go_live": live_on,
        },
        prevented=_events(planted.removed, every=False),
    )


def _events(found: dict[str, SynthEvents], every: bool = True) -> dict[str, Events]:
    out = {}
    for key, kinds in ACTIVITIES.items():
        parts = [found[k] for k in kinds if k in found]
        if not parts and not every:
            continue
        person = np.concatenate([p.person for p in parts]) if parts else np.zeros(0, np.int64)
        start = np.concatenate([p.start for p in parts]) if parts else np.zeros(0, np.int64)
        end = np.concatenate([p.end for p in parts]) if parts else np.zeros(0, np.int64)
        code = np.concatenate([p.code for p in parts]) if parts else np.zeros(0, object)
        acs = np.isin(code, list(ACS_CODES)) if key == "emergency_admission" else None
        out[key] = Events.of(person, start, end, acs)
    return out
