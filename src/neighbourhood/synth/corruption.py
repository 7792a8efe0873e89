"""How real records go wrong, after the corruption models of the record-linkage benchmark
generators (FEBRL's dsgen, Christen 2005; GeCo, Christen and Vatsalan 2013): keyboard slips
(substitution, insertion, deletion, transposition: ``names.typo``), optical character
recognition confusions, phonetic misspellings, abbreviated street types, and mistyped dates
and postcodes. Each function takes one value and gives it back changed (ADR 15)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from neighbourhood.synth.names import typo

# Characters a scanner or a tired eye reads as others (after GeCo's OCR lookup table).
OCR = (
    ("rn", "m"),
    ("m", "rn"),
    ("cl", "d"),
    ("d", "cl"),
    ("li", "h"),
    ("h", "li"),
    ("vv", "w"),
    ("w", "vv"),
    ("l", "1"),
    ("o", "0"),
    ("e", "c"),
    ("c", "e"),
    ("u", "v"),
    ("v", "u"),
    ("g", "q"),
    ("i", "l"),
    ("n", "ri"),
    ("S", "5"),
    ("B", "8"),
    ("O", "0"),
)
# Spellings that sound alike (after GeCo's phonetic variation rules).
PHONETIC = (
    ("ph", "f"),
    ("f", "ph"),
    ("ck", "k"),
    ("k", "ck"),
    ("ie", "y"),
    ("y", "ie"),
    ("ee", "ea"),
    ("ea", "ee"),
    ("ou", "ow"),
    ("ow", "ou"),
    ("ai", "ay"),
    ("ay", "ai"),
    ("th", "t"),
    ("gh", "g"),
    ("mm", "m"),
    ("nn", "n"),
    ("ll", "l"),
    ("tt", "t"),
    ("ss", "s"),
    ("s", "z"),
    ("z", "s"),
    ("c", "k"),
    ("x", "ks"),
    ("sch", "sh"),
    ("ey", "y"),
    ("i", "y"),
)
# Street types as clerks shorten them.
STREET_ABBREVIATIONS = {
    "Road": ("Rd", "Rd.", "RD"),
    "Street": ("St", "St.", "Str"),
    "Avenue": ("Ave", "Av"),
    "Close": ("Cl",),
    "Lane": ("Ln",),
    "Gardens": ("Gdns",),
    "Grove": ("Gr", "Grv"),
    "Crescent": ("Cres", "Cresc"),
    "Terrace": ("Terr", "Ter"),
    "Place": ("Pl",),
    "Drive": ("Dr",),
    "Walk": ("Wk",),
}
POSTCODE_SLIPS = {
    **{d: "0123456789" for d in "0123456789"},
    **{c: "ABDEFGHJLNPQRSTUWXYZ" for c in "ABDEFGHJLNPQRSTUWXYZ"},
}


def _variation(rng: np.random.Generator, value: str, rules: tuple[tuple[str, str], ...]) -> str:
    """One rule applied where it fits (chosen at random); a keyboard slip if none does."""
    fitting = [(a, b) for a, b in rules if a in value[1:]]
    if not fitting:
        return typo(rng, value)
    old, new = fitting[int(rng.integers(len(fitting)))]
    places = [i for i in range(1, len(value)) if value.startswith(old, i)]
    at = places[int(rng.integers(len(places)))]
    return value[:at] + new + value[at + len(old) :]


def ocr(rng: np.random.Generator, value: str) -> str:
    """A character or two read as another, as a scanned form is: 'Morris' as 'Mon-is'."""
    return _variation(rng, value, OCR)


def phonetic(rng: np.random.Generator, value: str) -> str:
    """Written as it sounds: 'Stephens' as 'Stevens', 'Philips' as 'Filips'."""
    return _variation(rng, value, PHONETIC)


def abbreviate_street(rng: np.random.Generator, street: str) -> str:
    """'Acacia Road' as 'Acacia Rd'; a street whose type is never shortened stays."""
    stem, _, kind = street.rpartition(" ")
    forms = STREET_ABBREVIATIONS.get(kind)
    if not stem or not forms:
        return street
    return f"{stem} {forms[int(rng.integers(len(forms)))]}"


def mistype_postcode(rng: np.random.Generator, postcode: str) -> str:
    """One character of a postcode replaced by another of its kind, or two swapped."""
    places = [i for i, ch in enumerate(postcode) if ch in POSTCODE_SLIPS]
    if len(places) < 2:
        return postcode
    i = places[int(rng.integers(len(places)))]
    swap = rng.random() < 0.3 and i + 1 < len(postcode)
    if swap and postcode[i + 1] not in (" ", postcode[i]):
        return postcode[:i] + postcode[i + 1] + postcode[i] + postcode[i + 2 :]
    options = [c for c in POSTCODE_SLIPS[postcode[i]] if c != postcode[i]]
    return postcode[:i] + options[int(rng.integers(len(options)))] + postcode[i + 1 :]


EPOCH = dt.date(1970, 1, 1)


def mistype_date(rng: np.random.Generator, days: int) -> int:
    """A date of birth keyed wrongly: the year a year out or with its last two digits
    transposed (1956 as 1965), or the day's last digit slipped; always a real date."""
    date = EPOCH + dt.timedelta(days=days)
    kind = int(rng.integers(3))
    if kind == 0:
        candidate = _replace(date, year=date.year + (1 if rng.random() < 0.5 else -1))
    elif kind == 1:
        decade, unit = divmod(date.year % 100, 10)
        candidate = _replace(date, year=date.year - date.year % 100 + unit * 10 + decade)
    else:
        candidate = _replace(date, day=date.day - date.day % 10 + int(rng.integers(10)))
    if candidate is None or candidate == date or candidate > date + dt.timedelta(days=366):
        # no later than a year on: a birth date is never keyed into the future
        candidate = _replace(date, year=date.year - 1) or date - dt.timedelta(days=1)
    return (candidate - EPOCH).days


def _replace(date: dt.date, **parts: int) -> dt.date | None:
    try:
        return date.replace(**parts)
    except ValueError:  # 29 February in another year, day 0 or 35
        return None
