"""The published refresh, read-only: the only analytics the web application reads.

One DuckDB connection per process, reopened when ``neighbourhood publish`` switches a
newer version in (``current.json`` names it), so a page sees one version whole. Each
query takes its own cursor.

A published version never changes, so what a query returned is kept (per process, up to
``CACHE_ROWS`` rows, least recently used first out) and given again, as a copy, until
a newer version is published: colleagues in a team open the same pages of the same
list and the same people. Only the published refresh is kept this way; caseloads,
enrolments and access decisions come from the operational database on every request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from django.conf import settings

from neighbourhood.config import published_dir
from neighbourhood.phm.versions import POINTER, Versions, has_table
from neighbourhood.phm.vocabulary import COHORTS

PAGE_SIZE = 25
SORTS = {
    "rank": "rank",
    "risk": "risk DESC, rank",
    "age": "age DESC, rank",
    "deprivation": "imd_decile, rank",
    "name": "family_name, given_name, rank",
}


class NotPublished(Exception):  # noqa: N818 - a state, shown to the user as a page
    """Nothing has been published yet."""


@dataclass(frozen=True)
class Filters:
    cohort: str = ""
    segment: str = ""
    risk_band: str = ""
    imd_quintile: int | None = None
    search: str = ""
    sort: str = "rank"


CACHE_ROWS = 50_000

_lock = threading.Lock()
_state: dict[str, Any] = {"file": None, "con": None, "pointer": None, "info": None}
_kept: OrderedDict[tuple[str, str, tuple[Any, ...]], list[dict[str, Any]]] = OrderedDict()
_kept_rows = [0]


def _versions() -> Versions:
    return Versions(published_dir(Path(settings.DATA_DIR)), "publish")


def current_info() -> dict[str, Any] | None:
    """What ``current.json`` says, read again only when publish has switched it (a new
    file is renamed into place, so its inode and time change); a page makes several
    queries and should not parse the pointer for each."""
    versions = _versions()
    try:
        stat = (versions.folder / POINTER).stat()
    except FileNotFoundError:
        return None
    key = (str(versions.folder), stat.st_ino, stat.st_mtime_ns)
    with _lock:
        if _state["pointer"] != key:
            _state["info"], _state["pointer"] = versions.current(), key
        info: dict[str, Any] | None = _state["info"]
    return info


@contextmanager
def cursor() -> Iterator[duckdb.DuckDBPyConnection]:
    info = current_info()
    if info is None:
        raise NotPublished
    path = str(_versions().folder / info["file"])
    with _lock:
        if _state["file"] != path:
            if _state["con"] is not None:
                _state["con"].close()
                _state["con"], _state["file"] = None, None
            _kept.clear()
            _kept_rows[0] = 0
            con = duckdb.connect(path, read_only=True)
            # One thread a query: the server already runs a process per core or more.
            con.execute("SET threads TO 1")
            _state["con"] = con
            _state["file"] = path
        cur = _state["con"].cursor()
    try:
        yield cur
    finally:
        cur.close()


def close() -> None:
    """Close this process's connection (before forking workers: none may share one)."""
    with _lock:
        if _state["con"] is not None:
            _state["con"].close()
        _state["con"], _state["file"] = None, None
        _kept.clear()
        _kept_rows[0] = 0


# Queries this process has put to the published refresh: what a page or a job costs it.
QUERIES = [0]


