"""What happens to people over the period: contacts, attendances, admissions, care.

Rates are per person-year and rise with age, ill health, deprivation and
complexity, so that about 7% of people with complex needs account for about
46% of hospital costs (seed 004). Dates are days since 1970-01-01.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neighbourhood.costs import cost_of, spell_cost
from neighbourhood.synth import catalogue as cat
from neighbourhood.synth.population import (
    BoolArray,
    FloatArray,
    IntArray,
    ObjArray,
    Period,
    Population,
)

GP_CONSULTATION_TYPES = (cat.GP_CONSULTATION, cat.TELEPHONE_CONSULTATION, cat.HOME_VISIT)
HOUSEBOUND = next(i for i, (c, _) in enumerate(cat.FRAILTY_DEFICITS) if c.display == "Housebound")
LIVES_ALONE = next(i for i, (c, _) in enumerate(cat.FRAILTY_DEFICITS) if c.display == "Lives alone")


@dataclass
class Events:
    """One kind of activity: who, when it began and ended, its code and a value."""

    kind: str
    person: IntArray
    start: IntArray
    end: IntArray
    code: ObjArray
    value: FloatArray

    def __len__(self) -> int:
        return len(self.person)

    def order(self) -> Events:
        o = np.lexsort((self.start, self.person))
        return Events(
            self.kind, self.person[o], self.start[o], self.end[o], self.code[o], self.value[o]
        )


def _events(
    kind: str,
    person: IntArray,
    start: IntArray,
    end: IntArray | None = None,
    code: ObjArray | str = "",
    value: FloatArray | None = None,
) -> Events:
    n = len(person)
    codes = code if isinstance(code, np.ndarray) else np.full(n, code, dtype=object)
    return Events(
        kind,
        person.astype(np.int64),
        start.astype(np.int64),
        (start if end is None else end).astype(np.int64),
        codes,
        np.full(n, np.nan) if value is None else value.astype(np.float64),
    )


class ActivityModel:
    def __init__(self, pop: Population, period: Period, rng: np.random.Generator) -> None:
        self.pop, self.period, self.rng = pop, period, rng
        self.first = pop.exposure_start(period)
        self.last = pop.exposure_end(period)
        self.alive = self.last >= self.first
        self.ltc = pop.n_long_term
        self.deprivation = (10 - pop.imd_decile) / 9

    # -- helpers ----------------------------------------------------------------
    def poisson(self, rate: FloatArray, mask: BoolArray | None = None) -> tuple[IntArray, IntArray]:
        """Events at ``rate`` per person-year over each person's time in the period."""
        years = np.maximum(self.last - self.first + 1, 0) / 365.25
        use = self.alive if mask is None else self.alive & mask
        counts = self.rng.poisson(np.where(use, rate * years, 0.0))
        person = np.repeat(np.arange(len(counts)), counts)
        span = (self.last - self.first + 1)[person]
        return person, self.first[person] + (self.rng.random(len(person)) * span).astype(np.int64)

    def once(self, probability: FloatArray | float, mask: BoolArray) -> tuple[IntArray, IntArray]:
        """At most one event per person in the period."""
        hit = self.alive & mask & (self.rng.random(len(mask)) < probability)
        person = np.flatnonzero(hit)
        span = (self.last - self.first + 1)[person]
        return person, self.first[person] + (self.rng.random(len(person)) * span).astype(np.int64)

    def a_condition_of(self, person: IntArray) -> ObjArray:
        """A long-term condition each person has (the reason for a visit), or none."""
        codes = np.array([c.code for c in cat.CONDITIONS], dtype=object)
        has = self.pop.conditions[person]
        pick = np.argmax(has * self.rng.random(has.shape), axis=1)
        return np.where(has.any(axis=1), codes[pick], "")

    # -- sectors ----------------------------------------------------------------
    def all(self) -> dict[str, Events]:
        out: dict[str, Events] = {}
        for batch in (
            *self.general_practice(),
            *self.acute(),
            *self.community(),
            *self.mental_health(),
            *self.social_care(),
            *self.public_health(),
            *self.vcfse(),
        ):
            out[batch.kind] = batch.order()
        return out

    def general_practice(self) -> list[Events]:
        p, age = self.pop, self.pop.age
        rate = (
            1.4
            + 0.022 * age
            + 0.55 * self.ltc
            + 2.5 * p.complex_needs
            + 1.2 * (age < 5)
            + 0.7 * (p.sex_female & (age >= 16) & (age <= 45))
        )
        person, when = self.poisson(rate)
        home = (p.frailty[person] >= 2) & (self.rng.random(len(person)) < 0.3)
        phone = ~home & (self.rng.random(len(person)) < 0.3)
        codes = np.array([c.code for c in GP_CONSULTATION_TYPES], dtype=object)
        code = codes[np.where(home, 2, np.where(phone, 1, 0))]
        adult = age >= 18
        smoke_p, smoke_t = self.once(0.8, adult)
        bmi_p, bmi_t = self.once(np.where(self.ltc > 0, 0.9, 0.4), adult)
        bmi = np.round(self.rng.normal(26.5 + 1.5 * self.deprivation[bmi_p], 4.5).clip(15, 60), 1)
        bp_p, bp_t = self.poisson(np.where(self.ltc > 0, 1.0, 0.15), adult)
        sbp = np.round(
            self.rng.normal(118 + 0.35 * age[bp_p] + 6 * p.has("hypertension")[bp_p], 14)
        )
        return [
            _events("gp_appointment", person, when, code=code),
            _events("gp_smoking_status", smoke_p, smoke_t, value=p.smoking[smoke_p].astype(float)),
            _events("gp_bmi", bmi_p, bmi_t, value=bmi),
            _events("gp_blood_pressure", bp_p, bp_t, value=sbp.clip(80, 230)),
        ]

    def acute(self) -> list[Events]:
        p, age, rng = self.pop, self.pop.age, self.rng
        cx = p.complex_needs
        age_ed = np.select([age < 5, age >= 85, age >= 75], [1.4, 1.8, 1.2], 1.0)
        ed_rate = (
            0.2
            * age_ed
            * np.exp(0.4 * self.deprivation + 0.2 * p.latent)
            * (1 + 0.15 * self.ltc)
            * np.where(cx, 2.5, 1.0)
        )
        ed_person, ed_when = self.poisson(ed_rate)
        em_rate = (
            0.02
            * np.exp(0.03 * np.maximum(age - 30, 0) + 0.3 * self.deprivation + 0.25 * p.latent)
            * (1 + 0.25 * self.ltc)
            * np.where(cx, 3.0, 1.0)
        )
        em_person, em_start = self.poisson(em_rate)
        # A readmission within 30 days follows some discharges.
        readmit = rng.random(len(em_person)) < np.where(cx[em_person], 0.18, 0.08)
        re_person = em_person[readmit]
        re_start = em_start[readmit] + rng.integers(3, 31, int(readmit.sum()))
        # Many deaths come at the end of an emergency admission.
        dies_in = np.flatnonzero((p.death_date >= 0) & (rng.random(len(p)) < 0.45))
        eol_los = rng.integers(1, 25, len(dies_in))
        eol_start = np.maximum(p.death_date[dies_in] - eol_los, self.first[dies_in])
        person = np.concatenate([em_person, re_person, dies_in])
        start = np.concatenate([em_start, re_start, eol_start])
        keep = start <= self.last[person]
        person, start = person[keep], start[keep]
        died = np.concatenate([np.zeros(len(em_person) + len(re_person)), np.ones(len(dies_in))])
        died = died[keep]
        los = self._length_of_stay(cx[person])
        end = np.where(died == 1, p.death_date[person], np.minimum(start + los, self.last[person]))
        via_ed = (died == 0) & (rng.random(len(person)) < 0.7)
        el_rate = (0.05 + 0.0015 * age) * (1 + 0.1 * self.ltc)
        el_person, el_start = self.poisson(el_rate)
        day_case = rng.random(len(el_person)) < 0.75
        el_los = np.where(day_case, 0, rng.integers(1, 6, len(el_person)))
        el_end = np.minimum(el_start + el_los, self.last[el_person])
        return [
            _events(
                "ed_attendance",
                np.concatenate([ed_person, person[via_ed]]),
                np.concatenate([ed_when, start[via_ed]]),
                code=self.a_condition_of(np.concatenate([ed_person, person[via_ed]])),
            ),
            _events("emergency_admission", person, start, end, self.a_condition_of(person), died),
            _events(
                "elective_admission",
                el_person,
                el_start,
                el_end,
                self.a_condition_of(el_person),
                day_case.astype(float),
            ),
        ]

    def _length_of_stay(self, complex_needs: BoolArray) -> IntArray:
        rng, n = self.rng, len(complex_needs)
        same_day = rng.random(n) < np.where(complex_needs, 0.15, 0.3)
        stay = np.ceil(rng.lognormal(np.log(np.where(complex_needs, 7.0, 3.5)), 0.9, n))
        return np.where(same_day, 0, np.minimum(stay, 120)).astype(np.int64)

    def community(self) -> list[Events]:
        p = self.pop
        housebound = p.deficits[:, HOUSEBOUND]
        caseload = (p.complex_needs & (p.age >= 65) & ((p.frailty >= 2) | housebound)) | (
            p.palliative_date >= 0
        )
        dn_p, dn_t = self.poisson(np.where(caseload, 10.0, 0.04), p.age >= 18)
        eol_p, eol_t = self._palliative_visits()
        person = np.concatenate([dn_p, eol_p])
        when = np.concatenate([dn_t, eol_t])
        wound = self.rng.random(len(person)) < 0.4
        dn_code = np.where(wound, cat.WOUND_CARE.code, cat.HOME_VISIT.code)
        th_p, th_t = self.poisson(0.05 + 1.2 * (p.frailty >= 2) + 0.3 * (self.ltc >= 3))
        th_code = np.where(
            self.rng.random(len(th_p)) < 0.6, cat.PHYSIOTHERAPY.code, cat.OCCUPATIONAL_THERAPY.code
        )
        return [
            _events("district_nursing_visit", person, when, code=dn_code.astype(object)),
            _events("therapy_contact", th_p, th_t, code=th_code.astype(object)),
        ]

    def _palliative_visits(self) -> tuple[IntArray, IntArray]:
        """Twice-weekly visits from the palliative register to death or the period's end."""
        p = self.pop
        on = np.flatnonzero(p.palliative_date >= 0)
        start = p.palliative_date[on]
        stop = self.last[on]
        counts = np.maximum((stop - start) * 2 // 7, 1)
        person = np.repeat(on, counts)
        offsets = np.concatenate([np.arange(c) for c in counts]) if len(counts) else np.array([])
        return person, np.repeat(start, counts) + (offsets * 7 // 2).astype(np.int64)

    def mental_health(self) -> list[Events]:
        p, rng = self.pop, self.rng
        smi = p.has("schizophrenia") | p.has("bipolar")
        cmht_p, cmht_t = self.poisson(np.where(smi, 8.0, 0.0))
        diag = np.where(p.has("schizophrenia")[cmht_p], "58214004", "13746004").astype(object)
        common = p.has("depression") | p.has("anxiety")
        course_p, course_t = self.once(0.15, common & (p.age >= 16))
        sessions = 6
        tt_p = np.repeat(course_p, sessions)
        tt_t = np.repeat(course_t, sessions) + np.tile(np.arange(sessions) * 7, len(course_p))
        keep = tt_t <= self.last[tt_p]
        tt_p, tt_t = tt_p[keep], tt_t[keep]
        tt_code = np.where(p.has("depression")[tt_p], "35489007", "197480006").astype(object)
        dementia_onset = p.onset[:, cat.CONDITION_INDEX["dementia"]]
        memory = np.flatnonzero((dementia_onset >= self.period.start) & (rng.random(len(p)) < 0.6))
        mem_t = np.minimum(
            dementia_onset[memory] + rng.integers(0, 60, len(memory)), self.last[memory]
        )
        keep = mem_t >= self.first[memory]
        return [
            _events(
                "mental_health_contact",
                np.concatenate([cmht_p, memory[keep]]),
                np.concatenate([cmht_t, mem_t[keep]]),
                code=np.concatenate([diag, np.full(int(keep.sum()), "52448006", dtype=object)]),
                value=np.concatenate([np.zeros(len(cmht_p)), np.ones(int(keep.sum()))]),
            ),
            _events("talking_therapy_session", tt_p, tt_t, code=tt_code),
        ]

    def social_care(self) -> list[Events]:
        p, rng = self.pop, self.rng
        ld = p.has("learning_disability") & (p.age >= 18)
        client = (
            p.complex_needs
            & ((p.age >= 65) | (p.palliative_date >= 0))
            & (rng.random(len(p)) < 0.55)
        ) | (ld & (rng.random(len(p)) < 0.7))
        as_p, as_t = self.once(1.0, client)
        review_t = as_t + 365
        rv = review_t <= self.last[as_p]
        package = rng.random(len(as_p)) < 0.7
        pk_p = as_p[package]
        pk_start = np.minimum(as_t[package] + rng.integers(7, 60, len(pk_p)), self.last[pk_p])
        pk_end = np.minimum(pk_start + rng.integers(42, 900, len(pk_p)), self.last[pk_p])
        hours = rng.integers(5, 26, len(pk_p)).astype(float)
        at_risk = ((p.frailty == 3) | p.has("dementia")) & (p.age >= 75)
        ch_p, ch_t = self.once(1 - np.exp(-0.08 * self.period.years), at_risk)
        return [
            _events("social_care_assessment", as_p, as_t, code="ASSESS"),
            _events("social_care_review", as_p[rv], review_t[rv], code="REVIEW"),
            _events("home_care_package", pk_p, pk_start, pk_end, code="HOMECARE", value=hours),
            _events("care_home_admission", ch_p, ch_t, self.last[ch_p], code="CAREHOME"),
        ]

    def public_health(self) -> list[Events]:
        p = self.pop
        cvd = np.logical_or.reduce(
            [
                p.has(k)
                for k in (
                    "hypertension",
                    "diabetes_t2",
                    "chd",
                    "stroke",
                    "ckd",
                    "atrial_fibrillation",
                    "heart_failure",
                )
            ]
        )
        hc_p, hc_t = self.once(0.3, (p.age >= 40) & (p.age <= 74) & ~cvd)
        sc_p, sc_t = self.once(0.1, p.smoking == 2)
        return [
            _events(
                "health_check", hc_p, hc_t, code="HEALTHCHECK", value=p.smoking[hc_p].astype(float)
            ),
            _events("smoking_cessation_episode", sc_p, sc_t, code="STOPSMOKING"),
        ]

    def vcfse(self) -> list[Events]:
        p, rng = self.pop, self.rng
        need = (
            p.has("depression")
            | p.has("anxiety")
            | p.deficits[:, LIVES_ALONE]
            | (p.frailty >= 1)
            | p.complex_needs
        )
        ref_p, ref_t = self.once(np.where(need, 0.08, 0.005), p.age >= 18)
        contacts = rng.integers(1, 6, len(ref_p))
        person = np.repeat(ref_p, contacts)
        nth = np.concatenate([np.arange(c) for c in contacts]) if len(contacts) else np.array([])
        when = np.repeat(ref_t, contacts) + (nth * 10).astype(np.int64)
        keep = when <= self.last[person]
        first = (nth == 0)[keep]
        return [
            _events(
                "social_prescribing_contact",
                person[keep],
                when[keep],
                code=np.where(first, cat.SOCIAL_PRESCRIBING.code, "").astype(object),
            )
        ]


def hospital_cost(events: dict[str, Events], n_people: int) -> FloatArray:
    """Each person's hospital cost over the period, from the reference unit costs."""
    cost = np.zeros(n_people)
    ed = events["ed_attendance"]
    np.add.at(cost, ed.person, cost_of("ed_attendance"))
    em = events["emergency_admission"]
    np.add.at(
        cost,
        em.person,
        [spell_cost("emergency_admission", int(d)) for d in (em.end - em.start).tolist()],
    )
    el = events["elective_admission"]
    el_cost = [
        cost_of("elective_day_case") if day_case else spell_cost("elective_admission", int(d))
        for day_case, d in zip(el.value.tolist(), (el.end - el.start).tolist(), strict=True)
    ]
    np.add.at(cost, el.person, el_cost)
    return cost
