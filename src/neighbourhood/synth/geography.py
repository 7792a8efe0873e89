"""Places, neighbourhoods, wards and LSOAs, and the organisations that serve them.

Codes are ODS-style but every one starts with Z, and area codes use the 9xxxxx
range of ONS's E01 (LSOA) and E05 (ward) series and the postcode area Q, which
the Royal Mail never issues: nothing synthetic can be mistaken for a real place
or organisation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from neighbourhood.synth.names import NameBank

PLACE_NAMES = (
    "Ashcombe",
    "Bramwell",
    "Calderbrook",
    "Dunhollow",
    "Elmridge",
    "Fernleigh",
    "Glenmarsh",
    "Hollinbury",
    "Ivesdale",
    "Kingsmere",
    "Larkhaven",
    "Marlowe",
    "Northcliffe",
    "Oakhurst",
    "Pennington",
    "Queensholm",
    "Redwater",
    "Saltmarsh",
    "Thornvale",
    "Wexcombe",
)
NEIGHBOURHOOD_SUFFIXES = ("North", "South", "East", "West", "Central", "Riverside", "Heath")
WARD_SUFFIXES = ("Park", "Green", "Hill", "Vale", "Common", "Fields", "Cross", "Rise")
STREET_SUFFIXES = (
    "Road",
    "Street",
    "Avenue",
    "Close",
    "Lane",
    "Gardens",
    "Grove",
    "Way",
    "Crescent",
    "Terrace",
    "Place",
    "Drive",
    "Walk",
    "Mews",
)
POSTCODE_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
PEOPLE_PER_LSOA = 1_600
PEOPLE_PER_PRACTICE = 9_000
STREETS_PER_LSOA = 8
POSTCODES_PER_LSOA = 12
# How many places each kind of trust serves.
TRUST_SPAN = {"acute_trust": 2, "community_trust": 3, "mental_health_trust": 3}


@dataclass(frozen=True)
class Organisation:
    ods_code: str
    name: str
    kind: str  # icb, local_authority, gp_practice, pcn, acute_trust, community_trust, ...
    parent: str = ""  # PCN of a practice, ICB of a trust, ...
    place: str = ""  # the place it belongs to, where it has one
    gp_system: str = ""  # for practices: which GP system supplier's extract carries them


@dataclass(frozen=True)
class Integrator:
    place: str
    name: str
    host_ods_code: str
    partners: tuple[str, ...]


@dataclass
class Geography:
    """Everything about the ICS that is public reference data, not personal data."""

    ics_name: str
    places: list[tuple[str, str]]  # (code, name)
    neighbourhoods: list[tuple[str, str, int]]  # (code, name, place index)
    wards: list[tuple[str, str, int]]  # (code, name, neighbourhood index)
    lsoa_codes: list[str]
    lsoa_ward: npt.NDArray[np.int64]
    lsoa_imd_decile: npt.NDArray[np.int64]
    lsoa_weight: npt.NDArray[np.float64]
    lsoa_streets: list[list[str]]
    lsoa_postcodes: list[list[str]]
    organisations: list[Organisation]
    integrators: list[Integrator]
    practices_by_neighbourhood: list[list[int]] = field(default_factory=list)

    @property
    def lsoa_neighbourhood(self) -> npt.NDArray[np.int64]:
        ward_neigh = np.array([w[2] for w in self.wards], dtype=np.int64)
        return ward_neigh[self.lsoa_ward]

    @property
    def lsoa_place(self) -> npt.NDArray[np.int64]:
        neigh_place = np.array([n[2] for n in self.neighbourhoods], dtype=np.int64)
        return neigh_place[self.lsoa_neighbourhood]

    def orgs(self, kind: str) -> list[Organisation]:
        return [o for o in self.organisations if o.kind == kind]

    def trust_for_place(self, kind: str, place_index: int) -> Organisation:
        return self.orgs(kind)[place_index // TRUST_SPAN[kind]]


def split_evenly(total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` near-equal positive sizes."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def build_geography(people: int, neighbourhood_size: int, seed: int, names: NameBank) -> Geography:
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    n_neigh = max(1, round(people / neighbourhood_size))
    n_places = math.ceil(n_neigh / 5)
    places = [(f"ZL{p + 1:02d}", _place_name(p)) for p in range(n_places)]
    neighbourhoods: list[tuple[str, str, int]] = []
    for p, size in enumerate(split_evenly(n_neigh, n_places)):
        for k in range(size):
            code = f"ZN{len(neighbourhoods) + 1:03d}"
            neighbourhoods.append((code, f"{places[p][1]} {NEIGHBOURHOOD_SUFFIXES[k]}", p))
    people_per_neigh = people / n_neigh
    wards: list[tuple[str, str, int]] = []
    ward_of_lsoa: list[int] = []
    for n in range(n_neigh):
        n_lsoa = max(4, round(people_per_neigh / PEOPLE_PER_LSOA))
        n_wards = min(int(rng.integers(4, 6)), n_lsoa)
        for w, lsoas in enumerate(split_evenly(n_lsoa, n_wards)):
            ward_index = len(wards)
            name = f"{names.street_stem(rng)} {WARD_SUFFIXES[w % len(WARD_SUFFIXES)]}"
            wards.append((f"E05{900000 + ward_index + 1:06d}", name, n))
            ward_of_lsoa.extend([ward_index] * lsoas)
    lsoa_ward = np.array(ward_of_lsoa, dtype=np.int64)
    n_lsoa_total = len(lsoa_ward)
    decile = _imd_deciles(rng, lsoa_ward, np.array([w[2] for w in wards]))
    weight = rng.uniform(0.75, 1.25, n_lsoa_total)
    streets = [
        [
            f"{names.street_stem(rng)} {STREET_SUFFIXES[int(rng.integers(len(STREET_SUFFIXES)))]}"
            for _ in range(STREETS_PER_LSOA)
        ]
        for _ in range(n_lsoa_total)
    ]
    postcodes = [
        _postcodes(rng, places, neighbourhoods, wards, int(lsoa_ward[i]))
        for i in range(n_lsoa_total)
    ]
    organisations, integrators, practices_by_neigh = _organisations(
        rng, places, neighbourhoods, people_per_neigh
    )
    return Geography(
        ics_name="Riverside and Vale",
        places=places,
        neighbourhoods=neighbourhoods,
        wards=wards,
        lsoa_codes=[f"E01{900000 + i + 1:06d}" for i in range(n_lsoa_total)],
        lsoa_ward=lsoa_ward,
        lsoa_imd_decile=decile,
        lsoa_weight=weight / weight.sum(),
        lsoa_streets=streets,
        lsoa_postcodes=postcodes,
        organisations=organisations,
        integrators=integrators,
        practices_by_neighbourhood=practices_by_neigh,
    )


def _place_name(p: int) -> str:
    base = PLACE_NAMES[p % len(PLACE_NAMES)]
    return base if p < len(PLACE_NAMES) else f"{base} {p // len(PLACE_NAMES) + 1}"


def _imd_deciles(
    rng: np.random.Generator, lsoa_ward: npt.NDArray[np.int64], ward_neigh: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Deprivation clusters: neighbourhoods and wards share much of their LSOAs' score.

    Deciles are ranks within the ICS (1 is most deprived), so every decile holds
    about a tenth of the LSOAs, as it does nationally.
    """
    neigh_score = rng.normal(0, 1, ward_neigh.max() + 1)
    ward_score = neigh_score[ward_neigh] * 0.8 + rng.normal(0, 0.6, len(ward_neigh))
    score = ward_score[lsoa_ward] + rng.normal(0, 0.5, len(lsoa_ward))
    ranks = np.argsort(np.argsort(score))
    return (1 + ranks * 10 // len(score)).astype(np.int64)


def _postcodes(
    rng: np.random.Generator,
    places: list[tuple[str, str]],
    neighbourhoods: list[tuple[str, str, int]],
    wards: list[tuple[str, str, int]],
    ward: int,
) -> list[str]:
    place = neighbourhoods[wards[ward][2]][2]
    area = "Q" + "ABCDEFGHJKLMNPRSTUWY"[place % 20]
    district = ward + 1
    letters = POSTCODE_UNIT_LETTERS
    out: set[str] = set()
    while len(out) < POSTCODES_PER_LSOA:
        sector = int(rng.integers(1, 10))
        unit = letters[int(rng.integers(len(letters)))] + letters[int(rng.integers(len(letters)))]
        out.add(f"{area}{district} {sector}{unit}")
    return sorted(out)


def _organisations(
    rng: np.random.Generator,
    places: list[tuple[str, str]],
    neighbourhoods: list[tuple[str, str, int]],
    people_per_neigh: float,
) -> tuple[list[Organisation], list[Integrator], list[list[int]]]:
    icb = Organisation("ZZ0", "NHS Riverside and Vale Integrated Care Board", "icb")
    orgs = [icb]
    n_places = len(places)
    for kind, prefix, label in (
        ("acute_trust", "ZA", "Hospitals NHS Foundation Trust"),
        ("community_trust", "ZC", "Community Health NHS Trust"),
        ("mental_health_trust", "ZM", "Mental Health NHS Foundation Trust"),
    ):
        per = TRUST_SPAN[kind]
        for t in range(math.ceil(n_places / per)):
            covered = places[t * per : (t + 1) * per]
            name = " and ".join(p[1] for p in covered) + " " + label
            orgs.append(Organisation(f"{prefix}{t + 1}", name, kind, parent=icb.ods_code))
    for code, name in places:
        orgs.append(
            Organisation(code, f"{name} Council (adult social care)", "local_authority", place=code)
        )
        orgs.append(
            Organisation(
                code + "PH", f"{name} Council (public health)", "public_health", place=code
            )
        )
        for k, what in enumerate(("Community Connect", "Carers Centre", "Wellbeing Network")):
            orgs.append(Organisation(f"ZV{code[2:]}{k + 1}", f"{name} {what}", "vcfse", place=code))
    practices_by_neigh: list[list[int]] = []
    n_practices = max(1, round(people_per_neigh / PEOPLE_PER_PRACTICE))
    for n, (_ncode, nname, p) in enumerate(neighbourhoods):
        pcn = Organisation(
            f"ZU{n + 1:04d}",
            f"{nname} Primary Care Network",
            "pcn",
            parent=icb.ods_code,
            place=places[p][0],
        )
        orgs.append(pcn)
        indices = []
        for k in range(n_practices):
            code = f"Z{n + 1:03d}{k + 1:02d}"
            system = "a" if rng.random() < 0.5 else "b"
            indices.append(len(orgs))
            orgs.append(
                Organisation(
                    code,
                    f"{nname} Medical Practice {k + 1}",
                    "gp_practice",
                    parent=pcn.ods_code,
                    place=places[p][0],
                    gp_system=system,
                )
            )
        practices_by_neigh.append(indices)
    integrators = []
    for p, (code, name) in enumerate(places):
        hosts = [
            o
            for o in orgs
            if o.kind in {"community_trust", "local_authority", "acute_trust"}
            and (o.place == code or o.kind != "local_authority")
        ]
        host = hosts[p % len(hosts)]
        trusts = tuple(
            o.ods_code
            for o in orgs
            if o.kind.endswith("_trust") and o.ods_code[2:] == str(p // TRUST_SPAN[o.kind] + 1)
        )
        local = tuple(o.ods_code for o in orgs if o.place == code and o.kind != "gp_practice")
        partners = trusts + local
        integrators.append(
            Integrator(code, f"{name} Neighbourhood Health Partnership", host.ods_code, partners)
        )
    return orgs, integrators, practices_by_neigh
