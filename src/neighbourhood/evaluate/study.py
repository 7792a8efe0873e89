"""The data an evaluation reads: people, their outcome events and the teams' enrolments.

Read from the published planning tables (pseudonyms only: ``from_published``), or
made in memory from a synthetic ICS with a planted effect (``synthetic``), which is
how the estimators are gated against a known truth over many seeds without writing
files. Days are counted from 1970-01-01.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt

from neighbourhood import operational
from neighbourhood.errors import UserError
from neighbourhood.evaluate.outcomes import ACS_CODES, ACTIVITIES, Events, IntArray
from neighbourhood.phm.versions import has_table

EPOCH = dt.date(1970, 1, 1)
ObjArray = npt.NDArray[np.object_]


@dataclass
class Study:
    ids: ObjArray  # pseudonyms
    neighbourhood: IntArray  # a position in neighbourhoods, -1 where unknown
    neighbourhoods: list[tuple[str, str]]  # (code, name)
    died: IntArray  # day of death, -1 if alive at the end
    groups: dict[str, ObjArray]  # subgroups and the segment, as labels
    adult: npt.NDArray[np.bool_]
    events: dict[str, Events]
    enrolled: IntArray  # positions of the people enrolled
    enrolled_on: IntArray  # the day each was enrolled
    enrolled_team: IntArray  # the neighbourhood whose team enrolled them (-1 unknown)
    first_day: int
    last_day: int
    source: str  # where the data came from, for the report
    truth: dict[str, Any] | None = None
    prevented: dict[str, Events] = field(default_factory=dict)  # synthetic only

    def __len__(self) -> int:
        return len(self.ids)

    def go_live(self, given: dict[str, dt.date] | None = None) -> IntArray:
        """Each neighbourhood's go-live day: as given, else the first of the month of its
        first enrolment, else -1 (not live in the period)."""
        out = np.full(len(self.neighbourhoods), -1, dtype=np.int64)
        where = np.where(
            self.enrolled_team >= 0, self.enrolled_team, self.neighbourhood[self.enrolled]
        )
        ok = where >= 0
        if ok.any():
            months = month_start(self.enrolled_on[ok])
            first = np.full(len(self.neighbourhoods), np.iinfo(np.int64).max)
            np.minimum.at(first, where[ok], months)
            out = np.where(first < np.iinfo(np.int64).max, first, -1)
        codes = [c for c, _ in self.neighbourhoods]
        for code, day in (given or {}).items():
            if code not in codes:
                raise UserError(
                    f"index.go_live: neighbourhood '{code}' is not in the data "
                    f"(known: {', '.join(codes[:10])}{'…' if len(codes) > 10 else ''})"
                )
            out[codes.index(code)] = (day - EPOCH).days
        return out


def month_start(days: IntArray) -> IntArray:
    d = days.astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]")
    return np.asarray(d.astype(np.int64), dtype=np.int64)


def month_index(days: IntArray, first_day: int) -> IntArray:
    """Months since the month of ``first_day``."""
    m = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    base = np.array([first_day]).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return np.asarray(m - base[0], dtype=np.int64)


# -- from the published planning tables ------------------------------------------------


def from_published(con: duckdb.DuckDBPyConnection, source: str) -> Study:
    """People and activity under pseudonyms, from a published version."""
    for table in ("planning_people", "planning_activity"):
        if not has_table(con, table):
            raise UserError(
                f"the published outputs have no {table} table: run 'neighbourhood refresh' "
                "and 'neighbourhood publish' with this version first"
            )
    people = con.execute("""
        SELECT pseudo_id, coalesce(neighbourhood, ''), coalesce(neighbourhood_name, ''),
               coalesce(cast(imd_quintile AS VARCHAR), 'unknown'),
               coalesce(ethnic_group, 'Not stated'), coalesce(age_band, 'unknown'),
               coalesce(sex, 'unknown'),
               CASE WHEN reasonable_adjustment THEN 'yes' ELSE 'no' END,
               coalesce(nullif(inclusion_health, ''), 'none'), coalesce(segment, 'unknown'),
               coalesce(date_diff('day', DATE '1970-01-01', died_on), -1)
        FROM planning_people ORDER BY pseudo_id
    """).fetchnumpy()
    cols = list(people.values())
    ids = np.asarray(cols[0], dtype=object)
    codes = np.asarray(cols[1], dtype=object)
    names = dict(zip(codes.tolist(), np.asarray(cols[2], dtype=object).tolist(), strict=True))
    known = sorted(c for c in names if c)
    position = {c: i for i, c in enumerate(known)}
    neighbourhood = np.array([position.get(c, -1) for c in codes.tolist()], dtype=np.int64)
    groups = {
        "imd_quintile": np.asarray(cols[3], dtype=object),
        "ethnic_group": np.asarray(cols[4], dtype=object),
        "age_band": np.asarray(cols[5], dtype=object),
        "sex": np.asarray(cols[6], dtype=object),
        "disability": np.asarray(cols[7], dtype=object),
        "inclusion_health": np.asarray(cols[8], dtype=object),
        "segment": np.asarray(cols[9], dtype=object),
    }
    # Each person's position, once; then each outcome's events as numbers only (a
    # string column of tens of millions of rows would cost gigabytes).
    con.execute("""
        CREATE OR REPLACE TEMP TABLE evaluation_people AS
        SELECT pseudo_id, row_number() OVER (ORDER BY pseudo_id) - 1 AS i FROM planning_people
    """)
    acs_codes = ", ".join(f"'{c}'" for c in sorted(ACS_CODES))
    events = {}
    for key, acts in ACTIVITIES.items():
        wanted = ", ".join(f"'{a}'" for a in acts)
        found = con.execute(f"""
            SELECT p.i, date_diff('day', DATE '1970-01-01', a.start_date),
                   date_diff('day', DATE '1970-01-01', coalesce(a.end_date, a.start_date)),
                   coalesce(a.code IN ({acs_codes}), false)
            FROM planning_activity a JOIN evaluation_people p USING (pseudo_id)
            WHERE a.activity IN ({wanted})
        """).fetchnumpy()
        person, start, end, acs = (np.asarray(v) for v in found.values())
        events[key] = Events.of(
            person.astype(np.int64),
            start.astype(np.int64),
            end.astype(np.int64),
            acs.astype(bool) if key == "emergency_admission" else None,
        )
    # Each person's first enrolment, and the team that enrolled them.
    enrolments = con.execute(
        """
        SELECT p.i, min(date_diff('day', DATE '1970-01-01', a.start_date)),
               arg_min(coalesce(a.team, ''), a.start_date)
        FROM planning_activity a JOIN evaluation_people p USING (pseudo_id)
        WHERE a.activity = ? GROUP BY p.i ORDER BY p.i
        """,
        [operational.ENROLMENT],
    ).fetchall()
    outcomes = ", ".join(f"'{a}'" for acts in ACTIVITIES.values() for a in acts)
    first_day, last_day = con.execute(f"""
        SELECT date_diff('day', DATE '1970-01-01', min(start_date)),
               date_diff('day', DATE '1970-01-01', max(start_date))
        FROM planning_activity WHERE activity IN ({outcomes})
    """).fetchone() or (None, None)
    if first_day is None or last_day is None:
        raise UserError("the published outputs hold no activity to evaluate")
    return Study(
        ids=ids,
        neighbourhood=neighbourhood,
        neighbourhoods=[(c, names[c]) for c in known],
        died=np.asarray(cols[10], dtype=np.int64),
        groups=groups,
        adult=groups["age_band"] != "0-17",
        events=events,
        enrolled=np.array([p for p, _, _ in enrolments], dtype=np.int64),
        enrolled_on=np.array([d for _, d, _ in enrolments], dtype=np.int64),
        enrolled_team=np.array([position.get(t, -1) for _, _, t in enrolments], dtype=np.int64),
        first_day=int(first_day),
        last_day=int(last_day),
        source=source,
    )


def open_study(data_dir: Path) -> Study:
    from neighbourhood.phm.publish import open_published, published_versions

    con = open_published(data_dir)
    try:
        info = published_versions(data_dir).current() or {}
        return from_published(con, f"published version {info.get('version', '?')}")
    finally:
        con.close()
