"""A capacity scenario: a TOML file checked against a versioned schema (pydantic).

Uncertain levers are written as an interval ``[low, high]``: each replication draws its
value, from a stream every scenario shares, so scenarios compared side by side see the
same draws. Every problem is reported at once, each naming its field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from neighbourhood import schemafiles
from neighbourhood.capacity.workforce import ROLES, SKILLS

SCHEMA = "neighbourhood.capacity.scenario/1"
SERVICES = (
    "district_nursing",
    "therapy",
    "gp",
    "social_work",
    "urgent_community_response",
    "mental_health",
    "social_prescribing",
)
COHORTS = ("frailty", "palliative", "complex_ltc")
Share = Annotated[float, Field(ge=0, le=1)]
Lever = Share | tuple[Share, Share]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Service(_Strict):
    """How one service's work is done: a contact's time, who may do it, follow-ups, and
    how long a referral may wait before it counts as unmet."""

    minutes: float = Field(gt=0, le=480)
    travel_minutes: float = Field(default=0, ge=0, le=240)
    follow_up_probability: float = Field(default=0, ge=0, lt=1)
    follow_up_days: float = Field(default=7, gt=0, le=365)
    wait_limit_days: float | None = Field(default=None, gt=0)
    roles: tuple[str, ...] = Field(min_length=1)
    skill: str | None = None
    distribution: Literal["exponential", "lognormal"] = "lognormal"

    @field_validator("roles")
    @classmethod
    def _roles(cls, roles: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            raise ValueError(f"unknown role {', '.join(unknown)} (known: {', '.join(ROLES)})")
        return roles

    @field_validator("skill")
    @classmethod
    def _skill(cls, skill: str | None) -> str | None:
        if skill is not None and skill not in SKILLS:
            raise ValueError(f"unknown skill {skill} (known: {', '.join(SKILLS)})")
        return skill


DEFAULT_SERVICES: dict[str, Service] = {
    "district_nursing": Service(
        minutes=30,
        travel_minutes=20,
        follow_up_probability=0.6,
        follow_up_days=7,
        wait_limit_days=2,
        roles=("district_nurse", "nursing_associate", "healthcare_support_worker"),
    ),
    "therapy": Service(
        minutes=45,
        travel_minutes=20,
        follow_up_probability=0.5,
        follow_up_days=14,
        wait_limit_days=42,
        roles=("physiotherapist", "occupational_therapist", "therapy_assistant"),
    ),
    "gp": Service(
        minutes=12,
        follow_up_probability=0.2,
        follow_up_days=14,
        wait_limit_days=14,
        roles=("gp", "advanced_practitioner", "practice_nurse", "clinical_pharmacist"),
    ),
    "social_work": Service(
        minutes=120,
        travel_minutes=25,
        follow_up_probability=0.3,
        follow_up_days=28,
        wait_limit_days=56,
        roles=("social_worker", "social_care_assessor"),
    ),
    "urgent_community_response": Service(
        minutes=75,
        travel_minutes=20,
        follow_up_probability=0.3,
        follow_up_days=1,
        wait_limit_days=2 / 7.5,  # two hours, in working days of 7.5 hours
        roles=("advanced_practitioner", "district_nurse", "paramedic", "physiotherapist"),
        skill="urgent_assessment",
    ),
    "mental_health": Service(
        minutes=50,
        travel_minutes=10,
        follow_up_probability=0.5,
        follow_up_days=14,
        wait_limit_days=28,
        roles=("mental_health_practitioner",),
    ),
    "social_prescribing": Service(
        minutes=50,
        travel_minutes=10,
        follow_up_probability=0.5,
        follow_up_days=10,
        wait_limit_days=21,
        roles=(
            "social_prescribing_link_worker",
            "community_connector",
            "health_and_wellbeing_coach",
        ),
    ),
}
# Extra contacts a year for each person enrolled by case finding.
DEFAULT_ENROLLED_CONTACTS = {
    "district_nursing": 4.0,
    "social_prescribing": 2.0,
    "social_work": 0.5,
    "gp": 1.0,
}


class Availability(_Strict):
    """The share of contracted time not available for clinical work."""

    leave: Share = 0.14
    training: Share = 0.05
    admin: Share = 0.15

    @model_validator(mode="after")
    def _some_left(self) -> Availability:
        if self.leave + self.training + self.admin >= 1:
            raise ValueError("leave, training and admin together must leave some time")
        return self

    @property
    def share(self) -> float:
        return 1 - self.leave - self.training - self.admin


class Levers(_Strict):
    population_growth: float | tuple[float, float] = 0.0
    shift_to_community: Lever = 0.0
    enrolment: dict[str, Lever] = Field(default_factory=dict)
    enrolled_contacts: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_ENROLLED_CONTACTS)
    )
    demand_multiplier: float = Field(default=1.0, gt=0, le=20)

    @field_validator("population_growth")
    @classmethod
    def _growth(cls, value: float | tuple[float, float]) -> float | tuple[float, float]:
        for v in value if isinstance(value, tuple) else (value,):
            if not -0.5 <= v <= 1:
                raise ValueError(f"{v} is out of range (-0.5 to 1, a share a year)")
        return value

    @field_validator("enrolment")
    @classmethod
    def _cohorts(cls, value: dict[str, Lever]) -> dict[str, Lever]:
        unknown = sorted(set(value) - set(COHORTS))
        if unknown:
            raise ValueError(f"unknown cohort {', '.join(unknown)} (known: {', '.join(COHORTS)})")
        return value

    @field_validator("enrolled_contacts")
    @classmethod
    def _services(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(SERVICES))
        if unknown:
            raise ValueError(f"unknown service {', '.join(unknown)} (known: {', '.join(SERVICES)})")
        if any(v < 0 for v in value.values()):
            raise ValueError("contacts a year cannot be negative")
        return value

    @model_validator(mode="after")
    def _intervals(self) -> Levers:
        for name, value in (
            ("population_growth", self.population_growth),
            ("shift_to_community", self.shift_to_community),
            *((f"enrolment.{k}", v) for k, v in self.enrolment.items()),
        ):
            if isinstance(value, tuple) and value[0] > value[1]:
                raise ValueError(f"{name}: an interval is [low, high] (got {list(value)})")
        return self


class Scenario(_Strict):
    schema_: Literal["neighbourhood.capacity.scenario/1"] = Field(alias="schema")
    name: str = Field(min_length=1, max_length=80)
    mode: Literal["simulate", "demand"] = "simulate"
    neighbourhoods: tuple[str, ...] = ()  # none: every neighbourhood
    days: int = Field(default=365, ge=7, le=3650)
    warm_up_days: int = Field(default=28, ge=0, le=365)
    replications: int = Field(default=10, ge=2, le=10_000)
    seed: int = Field(default=1, ge=0)
    workers: int = Field(default=0, ge=0, le=256)  # 0: one per core
    hours_a_day: float = Field(default=7.5, gt=0, le=24)
    levers: Levers = Field(default_factory=Levers)
    staff: dict[str, float] = Field(default_factory=dict)  # FTE added (or removed) by role
    availability: Availability = Field(default_factory=Availability)
    services: dict[str, Service] = Field(default_factory=lambda: dict(DEFAULT_SERVICES))
    history_months: int = Field(default=12, ge=1, le=120)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("staff")
    @classmethod
    def _staff(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(ROLES))
        if unknown:
            raise ValueError(f"unknown role {', '.join(unknown)} (known: {', '.join(ROLES)})")
        return value

    @field_validator("services", mode="before")
    @classmethod
    def _merge(cls, value: object) -> object:
        """A file's service table changes the defaults it names; the rest stay."""
        if not isinstance(value, dict):
            return value
        unknown = sorted(set(value) - set(SERVICES))
        if unknown:
            raise ValueError(f"unknown service {', '.join(unknown)} (known: {', '.join(SERVICES)})")
        merged: dict[str, object] = {k: v.model_dump() for k, v in DEFAULT_SERVICES.items()}
        for key, given in value.items():
            if isinstance(given, dict):
                merged[key] = {**merged[key], **given}  # type: ignore[dict-item]
            else:
                merged[key] = given
        return merged

    @model_validator(mode="after")
    def _warm_up(self) -> Scenario:
        if self.warm_up_days >= self.days:
            raise ValueError("warm_up_days must be shorter than days")
        return self


def load(path: Path) -> Scenario:
    """A scenario file, or every problem with it at once, each naming its field."""
    _, raw = schemafiles.read(path, "scenario")
    return parse(raw, str(path))


def parse(raw: object, where: str = "scenario") -> Scenario:
    return schemafiles.validate(Scenario, raw, SCHEMA, where)


def json_schema() -> dict[str, object]:
    """The schema, for editors and partners' tools."""
    return Scenario.model_json_schema(by_alias=True)


def draw(value: float | tuple[float, float], u: float) -> float:
    """A lever's value for one replication, from a uniform draw shared across scenarios."""
    if isinstance(value, tuple):
        return value[0] + (value[1] - value[0]) * u
    return value
