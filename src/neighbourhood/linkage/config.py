"""Linkage settings: thresholds and blocking, validated into one readable message."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from neighbourhood.errors import InvalidOptionsError, UserError

CONFIG_FILE = "linkage.toml"
COLUMNS = (
    "nhs_number",
    "given",
    "family",
    "dob",
    "sex",
    "postcode",
    "postcode_district",
    "birth_year",
    "dob_key",
    "given_initial",
    "family_initial",
    "given_start",
    "family_start",
)
# Each rule keeps blocks small at ICS size (date of birth alone makes ~80 comparisons a
# record at 2 million people) and each defect is caught by a rule it leaves intact: a
# nickname by date of birth with the family name's first two letters, a married name by
# date of birth with the given name's (typos rarely touch them; one letter made 26 million
# comparisons a rule at 2 million people), a mistyped date of
# birth by names with birth year or by postcode with a name. ``dob_key`` is the date of
# birth with day and month in order, so a swapped day and month still block together.
DEFAULT_BLOCKING = (
    ("nhs_number",),
    ("dob_key", "family_start"),
    ("dob_key", "given_start"),
    ("family", "given", "birth_year"),
    ("postcode", "given"),
    ("postcode", "family"),
    ("postcode_district", "family", "birth_year"),
)


@dataclass(frozen=True)
class LinkageConfig:
    """``match_threshold``: a pair at or above it is the same person. Pairs from
    ``review_from`` up to it are listed for clerical review."""

    match_threshold: float = 0.9
    review_from: float = 0.5
    blocking: tuple[tuple[str, ...], ...] = DEFAULT_BLOCKING
    max_comparisons_per_record: float = 25.0
    seed: int = 1
    # Random pairs sampled to estimate how often non-matches agree (Splink's u); all
    # pairs are used when there are fewer, which makes training deterministic.
    u_sample_pairs: float = 2e6
    # Pairs each EM pass trains on, at most: Splink samples records so that a blocking
    # rule for training makes about this many (all of them when there are fewer).
    # Unsampled, EM blocked on date of birth makes 357 million pairs at 2 million people.
    em_max_pairs: float = 2e6

    def __post_init__(self) -> None:
        problems = []
        for name in ("match_threshold", "review_from"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0 <= value <= 1:
                problems.append(f"{name} must be a probability from 0 to 1 (got {value!r})")
        if not problems and self.review_from > self.match_threshold:
            problems.append("review_from must not be above match_threshold")
        for rule in self.blocking:
            unknown = [c for c in rule if c not in COLUMNS]
            if unknown or not rule:
                problems.append(
                    f"blocking rule {list(rule)} names {', '.join(map(repr, unknown)) or 'no column'}"
                    f"; blocking columns are {', '.join(COLUMNS)}"
                )
        if self.max_comparisons_per_record <= 0:
            problems.append("max_comparisons_per_record must be positive")
        for name in ("u_sample_pairs", "em_max_pairs"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or value < 1_000:
                problems.append(f"{name} must be at least 1000 (got {value!r})")
        if problems:
            raise InvalidOptionsError(problems)


def load_config(data_dir: Path) -> LinkageConfig:
    """``DATA/linkage.toml`` if there is one, else the defaults."""
    path = data_dir / CONFIG_FILE
    if not path.exists():
        return LinkageConfig()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise UserError(f"{path} is not valid TOML: {error}") from error
    known = {
        "match_threshold",
        "review_from",
        "blocking",
        "max_comparisons_per_record",
        "seed",
        "u_sample_pairs",
        "em_max_pairs",
    }
    unknown = sorted(set(raw) - known)
    if unknown:
        raise UserError(
            f"{path}: unknown setting(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
    if "blocking" in raw:
        raw["blocking"] = tuple(tuple(rule) for rule in raw["blocking"])
    try:
        return LinkageConfig(**raw)
    except InvalidOptionsError as error:
        raise InvalidOptionsError([f"{path}: {p}" for p in error.problems]) from error
