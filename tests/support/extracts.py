"""Reading what synth wrote, as a partner's data manager would, for the tests."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def manifest(out: Path) -> dict[str, Any]:
    return json.loads((out / "manifest.json").read_text())  # type: ignore[no-any-return]


def fhir_lines(out: Path, feed: str) -> Iterator[tuple[str, str]]:
    """(file name, resource JSON text) for every resource of a FHIR feed, bundles unpacked."""
    for path in sorted((out / feed).iterdir()):
        text = (
            gzip.decompress(path.read_bytes()).decode()
            if path.suffix == ".gz"
            else path.read_text()
        )
        if path.name.startswith("Bundle"):
            for entry in json.loads(text)["entry"]:
                yield path.name, json.dumps(entry["resource"])
        else:
            for line in text.splitlines():
                yield path.name, line


def csv_rows(out: Path, feed: dict[str, Any], which: str) -> list[list[str]]:
    layout = feed["csv"]
    raw = (out / feed["feed"] / layout[f"{which}_file"]).read_bytes()
    text = raw.decode(layout["encoding"])
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=layout["delimiter"]))


def truth_rows(truth: Path, name: str) -> list[dict[str, str]]:
    text = gzip.decompress((truth / f"{name}.csv.gz").read_bytes()).decode()
    return list(csv.DictReader(io.StringIO(text)))
