"""The reference data a synthetic ICS comes with: organisations (ODS), postcodes with
their LSOA and deprivation, and the national data opt-out."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

from neighbourhood.costs import unit_costs
from neighbourhood.synth.csv_extracts import header
from neighbourhood.synth.truth import TRUTH_PERSON_COLUMNS, TRUTH_RECORD_COLUMNS
from neighbourhood.synth.world import World, resolve
from neighbourhood.synth.writers import csv_text


def write_reference(world: World) -> None:
    """Headers of the appended files, and the public reference data partners share."""
    out, truth, geo = world.options.out, world.options.truth, world.geo
    world_root = {"extracts": out, "truth": truth}
    heads = {
        world.suffix("truth/records.csv"): csv_text([list(TRUTH_RECORD_COLUMNS)]),
        world.suffix("truth/persons.csv"): csv_text([list(TRUTH_PERSON_COLUMNS)]),
        world.suffix("truth/carers.csv"): csv_text(
            [["carer_person_id", "cared_for_person_id", "young_carer"]]
        ),
        "extracts/national/national_data_opt_out.csv": "nhs_number\r\n",
    }
    for feed in world.feeds:
        layout = feed.layout
        if layout:
            for name, columns in (
                (layout.people_file, layout.people_columns),
                (layout.events_file, layout.event_columns),
            ):
                path = resolve(world_root, f"extracts/{feed.feed_id}/{name}")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(header(columns, layout).encode(layout.encoding))
        else:
            resolve(world_root, f"extracts/{feed.feed_id}/x").parent.mkdir(
                parents=True, exist_ok=True
            )
    for name, text in heads.items():
        path = resolve(world_root, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode()
        path.write_bytes(
            gzip.compress(data, compresslevel=1, mtime=0) if name.endswith(".gz") else data
        )
    ref = out / "reference"
    ref.mkdir(exist_ok=True)
    _write_table(
        ref / "organisations.csv",
        ["ods_code", "name", "kind", "parent", "place", "gp_system"],
        [[o.ods_code, o.name, o.kind, o.parent, o.place, o.gp_system] for o in geo.organisations],
    )
    _write_table(
        ref / "lsoas.csv",
        [
            "lsoa",
            "ward",
            "ward_name",
            "neighbourhood",
            "neighbourhood_name",
            "place",
            "place_name",
            "imd_decile",
        ],
        [
            [
                code,
                geo.wards[w][0],
                geo.wards[w][1],
                geo.neighbourhoods[geo.wards[w][2]][0],
                geo.neighbourhoods[geo.wards[w][2]][1],
                geo.places[geo.neighbourhoods[geo.wards[w][2]][2]][0],
                geo.places[geo.neighbourhoods[geo.wards[w][2]][2]][1],
                str(d),
            ]
            for code, w, d in zip(
                geo.lsoa_codes, geo.lsoa_ward.tolist(), geo.lsoa_imd_decile.tolist(), strict=True
            )
        ],
    )
    _write_table(ref / "postcodes.csv", ["postcode", "lsoa", "imd_decile"], _postcode_rows(geo))
    _write_table(
        ref / "integrators.csv",
        ["place", "name", "host_ods_code", "partners"],
        [[i.place, i.name, i.host_ods_code, ";".join(i.partners)] for i in geo.integrators],
    )
    _write_table(
        ref / "unit_costs.csv",
        ["activity", "sector", "unit", "cost_gbp", "source"],
        [
            [u.activity, u.sector, u.unit, f"{u.cost_gbp:g}", u.source]
            for u in unit_costs().values()
        ],
    )


def _postcode_rows(geo: Any) -> list[list[str]]:
    """A postcode directory, as ONS's NSPL: each postcode's LSOA and its IMD decile
    (a postcode drawn for two LSOAs belongs to the first)."""
    seen: dict[str, list[str]] = {}
    for code, decile, postcodes in zip(
        geo.lsoa_codes, geo.lsoa_imd_decile.tolist(), geo.lsoa_postcodes, strict=True
    ):
        for postcode in postcodes:
            seen.setdefault(postcode, [postcode, code, str(decile)])
    return sorted(seen.values())


def _write_table(path: Path, head: list[str], rows: list[list[str]]) -> None:
    path.write_text(csv_text([head, *rows]), encoding="utf-8")
