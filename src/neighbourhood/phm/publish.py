"""``neighbourhood publish``: what operations and planners read, from the current refresh.

One published version per refresh (``DATA/published/vNNNN.duckdb``, switched in one
step like the refresh) holds:

- for direct care (identifiable; the web application reads only these):
  ``case_finding`` (the ranked list with names and NHS numbers), ``person_profiles``
  (every linked person), ``timeline`` (their events from every sector) and
  ``organisations`` (the partners, with ODS codes, kinds and places);
- for planning (pseudonymised): ``workforce`` (the workforce map, posts without staff
  references) and ``planning_people``, one row per person who has not
  opted out, keyed by a keyed hash (HMAC-SHA256) of the person id, with no name, NHS
  number, date of birth or postcode. The key is kept outside the warehouse and the
  published files (``DATA/keys/pseudonymisation.key`` unless
  ``NEIGHBOURHOOD_PSEUDONYMISATION_KEY`` names another file), so a published file
  alone cannot be linked back to people.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from neighbourhood import keyfiles
from neighbourhood.config import published_dir
from neighbourhood.errors import UserError
from neighbourhood.evaluate.outcomes import PLANNING_ACTIVITIES
from neighbourhood.phm.refresh import REFRESH_DIR, current_info
from neighbourhood.phm.versions import Versions, has_table, scalar
from neighbourhood.phm.vocabulary import COHORTS
from neighbourhood.private import owner_only_files
from neighbourhood.warehouse.schema import WORKFORCE
from neighbourhood.warehouse.store import WAREHOUSE_FILE

KEY_VARIABLE = "NEIGHBOURHOOD_PSEUDONYMISATION_KEY"
KEY_BYTES = 32
PSEUDONYM_CHARS = 32  # 128 bits of the HMAC: no collision in any population


@dataclass
class PublishReport:
    version: int
    refresh: int
    as_of: str
    case_finding: int
    profiles: int
    timeline_events: int
    planning_people: int
    opted_out_excluded: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__) | {"seconds": round(self.seconds, 2)}


def published_versions(data_dir: Path) -> Versions:
    return Versions(published_dir(data_dir), "publish")


def open_published(data_dir: Path) -> duckdb.DuckDBPyConnection:
    return published_versions(data_dir).open_current("run 'neighbourhood publish' first")


def key_path(data_dir: Path) -> Path:
    named = os.environ.get(KEY_VARIABLE)
    return Path(named) if named else data_dir / "keys" / "pseudonymisation.key"


def pseudonymisation_key(data_dir: Path) -> bytes:
    """The key, made (readable by its owner only) the first time it is needed."""
    named_by = KEY_VARIABLE if os.environ.get(KEY_VARIABLE) else None
    return keyfiles.random_key(key_path(data_dir), "pseudonymisation key", named_by, KEY_BYTES)


def pseudonym(key: bytes, person_id: str) -> str:
    return hmac.new(key, person_id.encode(), hashlib.sha256).hexdigest()[:PSEUDONYM_CHARS]


@owner_only_files
def publish(data_dir: Path) -> PublishReport:
    began = time.perf_counter()
    info = current_info(data_dir)
    if info is None:
        raise UserError(f"no refresh in {data_dir} yet: run 'neighbourhood refresh' first")
    key = pseudonymisation_key(data_dir)
    outputs = published_versions(data_dir)
    version = outputs.start()
    refresh_file = data_dir / REFRESH_DIR / info["file"]
    meta = {
        "version": version,
        "refresh": info["version"],
        "as_of": info["as_of"],
        "pseudonymisation": f"HMAC-SHA256 of the person id, first {PSEUDONYM_CHARS} hex digits",
        "published_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    counts: dict[str, int] = {}

    def fill(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(f"ATTACH '{_quote(refresh_file)}' AS refresh (READ_ONLY)")
        con.execute(f"ATTACH '{_quote(data_dir / WAREHOUSE_FILE)}' AS wh (READ_ONLY)")
        _direct_care(con, info["as_of"])
        _planning(con, key)
        _workforce(con)
        for table in (
            "case_finding",
            "person_profiles",
            "timeline",
            "organisations",
            "planning_people",
        ):
            counts[table] = scalar(con, f"SELECT count(*) FROM {table}")
        counts["opted_out"] = scalar(
            con, "SELECT count(*) FROM refresh.person_measures WHERE opted_out"
        )
        con.execute("DETACH refresh")
        con.execute("DETACH wh")

    outputs.write(version, meta, fill)
    return PublishReport(
        version=version,
        refresh=info["version"],
        as_of=info["as_of"],
        case_finding=counts["case_finding"],
        profiles=counts["person_profiles"],
        timeline_events=counts["timeline"],
        planning_people=counts["planning_people"],
        opted_out_excluded=counts["opted_out"],
        seconds=time.perf_counter() - began,
    )


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")


COHORT_COLUMNS = ", ".join(f"m.cohort_{c}" for c in COHORTS)


# A medicine is no longer current once its latest record says so, or its period has ended.
FINISHED_MEDICINE = ("stopped", "completed", "cancelled", "entered-in-error", "not-taken")
POLYPHARMACY = 10  # current medicines: the NHSBSA polypharmacy prescribing comparators' mark


def _medicines(con: duckdb.DuckDBPyConnection, as_of: str) -> None:
    """Each person's medicines from every partner (MedicationStatement, MedicationRequest),
    one row a medicine, whether it is current on the refresh's date."""
    finished = ", ".join(f"'{s}'" for s in FINISHED_MEDICINE)
    con.execute(
        f"""
        CREATE TABLE medicines AS
        WITH recorded AS (
            SELECT i.person_id, e.code, e.code_system, e.start_date, e.end_date,
                   e.setting AS status, e.source_id
            FROM wh.events e JOIN wh.person_index i USING (source_id, record_key)
            WHERE e.activity = 'medication' AND e.code IS NOT NULL
              AND (e.start_date IS NULL OR e.start_date <= CAST(? AS DATE))
        ), latest AS (
            SELECT person_id, code, any_value(code_system) AS code_system,
                   min(start_date) AS first_recorded, max(start_date) AS last_recorded,
                   arg_max(status, coalesce(start_date, DATE '1900-01-01')) AS status,
                   arg_max(end_date, coalesce(start_date, DATE '1900-01-01')) AS end_date,
                   string_agg(DISTINCT source_id, ', ' ORDER BY source_id) AS sources
            FROM recorded GROUP BY person_id, code
        )
        SELECT *, coalesce(status NOT IN ({finished}), true)
                  AND (end_date IS NULL OR end_date >= CAST(? AS DATE)) AS current
        FROM latest
        ORDER BY person_id, current DESC, last_recorded DESC NULLS LAST, code
        """,
        [as_of, as_of],
    )


