"""From synth's rollout to an evaluation: the teams' record comes back as a feed of its
own, under pseudonyms in the planning tables, and `neighbourhood evaluate` runs a
protocol on it through the command line, keeps the result and accounts for amendments."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import duckdb
import pytest

from neighbourhood.ingest.run import ingest
from neighbourhood.linkage.run import run_link
from neighbourhood.phm.publish import publish
from neighbourhood.phm.refresh import refresh
from neighbourhood.synth.options import Rollout
from tests.support.commands import neighbourhood
from tests.support.synthetic import TODAY, synthesise

PROTOCOL = """
schema = "neighbourhood.evaluate.protocol/1"
name = "Emergency use after enrolment"
outcomes = ["emergency_admissions", "ed_attendances", "deaths", "home_91_days_after_reablement"]
subgroups = ["imd_quintile", "sex"]
"""


@pytest.fixture(scope="module")
def rolled_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("rolled-out")
    synthesise(
        data, 12_000, seed=5, neighbourhood_size=1_000, workers=2, rollout=Rollout(effect=0.85)
    )
    ingest(data, workers=2, today=TODAY)
    run_link(data)
    refresh(data, seed=5)
    publish(data)
    return data


def _published(data: Path) -> duckdb.DuckDBPyConnection:
    current = json.loads((data / "published" / "current.json").read_text())
    return duckdb.connect(str(data / "published" / current["file"]), read_only=True)


def _truth_rows(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_the_teams_record_comes_back_under_pseudonyms(rolled_out: Path) -> None:
    truth = json.loads((rolled_out / "truth" / "evaluation.json").read_text())
    enrolled = _truth_rows(rolled_out / "truth" / "evaluation_enrolled.csv.gz")
    persons = {r["person_id"]: r for r in _truth_rows(rolled_out / "truth" / "persons.csv.gz")}
    planned = [r for r in enrolled if persons[r["person_id"]]["national_data_opt_out"] != "1"]
    con = _published(rolled_out)
    try:
        found = dict(
            con.execute(
                "SELECT activity, count(*) FROM planning_activity "
                "WHERE activity LIKE 'int_%' GROUP BY 1"
            ).fetchall()
        )
        columns = {r[0] for r in con.execute("DESCRIBE planning_activity").fetchall()}
        teams = dict(
            con.execute(
                "SELECT team, strftime(min(start_date), '%Y-%m-%d') FROM planning_activity "
                "WHERE activity = 'int_enrolment' GROUP BY 1"
            ).fetchall()
        )
    finally:
        con.close()
    assert len(enrolled) > 100
    # Everyone enrolled and not opted out, once each; the later steps follow most of them.
    assert found["int_enrolment"] == len(planned)
    assert 0 < found["int_mdt_review"] <= found["int_care_plan"] <= found["int_enrolment"]
    assert columns == {"pseudo_id", "activity", "start_date", "end_date", "code", "team"}
    # Each team's first enrolment is its neighbourhood's go-live day in the truth.
    assert teams == {k: v for k, v in truth["go_live"].items() if v is not None}


def test_evaluate_runs_a_protocol_and_keeps_it(rolled_out: Path, tmp_path: Path) -> None:
    protocol = tmp_path / "protocol.toml"
    protocol.write_text(PROTOCOL, encoding="utf-8")
    page = tmp_path / "report.html"
    ran = neighbourhood(
        "evaluate", "--protocol", str(protocol), "--data", str(rolled_out), "--json",
        "--html", str(page),
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    result = json.loads(ran.stdout)
    assert result["schema"] == "neighbourhood.evaluate.result/1"
    # Each neighbourhood's go-live, read from its team's first enrolment, is the truth's.
    truth = json.loads((rolled_out / "truth" / "evaluation.json").read_text())
    assert result["go_live"] == truth["go_live"]
    assert result["data"]["live"] == sum(v is not None for v in truth["go_live"].values())
    assert len(result["protocol"]["digest"]) == 64 and result["protocol"]["text"] == PROTOCOL
    by_key = {o["key"]: o for o in result["outcomes"]}
    emergency = by_key["ed_attendances"]["designs"]
    # The naive before-and-after shows regression to the mean as a large fall.
    assert emergency["naive"]["biased"] and emergency["naive"]["ratio"] < 0.7
    assert emergency["naive"]["ratio"] < emergency["matched"]["ratio"]
    assert set(emergency) == {"matched", "staggered_did", "its", "naive"}
    assert emergency["staggered_did"]["event_study"] and "pre_trend_p" in emergency["staggered_did"]
    assert not by_key["home_91_days_after_reablement"]["available"]
    quintiles = by_key["ed_attendances"]["groups"]["imd_quintile"]
    assert {level["level"] for level in quintiles["levels"]} <= {"1", "2", "3", "4", "5", "unknown"}
    assert set(quintiles["p_difference"]) == {"matched", "staggered_did", "its"}
    # Disclosure control: every count of people is suppressed (None) or a multiple of 5.
    counts = [result["matching"][k] for k in ("treated", "comparators", "unmatched")] + [
        level["matched"]["treated"]
        for group in by_key["ed_attendances"]["groups"].values()
        for level in group["levels"]
    ]
    assert all(c is None or c % 5 == 0 for c in counts)
    assert result["matching"]["treated"] >= 100
    kept = list((rolled_out / "evaluation").glob(f"*-{result['protocol']['digest'][:16]}.json"))
    assert [p.stem for p in kept] == [result["id"]]
    assert "pseudo_id" not in kept[0].read_text() and "P0000" not in kept[0].read_text()
    text = page.read_text()
    assert text.count("<svg") >= 4 and "is biased" in text and "Event study" in text

    # A change without an amendment is refused, and nothing more is kept.
    protocol.write_text(PROTOCOL + "follow_up_days = 182\n", encoding="utf-8")
    refused = neighbourhood("evaluate", "--protocol", str(protocol), "--data", str(rolled_out))
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "has changed since it was last run" in refused.stderr
    assert len(list((rolled_out / "evaluation").glob("*.json"))) == 2  # the result and the log
    protocol.write_text(
        PROTOCOL
        + "follow_up_days = 182\n[[amendments]]\ndate = 2026-12-01\n"
        + "reason = 'Six months: the last wave went live late in the period'\n",
        encoding="utf-8",
    )
    amended = neighbourhood(
        "evaluate", "--protocol", str(protocol), "--data", str(rolled_out), "--json"
    )
    assert amended.returncode == 0, amended.stderr
    assert json.loads(amended.stdout)["protocol"]["amendments"][0]["reason"].startswith("Six")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--protocol", "missing.toml"], "no such protocol file"),
        (["--protocol", "{bad}", "--html", "/no/such/folder/x.html"], "does not exist"),
    ],
)
def test_bad_input_gets_one_line(
    rolled_out: Path, tmp_path: Path, args: list[str], expected: str
) -> None:
    good = tmp_path / "p.toml"
    good.write_text(PROTOCOL, encoding="utf-8")
    args = [str(good) if a == "{bad}" else a for a in args]
    ran = neighbourhood("evaluate", *args, "--data", str(rolled_out))
    assert ran.returncode == 2 and expected in ran.stderr and "Traceback" not in ran.stderr


def test_an_unpublished_data_directory_gets_one_line(tmp_path: Path) -> None:
    protocol = tmp_path / "p.toml"
    protocol.write_text(PROTOCOL, encoding="utf-8")
    ran = neighbourhood("evaluate", "--protocol", str(protocol), "--data", str(tmp_path))
    assert ran.returncode == 2 and "publish" in ran.stderr and "Traceback" not in ran.stderr
