"""An analysis protocol: written before the analysis, hashed and stored with every result.

A protocol says who is studied (the case-finding rule and its look-back), when each
person's follow-up starts (the index date rule), which outcomes, for how long, by which
designs against which comparison group, for which subgroups, and the seed. A change to
a protocol that has been run before is an amendment: it must be logged in the file
with its date and reason, or the evaluation refuses to run (``check_amended``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from neighbourhood import schemafiles
from neighbourhood.errors import UserError

SCHEMA = "neighbourhood.evaluate.protocol/1"
DESIGNS = ("matched", "staggered_did", "its", "naive")
SUBGROUPS = ("imd_quintile", "ethnic_group", "age_band", "sex", "disability", "inclusion_health")
# Outcome keys (their definitions are in outcomes.py, which checks this list).
OUTCOMES = (
    "emergency_admissions",
    "acs_admissions",
    "ed_attendances",
    "bed_days",
    "care_home_admissions",
    "days_at_home",
    "deaths",
    "home_91_days_after_reablement",
    "elective_admissions",
    "gp_appointments",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Population(_Strict):
    """Who is studied: adults whose emergency use (emergency admissions and A&E
    attendances) in the look-back before the index date reached the threshold."""

    rule: Literal["emergency_use"] = "emergency_use"
    threshold: int = Field(default=3, ge=1, le=100)
    look_back_days: int = Field(default=365, ge=30, le=1095)
    min_age: int = Field(default=18, ge=0, le=120)


class Index(_Strict):
    """When follow-up starts: the first of the month of enrolment with a care
    coordinator; comparators are case-found by the same rule on the same day."""

    rule: Literal["enrolment_month"] = "enrolment_month"
    # A neighbourhood is live from the month of its first enrolment, unless given here.
    go_live: dict[str, dt.date] = Field(default_factory=dict)


class Comparison(_Strict):
    """The matched comparison group: people case-found by the same rule on the same
    index date in neighbourhoods not yet live, matched on the propensity score within
    exact strata, with replacement (a comparator may serve more than once)."""

    group: Literal["not_yet_live"] = "not_yet_live"
    controls_per_person: int = Field(default=3, ge=1, le=10)
    caliper: float = Field(default=0.2, gt=0, le=2)  # in SDs of the logit score
    exact: tuple[Literal["segment", "sex", "age_band", "imd_quintile"], ...] = ("segment",)


class Amendment(_Strict):
    date: dt.date
    reason: str = Field(min_length=3, max_length=2000)
    change: str = Field(default="", max_length=2000)


class Protocol(_Strict):
    schema_: Literal["neighbourhood.evaluate.protocol/1"] = Field(alias="schema")
    name: str = Field(min_length=1, max_length=120)
    seed: int = Field(default=1, ge=0)
    population: Population = Field(default_factory=Population)
    index: Index = Field(default_factory=Index)
    outcomes: tuple[str, ...] = OUTCOMES
    follow_up_days: int = Field(default=365, ge=30, le=1095)
    designs: tuple[str, ...] = DESIGNS
    comparison: Comparison = Field(default_factory=Comparison)
    subgroups: tuple[str, ...] = SUBGROUPS
    amendments: tuple[Amendment, ...] = ()

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("outcomes")
    @classmethod
    def _outcomes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _known(value, OUTCOMES, "outcome")

    @field_validator("designs")
    @classmethod
    def _designs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _known(value, DESIGNS, "design")

    @field_validator("subgroups")
    @classmethod
    def _subgroups(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _known(value, SUBGROUPS, "subgroup", empty=True)

    @model_validator(mode="after")
    def _amendments_in_order(self) -> Protocol:
        dates = [a.date for a in self.amendments]
        if dates != sorted(dates):
            raise ValueError("amendments must be in date order")
        return self

    def digest(self) -> str:
        """SHA-256 of the protocol as data (not its layout or comments)."""
        canonical = json.dumps(
            self.model_dump(mode="json", by_alias=True), sort_keys=True, separators=(",", ":")
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


def _known(
    value: tuple[str, ...], known: tuple[str, ...], what: str, empty: bool = False
) -> tuple[str, ...]:
    if not value and not empty:
        raise ValueError(f"name at least one {what}")
    unknown = [v for v in value if v not in known]
    if unknown:
        raise ValueError(f"unknown {what} {', '.join(unknown)} (known: {', '.join(known)})")
    if len(set(value)) != len(value):
        raise ValueError(f"a {what} is named twice")
    return value


def load(path: Path) -> tuple[Protocol, str]:
    """A protocol file and its text, or every problem with it at once."""
    text, raw = schemafiles.read(path, "protocol")
    return schemafiles.validate(Protocol, raw, SCHEMA, str(path)), text


def json_schema() -> dict[str, object]:
    return Protocol.model_json_schema(by_alias=True)


def check_amended(protocol: Protocol, log: Path) -> None:
    """Refuse a protocol changed since it was last run without a new amendment.

    ``log`` keeps, for each protocol name, the digest and the number of amendments of
    each version run; it is appended to by ``record_run``."""
    runs = _runs(log).get(protocol.name, [])
    if not runs or runs[-1]["digest"] == protocol.digest():
        return
    last_digest, last_amendments = str(runs[-1]["digest"]), int(str(runs[-1]["amendments"]))
    if len(protocol.amendments) <= last_amendments:
        raise UserError(
            f"protocol '{protocol.name}' has changed since it was last run "
            f"(digest {last_digest[:12]} then, {protocol.digest()[:12]} now) but logs "
            "no new amendment: add an [[amendments]] entry with its date and reason"
        )


def record_run(protocol: Protocol, log: Path) -> None:
    runs = _runs(log)
    mine = runs.setdefault(protocol.name, [])
    if not mine or mine[-1]["digest"] != protocol.digest():
        mine.append({"digest": protocol.digest(), "amendments": len(protocol.amendments)})
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(json.dumps(runs, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _runs(log: Path) -> dict[str, list[dict[str, object]]]:
    if not log.exists():
        return {}
    try:
        found = json.loads(log.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise UserError(f"{log}: the protocol log cannot be read ({error})") from None
    return found if isinstance(found, dict) else {}