def _rows(cur: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    QUERIES[0] += 1
    result = cur.execute(sql, list(params))
    names = [d[0] for d in result.description or []]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def _select(sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    """The rows a query gives on the current version: kept, and copied out, since a
    published version never changes (see the module's description)."""
    with cursor() as cur:
        key = (str(_state["file"]), sql, tuple(params))
        with _lock:
            kept = _kept.get(key)
            if kept is not None:
                _kept.move_to_end(key)
        if kept is None:
            kept = _rows(cur, sql, params)
            with _lock:
                if _state["file"] == key[0] and key not in _kept:
                    _kept[key] = kept
                    _kept_rows[0] += len(kept) + 1
                    while _kept_rows[0] > CACHE_ROWS and _kept:
                        _, dropped = _kept.popitem(last=False)
                        _kept_rows[0] -= len(dropped) + 1
    return [dict(row) for row in kept]


def case_finding(
    neighbourhoods: Sequence[str], filters: Filters, page: int = 1
) -> tuple[list[dict[str, Any]], int]:
    """One page of the ranked list for these neighbourhoods, and how many match."""
    if not neighbourhoods:
        return [], 0
    # One branch a neighbourhood: each equality lets DuckDB skip the row groups of the
    # others (the table is sorted by neighbourhood); an IN list would scan them all.
    source = " UNION ALL ".join(
        "SELECT * FROM case_finding WHERE neighbourhood = ?" for _ in neighbourhoods
    )
    where = ["true"]
    params: list[Any] = list(neighbourhoods)
    if filters.cohort in COHORTS:
        where.append(f"cohort_{filters.cohort}")
    if filters.segment:
        where.append("segment = ?")
        params.append(filters.segment)
    if filters.risk_band:
        where.append("risk_band = ?")
        params.append(filters.risk_band)
    if filters.imd_quintile:
        where.append("imd_quintile = ?")
        params.append(filters.imd_quintile)
    if filters.search:
        digits = filters.search.replace(" ", "")
        if digits.isdigit():
            where.append("nhs_number = ?")
            params.append(digits)
        else:
            where.append("(family_name ILIKE ? OR given_name ILIKE ?)")
            params += [f"{filters.search}%", f"{filters.search}%"]
    order = SORTS.get(filters.sort, SORTS["rank"])
    clause = " AND ".join(where)
    rows = _select(
        f"SELECT *, count(*) OVER () AS matching FROM ({source}) WHERE {clause} "
        f"ORDER BY {order} LIMIT ? OFFSET ?",
        [*params, PAGE_SIZE, (max(page, 1) - 1) * PAGE_SIZE],
    )
    if rows:
        return rows, int(rows[0]["matching"])
    total = _select(f"SELECT count(*) AS n FROM ({source}) WHERE {clause}", params)
    return rows, int(total[0]["n"]) if total else 0


def on_case_finding(person_id: str, neighbourhoods: Sequence[str]) -> str | None:
    """The neighbourhood whose case-finding list has this person, if one of these."""
    if not neighbourhoods:
        return None
    # By person alone, so the index answers it.
    found = _select("SELECT neighbourhood FROM case_finding WHERE person_id = ?", [person_id])
    return next(
        (str(r["neighbourhood"]) for r in found if r["neighbourhood"] in neighbourhoods), None
    )


def profile(person_id: str) -> dict[str, Any] | None:
    rows = _select("SELECT * FROM person_profiles WHERE person_id = ?", [person_id])
    return rows[0] if rows else None


def timeline(person_id: str, limit: int) -> tuple[list[dict[str, Any]], int]:
    """The newest ``limit`` events and how many there are in all."""
    rows = _select(
        "SELECT start_date, end_date, sector, setting, activity, code, "
        "count(*) OVER () AS total FROM timeline "
        "WHERE person_id = ? ORDER BY start_date DESC, activity LIMIT ?",
        [person_id, limit],
    )
    return rows, int(rows[0]["total"]) if rows else 0


def medicines(person_id: str) -> list[dict[str, Any]]:
    """A person's medicines from every partner, current ones first."""
    return _select(
        "SELECT code, code_system, first_recorded, last_recorded, status, end_date, sources, "
        "current FROM medicines WHERE person_id = ? "
        "ORDER BY current DESC, last_recorded DESC NULLS LAST, code",
        [person_id],
    )


PERSON = (
    "SELECT person_id, nhs_number, given_name, family_name, date_of_birth, age, segment, "
    "frailty, risk, risk_band, neighbourhood, practice FROM person_profiles WHERE person_id = ?"
)


def by_nhs_number(nhs_number: str) -> dict[str, Any] | None:
    """Whoever has this NHS number anywhere in the ICS (the single point of access takes
    calls for anyone): the person's headline fields, or None."""
    rows = _select(PERSON.replace("person_id = ?", "nhs_number = ?"), [nhs_number])
    return rows[0] if rows else None


def population() -> dict[str, int]:
    """People in each neighbourhood, from the published refresh."""
    rows = _select(
        "SELECT neighbourhood, count(*) AS n FROM person_profiles GROUP BY neighbourhood", []
    )
    return {str(r["neighbourhood"]): int(r["n"]) for r in rows}


def people(person_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Names and headline measures for a caseload or a list of tasks, keyed by person id.
    One lookup a person, each kept: the index answers an equality at once, where a list
    of ids would read the whole table, and a caseload is shown again and again."""
    found: dict[str, dict[str, Any]] = {}
    for person_id in dict.fromkeys(person_ids):
        rows = _select(PERSON, [person_id])
        if rows:
            found[person_id] = rows[0]
    return found


def organisations() -> list[dict[str, Any]]:
    with cursor() as cur:
        return _rows(cur, "SELECT * FROM organisations ORDER BY ods_code", [])


def planning_counts(dimension: str) -> list[dict[str, Any]]:
    """People, complex needs and each cohort by neighbourhood and one dimension, before
    disclosure control (the view applies it). Opted-out people are not in planning_people."""
    column = {
        "imd_quintile": "CAST(imd_quintile AS VARCHAR)",
        "age_band": "age_band",
        "sex": "coalesce(sex, 'Not recorded')",
        "ethnic_group": "coalesce(ethnic_group, 'Not stated')",
        "segment": "segment",
    }[dimension]
    cohorts = ", ".join(f"count(*) FILTER (WHERE cohort_{c}) AS cohort_{c}" for c in COHORTS)
    with cursor() as cur:
        return _rows(
            cur,
            f"SELECT neighbourhood_name, {column} AS grp, count(*) AS people, "
            f"count(*) FILTER (WHERE complex_needs) AS complex_needs, "
            f"count(*) FILTER (WHERE risk_band = 'high') AS high_risk, {cohorts} "
            "FROM planning_people GROUP BY ALL ORDER BY 1, 2",
            [],
        )


def _of_people(sql: str, person_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Rows of ``sql`` (which reads ``wanted``) for many people at once: the ids are
    joined as a table, not spelt out as parameters. Not kept: a scan's answer is used once."""
    import pyarrow as pa

    if not person_ids:
        return []
    with cursor() as cur:
        cur.register("wanted", pa.table({"person_id": pa.array(list(person_ids), pa.string())}))
        try:
            return _rows(cur, sql, [])
        finally:
            cur.unregister("wanted")


def review_facts(person_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """What a plan's review compares with its baseline, by person id."""
    rows = _of_people(
        "SELECT p.person_id, p.frailty, p.conditions, p.cohort_palliative, p.complex_needs "
        "FROM person_profiles p JOIN wanted USING (person_id)",
        person_ids,
    )
    return {r["person_id"]: r for r in rows}


def events_of(
    person_ids: Sequence[str], activities: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """These people's events of these kinds, newest first, by person id."""
    kinds = ", ".join(f"'{a}'" for a in activities if a.replace("_", "").isalnum())
    rows = _of_people(
        "SELECT t.person_id, t.start_date, t.activity, t.code FROM timeline t "
        f"JOIN wanted USING (person_id) WHERE t.activity IN ({kinds}) "
        "ORDER BY t.person_id, t.start_date DESC",
        person_ids,
    )
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row["person_id"], []).append(row)
    return found


def demographics(person_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The groups figures are broken down by, and the cohorts measures need, by person id."""
    rows = _of_people(
        "SELECT p.person_id, CAST(p.imd_quintile AS VARCHAR) AS imd_quintile, p.ethnic_group, "
        "p.age_band, p.sex, p.frailty, p.cohort_palliative, p.neighbourhood "
        "FROM person_profiles p "
        "JOIN wanted USING (person_id)",
        person_ids,
    )
    return {r["person_id"]: r for r in rows}


def residents(neighbourhood: str, limit: int) -> list[str]:
    """Some of the people who live in a neighbourhood, oldest first (urgent calls come
    from anyone, not only those on the case-finding list)."""
    rows = _select(
        "SELECT person_id FROM person_profiles WHERE neighbourhood = ? "
        "ORDER BY age DESC, person_id LIMIT ?",
        [neighbourhood, limit],
    )
    return [str(r["person_id"]) for r in rows]


def for_returns(person_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """What a national return carries of each person: NHS number, date of birth, sex,
    ethnic category (NHS code), postcode and registered practice."""
    rows = _of_people(
        "SELECT p.person_id, p.nhs_number, p.date_of_birth, p.sex, p.ethnicity, p.postcode, "
        "p.practice FROM person_profiles p JOIN wanted USING (person_id)",
        person_ids,
    )
    return {r["person_id"]: r for r in rows}


def listed(neighbourhood: str) -> list[dict[str, Any]]:
    """Everyone on one neighbourhood's case-finding list, in rank order: id, rank, risk."""
    return _select(
        "SELECT person_id, rank, risk FROM case_finding WHERE neighbourhood = ? ORDER BY rank",
        [neighbourhood],
    )


def agenda_facts(person_ids: Sequence[str], activities: Sequence[str]) -> dict[str, dict[str, Any]]:
    """What an MDT agenda weighs for each of a caseload, in one read of the refresh: the
    facts a review compares, the risk the agenda is ordered by, and the events of these
    kinds (newest first)."""
    kinds = ", ".join(f"'{a}'" for a in activities if a.replace("_", "").isalnum())
    rows = _of_people(
        "WITH ev AS (SELECT t.person_id, list(struct_pack(start_date := t.start_date, "
        "activity := t.activity) ORDER BY t.start_date DESC) AS events FROM timeline t "
        f"JOIN wanted USING (person_id) WHERE t.activity IN ({kinds}) GROUP BY 1) "
        "SELECT p.person_id, p.frailty, p.conditions, p.cohort_palliative, p.complex_needs, "
        "p.risk, ev.events FROM person_profiles p JOIN wanted USING (person_id) "
        "LEFT JOIN ev USING (person_id)",
        person_ids,
    )
    return {r["person_id"]: r for r in rows}


WORKFORCE_GROUPS = {
    "role": "role",
    "sector": "sector",
    "employer": "employer",
    "skill": "skill",
}


def workforce_map(group: str, neighbourhood: str | None) -> list[dict[str, Any]]:
    """The workforce map by one grouping (a skill counts each post once per skill held),
    for one neighbourhood or all: posts, filled whole-time equivalents, what of them is
    given to the INT, vacancies. Empty if the refresh has no map yet."""
    column = WORKFORCE_GROUPS[group]
    source = (
        "(SELECT *, unnest(CASE WHEN skills = '' OR skills IS NULL THEN ['none'] "
        "ELSE string_split(skills, ';') END) AS skill FROM workforce)"
        if group == "skill"
        else "workforce"
    )
    where = "WHERE team = ?" if neighbourhood else ""
    with cursor() as cur:
        if not has_table(cur, "workforce"):
            return []
        return _rows(
            cur,
            f"SELECT {column} AS grp, count(*) AS posts, "
            "count(*) FILTER (WHERE vacancy) AS vacancies, "
            "round(sum(fte) FILTER (WHERE NOT vacancy), 1) AS fte, "
            "round(sum(fte * int_share) FILTER (WHERE NOT vacancy), 1) AS int_fte, "
            "round(sum(fte) FILTER (WHERE vacancy), 1) AS vacant_fte "
            f"FROM {source} w {where} GROUP BY ALL ORDER BY int_fte DESC NULLS LAST, grp",
            [neighbourhood] if neighbourhood else [],
        )


def workforce_teams() -> list[dict[str, Any]]:
    """The neighbourhoods the workforce map has staff for, with their names."""
    with cursor() as cur:
        if not has_table(cur, "workforce"):
            return []
        return _rows(
            cur,
            "SELECT w.team AS code, coalesce(any_value(o.name), w.team) AS name "
            "FROM workforce w LEFT JOIN organisations o ON o.ods_code = w.team "
            "WHERE w.team IS NOT NULL GROUP BY w.team ORDER BY w.team",
            [],
        )
