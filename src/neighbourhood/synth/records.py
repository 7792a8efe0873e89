"""What a partner records about a person: the truth, as of a date, with real data's defects."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neighbourhood.synth.names import nickname, typo
from neighbourhood.synth.options import DefectRates
from neighbourhood.synth.population import BoolArray, IntArray, ObjArray, Population

ID_SPACE = 100_000_000  # local identifiers are scrambled numbers below this


@dataclass
class SourceRecords:
    """One row per person-level record a partner holds (duplicates included)."""

    person: IntArray  # position in the chunk
    record_no: IntArray  # unique within the feed across the whole ICS
    duplicate: BoolArray
    nhs_number: ObjArray  # "" where missing
    given: ObjArray
    family: ObjArray
    dob: IntArray
    female: BoolArray
    lsoa: IntArray
    street: IntArray
    house_number: IntArray
    postcode: IntArray
    defects: ObjArray  # ";"-joined labels for the ground truth
    malformed: ObjArray  # "" or how the record will be broken when written

    def __len__(self) -> int:
        return len(self.person)


def local_numbers(pop: Population, person: IntArray, duplicate: BoolArray, salt: int) -> IntArray:
    """Scrambled, collision-free record numbers: a bijection of (person, duplicate)."""
    x = pop.index[person] * 2 + duplicate
    return (x * 48_271 + salt * 7_919 + 12_345) % ID_SPACE


def build_records(
    pop: Population,
    person: IntArray,
    as_of: IntArray,
    rates: DefectRates,
    sector: str,
    salt: int,
    rng: np.random.Generator,
    malformed_kinds: tuple[str, ...],
) -> SourceRecords:
    """Records for ``person`` (positions, sorted) as each partner last saw them on ``as_of``."""
    dup = rng.random(len(person)) < rates.duplicate_registration
    person = np.concatenate([person, person[dup]])
    as_of = np.concatenate([as_of, as_of[dup] - rng.integers(30, 900, int(dup.sum()))])
    duplicate = np.concatenate(
        [np.zeros(len(person) - int(dup.sum()), bool), np.ones(int(dup.sum()), bool)]
    )
    order = np.lexsort((duplicate, person))
    person, as_of, duplicate = person[order], as_of[order], duplicate[order]
    n = len(person)
    moved = (pop.move_date[person] >= 0) & (as_of >= pop.move_date[person])

    def at(after: IntArray, before: IntArray) -> IntArray:
        return np.where(moved, after[person], before[person])

    married = (pop.surname_change_date[person] >= 0) & (as_of >= pop.surname_change_date[person])
    family = np.where(married, pop.family[person], pop.birth_family[person])
    given = pop.given[person].copy()
    dob = pop.dob[person].copy()
    nhs = np.array([str(x) for x in pop.nhs_number[person].tolist()], dtype=object)
    labels: list[list[str]] = [[] for _ in range(n)]
    missing_rate = rates.nhs_number_missing[sector]
    missing = rng.random(n) < np.where(duplicate, max(missing_rate, 0.4), missing_rate)
    invalid = ~missing & (rng.random(n) < rates.nhs_number_invalid)
    for i in np.flatnonzero(invalid):
        good = nhs[i]
        nhs[i] = good[:9] + str((int(good[9]) + int(rng.integers(1, 10))) % 10)
        labels[i].append("nhs_number_invalid")
    nhs[missing] = ""
    for i in np.flatnonzero(missing):
        labels[i].append("nhs_number_missing")
    for i in np.flatnonzero(rng.random(n) < rates.nickname):
        other = nickname(rng, str(given[i]))
        if other:
            given[i] = other
            labels[i].append("nickname")
    for i in np.flatnonzero(rng.random(n) < rates.name_typo):
        if rng.random() < 0.5:
            given[i] = typo(rng, str(given[i]))
            labels[i].append("given_name_typo")
        else:
            family[i] = typo(rng, str(family[i]))
            labels[i].append("family_name_typo")
    dob = _swap_day_month(dob, rng.random(n) < rates.dob_day_month_swap, labels)
    for i in np.flatnonzero(married & (pop.birth_family[person] != pop.family[person])):
        labels[i].append("surname_changed")
    for i in np.flatnonzero(moved | (pop.move_date[person] >= 0) & ~moved):
        labels[i].append("address_changed" if moved[i] else "address_before_move")
    for i in np.flatnonzero(duplicate):
        labels[i].append("duplicate_registration")
    malformed = np.full(n, "", dtype=object)
    broken = np.flatnonzero(rng.random(n) < rates.malformed_record)
    for i in broken:
        kind = malformed_kinds[int(rng.integers(len(malformed_kinds)))]
        malformed[i] = kind
        labels[i].append(f"malformed:{kind}")
    return SourceRecords(
        person=person,
        record_no=local_numbers(pop, person, duplicate, salt),
        duplicate=duplicate,
        nhs_number=nhs,
        given=given,
        family=family,
        dob=dob,
        female=pop.sex_female[person],
        lsoa=at(pop.lsoa, pop.lsoa_before_move),
        street=at(pop.street, pop.street_before_move),
        house_number=at(pop.house_number, pop.house_number_before_move),
        postcode=at(pop.postcode, pop.postcode_before_move),
        defects=np.array([";".join(x) for x in labels], dtype=object),
        malformed=malformed,
    )


def _swap_day_month(dob: IntArray, swap: BoolArray, labels: list[list[str]]) -> IntArray:
    """Day and month transposed, where the result is still a date (day 12 or less)."""
    out = dob.copy()
    dates = dob.astype("datetime64[D]")
    years = dates.astype("datetime64[Y]")
    months = (dates.astype("datetime64[M]") - years).astype(np.int64) + 1
    days = (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1
    can = swap & (days <= 12) & (days != months)
    for i in np.flatnonzero(can):
        swapped = np.datetime64(f"{years[i]}-{days[i]:02d}-{months[i]:02d}")
        out[i] = swapped.astype(np.int64)
        labels[i].append("dob_day_month_swapped")
    return out


def assign_events_to_records(
    records: SourceRecords, event_person: IntArray, rng: np.random.Generator
) -> IntArray:
    """Which record each event was filed against: a duplicate takes about a third of them."""
    first = np.searchsorted(records.person, event_person, side="left")
    last = np.searchsorted(records.person, event_person, side="right") - 1
    to_duplicate = (last > first) & (rng.random(len(event_person)) < 0.35)
    return np.where(to_duplicate, last, first)
