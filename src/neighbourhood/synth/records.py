"""What a partner records about a person: the truth, as of a date, with real data's defects."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from neighbourhood.synth.corruption import (
    abbreviate_street,
    mistype_date,
    mistype_postcode,
    ocr,
    phonetic,
)
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
    given: ObjArray  # "" where missing
    family: ObjArray
    dob: IntArray
    dob_missing: BoolArray
    female: BoolArray
    lsoa: IntArray
    street: IntArray
    house_number: IntArray
    postcode: IntArray
    address_line: ObjArray  # house number and street as the partner wrote them
    postcode_text: ObjArray  # as written, "" where missing
    defects: ObjArray  # ";"-joined labels for the ground truth
    malformed: ObjArray  # "" or how the record will be broken when written

    def __len__(self) -> int:
        return len(self.person)


MAX_DUPLICATES = 4  # more records a duplicated person can have (ADR 15)


def local_numbers(pop: Population, person: IntArray, copy: IntArray, salt: int) -> IntArray:
    """Scrambled, collision-free record numbers: a bijection of (person, copy)."""
    x = pop.index[person] * (MAX_DUPLICATES + 1) + copy
    return (x * 48_271 + salt * 7_919 + 12_345) % ID_SPACE


def _with_duplicates(
    person: IntArray, as_of: IntArray, rate: float, rng: np.random.Generator
) -> tuple[IntArray, IntArray, IntArray]:
    """Each record, and for some people one to four more, each seen a little earlier:
    (person, as_of, copy) sorted by person then copy, copy 0 being the first record."""
    extra = np.where(
        rng.random(len(person)) < rate,
        np.minimum(rng.geometric(0.6, len(person)), MAX_DUPLICATES),
        0,
    )
    copies = np.repeat(np.arange(len(person)), extra + 1)
    copy = np.arange(len(copies)) - np.repeat(np.cumsum(extra + 1) - (extra + 1), extra + 1)
    earlier = np.where(copy > 0, rng.integers(30, 900, len(copies)) * copy, 0)
    return person[copies], as_of[copies] - earlier, copy


def build_records(
    pop: Population,
    person: IntArray,
    as_of: IntArray,
    rates: DefectRates,
    sector: str,
    salt: int,
    rng: np.random.Generator,
    malformed_kinds: tuple[str, ...],
    places: Places,
) -> SourceRecords:
    """Records for ``person`` (positions, sorted) as each partner last saw them on ``as_of``."""
    person, as_of, copy = _with_duplicates(person, as_of, rates.duplicate_registration, rng)
    duplicate = copy > 0
    n = len(person)
    moved = (pop.move_date[person] >= 0) & (as_of >= pop.move_date[person])

    def at(after: IntArray, before: IntArray) -> IntArray:
        return np.where(moved, after[person], before[person])

    married = (pop.surname_change_date[person] >= 0) & (as_of >= pop.surname_change_date[person])
    family = np.where(married, pop.family[person], pop.birth_family[person])
    given = pop.given[person].copy()
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
    _corrupt_names(given, family, rates, rng, labels)
    dob = _swap_day_month(pop.dob[person].copy(), rng.random(n) < rates.dob_day_month_swap, labels)
    for i in np.flatnonzero(rng.random(n) < rates.dob_typo):
        dob[i] = mistype_date(rng, int(dob[i]))
        labels[i].append("dob_typo")
    dob_missing = (sector != "general_practice") & (rng.random(n) < rates.dob_missing)
    for i in np.flatnonzero(dob_missing):
        labels[i].append("dob_missing")
    for i in np.flatnonzero(married & (pop.birth_family[person] != pop.family[person])):
        labels[i].append("surname_changed")
    for i in np.flatnonzero(moved | (pop.move_date[person] >= 0) & ~moved):
        labels[i].append("address_changed" if moved[i] else "address_before_move")
    for i in np.flatnonzero(duplicate):
        labels[i].append("duplicate_registration")
    lsoa, street = at(pop.lsoa, pop.lsoa_before_move), at(pop.street, pop.street_before_move)
    house = at(pop.house_number, pop.house_number_before_move)
    postcode = at(pop.postcode, pop.postcode_before_move)
    line, postcode_text = _addresses(
        places, lsoa, street, house, postcode, rates, rng, labels, sector
    )
    malformed = np.full(n, "", dtype=object)
    broken = np.flatnonzero(rng.random(n) < rates.malformed_record)
    for i in broken:
        kind = malformed_kinds[int(rng.integers(len(malformed_kinds)))]
        malformed[i] = kind
        labels[i].append(f"malformed:{kind}")
        if kind == "impossible_date" and dob_missing[i]:  # the broken date is written
            dob_missing[i] = False
            labels[i].remove("dob_missing")
    return SourceRecords(
        person=person,
        record_no=local_numbers(pop, person, copy, salt),
        duplicate=duplicate,
        nhs_number=nhs,
        given=given,
        family=family,
        dob=dob,
        dob_missing=dob_missing,
        female=pop.sex_female[person],
        lsoa=lsoa,
        street=street,
        house_number=house,
        postcode=postcode,
        address_line=line,
        postcode_text=postcode_text,
        defects=np.array([";".join(x) for x in labels], dtype=object),
        malformed=malformed,
    )


Corruptor = Callable[[np.random.Generator, str], str]


def _blank(_rng: np.random.Generator, _value: str) -> str:
    return ""


class Places(Protocol):
    """What records need of the geography: each LSOA's streets and postcodes."""

    lsoa_streets: list[list[str]]
    lsoa_postcodes: list[list[str]]