def _direct_care(con: duckdb.DuckDBPyConnection, as_of: str) -> None:
    _medicines(con, as_of)
    con.execute(f"""
        CREATE TABLE person_profiles AS
        SELECT m.person_id, p.nhs_number, p.given_name, p.family_name, p.date_of_birth,
               p.sex, p.postcode, p.ethnicity, m.ethnic_group, m.age, m.age_band,
               m.neighbourhood, m.neighbourhood_name, m.practice, m.lsoa, m.imd_decile,
               m.imd_quintile, m.reasonable_adjustment, m.inclusion_health, m.opted_out,
               coalesce(c.has_unpaid_carer, false) AS has_unpaid_carer,
               m.segment, m.frailty, m.efi, m.ltc_count, m.charlson, m.conditions,
               {COHORT_COLUMNS}, m.complex_needs, m.cohort_count, m.risk, m.risk_band,
               m.risk_factors, m.reasons, m.emergency_admissions_12m, m.ed_attendances_12m,
               m.cost_12m, m.hospital_cost_12m, m.forecast_cost_12m,
               coalesce(d.medicines_current, 0) AS medicines_current,
               coalesce(d.medicines_current, 0) >= {POLYPHARMACY} AS polypharmacy
        FROM refresh.person_measures m
        JOIN wh.persons p USING (person_id)
        LEFT JOIN (
            SELECT person_id, count(*) FILTER (WHERE current) AS medicines_current
            FROM medicines GROUP BY person_id
        ) d USING (person_id)
        LEFT JOIN (
            SELECT DISTINCT i.person_id, true AS has_unpaid_carer
            FROM wh.events e JOIN wh.person_index i USING (source_id, record_key)
            WHERE e.activity = 'unpaid_carer_recorded'
        ) c USING (person_id)
        ORDER BY m.person_id
    """)
    con.execute("""
        CREATE TABLE case_finding AS
        SELECT f.neighbourhood, f.neighbourhood_name, f.rank, f.person_id, p.nhs_number,
               p.given_name, p.family_name, p.date_of_birth, f.* EXCLUDE (neighbourhood,
               neighbourhood_name, rank, person_id)
        FROM refresh.case_finding f JOIN person_profiles p USING (person_id)
        ORDER BY f.neighbourhood, f.rank
    """)
    con.execute("""
        CREATE TABLE timeline AS
        SELECT i.person_id, e.start_date, e.end_date, e.sector, e.setting, e.activity,
               e.code, e.source_id, e.cost_gbp
        FROM wh.events e JOIN wh.person_index i USING (source_id, record_key)
        WHERE e.start_date IS NOT NULL
        ORDER BY i.person_id, e.start_date
    """)
    # The web application looks people up one at a time: an index each makes that a probe
    # rather than a scan of a row group. (The timeline is sorted by person, which is
    # enough there, and an index on it would double the file.)
    con.execute("CREATE INDEX person_profiles_person ON person_profiles (person_id)")
    con.execute("CREATE INDEX case_finding_person ON case_finding (person_id)")
    # The single point of access finds a caller's person by NHS number, ICS-wide.
    con.execute("CREATE INDEX person_profiles_nhs ON person_profiles (nhs_number)")
    con.execute("""
        CREATE TABLE organisations AS
        SELECT DISTINCT ods_code, name, kind, parent, place FROM wh.organisations
        ORDER BY ods_code
    """)


