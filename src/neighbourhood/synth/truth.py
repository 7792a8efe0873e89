"""The ground truth: who each synthetic person really is and which records are theirs,
written apart from the extracts so linkage and case finding can be scored against it."""

from __future__ import annotations

import numpy as np

from neighbourhood.synth import catalogue as cat
from neighbourhood.synth.dates import format_days
from neighbourhood.synth.population import (
    FloatArray,
    IntArray,
    Population,
)
from neighbourhood.synth.world import World
from neighbourhood.synth.writers import csv_text

TRUTH_PERSON_COLUMNS = (
    "person_id",
    "nhs_number",
    "given_name",
    "middle_name",
    "family_name",
    "birth_family_name",
    "sex",
    "date_of_birth",
    "age",
    "ethnicity",
    "ethnic_group",
    "lsoa",
    "neighbourhood",
    "place",
    "imd_decile",
    "practice",
    "complex_needs",
    "frailty",
    "long_term_conditions",
    "conditions",
    "palliative_care_from",
    "date_of_death",
    "moved_on",
    "surname_changed_on",
    "national_data_opt_out",
    "reasonable_adjustment",
    "hospital_cost_gbp",
)


TRUTH_RECORD_COLUMNS = ("feed", "record_type", "record_id", "person_id", "duplicate", "defects")


def truth_persons(world: World, pop: Population, cost: FloatArray) -> str:
    geo = world.geo

    def iso(days: IntArray) -> list[str]:
        return format_days(np.maximum(days, 0), "%Y-%m-%d")

    dob, death = iso(pop.dob), iso(pop.death_date)
    pal, moved, married = iso(pop.palliative_date), iso(pop.move_date), iso(pop.surname_change_date)
    neigh = geo.lsoa_neighbourhood[pop.lsoa]
    place = geo.lsoa_place[pop.lsoa]
    ltc = pop.n_long_term
    keys = [c.key for c in cat.CONDITIONS]
    person_id = pop.person_id
    rows = []
    for i in range(len(pop)):
        eth = cat.ETHNICITIES[int(pop.ethnicity[i])]
        rows.append(
            [
                person_id[i],
                str(pop.nhs_number[i]),
                pop.given[i],
                pop.middle[i],
                pop.family[i],
                pop.birth_family[i],
                "female" if pop.sex_female[i] else "male",
                dob[i],
                str(pop.age[i]),
                eth.key,
                eth.group,
                geo.lsoa_codes[pop.lsoa[i]],
                geo.neighbourhoods[neigh[i]][0],
                geo.places[place[i]][0],
                str(pop.imd_decile[i]),
                geo.organisations[int(pop.practice[i])].ods_code,
                str(int(pop.complex_needs[i])),
                cat.FRAILTY_LEVELS[int(pop.frailty[i])],
                str(ltc[i]),
                ";".join(k for k, has in zip(keys, pop.conditions[i].tolist(), strict=True) if has),
                pal[i] if pop.palliative_date[i] >= 0 else "",
                death[i] if pop.death_date[i] >= 0 else "",
                moved[i] if pop.move_date[i] >= 0 else "",
                married[i] if pop.surname_change_date[i] >= 0 else "",
                str(int(pop.opt_out[i])),
                str(int(pop.reasonable_adjustment[i])),
                f"{cost[i]:.0f}",
            ]
        )
    return csv_text(rows)
