"""SNOMED CT codelists as versioned data, each with its provenance (``codelists.toml``)."""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

import pyarrow as pa

from neighbourhood.standards import snomed


@dataclass(frozen=True)
class Codelist:
    name: str
    version: str
    published: str
    source: str
    method: str
    rows: tuple[dict[str, str], ...]

    def table(self) -> pa.Table:
        """The codelist's rows, one column per field, all text."""
        fields = list(self.rows[0])
        return pa.table({f: [r[f] for r in self.rows] for f in fields})

    def provenance(self) -> dict[str, str]:
        return {
            "version": self.version,
            "published": self.published,
            "source": self.source,
            "method": self.method,
        }


@cache
def codelists() -> dict[str, Codelist]:
    """Every codelist shipped with the package, checked: each code a valid SNOMED CT id."""
    folder = resources.files("neighbourhood.phm") / "codelists"
    manifest = tomllib.loads((folder / "codelists.toml").read_text(encoding="utf-8"))
    found = {}
    for name, entry in manifest.items():
        text = (folder / entry["file"]).read_text(encoding="utf-8")
        rows = tuple(csv.DictReader(text.splitlines()))
        expected = ["code", "term", *entry["columns"]]
        if not rows or list(rows[0]) != expected:
            raise ValueError(f"codelist {entry['file']} should have columns {expected}")
        bad = [r["code"] for r in rows if not snomed.is_valid_sctid(r["code"])]
        if bad:
            raise ValueError(f"codelist {entry['file']}: not SNOMED CT identifiers: {bad}")
        found[name] = Codelist(
            name,
            entry["version"],
            entry["published"],
            entry["source"],
            entry["method"],
            rows,
        )
    return found


def versions() -> dict[str, str]:
    return {name: c.version for name, c in codelists().items()}
