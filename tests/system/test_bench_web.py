"""'neighbourhood bench web' end to end, briefly: real PostgreSQL, real gunicorn, real locust."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.commands import neighbourhood


@pytest.mark.slow
def test_bench_web_measures_every_endpoint_and_loses_no_update(published_dir: Path) -> None:
    done = neighbourhood(
        "bench",
        "web",
        "--sizes",
        "1200",
        "--from",
        str(published_dir),
        "--users",
        "4",
        "--seconds",
        "10",
        "--workers",
        "2",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    (result,) = json.loads(done.stdout)["results"]
    assert "failed" not in result, result
    assert set(result["endpoints"]) >= {
        "case-finding list",
        "person profile",
        "enrol",
        "worklist",
        "care plan",
        "care plan save",
        "task update",
        "agenda",
        "meeting case",
        "referral inbox",
        "referral",
    }
    seeded = result["seeded"]
    assert {k: seeded[k] for k in ("plans", "tasks", "colleagues", "referrals")} == {
        "plans": 60,  # 1,200 people / 20
        "tasks": 300,
        "colleagues": 0,
        "referrals": 60,  # one for each seeded plan's person, waiting in the inbox
    }
    assert seeded["meetings"] >= 1 and seeded["agenda_items"] > 0
    assert result["requests"] > 20
    assert result["errors"] == 0, result["failures"]
    assert result["lost_updates"] == 0
    assert set(result["audit_ms"]) == {"keyed", "unkeyed"}
    assert all(ms > 0 for ms in result["audit_ms"].values())
    assert result["enrolments_acknowledged"] + result["notes_acknowledged"] > 0
    assert result["plan_saves_acknowledged"] + result["task_updates_acknowledged"] > 0
    assert result["p95_ms"] >= result["p50_ms"] > 0
    # Timed from when all 4 had signed in (a GET and a POST each), and those set aside.
    assert result["signing_in"]["requests"] >= 8 and result["signing_in"]["failures"] == 0


@pytest.mark.slow
def test_bench_urgent_claims_triages_and_reads_the_board_losing_no_claim(
    published_dir: Path,
) -> None:
    done = neighbourhood(
        "bench",
        "web",
        "--mix",
        "urgent",
        "--sizes",
        "1200",
        "--from",
        str(published_dir),
        "--users",
        "6",
        "--seconds",
        "15",
        "--workers",
        "2",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["benchmark"] == "urgent"
    (result,) = payload["results"]
    assert "failed" not in result, result
    assert set(result["endpoints"]) >= {"queue", "take a call", "claim a call", "triage", "board"}
    assert result["seeded"] == {"open_responses": 2000}
    assert result["errors"] == 0, result["failures"]
    assert result["lost_updates"] == 0 and result["duplicated_claims"] == 0
    assert result["calls_acknowledged"] > 0 and result["claims_acknowledged"] > 0
    board = result["board"]
    assert board["open"] >= 2000 and board["p95_ms"] >= board["median_ms"] > 0
