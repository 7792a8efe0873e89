"""Reading the test ICS's published file directly, to pick people for the tests."""

from __future__ import annotations

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
