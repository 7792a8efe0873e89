"""The command line as a user meets it: help, JSON, and one-line errors with exit code 2."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest

from tests.support.commands import run


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["synth"],
        ["demo"],
        ["bench"],
        ["bench", "synth"],
        ["bench", "link"],
        ["bench", "refresh"],
        ["report"],
        ["publish"],
        ["reviews"],
        ["capacity"],
        ["capacity", "run"],
        ["capacity", "backtest"],
        ["capacity", "demand"],
        ["bench", "capacity"],
        ["evaluate"],
        ["returns", "activity"],
        ["bench", "evaluate"],
    ],
)
def test_every_command_has_help(command: list[str]) -> None:
    done = run(*command, "--help")
    assert done.returncode == 0
    assert "Usage:" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["synth", "--people", "lots"], "Invalid value for '--people'"),
        (["synth", "--people", "0"], "--people must be at least 1"),
        (["synth", "--people", "10", "--colour"], "No such option: --colour"),
        (["synth", "--people", "10", "--defect", "typo=0.1"], "unknown defect 'typo'"),
        (["synth", "--people", "10", "--out", "/dev/null"], "/dev/null is a file"),
        (["bench", "synth", "--sizes", "ten"], "--sizes should be numbers"),
        (["bench", "link", "--sizes", "1000", "--spark-sizes", "2000"], "are not among --sizes"),
        (["link", "--engine", "hadoop"], "Invalid value for '--engine'"),
        (["bench", "ingest", "--from", "."], "was not written by 'neighbourhood synth'"),
        (["bench", "refresh", "--from", "."], "not a data directory synth wrote"),
        (["bench", "link", "--from", "."], "not a data directory synth wrote"),
        (["refresh", "--engine", "hadoop"], "Invalid value for '--engine'"),
        (["report", "--html", "/nonexistent/dir/r.html"], "is not a directory"),
        (["frobnicate"], "No such command"),
        (["reviews", "--data", "."], "nothing is published yet"),
    ],
)
def test_user_errors_are_one_line_and_exit_code_2(
    args: list[str], message: str, tmp_path: Path
) -> None:
    done = run(*args, cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    assert message in lines[0]
    assert "Traceback" not in done.stderr


def test_a_directory_of_someone_elses_files_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    done = run("synth", "--people", "50", "--out", str(tmp_path), "--truth", str(tmp_path / "t"))
    assert done.returncode == 2
    assert "not empty" in done.stderr
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_synth_json_is_one_object_and_honours_the_data_directory(tmp_path: Path) -> None:
    done = run(
        "synth",
        "--people",
        "300",
        "--seed",
        "4",
        "--json",
        env={"NEIGHBOURHOOD_DATA": str(tmp_path / "elsewhere")},
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["people"] == 300
    assert Path(figures["out"]) == tmp_path / "elsewhere" / "extracts"
    assert (tmp_path / "elsewhere" / "truth" / "persons.csv.gz").exists()
    assert sum(figures["records"].values()) >= 300


def test_data_option_wins_over_the_environment(tmp_path: Path) -> None:
    done = run(
        "synth",
        "--people",
        "100",
        "--data",
        str(tmp_path / "given"),
        "--json",
        env={"NEIGHBOURHOOD_DATA": str(tmp_path / "env")},
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "given" / "extracts" / "manifest.json").exists()
    assert not (tmp_path / "env").exists()


def test_demo_prints_a_summary_of_the_ics_it_wrote(tmp_path: Path) -> None:
    done = run("demo", "--people", "400", "--data", str(tmp_path), "--no-serve")
    assert done.returncode == 0, done.stderr
    assert "People with complex needs" in done.stdout
    assert (tmp_path / "extracts" / "manifest.json").exists()
    assert "Sign in at http://127.0.0.1:8000/ as one of these demo users" in done.stdout
    for username in ("coordinator", "clinician", "spa", "analyst", "lead", "ig-lead"):
        assert username in done.stdout
    assert "…" not in done.stdout  # no password cut short to fit the terminal
    assert (tmp_path / "care.sqlite3").exists()
    assert "neighbourhood fhir token --client-id demo-gp-system --key" in done.stdout
    assert (tmp_path / "keys" / "demo-partner.pem").stat().st_mode & 0o077 == 0
    # Two example capacity scenarios, written for the user to edit, run and kept.
    assert "Capacity: 2 example scenarios simulated" in done.stdout
    assert len(list((tmp_path / "capacity").glob("*.json"))) == 2
    example = tmp_path / "capacity" / "scenarios" / "more-nurses.toml"
    rerun = run("capacity", "run", "--scenario", str(example), "--data", str(tmp_path), "--json")
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout)["results"][0]["scenario"] == (
        "Half the frail enrolled, four more nurses"
    )
    listed = run("fhir", "clients", "--data", str(tmp_path), "--json")
    assert json.loads(listed.stdout)["clients"][0]["client_id"] == "demo-gp-system"
    unreachable = run(
        "fhir",
        "token",
        "--client-id",
        "demo-gp-system",
        "--key",
        str(tmp_path / "keys" / "demo-partner.pem"),
        "--url",
        "http://127.0.0.1:9/fhir/token",
    )
    assert unreachable.returncode == 2 and "is the server running?" in unreachable.stderr
    no_key = run("fhir", "token", "--client-id", "x", "--key", str(tmp_path / "none.pem"))
    assert no_key.returncode == 2 and "cannot read the key" in no_key.stderr
    # The demo's urgent activity goes out as CSDS-shaped files; a bad period is refused.
    today = dt.date.today()
    period = ["--from", (today - dt.timedelta(days=30)).isoformat(), "--to", today.isoformat()]
    done = run("returns", "csds", *period, "--out", str(tmp_path / "r"), "--data", str(tmp_path))
    assert done.returncode == 0, done.stderr
    ucr, wards = sorted((tmp_path / "r").glob("*.csv"))
    with ucr.open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 39 + 4 and {r["PriorityTypeCode"] for r in rows} == {"2"}
    assert all(r["NHSNumber"].isdigit() and len(r["NHSNumber"]) == 10 for r in rows)
    assert wards.read_text(encoding="utf-8").count("\n") == 1 + 2
    refused = run(
        "returns", "csds", "--from", "2026-13-01", "--to", "2026-12-01", "--data", str(tmp_path)
    )
    assert refused.returncode == 2 and "--from takes a date like" in refused.stderr
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    blocked = run(
        "returns", "csds", *period, "--out", str(tmp_path / "a-file"), "--data", str(tmp_path)
    )
    assert blocked.returncode == 2 and "cannot write the returns into" in blocked.stderr
    none = run("wards", "readings", str(tmp_path / "none.csv"), "--data", str(tmp_path))
    assert none.returncode == 2 and "none.csv: no such file" in none.stderr


def test_nothing_is_removed_when_the_truth_directory_is_someone_elses(tmp_path: Path) -> None:
    assert run("synth", "--people", "50", "--data", str(tmp_path)).returncode == 0
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    done = run(
        "synth", "--people", "50", "--data", str(tmp_path), "--truth", str(tmp_path / "mine")
    )
    assert done.returncode == 2
    assert (tmp_path / "extracts" / "manifest.json").exists()
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
