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
    "initials",
    "names",
    "postcode_sector",
    "house_number",
    "street",
    "locality",
)
# Each rule keeps blocks small at ICS size (date of birth alone makes them far too large)
# and each defect is caught by a rule it leaves intact: a nickname by date of birth with
# the family name's first two letters, a married name by date of birth with the given
# name's (typos rarely touch them; one letter alone made blocks too large: ADR 15 has the
# figures), a mistyped date of birth by names with birth year or by postcode with a name. ``dob_key`` is the date of
# birth with day and month in order, so a swapped day and month still block together.
# ``initials`` are both initials and ``names`` both names, each in alphabetical order, so
# given and family names swapped still block together; house number with street or postcode catches a record whose names
# and date of birth are both wrong (ADR 15).
DEFAULT_BLOCKING = (
    ("nhs_number",),
    ("dob_key", "family_start"),
    ("dob_key", "given_start"),
    ("dob_key", "initials"),
    ("names", "birth_year"),
    ("names", "locality"),
    ("postcode", "given"),
    ("postcode", "family"),
    ("postcode_district", "family", "birth_year"),
    ("postcode", "house_number"),
    ("street", "house_number", "initials"),
    ("family", "house_number", "locality"),
    ("dob", "house_number"),
    ("dob", "postcode"),
    ("street", "given"),
)
# Deterministic rules whose pairs estimate how likely two records are to be one person
# (Splink's lambda): the NHS number where a feed has one, names, date of birth and address
# where it has not. ``prior_recall`` is the share of true pairs they are taken to find.
DEFAULT_PRIOR_RULES = (
    ("nhs_number", "dob"),
    ("given", "family", "dob"),
    ("family", "dob", "postcode"),
    ("given", "dob", "postcode"),
    ("given", "family", "house_number", "postcode"),
)


DEFAULT_TRAINING_RULES = (("dob",), ("family", "given"))


@dataclass(frozen=True)
class LinkageConfig:
    """``match_threshold``: a pair at or above it is the same person. Pairs from
    ``review_from`` up to it are listed for clerical review."""

    match_threshold: float = 0.9
    review_from: float = 0.5
    blocking: tuple[tuple[str, ...], ...] = DEFAULT_BLOCKING
    prior_rules: tuple[tuple[str, ...], ...] = DEFAULT_PRIOR_RULES
    prior_recall: float = 0.8
    # Blocking rules of the EM passes that learn how often true matches agree (Splink's
    # m): each pass learns every field but the ones it blocks on.
    training_rules: tuple[tuple[str, ...], ...] = DEFAULT_TRAINING_RULES
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
        for kind, rules in (
            ("blocking", self.blocking),
            ("prior", self.prior_rules),
            ("training", self.training_rules),
        ):
            for rule in rules:
                unknown = [c for c in rule if c not in COLUMNS]
                if unknown or not rule:
                    problems.append(
                        f"{kind} rule {list(rule)} names "
                        f"{', '.join(map(repr, unknown)) or 'no column'}"
                        f"; rule columns are {', '.join(COLUMNS)}"
                    )
        for name in ("prior_rules", "training_rules"):
            if not getattr(self, name):
                problems.append(f"{name} needs at least one rule")
        if not isinstance(self.prior_recall, int | float) or not 0 < self.prior_recall <= 1:
            problems.append(
                f"prior_recall must be above 0 and at most 1 (got {self.prior_recall!r})"
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
        "prior_rules",
        "prior_recall",
        "training_rules",
    }
    unknown = sorted(set(raw) - known)
    if unknown:
        raise UserError(
            f"{path}: unknown setting(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
    for key in ("blocking", "prior_rules", "training_rules"):
        if key in raw:
            if not isinstance(raw[key], list) or not all(isinstance(r, list) for r in raw[key]):
                raise UserError(f"{path}: {key} must be a list of lists of column names")
            raw[key] = tuple(tuple(rule) for rule in raw[key])
    try:
        return LinkageConfig(**raw)
    except InvalidOptionsError as error:
        raise InvalidOptionsError([f"{path}: {p}" for p in error.problems]) from error
