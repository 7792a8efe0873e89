"""Options of a synthetic ICS: its size, seed, period and the defect rates of its data."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from neighbourhood.errors import InvalidOptionsError
from neighbourhood.registry import DATA_SECTORS

SECTORS = DATA_SECTORS

# How often a partner's record lacks an NHS number: most VCFSE and many social care
# records have none (ADR 15).
DEFAULT_NHS_NUMBER_MISSING: dict[str, float] = {
    "general_practice": 0.002,
    "acute": 0.01,
    "community": 0.05,
    "mental_health": 0.05,
    "social_care": 0.35,
    "public_health": 0.1,
    "vcfse": 0.8,
}


@dataclass(frozen=True)
class DefectRates:
    """Per-record probabilities of the defects real extracts carry.

    ``nhs_number_missing`` is per sector; the others apply to every partner's
    records. ``surname_change`` and ``address_change`` are events in people's
    lives (marriage, moving house) that leave partners holding different values.
    """

    nhs_number_missing: dict[str, float] = field(
        default_factory=lambda: dict(DEFAULT_NHS_NUMBER_MISSING)
    )
    nhs_number_invalid: float = 0.005
    name_typo: float = 0.04  # a keyboard slip in the given or family name
    name_ocr: float = 0.01  # characters misread from a scanned form
    name_phonetic: float = 0.03  # written as it sounds
    nickname: float = 0.05
    names_swapped: float = 0.01  # given name in the family name's field and back
    given_name_missing: float = 0.005
    dob_day_month_swap: float = 0.01
    dob_typo: float = 0.02  # a year slip or a mistyped day
    dob_missing: float = 0.01  # never in general practice, which registers no one without
    postcode_typo: float = 0.02
    postcode_missing: float = 0.02
    street_abbreviated: float = 0.25  # 'Rd' for 'Road'
    address_typo: float = 0.03
    house_number_missing: float = 0.02
    surname_change: float = 0.03
    address_change: float = 0.08
    duplicate_registration: float = 0.02  # a person with one to four more records
    malformed_record: float = 0.001

    def scaled(self, factor: float) -> DefectRates:
        """Every rate multiplied by ``factor`` (0 gives clean data), capped at 1."""
        scalars = {
            f.name: min(getattr(self, f.name) * factor, 1.0)
            for f in dataclasses.fields(self)
            if f.name != "nhs_number_missing"
        }
        missing = {k: min(v * factor, 1.0) for k, v in self.nhs_number_missing.items()}
        return DefectRates(nhs_number_missing=missing, **scalars)

    def with_settings(self, settings: list[str]) -> DefectRates:
        """Apply ``NAME=RATE`` or ``nhs_number_missing.SECTOR=RATE`` settings.

        Every problem is gathered into one error, so a user fixes them in one go.
        """
        problems: list[str] = []
        scalars: dict[str, float] = {}
        missing = dict(self.nhs_number_missing)
        names = {f.name for f in dataclasses.fields(self)}
        for setting in settings:
            name, sep, raw = setting.partition("=")
            name = name.strip()
            rate = _parse_rate(raw.strip()) if sep else None
            if rate is None:
                problems.append(
                    f"defect setting '{setting}' should be NAME=RATE with RATE from 0 to 1"
                )
                continue
            base, _, sector = name.partition(".")
            if base not in names:
                problems.append(f"unknown defect '{base}' (known: {', '.join(sorted(names))})")
            elif sector and (base != "nhs_number_missing" or sector not in SECTORS):
                problems.append(
                    f"'{name}': only nhs_number_missing takes a sector ({', '.join(SECTORS)})"
                )
            elif base == "nhs_number_missing":
                for s in [sector] if sector else SECTORS:
                    missing[s] = rate
            else:
                scalars[base] = rate
        if problems:
            raise InvalidOptionsError(problems)
        return dataclasses.replace(self, nhs_number_missing=missing, **scalars)

    def as_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["nhs_number_missing"] = dict(self.nhs_number_missing)
        return out


def _parse_rate(raw: str) -> float | None:
    try:
        rate = float(raw)
    except ValueError:
        return None
    return rate if 0.0 <= rate <= 1.0 else None


@dataclass(frozen=True)
class Rollout:
    """How the model of care is rolled out, and the effect it truly has."""

    effect: float = 0.85  # rate ratio of enrolled people's emergency use and care home moves
    effect_most_deprived: float | None = None  # the ratio in IMD quintile 1, if different
    uptake: float = 0.8  # the share of case-found people who are enrolled
    live_share: float = 0.75  # the share of neighbourhoods that go live within the period
    waves: int = 4  # the neighbourhoods that go live do so in this many waves
    threshold: int = 3  # emergency admissions and A&E attendances in the year before
    min_age: int = 18

    def __post_init__(self) -> None:
        problems = []
        for name in ("effect", "effect_most_deprived"):
            value = getattr(self, name)
            if value is not None and not 0.0 < value <= 2.0:
                problems.append(
                    f"--{name.replace('_', '-')} must be above 0 and at most 2 (got {value})"
                )
        if not 0.0 < self.uptake <= 1.0:
            problems.append(f"uptake must be above 0 and at most 1 (got {self.uptake})")
        if not 0.0 < self.live_share <= 1.0:
            problems.append(f"live share must be above 0 and at most 1 (got {self.live_share})")
        if not 1 <= self.waves <= 24:
            problems.append(f"waves must be from 1 to 24 (got {self.waves})")
        if self.threshold < 1:
            problems.append(f"threshold must be at least 1 (got {self.threshold})")
        if problems:
            raise InvalidOptionsError(problems)

    def ratio(self, imd_quintile: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """Each person's true rate ratio."""
        deprived = self.effect if self.effect_most_deprived is None else self.effect_most_deprived
        return np.where(imd_quintile == 1, deprived, self.effect)

    def as_dict(self) -> dict[str, Any]:
        return {
            "effect": self.effect,
            "effect_most_deprived": self.effect_most_deprived,
            "uptake": self.uptake,
            "live_share": self.live_share,
            "waves": self.waves,
            "threshold": self.threshold,
            "min_age": self.min_age,
        }


