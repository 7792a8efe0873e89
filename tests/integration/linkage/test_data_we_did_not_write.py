"""Linkage on data nobody here wrote: the FEBRL benchmarks, brought in as a data manager
would bring a partner's extract, through the command line, and measured with a truth file.

No NHS number in any record, Australian four-digit postcodes, names and addresses with
FEBRL's own typographical errors, extra columns left unmapped, addresses built from
several columns, feeds of people alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.commands import run as neighbourhood
from tests.support.febrl import write_febrl


def linked(data: Path, name: str, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    truth = write_febrl(data, name, drop)
    for source in ("social-care", "vcfse") if name == "febrl4" else ("social-care",):
        checked = neighbourhood("sources", "check", source, "--data", str(data), "--json")
        assert checked.returncode == 0, checked.stderr
        (people,) = json.loads(checked.stdout)["files"]
        assert people["rows"] == 5_000 and not people["refused"]
        # FEBRL writes some dates of birth that are no date (31 February): named, not refused
        assert {m["column"] for m in people["mismatches"]} <= {"date_of_birth"}
    ingested = neighbourhood("ingest", "--data", str(data), "--json")
    assert ingested.returncode == 0, ingested.stderr
    done = neighbourhood("link", "--evaluate", "--truth", str(truth), "--data", str(data), "--json")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.mark.slow
def test_two_files_without_nhs_numbers_link_through_the_command_line(tmp_path: Path) -> None:
    result = linked(tmp_path, "febrl4")
    overall = result["evaluation"]["overall"]
    assert (overall["records"], overall["true_people"], overall["true_pairs"]) == (
        10_000,
        5_000,
        5_000,
    )
    assert overall["f1"] >= 0.99
    assert overall["blocking_recall"] >= 0.99
    assert result["link"]["linked_by"].get("nhs_number+date_of_birth", 0) == 0
    # the data is hard: exact names and date of birth alone find barely half the pairs
    assert result["evaluation"]["naive_baseline"]["f1"] < 0.8
    # the truth file's extra column is a group, broken down like synth's
    assert result["evaluation"]["by_group"]["state"]["nsw"]["records"] > 1_000


@pytest.mark.slow
def test_a_file_with_several_records_a_person_is_deduplicated(tmp_path: Path) -> None:
    result = linked(tmp_path, "febrl3")
    overall = result["evaluation"]["overall"]
    assert (overall["records"], overall["true_people"]) == (5_000, 2_000)
    assert overall["f1"] >= 0.97
    assert result["link"]["comparisons"] / overall["records"] <= 25


@pytest.mark.slow
def test_feeds_without_dates_of_birth_link_on_names_and_addresses(tmp_path: Path) -> None:
    # no NHS number and no date of birth: the model trains on names alone
    overall = linked(tmp_path, "febrl4", drop=("dob",))["evaluation"]["overall"]
    assert overall["f1"] >= 0.95 and overall["pairwise_precision"] >= 0.99


def test_a_truth_file_without_its_columns_is_one_line_and_exit_2(tmp_path: Path) -> None:
    write_febrl(tmp_path, "febrl4")
    assert neighbourhood("ingest", "--data", str(tmp_path)).returncode == 0
    bad = tmp_path / "bad-truth.csv"
    bad.write_text("feed,record,person\nsocial-care,rec-1-org,1\n", encoding="utf-8")
    for truth, words in (
        (bad, "needs column(s) source, record_key, entity_id"),
        (tmp_path / "nowhere.csv", "no ground truth at"),
    ):
        done = neighbourhood("link", "--evaluate", "--truth", str(truth), "--data", str(tmp_path))
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert words in done.stderr.replace("\n", " ")


def test_a_truth_naming_records_not_in_the_warehouse_says_so(tmp_path: Path) -> None:
    write_febrl(tmp_path, "febrl4")
    assert neighbourhood("ingest", "--data", str(tmp_path)).returncode == 0
    stranger = tmp_path / "strangers.csv"
    stranger.write_text("source,record_key,entity_id\nnobody,x,1\n", encoding="utf-8")
    done = neighbourhood("link", "--evaluate", "--truth", str(stranger), "--data", str(tmp_path))
    assert done.returncode == 2
    assert "no record in the truth is in the warehouse" in done.stderr.replace("\n", " ")
