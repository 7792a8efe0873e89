"""The people of the ICS: who they are, where they live, and how healthy they are.

Everything here is the truth about a person; what each partner *records* about
them (with its defects) is made from it in :mod:`neighbourhood.synth.records`.
Arrays are one row per person of a chunk; dates are days since 1970-01-01.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from neighbourhood.standards.nhs_number import check_digits
from neighbourhood.synth.catalogue import (
    AGE_BANDS_PERCENT,
    CONDITION_INDEX,
    CONDITIONS,
    EFI_DEFICIT_COUNT,
    ETHNICITIES,
    FRAILTY_DEFICITS,
    SEVERE_MENTAL_ILLNESS,
)
from neighbourhood.synth.geography import POSTCODES_PER_LSOA, STREETS_PER_LSOA, Geography
from neighbourhood.synth.names import NameBank
from neighbourhood.synth.options import SynthOptions

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
ObjArray = npt.NDArray[np.object_]

EPOCH = dt.date(1970, 1, 1)
NONE = -1  # a date that did not happen
NHS_NUMBER_RANGE_START = 990_000_000  # first nine digits; 999 is NHS England's test range
NHS_NUMBER_RANGE_SIZE = 10_000_000
INCIDENT_SHARE = 0.12  # of people with a condition, the share first diagnosed in the period
COMPLEX_MULTIMORBIDITY = 4  # long-term conditions that make needs complex on their own
DEATH_LOG_HAZARD = (-10.6, 0.095)  # annual mortality: exp(a + b * age)
OPT_OUT_RATE = 0.05


def day(d: dt.date) -> int:
    return (d - EPOCH).days


@dataclass
class Period:
    start: int
    end: int

    @classmethod
    def of(cls, options: SynthOptions) -> Period:
        return cls(day(options.start_date), day(options.end_date))

    @property
    def years(self) -> float:
        return (self.end - self.start + 1) / 365.25


@dataclass
class Population:
    """One chunk of people; ``index`` is each person's number in the whole ICS."""

    index: IntArray
    nhs_number: IntArray
    sex_female: BoolArray
    age: IntArray
    dob: IntArray
    ethnicity: IntArray
    locale: ObjArray
    given: ObjArray
    middle: ObjArray
    family: ObjArray
    birth_family: ObjArray
    surname_change_date: IntArray
    lsoa: IntArray
    lsoa_before_move: IntArray
    move_date: IntArray
    house_number: IntArray
    house_number_before_move: IntArray
    street: IntArray
    street_before_move: IntArray
    postcode: IntArray
    postcode_before_move: IntArray
    practice: IntArray
    imd_decile: IntArray
    latent: FloatArray
    conditions: BoolArray  # person x condition
    onset: IntArray  # person x condition, NONE where absent
    deficits: BoolArray  # person x frailty deficit
    frailty: IntArray  # 0 fit, 1 mild, 2 moderate, 3 severe
    frailty_coded: BoolArray
    smoking: IntArray  # 0 never, 1 ex, 2 current (adults)
    complex_needs: BoolArray
    palliative_date: IntArray
    death_date: IntArray
    opt_out: BoolArray
    reasonable_adjustment: BoolArray
    carers: IntArray  # rows of (carer, cared-for) positions in this chunk

    def __len__(self) -> int:
        return len(self.index)

    @property
    def person_id(self) -> ObjArray:
        return np.array([f"P{i + 1:08d}" for i in self.index.tolist()], dtype=object)

    @property
    def n_long_term(self) -> IntArray:
        ltc = np.array([c.long_term for c in CONDITIONS])
        return np.asarray(self.conditions[:, ltc].sum(axis=1), dtype=np.int64)

    def has(self, key: str) -> BoolArray:
        return self.conditions[:, CONDITION_INDEX[key]]

    def exposure_end(self, period: Period) -> IntArray:
        return np.where(self.death_date >= 0, self.death_date, period.end)

    def exposure_start(self, period: Period) -> IntArray:
        return np.maximum(self.dob, period.start)


