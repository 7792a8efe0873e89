"""The longitudinal schema: source records, events on one timeline, organisations,
and the accounts of every file ingested (what came in, what was accepted, what not)."""

from __future__ import annotations

import ibis
import ibis.expr.schema as sch

INGEST_FILES = ibis.schema(
    {
        "file_id": "int64",
        "source_id": "string",
        "path": "string",
        "sha256": "string",
        "bytes": "int64",
        "kind": "string",
        "records_in": "int64",
        "accepted": "int64",
        "quarantined": "int64",
        "flagged": "int64",
        "ingested_at": "timestamp",
        "not_used": "int64",
        "not_used_types": "string",
    }
)
SOURCE_RECORDS = ibis.schema(
    {
        "source_id": "string",
        "file_id": "int64",
        "line": "int64",
        "record_key": "string",
        "nhs_number": "string",
        "nhs_number_raw": "string",
        "nhs_number_status": "string",
        "given_name": "string",
        "family_name": "string",
        "date_of_birth": "date",
        "sex": "string",
        "postcode": "string",
        "address": "string",
        "ethnicity": "string",
        "practice_ods": "string",
        "date_of_death": "date",
        "flags": "string",
        "house_number": "string",
        "street": "string",
        "locality": "string",
        "entry": "string",
        "nhs_number_verification": "string",
        "death_notification": "string",
        "interpreter_language": "string",
        "residential_status": "string",
    }
)
EVENTS = ibis.schema(
    {
        "source_id": "string",
        "file_id": "int64",
        "line": "int64",
        "event_key": "string",
        "record_key": "string",
        "sector": "string",
        "setting": "string",
        "activity": "string",
        "start_date": "date",
        "end_date": "date",
        "code": "string",
        "code_status": "string",
        "value": "float64",
        "unit": "string",
        "cost_gbp": "float64",
        "flags": "string",
        "entry": "string",
        "code_system": "string",
        "value_code": "string",
        "value_system": "string",
    }
)
QUARANTINE = ibis.schema(
    {
        "source_id": "string",
        "file_id": "int64",
        "path": "string",
        "line": "int64",
        "field": "string",
        "reason": "string",
        "raw": "string",
        "entry": "string",
    }
)
# Organisations and practitioners partners' FHIR feeds name (Organization, Practitioner).
DIRECTORY = ibis.schema(
    {
        "source_id": "string",
        "file_id": "int64",
        "line": "int64",
        "entry": "string",
        "kind": "string",
        "resource_id": "string",
        "identifier_system": "string",
        "identifier": "string",
        "name": "string",
        "active": "boolean",
    }
)
ORGANISATIONS = ibis.schema(
    {
        "ods_code": "string",
        "name": "string",
        "kind": "string",
        "parent": "string",
        "place": "string",
        "file_id": "int64",
    }
)
POSTCODES = ibis.schema(
    {"postcode": "string", "lsoa": "string", "imd_decile": "int64", "file_id": "int64"}
)
OPT_OUTS = ibis.schema({"nhs_number": "string", "file_id": "int64"})
# The workforce map: one row per person x post x team, from every partner's staff extract.
WORKFORCE = ibis.schema(
    {
        "source_id": "string",
        "file_id": "int64",
        "line": "int64",
        "staff_ref": "string",
        "post_ref": "string",
        "team": "string",
        "sector": "string",
        "employer": "string",
        "role": "string",
        "staff_group": "string",
        "band": "string",
        "registration": "string",
        "contract": "string",
        "hours": "float64",
        "fte": "float64",
        "int_share": "float64",
        "skills": "string",
        "base": "string",
        "vacancy": "boolean",
    }
)
PERSON_INDEX = ibis.schema(
    {
        "person_id": "string",
        "unique_id": "string",
        "source_id": "string",
        "record_key": "string",
        "match_probability": "float64",
        "linked_by": "string",
        "run_id": "int64",
    }
)
PERSONS = ibis.schema(
    {
        "person_id": "string",
        "nhs_number": "string",
        "given_name": "string",
        "family_name": "string",
        "date_of_birth": "date",
        "sex": "string",
        "postcode": "string",
        "ethnicity": "string",
        "records": "int64",
        "sources": "int64",
        "run_id": "int64",
    }
)
IDENTITY_CHANGES = ibis.schema(
    {
        "run_id": "int64",
        "change": "string",
        "person_id": "string",
        "other_person_id": "string",
        "records": "int64",
    }
)
CLERICAL_REVIEW = ibis.schema(
    {
        "pair_id": "string",
        "unique_id_l": "string",
        "unique_id_r": "string",
        "match_probability": "float64",
        "decision": "string",
        "decided_at": "timestamp",
        "run_id": "int64",
    }
)
LINK_RUNS = ibis.schema(
    {
        "run_id": "int64",
        "started_at": "timestamp",
        "records": "int64",
        "persons": "int64",
        "comparisons": "int64",
        "merges": "int64",
        "splits": "int64",
        "to_review": "int64",
        "seconds": "float64",
    }
)
TABLES: dict[str, sch.Schema] = {
    "ingest_files": INGEST_FILES,
    "source_records": SOURCE_RECORDS,
    "events": EVENTS,
    "quarantine": QUARANTINE,
    "directory": DIRECTORY,
    "organisations": ORGANISATIONS,
    "postcodes": POSTCODES,
    "opt_outs": OPT_OUTS,
    "workforce": WORKFORCE,
    "person_index": PERSON_INDEX,
    "persons": PERSONS,
    "identity_changes": IDENTITY_CHANGES,
    "clerical_review": CLERICAL_REVIEW,
    "link_runs": LINK_RUNS,
}
