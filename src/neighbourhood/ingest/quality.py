"""``neighbourhood quality``: how complete and valid each partner's data is.

ICB analysts judge partners' data by this report, so every figure is a plain
share of records, computed in the warehouse with Ibis.
"""

from __future__ import annotations

from typing import Any

import ibis

from neighbourhood.registry import Source
from neighbourhood.warehouse import Warehouse


def quality_report(wh: Warehouse, sources: list[Source] | None = None) -> dict[str, Any]:
    """Figures per feed; a field a CSV feed does not collect at all is reported as None."""
    records = wh.table("source_records")
    events = wh.table("events")
    quarantine = wh.table("quarantine")
    files = wh.table("ingest_files")

    def share(condition: ibis.Value) -> ibis.Value:
        return (condition.cast("int64").sum() / records.count()).round(4)

    people = (
        records.group_by("source_id")
        .aggregate(
            records=records.count(),
            nhs_number_complete=share(records.nhs_number_raw.notnull()),
            nhs_number_valid=(records.nhs_number_status == "valid").cast("int64").sum()
            / records.nhs_number_raw.notnull().cast("int64").sum().nullif(0),
            date_of_birth_complete=share(records.date_of_birth.notnull()),
            postcode_complete=share(records.postcode.notnull()),
            ethnicity_complete=share(records.ethnicity.notnull() & (records.ethnicity != "Z")),
            records_flagged=records.flags.notnull().cast("int64").sum(),
        )
        .execute()
    )
    event_counts = (
        events.group_by("source_id")
        .aggregate(
            events=events.count(),
            # SNOMED CT codes are checked; codes of other systems are kept unchecked
            codes_present=events.code_status.isin(["valid", "invalid"]).cast("int64").sum(),
            codes_valid=(events.code_status == "valid").cast("int64").sum(),
            events_flagged=events.flags.notnull().cast("int64").sum(),
        )
        .execute()
    )
    known = records.select("source_id", "record_key").distinct()
    orphans = events.anti_join(known, ["source_id", "record_key"])
    orphan_counts = (
        orphans.group_by("source_id").aggregate(events_without_a_record=orphans.count()).execute()
    )
    reason = quarantine.reason.re_replace(r"'[^']*'", "…")
    kinds = quarantine.mutate(kind=reason)
    reasons = kinds.group_by(["source_id", "kind"]).aggregate(n=kinds.count()).execute()
    totals = (
        files.group_by("source_id")
        .aggregate(
            files=files.count(),
            records_in=files.records_in.sum(),
            accepted=files.accepted.sum(),
            quarantined=files.quarantined.sum(),
            not_used=files.not_used.sum(),
        )
        .execute()
    )
    feeds: dict[str, dict[str, Any]] = {}
    for row in totals.to_dict("records"):
        feeds[row["source_id"]] = {k: _plain(v) for k, v in row.items() if k != "source_id"}
        feeds[row["source_id"]]["quarantine_reasons"] = {}
    for table in (people, event_counts, orphan_counts):
        for row in table.to_dict("records"):
            feeds.setdefault(row["source_id"], {}).update(
                {k: _plain(v) for k, v in row.items() if k != "source_id"}
            )
    for row in event_counts.to_dict("records"):
        entry = feeds[row["source_id"]]
        entry.setdefault("events_without_a_record", 0)
        entry["code_validity"] = (
            round(row["codes_valid"] / row["codes_present"], 4) if row["codes_present"] else None
        )
    for row in reasons.to_dict("records"):
        feeds.setdefault(row["source_id"], {}).setdefault("quarantine_reasons", {})[row["kind"]] = (
            int(row["n"])
        )
    for source in sources or []:
        if source.csv and source.id in feeds:
            for role, figure in NOT_COLLECTED.items():
                if role not in source.csv.people_columns:
                    feeds[source.id][figure] = None
    return {"feeds": dict(sorted(feeds.items()))}


# Completeness figures, by the CSV column role that feeds them.
NOT_COLLECTED = {
    "nhs_number": "nhs_number_complete",
    "dob": "date_of_birth_complete",
    "postcode": "postcode_complete",
    "ethnicity": "ethnicity_complete",
}


def _plain(value: Any) -> Any:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    if number != number:  # NaN: nothing to divide by
        return None
    return int(number) if number.is_integer() and not isinstance(value, float) else round(number, 4)