def allocate_nhs_numbers(count: int, seed: int) -> IntArray:
    """``count`` distinct valid NHS numbers, in a scrambled but reproducible order."""
    slots = np.arange(int(count * 1.12) + 1_000, dtype=np.int64)
    offset = (seed * 2_654_435_761) % NHS_NUMBER_RANGE_SIZE
    first_nine = NHS_NUMBER_RANGE_START + (slots * 7_654_321 + offset) % NHS_NUMBER_RANGE_SIZE
    check = check_digits(first_nine)
    valid = check != 10
    numbers = first_nine[valid] * 10 + check[valid]
    if len(numbers) < count:
        raise ValueError(f"cannot allocate {count:,} synthetic NHS numbers")
    return np.asarray(numbers[:count], dtype=np.int64)


def calibrate_intercepts(seed: int) -> FloatArray:
    """Condition intercepts that give each its target prevalence in our age structure."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2]))
    n = 40_000
    age = _draw_ages(rng, n)
    dep = rng.random(n)
    latent = rng.standard_normal(n)
    out = np.empty(len(CONDITIONS))
    for i, c in enumerate(CONDITIONS):
        linear = c.age_slope * (age - 50) / 10 + c.deprivation * dep + c.latent * latent
        eligible = age >= c.min_age
        lo, hi = -20.0, 10.0
        for _ in range(50):
            mid = (lo + hi) / 2
            prevalence = np.mean(eligible / (1 + np.exp(-(mid + linear))))
            lo, hi = (mid, hi) if prevalence < c.prevalence else (lo, mid)
        out[i] = (lo + hi) / 2
    return out


def _draw_ages(rng: np.random.Generator, n: int) -> IntArray:
    bands = np.array(AGE_BANDS_PERCENT) / sum(AGE_BANDS_PERCENT)
    band = rng.choice(len(bands), size=n, p=bands)
    age = band * 5 + rng.integers(0, 5, n)
    oldest = band == len(bands) - 1
    age[oldest] = 90 + np.minimum(rng.geometric(0.25, oldest.sum()) - 1, 14)
    return age.astype(np.int64)


def build_population(
    geo: Geography,
    options: SynthOptions,
    period: Period,
    intercepts: FloatArray,
    names: NameBank,
    first: int,
    nhs_numbers: IntArray,
    rng: np.random.Generator,
) -> Population:
    n = len(nhs_numbers)
    index = np.arange(first, first + n, dtype=np.int64)
    lsoa = rng.choice(len(geo.lsoa_codes), size=n, p=geo.lsoa_weight)
    age = _draw_ages(rng, n)
    dob = period.end - np.floor(age * 365.25).astype(np.int64) - rng.integers(0, 365, n)
    female = rng.random(n) < 0.5 + 0.12 * (age >= 80)
    decile = geo.lsoa_imd_decile[lsoa]
    deprivation = (10 - decile) / 9
    ethnicity = _draw_ethnicity(rng, age, decile)
    latent = rng.standard_normal(n)
    conditions, onset = _draw_conditions(rng, intercepts, age, dob, deprivation, latent, period)
    deficits, frailty = _draw_frailty(rng, age, deprivation, latent, conditions)
    smoking = _draw_smoking(rng, age, deprivation)
    ltc = conditions[:, [c.long_term for c in CONDITIONS]].sum(axis=1)
    complex_needs = _complex_needs(conditions, frailty, ltc, age, latent)
    death_date = _draw_deaths(rng, age, latent, complex_needs, dob, period)
    palliative_date = _draw_palliative(rng, conditions, frailty, death_date, period)
    complex_needs |= palliative_date >= 0
    locale = _locales(rng, ethnicity)
    given, middle, family = _names(rng, names, locale, female)
    birth_family = family.copy()
    married = female & (age >= 20) & (age <= 50) & (rng.random(n) < options.defects.surname_change)
    surname_change = np.where(married, _uniform_dates(rng, period.start, period.end, n), NONE)
    for i in np.flatnonzero(married):
        family[i] = names.surname(rng, "en_GB" if rng.random() < 0.6 else str(locale[i]))
    moved = rng.random(n) < options.defects.address_change
    move_date = np.where(moved, _uniform_dates(rng, period.start, period.end, n), NONE)
    lsoa_before = lsoa.copy()
    lsoa_before[moved] = rng.choice(len(geo.lsoa_codes), size=moved.sum(), p=geo.lsoa_weight)
    practice = _practices(rng, geo, lsoa_before)
    street, postcode, house = _addresses(rng, n)
    street_b, postcode_b, house_b = _addresses(rng, n)
    same = ~moved
    street_b[same], postcode_b[same], house_b[same] = street[same], postcode[same], house[same]
    ld = conditions[:, CONDITION_INDEX["learning_disability"]]
    dementia = conditions[:, CONDITION_INDEX["dementia"]]
    adjust_p = np.where(ld, 0.8, np.where(dementia, 0.3, np.where(frailty == 3, 0.2, 0.015)))
    pop = Population(
        index=index,
        nhs_number=nhs_numbers,
        sex_female=female,
        age=age,
        dob=dob,
        ethnicity=ethnicity,
        locale=locale,
        given=given,
        middle=middle,
        family=family,
        birth_family=birth_family,
        surname_change_date=surname_change,
        lsoa=lsoa,
        lsoa_before_move=lsoa_before,
        move_date=move_date,
        house_number=house,
        house_number_before_move=house_b,
        street=street,
        street_before_move=street_b,
        postcode=postcode,
        postcode_before_move=postcode_b,
        practice=practice,
        imd_decile=decile,
        latent=latent,
        conditions=conditions,
        onset=onset,
        deficits=deficits,
        frailty=frailty,
        frailty_coded=(frailty > 0) & (rng.random(n) < 0.7),
        smoking=smoking,
        complex_needs=complex_needs,
        palliative_date=palliative_date,
        death_date=death_date,
        opt_out=rng.random(n) < OPT_OUT_RATE,
        reasonable_adjustment=rng.random(n) < adjust_p,
        carers=np.empty((0, 2), dtype=np.int64),
    )
    pop.carers = _draw_carers(rng, pop)
    return pop


def _uniform_dates(rng: np.random.Generator, start: int, end: int, n: int) -> IntArray:
    return rng.integers(start, end + 1, n).astype(np.int64)


def _draw_ethnicity(rng: np.random.Generator, age: IntArray, decile: IntArray) -> IntArray:
    """ONS 2021 categories; older people and less deprived areas are more often White British."""
    share = np.array([e.share for e in ETHNICITIES])
    white_british = np.array([e.key == "white_british" for e in ETHNICITIES])
    mixed = np.array([e.group == "Mixed or Multiple" for e in ETHNICITIES])
    out = np.empty(len(age), dtype=np.int64)
    age_group = np.digitize(age, [18, 65])
    for g, (wb_age, mixed_age) in enumerate(((0.85, 2.0), (0.95, 1.0), (1.6, 0.4))):
        for d in range(1, 11):
            mask = (age_group == g) & (decile == d)
            if not mask.any():
                continue
            w = share * np.where(white_british, wb_age * (0.7 + 0.06 * d), 1.0)
            w = w * np.where(mixed, mixed_age, 1.0)
            out[mask] = rng.choice(len(w), size=int(mask.sum()), p=w / w.sum())
    return out


def _draw_conditions(
    rng: np.random.Generator,
    intercepts: FloatArray,
    age: IntArray,
    dob: IntArray,
    deprivation: FloatArray,
    latent: FloatArray,
    period: Period,
) -> tuple[BoolArray, IntArray]:
    n, k = len(age), len(CONDITIONS)
    has = np.zeros((n, k), dtype=bool)
    onset = np.full((n, k), NONE, dtype=np.int64)
    for i, c in enumerate(CONDITIONS):
        linear = intercepts[i] + c.age_slope * (age - 50) / 10 + c.deprivation * deprivation
        p = 1 / (1 + np.exp(-(linear + c.latent * latent)))
        has[:, i] = (age >= c.min_age) & (rng.random(n) < p)
        earliest = np.maximum(dob + int(c.min_age * 365.25), dob + 1)
        incident = rng.random(n) < INCIDENT_SHARE
        before = earliest + (rng.random(n) * np.maximum(period.start - earliest, 1)).astype(
            np.int64
        )
        during = np.maximum(earliest, period.start) + (
            rng.random(n) * np.maximum(period.end - np.maximum(earliest, period.start), 1)
        ).astype(np.int64)
        when = np.where(incident | (earliest >= period.start), during, before)
        onset[:, i] = np.where(has[:, i], np.minimum(when, period.end), NONE)
    return has, onset


def _draw_frailty(
    rng: np.random.Generator,
    age: IntArray,
    deprivation: FloatArray,
    latent: FloatArray,
    conditions: BoolArray,
) -> tuple[BoolArray, IntArray]:
    """Deficits accumulate with age, ill health and deprivation; frailty is an eFI-like count."""
    n = len(age)
    deficits = np.zeros((n, len(FRAILTY_DEFICITS)), dtype=bool)
    older = age >= 50
    for j, (_concept, share_at_75) in enumerate(FRAILTY_DEFICITS):
        base = np.log(share_at_75 / (1 - share_at_75))
        linear = base + 0.8 * (age - 75) / 10 + 0.7 * latent + 0.4 * deprivation
        deficits[:, j] = older & (rng.random(n) < 1 / (1 + np.exp(-linear)))
    ltc = conditions[:, [c.long_term for c in CONDITIONS]].sum(axis=1)
    efi = (deficits.sum(axis=1) + ltc) / EFI_DEFICIT_COUNT
    frailty = np.digitize(efi, [0.12, 0.24, 0.36]).astype(np.int64)
    frailty[age < 65] = 0
    return deficits, frailty


def _draw_smoking(rng: np.random.Generator, age: IntArray, deprivation: FloatArray) -> IntArray:
    u = rng.random(len(age))
    current = 0.07 + 0.14 * deprivation
    ex = 0.1 + 0.25 * np.clip((age - 18) / 60, 0, 1)
    status = np.where(u < current, 2, np.where(u < current + ex, 1, 0))
    return np.where(age >= 16, status, 0).astype(np.int64)


def _complex_needs(
    conditions: BoolArray, frailty: IntArray, ltc: IntArray, age: IntArray, latent: FloatArray
) -> BoolArray:
    """The cohort of seed 004: frailty, dementia, complex multimorbidity, and the like."""
    c = {key: conditions[:, i] for key, i in CONDITION_INDEX.items()}
    smi = np.logical_or.reduce([c[k] for k in SEVERE_MENTAL_ILLNESS])
    complex_needs: BoolArray = (
        (frailty >= 2)
        | c["dementia"]
        | c["learning_disability"] & (latent > 0)
        | (ltc >= COMPLEX_MULTIMORBIDITY)
        | (ltc >= COMPLEX_MULTIMORBIDITY - 1) & (latent > 0.8)
        | smi & (ltc >= 2)
        | (age < 18) & (c["epilepsy"] | c["learning_disability"]) & (latent > 1)
    )
    return complex_needs


def _draw_deaths(
    rng: np.random.Generator,
    age: IntArray,
    latent: FloatArray,
    complex_needs: BoolArray,
    dob: IntArray,
    period: Period,
) -> IntArray:
    a, b = DEATH_LOG_HAZARD
    hazard = np.exp(a + b * age + 0.2 * latent) * np.where(complex_needs, 2.0, 1.0)
    dies = rng.random(len(age)) < 1 - np.exp(-hazard * period.years)
    when = np.maximum(_uniform_dates(rng, period.start, period.end, len(age)), dob + 1)
    return np.where(dies & (when <= period.end), when, NONE)


def _draw_palliative(
    rng: np.random.Generator,
    conditions: BoolArray,
    frailty: IntArray,
    death_date: IntArray,
    period: Period,
) -> IntArray:
    """Most people dying of cancer, frailty, dementia or organ failure are on a palliative register."""
    c = {key: conditions[:, i] for key, i in CONDITION_INDEX.items()}
    expected = c["cancer"] | c["dementia"] | c["heart_failure"] | c["copd"] | (frailty >= 2)
    dying = (death_date >= 0) & (rng.random(len(death_date)) < np.where(expected, 0.7, 0.2))
    lead = rng.integers(14, 365, len(death_date))
    start = np.maximum(death_date - lead, period.start)
    return np.where(dying, start, NONE)


def _locales(rng: np.random.Generator, ethnicity: IntArray) -> ObjArray:
    out = np.empty(len(ethnicity), dtype=object)
    for e, eth in enumerate(ETHNICITIES):
        mask = ethnicity == e
        locales = np.array(eth.name_locales, dtype=object)
        out[mask] = locales[rng.integers(0, len(locales), int(mask.sum()))]
    return out


def _names(
    rng: np.random.Generator, names: NameBank, locale: ObjArray, female: BoolArray
) -> tuple[ObjArray, ObjArray, ObjArray]:
    n = len(locale)
    given = np.empty(n, dtype=object)
    middle = np.full(n, "", dtype=object)
    family = np.empty(n, dtype=object)
    for loc in sorted(set(locale.tolist())):
        for is_female, table in ((True, names.female[loc]), (False, names.male[loc])):
            mask = (locale == loc) & (female == is_female)
            k = int(mask.sum())
            firsts = np.array(table, dtype=object)
            given[mask] = firsts[rng.integers(0, len(firsts), k)]
            middles = firsts[rng.integers(0, len(firsts), k)]
            middle[mask] = np.where(rng.random(k) < 0.35, middles, "")
        mask = locale == loc
        surnames = np.array(names.family[loc], dtype=object)
        family[mask] = surnames[rng.integers(0, len(surnames), int(mask.sum()))]
    middle[middle == given] = ""
    return given, middle, family


def _practices(rng: np.random.Generator, geo: Geography, lsoa: IntArray) -> IntArray:
    """Most people register with a practice in their neighbourhood."""
    neighbourhood = geo.lsoa_neighbourhood[lsoa]
    out = np.empty(len(lsoa), dtype=np.int64)
    for n, practices in enumerate(geo.practices_by_neighbourhood):
        mask = neighbourhood == n
        options = np.array(practices, dtype=np.int64)
        out[mask] = options[rng.integers(0, len(options), int(mask.sum()))]
    return out


def _addresses(rng: np.random.Generator, n: int) -> tuple[IntArray, IntArray, IntArray]:
    """A street, a postcode and a house number within an LSOA."""
    return (
        rng.integers(0, STREETS_PER_LSOA, n),
        rng.integers(0, POSTCODES_PER_LSOA, n),
        rng.integers(1, 240, n),
    )


def _draw_carers(rng: np.random.Generator, pop: Population) -> IntArray:
    """Unpaid carers for half of older or disabled people with complex needs; 7% are children."""
    ld = pop.has("learning_disability")
    cared = np.flatnonzero(
        pop.complex_needs & ((pop.age >= 65) | ld) & (rng.random(len(pop)) < 0.5)
    )
    adults = np.flatnonzero((pop.age >= 18) & (pop.age < 85))
    children = np.flatnonzero((pop.age >= 8) & (pop.age < 18))
    if len(cared) == 0 or len(adults) == 0:
        return np.empty((0, 2), dtype=np.int64)
    young = (rng.random(len(cared)) < 0.07) & (len(children) > 0)
    carer = adults[rng.integers(0, len(adults), len(cared))]
    if young.any():
        carer[young] = children[rng.integers(0, len(children), int(young.sum()))]
    keep = carer != cared
    return np.stack([carer[keep], cared[keep]], axis=1)