def _workforce(con: duckdb.DuckDBPyConnection) -> None:
    """The workforce map for planning: each employer's latest extract from each source (a
    newer one replaces it), without staff references: posts, roles, hours, skills, never who. A warehouse
    from before the workforce map gives an empty one."""
    source = "wh.workforce"
    if not has_table(con, "workforce", "wh"):
        con.register("no_workforce", WORKFORCE.to_pyarrow().empty_table())
        source = "no_workforce"
    con.execute(f"""
        CREATE TABLE workforce AS
        SELECT w.source_id, w.team, w.sector, w.employer, w.role, w.staff_group, w.band,
               w.registration, w.contract, w.hours, w.fte, w.int_share, w.skills, w.base,
               w.vacancy
        FROM {source} w
        JOIN (SELECT source_id, employer, max(file_id) AS file_id FROM {source} GROUP BY ALL)
          USING (source_id, employer, file_id)
        ORDER BY w.team, w.employer, w.role, w.source_id, w.line
    """)


def _planning(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    people = con.execute(
        "SELECT person_id FROM refresh.person_measures WHERE NOT opted_out ORDER BY person_id"
    ).fetch_arrow_table()
    ids = people.column("person_id").to_pylist()
    keyed = pa.table({"person_id": ids, "pseudo_id": [pseudonym(key, p) for p in ids]})
    con.register("keyed", keyed)
    con.execute(f"""
        CREATE TABLE planning_people AS
        SELECT k.pseudo_id, m.neighbourhood, m.neighbourhood_name, m.lsoa, m.imd_decile,
               m.imd_quintile, m.age_band, m.sex, m.ethnic_group, m.reasonable_adjustment,
               m.inclusion_health, m.segment, m.frailty, m.ltc_count, m.charlson,
               {COHORT_COLUMNS}, m.complex_needs, m.risk, m.risk_band, m.cost_12m,
               m.hospital_cost_12m, m.forecast_cost_12m, m.emergency_admissions_12m,
               m.ed_attendances_12m, d.died_on
        FROM keyed k JOIN refresh.person_measures m USING (person_id)
        LEFT JOIN (
            SELECT i.person_id, max(s.date_of_death) AS died_on
            FROM wh.source_records s JOIN wh.person_index i USING (source_id, record_key)
            WHERE s.date_of_death IS NOT NULL GROUP BY i.person_id
        ) d USING (person_id)
        ORDER BY k.pseudo_id
    """)
    # What evaluation reads of each person's activity: the outcomes and the teams' own
    # work (the operational feed), under the pseudonym only. The operational feed is the
    # whole history each time it is exported, so its rows are taken once each.
    activities = ", ".join(f"'{a}'" for a in PLANNING_ACTIVITIES)
    con.execute(f"""
        CREATE TABLE planning_activity AS
        WITH found AS (
            SELECT k.pseudo_id, e.activity, e.start_date, e.end_date, e.code,
                   CASE WHEN starts_with(e.activity, 'int_') THEN e.setting END AS team
            FROM wh.events e JOIN wh.person_index i USING (source_id, record_key)
            JOIN keyed k ON k.person_id = i.person_id
            WHERE e.start_date IS NOT NULL AND e.activity IN ({activities})
        )
        SELECT * FROM found WHERE NOT starts_with(activity, 'int_')
        UNION ALL
        SELECT DISTINCT * FROM found WHERE starts_with(activity, 'int_')
        ORDER BY pseudo_id, start_date
    """)
    con.unregister("keyed")
