"""Who each person is, as every figure is broken down: age and age band, deprivation,
ethnic group, the national data opt-out, inclusion health groups and disability.

Rules checked (ADR 8, ADR 9):
- age in whole years on the as-of date (a birthday tomorrow is not yet counted);
- age bands 0-17, 18-44, 45-64, 65-74, 75-84, 85+;
- deprivation: the IMD 2019 decile of the LSOA of the person's postcode (written in any
  case, with or without its space); the quintile is (decile + 1) // 2, 1 most deprived;
- ethnic group: the NHS Data Dictionary's code (any case) or the ONS 2021 label's broad
  group; anything else "Not stated";
- inclusion health: a coded group, else Gypsy, Roma and Traveller communities from an
  ONS 2021 label; a reasonable adjustment flag counts whenever it was recorded.
"""

from __future__ import annotations

import datetime as dt

from tests.spec.conftest import Engine, on_both_engines
from tests.support.population import Population, born

OPTED_OUT = "9434765919"


@on_both_engines
def test_age_and_age_band(engine: Engine) -> None:
    pop = Population()
    pop.person("birthday_tomorrow", date_of_birth=born(18, days_after_birthday=-1))
    for age in (0, 17, 18, 44, 45, 64, 65, 74, 75, 84, 85, 103):
        pop.person(f"age_{age}", date_of_birth=born(age, days_after_birthday=100))
    pop.person("leap_day", date_of_birth=dt.date(2000, 2, 29))
    measured = engine.measures(pop)
    assert {p: (m["age"], m["age_band"]) for p, m in measured.items()} == {
        "birthday_tomorrow": (17, "0-17"),
        "age_0": (0, "0-17"),
        "age_17": (17, "0-17"),
        "age_18": (18, "18-44"),
        "age_44": (44, "18-44"),
        "age_45": (45, "45-64"),
        "age_64": (64, "45-64"),
        "age_65": (65, "65-74"),
        "age_74": (74, "65-74"),
        "age_75": (75, "75-84"),
        "age_84": (84, "75-84"),
        "age_85": (85, "85+"),
        "age_103": (103, "85+"),
        "leap_day": (26, "18-44"),
    }


@on_both_engines
def test_deprivation_ethnicity_opt_out_and_inclusion(engine: Engine) -> None:
    pop = Population()
    pop.lives_in("LS11AA", lsoa="E01000001", imd_decile=1)
    pop.lives_in("LS12AB", lsoa="E01000002", imd_decile=4)
    pop.lives_in("LS13AC", lsoa="E01000003", imd_decile=10)
    pop.person("most_deprived", postcode="ls1 1aa", ethnicity="A")
    pop.person("decile_4", postcode="LS1 2AB", ethnicity="m")
    pop.person("least_deprived", postcode="LS13AC", ethnicity="Asian or Asian British: Indian")
    pop.person("unknown_postcode", postcode="ZZ9 9ZZ", ethnicity="Martian")
    pop.person("no_postcode", ethnicity=None, nhs_number=OPTED_OUT).opted_out(OPTED_OUT)
    pop.person("traveller", ethnicity="White: Gypsy or Irish Traveller")
    pop.person("homeless_roma", ethnicity="White: Roma").diagnosed("homeless_roma", "Homeless")
    pop.person("flagged").event("flagged", "reasonable_adjustment_flag", days_ago=-30)
    measured = engine.measures(pop)
    assert {
        p: (m["lsoa"], m["imd_decile"], m["imd_quintile"], m["ethnic_group"])
        for p, m in measured.items()
    } == {
        "most_deprived": ("E01000001", 1, 1, "White"),
        "decile_4": ("E01000002", 4, 2, "Black, Black British, Caribbean or African"),
        "least_deprived": ("E01000003", 10, 5, "Asian or Asian British"),
        "unknown_postcode": (None, None, None, "Not stated"),
        "no_postcode": (None, None, None, "Not stated"),
        "traveller": (None, None, None, "White"),
        "homeless_roma": (None, None, None, "White"),
        "flagged": (None, None, None, "Not stated"),
    }
    assert {
        p: (m["opted_out"], m["inclusion_health"], m["reasonable_adjustment"])
        for p, m in measured.items()
        if m["opted_out"] or m["inclusion_health"] or m["reasonable_adjustment"]
    } == {
        "no_postcode": (True, None, False),
        "traveller": (False, "Gypsy, Roma and Traveller communities", False),
        "homeless_roma": (False, "people experiencing homelessness", False),
        "flagged": (False, None, True),
    }


@on_both_engines
def test_activity_and_cost_in_the_last_twelve_months(engine: Engine) -> None:
    pop = Population()
    pop.person("ann")
    pop.event("ann", "emergency_admission", sector="acute", cost_gbp=1200.10, days_ago=0)
    pop.event("ann", "ed_attendance", sector="acute", cost_gbp=150.25, days_ago=364)
    pop.event("ann", "ed_attendance", sector="acute", cost_gbp=150.25, days_ago=365)
    pop.event("ann", "contact", sector="community", cost_gbp=45.33, days_ago=10)
    pop.event("ann", "contact", sector="community", cost_gbp=99.0, days_ago=-1)
    pop.person("no_activity")
    measured = engine.measures(pop)
    assert {
        p: (
            m["ed_attendances_12m"],
            m["emergency_admissions_12m"],
            m["cost_12m"],
            m["hospital_cost_12m"],
        )
        for p, m in measured.items()
    } == {"ann": (1, 1, 1395.68, 1350.35), "no_activity": (0, 0, 0.0, 0.0)}
