"""What a run of synth shares between its chunks (the world), what one chunk gives
back (its output), and what the whole run wrote (its summary)."""

from __future__ import annotations

import gzip
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neighbourhood.synth.feeds import (
    Feed,
)
from neighbourhood.synth.geography import Geography
from neighbourhood.synth.options import SynthOptions
from neighbourhood.synth.population import (
    FloatArray,
    IntArray,
    Period,
)


@dataclass
class SynthSummary:
    """What was written, for the command line and for tests."""

    people: int
    seed: int
    out: Path
    truth: Path
    places: int
    neighbourhoods: int
    lsoas: int
    practices: int
    feeds: int
    records: dict[str, int] = field(default_factory=dict)
    staff: dict[str, int] = field(default_factory=dict)  # workforce rows by source
    resources: dict[str, int] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    defects: dict[str, int] = field(default_factory=dict)
    complex_needs: int = 0
    enrolled: int = 0  # people enrolled by the rollout of the model of care
    deaths: int = 0
    hospital_cost_gbp: float = 0.0
    complex_hospital_cost_gbp: float = 0.0
    seconds: float = 0.0
    peak_memory_mb: float = 0.0

    @property
    def complex_share(self) -> float:
        return self.complex_needs / self.people

    @property
    def complex_cost_share(self) -> float:
        return (
            self.complex_hospital_cost_gbp / self.hospital_cost_gbp
            if self.hospital_cost_gbp
            else 0.0
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "people": self.people,
            "seed": self.seed,
            "out": str(self.out),
            "truth": str(self.truth),
            "places": self.places,
            "neighbourhoods": self.neighbourhoods,
            "lsoas": self.lsoas,
            "practices": self.practices,
            "feeds": self.feeds,
            "records": dict(sorted(self.records.items())),
            "workforce_rows": dict(sorted(self.staff.items())),
            "fhir_resources": dict(sorted(self.resources.items())),
            "events": dict(sorted(self.events.items())),
            "defects": dict(sorted(self.defects.items())),
            "complex_needs": self.complex_needs,
            "enrolled": self.enrolled,
            "complex_needs_share": round(self.complex_share, 4),
            "complex_needs_hospital_cost_share": round(self.complex_cost_share, 4),
            "hospital_cost_gbp": round(self.hospital_cost_gbp),
            "deaths": self.deaths,
            "seconds": round(self.seconds, 2),
            "people_per_second": round(self.people / self.seconds) if self.seconds else None,
            "peak_memory_mb": round(self.peak_memory_mb),
        }


@dataclass
class ChunkOutput:
    index: int
    people: int
    appends: dict[str, bytes] = field(default_factory=dict)
    whole_files: list[tuple[str, bytes]] = field(default_factory=list)
    records: Counter[str] = field(default_factory=Counter)
    resources: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    defects: Counter[str] = field(default_factory=Counter)
    complex_needs: int = 0
    deaths: int = 0
    hospital_cost: float = 0.0
    complex_hospital_cost: float = 0.0
    enrolled: int = 0


@dataclass
class World:
    """What every chunk shares: the options, the places, the feeds, the NHS numbers."""

    options: SynthOptions
    geo: Geography
    feeds: list[Feed]
    period: Period
    intercepts: FloatArray
    nhs_numbers: IntArray
    live_on: IntArray | None = None  # each neighbourhood's go-live day, with a rollout

    def pack(self, data: str) -> bytes:
        raw = data.encode("utf-8")
        return gzip.compress(raw, compresslevel=1, mtime=0) if self.options.compress else raw

    def suffix(self, name: str) -> str:
        return name + ".gz" if self.options.compress else name


def resolve(roots: dict[str, Path], name: str) -> Path:
    top, _, rest = name.partition("/")
    return roots[top] / rest
