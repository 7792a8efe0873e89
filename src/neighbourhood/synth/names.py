"""Names people are given, the nicknames they go by, and the typos made of them.

Name lists come from Faker's locale providers (a pinned dependency), chosen by
ethnic group so that linkage is measured on the mix of names an English ICS
really holds, transliteration variants included.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np
from faker import Faker

from neighbourhood.synth.catalogue import ETHNICITIES

NICKNAMES: dict[str, tuple[str, ...]] = {
    "William": ("Bill", "Will"),
    "Robert": ("Bob", "Rob"),
    "Richard": ("Rich", "Dick"),
    "James": ("Jim", "Jimmy"),
    "Thomas": ("Tom",),
    "Christopher": ("Chris",),
    "Michael": ("Mike",),
    "Anthony": ("Tony",),
    "Edward": ("Ted", "Eddie"),
    "Joseph": ("Joe",),
    "Daniel": ("Dan", "Danny"),
    "Matthew": ("Matt",),
    "Benjamin": ("Ben",),
    "Samuel": ("Sam",),
    "Alexander": ("Alex",),
    "Nicholas": ("Nick",),
    "Andrew": ("Andy",),
    "Stephen": ("Steve",),
    "Steven": ("Steve",),
    "Peter": ("Pete",),
    "David": ("Dave",),
    "Jonathan": ("Jon",),
    "Timothy": ("Tim",),
    "Frederick": ("Fred",),
    "Henry": ("Harry",),
    "Kenneth": ("Ken",),
    "Leonard": ("Len",),
    "Ronald": ("Ron",),
    "Donald": ("Don",),
    "Gerald": ("Gerry",),
    "Lawrence": ("Larry",),
    "Philip": ("Phil",),
    "Raymond": ("Ray",),
    "Terence": ("Terry",),
    "Elizabeth": ("Liz", "Beth", "Betty"),
    "Margaret": ("Maggie", "Peggy"),
    "Jennifer": ("Jenny", "Jen"),
    "Katherine": ("Kate", "Kathy"),
    "Catherine": ("Cathy", "Kate"),
    "Susan": ("Sue",),
    "Patricia": ("Pat", "Trish"),
    "Deborah": ("Debbie",),
    "Abigail": ("Abby",),
    "Rebecca": ("Becky",),
    "Victoria": ("Vicky",),
    "Alexandra": ("Alex",),
    "Charlotte": ("Lottie", "Charlie"),
    "Jessica": ("Jess",),
    "Samantha": ("Sam",),
    "Dorothy": ("Dot",),
    "Josephine": ("Jo",),
    "Joanne": ("Jo",),
    "Gillian": ("Gill",),
    "Pamela": ("Pam",),
    "Sandra": ("Sandy",),
    "Valerie": ("Val",),
    "Christine": ("Chris",),
    "Eleanor": ("Ellie",),
    "Natalie": ("Nat",),
    "Zachary": ("Zac",),
    "Mohammed": ("Muhammad", "Mohamed", "Mohammad"),
    "Muhammad": ("Mohammed", "Mohamed"),
    "Mohammad": ("Mohammed", "Muhammad"),
    "Abdul": ("Abdal",),
    "Yusuf": ("Yousef", "Yusef"),
    "Aisha": ("Ayesha",),
    "Fatima": ("Fatimah",),
}
# Typing errors come from neighbouring keys on a UK keyboard.
KEY_NEIGHBOURS = {
    "a": "qsz",
    "b": "vn",
    "c": "xv",
    "d": "sf",
    "e": "wr",
    "f": "dg",
    "g": "fh",
    "h": "gj",
    "i": "uo",
    "j": "hk",
    "k": "jl",
    "l": "k",
    "m": "n",
    "n": "bm",
    "o": "ip",
    "p": "o",
    "q": "wa",
    "r": "et",
    "s": "ad",
    "t": "ry",
    "u": "yi",
    "v": "cb",
    "w": "qe",
    "x": "zc",
    "y": "tu",
    "z": "x",
}


class NameBank:
    """First names by sex and surnames for every locale our ethnic groups draw on."""

    def __init__(self) -> None:
        locales = sorted({loc for e in ETHNICITIES for loc in e.name_locales})
        self.female: dict[str, tuple[str, ...]] = {}
        self.male: dict[str, tuple[str, ...]] = {}
        self.family: dict[str, tuple[str, ...]] = {}
        for loc in locales:
            provider = _person_provider(loc)
            if loc == "zh_CN":
                firsts = _clean(provider.first_romanized_names)
                self.female[loc] = self.male[loc] = firsts
                self.family[loc] = _clean(provider.last_romanized_names)
                continue
            either = getattr(provider, "first_names", ())
            self.female[loc] = _clean(getattr(provider, "first_names_female", either))
            self.male[loc] = _clean(getattr(provider, "first_names_male", either))
            self.family[loc] = _clean(provider.last_names)
        self._stems = self.family["en_GB"]

    def street_stem(self, rng: np.random.Generator) -> str:
        return self._stems[int(rng.integers(len(self._stems)))]

    def draw(self, rng: np.random.Generator, locale: str, female: bool) -> tuple[str, str, str]:
        """A first name, a middle name (often empty) and a surname."""
        firsts = self.female[locale] if female else self.male[locale]
        first = firsts[int(rng.integers(len(firsts)))]
        middle = firsts[int(rng.integers(len(firsts)))] if rng.random() < 0.35 else ""
        family = self.family[locale]
        return first, middle if middle != first else "", family[int(rng.integers(len(family)))]

    def surname(self, rng: np.random.Generator, locale: str) -> str:
        family = self.family[locale]
        return family[int(rng.integers(len(family)))]


@cache
def name_bank() -> NameBank:
    return NameBank()


def _person_provider(locale: str) -> Any:
    fake = Faker(locale)
    return next(p for p in fake.providers if "person" in type(p).__module__)


def _clean(names: Sequence[str] | dict[str, float]) -> tuple[str, ...]:
    """Faker lists, without duplicates and multi-word oddities, in a stable order."""
    keep = [n.strip() for n in names if n and " " not in n.strip() and "'" not in n]
    return tuple(dict.fromkeys(keep))


def nickname(rng: np.random.Generator, first: str) -> str | None:
    """A familiar form or transliteration people give for ``first``, if one is common."""
    forms = NICKNAMES.get(first)
    return forms[int(rng.integers(len(forms)))] if forms else None


def typo(rng: np.random.Generator, name: str) -> str:
    """One slip of the keyboard: a neighbouring key, a dropped, doubled or swapped letter."""
    if len(name) < 3:
        return name + name[-1].lower()
    i = int(rng.integers(1, len(name)))
    kind = int(rng.integers(4))
    ch = name[i].lower()
    if kind == 0 and ch in KEY_NEIGHBOURS:
        options = KEY_NEIGHBOURS[ch]
        return name[:i] + options[int(rng.integers(len(options)))] + name[i + 1 :]
    if kind == 1:
        return name[:i] + name[i + 1 :]
    if kind == 2:
        return name[:i] + name[i] + name[i:]
    if i < len(name) - 1 and name[i] != name[i + 1]:
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    return name[:i] + name[i + 1 :]