@dataclass(frozen=True)
class SynthOptions:
    """What to generate and where to put it."""

    people: int
    seed: int
    out: Path
    truth: Path
    years: int = 3
    end_date: dt.date = dt.date(2026, 9, 30)
    neighbourhood_size: int = 50_000
    chunk_size: int = 25_000
    workers: int = 1
    compress: bool = True
    defects: DefectRates = field(default_factory=DefectRates)
    registry: Path | None = None  # the data directory whose sources.toml declares the feeds
    rollout: Rollout | None = None  # roll out the model of care, with a planted effect

    def __post_init__(self) -> None:
        problems = []
        if self.people < 1:
            problems.append(f"--people must be at least 1 (got {self.people})")
        if self.seed < 0:
            problems.append(f"--seed must be zero or more (got {self.seed})")
        if not 1 <= self.years <= 10:
            problems.append(f"--years must be from 1 to 10 (got {self.years})")
        if self.neighbourhood_size < 100:
            problems.append(
                f"--neighbourhood-size must be at least 100 (got {self.neighbourhood_size})"
            )
        if self.chunk_size < 100:
            problems.append(f"chunk size must be at least 100 (got {self.chunk_size})")
        if self.workers < 1:
            problems.append(f"--workers must be at least 1 (got {self.workers})")
        if self.out.resolve() == self.truth.resolve():
            problems.append("the ground truth must be kept apart from the extracts (--truth)")
        if problems:
            raise InvalidOptionsError(problems)

    @property
    def start_date(self) -> dt.date:
        """The first day of the period: ``years`` whole years before the day after the end."""
        after = self.end_date + dt.timedelta(days=1)
        return after.replace(year=after.year - self.years)