def _corrupt_names(
    given: ObjArray,
    family: ObjArray,
    rates: DefectRates,
    rng: np.random.Generator,
    labels: list[list[str]],
) -> None:
    n = len(given)
    for i in np.flatnonzero(rng.random(n) < rates.nickname):
        other = nickname(rng, str(given[i]))
        if other:
            given[i] = other
            labels[i].append("nickname")
    for rate, corrupt, kind in (
        (rates.name_typo, typo, "typo"),
        (rates.name_ocr, ocr, "ocr"),
        (rates.name_phonetic, phonetic, "phonetic"),
    ):
        for i in np.flatnonzero(rng.random(n) < rate):
            names, which = (given, "given") if rng.random() < 0.5 else (family, "family")
            names[i] = corrupt(rng, str(names[i]))
            labels[i].append(f"{which}_name_{kind}")
    for i in np.flatnonzero(rng.random(n) < rates.names_swapped):
        given[i], family[i] = family[i], given[i]
        labels[i].append("names_swapped")
    for i in np.flatnonzero(rng.random(n) < rates.given_name_missing):
        given[i] = ""
        labels[i].append("given_name_missing")


def _addresses(
    places: Places,
    lsoa: IntArray,
    street: IntArray,
    house: IntArray,
    postcode: IntArray,
    rates: DefectRates,
    rng: np.random.Generator,
    labels: list[list[str]],
    sector: str,
) -> tuple[ObjArray, ObjArray]:
    """The first address line and the postcode as written, with the clerks' habits. A GP
    practice's postcodes are right: registration takes the address from the national
    register, checked against the Royal Mail's."""
    checked = sector == "general_practice"
    n = len(lsoa)
    streets = [places.lsoa_streets[int(a)][int(b)] for a, b in zip(lsoa, street, strict=True)]
    codes = [places.lsoa_postcodes[int(a)][int(b)] for a, b in zip(lsoa, postcode, strict=True)]
    numbers = [str(h) for h in house.tolist()]
    edits: tuple[tuple[float, list[str], Corruptor, str], ...] = (
        (rates.street_abbreviated, streets, abbreviate_street, "street_abbreviated"),
        (rates.address_typo, streets, typo, "address_typo"),
        (rates.house_number_missing, numbers, _blank, "house_number_missing"),
        (0 if checked else rates.postcode_typo, codes, mistype_postcode, "postcode_typo"),
        (0 if checked else rates.postcode_missing, codes, _blank, "postcode_missing"),
    )
    for rate, values, corrupt, label in edits:
        for i in np.flatnonzero(rng.random(n) < rate):
            changed = corrupt(rng, values[i])
            if changed != values[i]:  # a street whose type is never shortened, say
                values[i] = changed
                labels[i].append(label)
    lines = [f"{h} {s}" if h else s for h, s in zip(numbers, streets, strict=True)]
    return np.array(lines, dtype=object), np.array(codes, dtype=object)


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
