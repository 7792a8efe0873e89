"""Reading the test ICS's published file directly, to pick people for the tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from neighbourhood.phm.publish import open_published
from neighbourhood.phm.versions import scalar as count


def listed(data_dir: Path, neighbourhood: str, n: int = 1) -> list[dict[str, Any]]:
    """People on one neighbourhood's case-finding list, by rank."""
    con = open_published(data_dir)
    try:
        result = con.execute(
            "SELECT person_id, nhs_number, given_name, family_name FROM case_finding "
            "WHERE neighbourhood = ? ORDER BY rank LIMIT ?",
            [neighbourhood, n],
        )
        names = [d[0] for d in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    finally:
        con.close()


def not_listed(data_dir: Path) -> str:
    """Someone on no case-finding list."""
    con = open_published(data_dir)
    try:
        row = con.execute(
            "SELECT person_id FROM person_profiles WHERE person_id NOT IN "
            "(SELECT person_id FROM case_finding) ORDER BY person_id LIMIT 1"
        ).fetchone()
        assert row is not None
        return str(row[0])
    finally:
        con.close()


def scalar(data_dir: Path, sql: str) -> int:
    con = open_published(data_dir)
    try:
        return count(con, sql)
    finally:
        con.close()


def admitted(data_dir: Path) -> tuple[str, dt.date]:
    """The highest ranked on ZU0001's list with an emergency admission, and its latest
    date (high enough that an agenda capped at its most in need still shows them)."""
    con = open_published(data_dir)
    try:
        row = con.execute(
            "SELECT t.person_id, max(t.start_date) FROM timeline t JOIN case_finding c "
            "USING (person_id) WHERE c.neighbourhood = 'ZU0001' AND t.activity = "
            "'emergency_admission' GROUP BY 1 ORDER BY min(c.rank), 1 LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    return str(row[0]), row[1]
