"""Linkage on a synthetic ICS, measured against its ground truth."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from neighbourhood.errors import UserError
from neighbourhood.ingest.run import ingest
from neighbourhood.linkage.config import LinkageConfig
from neighbourhood.linkage.evaluate import evaluate
from neighbourhood.linkage.model import comparisons_upper_bound
from neighbourhood.linkage.run import LinkReport, run_link
from neighbourhood.synth import DefectRates
from tests.support.synthetic import copy_of, synthesise


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, LinkReport]:
    data = tmp_path_factory.mktemp("linked")
    synthesise(data, 2_000, seed=5, neighbourhood_size=500)
    ingest(data, workers=2, today=dt.date(2026, 11, 24))
    return data, run_link(data)


def person_ids(data: Path) -> dict[str, str]:
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        return dict(con.sql("SELECT unique_id, person_id FROM person_index").fetchall())


def test_every_accepted_record_is_resolved_to_a_person(linked: tuple[Path, LinkReport]) -> None:
    data, report = linked
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        records = con.sql(
            "SELECT count(DISTINCT source_id || '|' || record_key) FROM source_records"
        ).fetchone()
        persons = con.sql(
            "SELECT count(*), count(nhs_number), count(date_of_birth) FROM persons"
        ).fetchone()
    assert records is not None and persons is not None
    assert report.records == records[0]
    assert persons[0] == report.persons
    assert persons[1] >= 0.98 * persons[0] and persons[2] >= 0.99 * persons[0]
    assert report.linked_by["nhs_number+date_of_birth"] > report.linked_by.get("splink", 0) > 0


def test_linkage_is_accurate_overall_and_in_every_group(linked: tuple[Path, LinkReport]) -> None:
    data, _ = linked
    result = evaluate(data, data / "truth")
    overall = result["overall"]
    assert overall["f1"] >= 0.99
    assert overall["pairwise_precision"] >= 0.99 and overall["pairwise_recall"] >= 0.98
    assert set(result["by_group"]) == {"ethnic_group", "deprivation_quintile", "age_band", "sex"}
    assert len(result["by_group"]["ethnic_group"]) == 5
    assert result["lowest_group_f1"] >= 0.97


def test_a_rerun_keeps_every_person_id(linked: tuple[Path, LinkReport], tmp_path: Path) -> None:
    data = copy_of(linked[0], tmp_path)
    before = person_ids(data)
    again = run_link(data)
    assert person_ids(data) == before
    assert (again.merges, again.splits) == (0, 0)


def test_a_configuration_that_would_blow_up_is_refused(linked: tuple[Path, LinkReport]) -> None:
    data, _ = linked
    with pytest.raises(UserError, match="comparisons"):
        run_link(data, replace(LinkageConfig(), max_comparisons_per_record=0.01))


def test_clerical_decisions_win_over_the_model_on_the_next_run(
    linked: tuple[Path, LinkReport], tmp_path: Path
) -> None:
    from neighbourhood.linkage.run import decide, pair_id, pending_review

    data = copy_of(linked[0], tmp_path)
    wh_path = str(data / "warehouse.duckdb")
    with duckdb.connect(wh_path, read_only=True) as con:
        singles = [
            u
            for (u,) in con.sql(
                "SELECT min(unique_id) FROM person_index GROUP BY person_id HAVING count(*) = 1 "
                "ORDER BY 1 LIMIT 2"
            ).fetchall()
        ]
    left, right = sorted(singles)
    with duckdb.connect(wh_path) as con:  # as if the model had listed this pair for review
        con.execute(
            "INSERT INTO clerical_review (pair_id, unique_id_l, unique_id_r, "
            "match_probability, run_id) VALUES (?, ?, ?, 0.7, 1)",
            [pair_id(left, right), left, right],
        )
    assert pair_id(left, right) in {p["pair"] for p in pending_review(data)}
    decide(data, pair_id(left, right), same_person=True)
    report = run_link(data)
    ids = person_ids(data)
    assert ids[left] == ids[right]
    assert report.merges == 1 and report.linked_by["clerical review"] == 2
    with pytest.raises(UserError, match="no pair 'nonsense'"):
        decide(data, "nonsense", same_person=False)


HARD = ["name_typo=0.3", "nhs_number_missing=0.6", "dob_day_month_swap=0.2"]


def test_harder_defects_still_link_accurately_in_every_group(tmp_path: Path) -> None:
    synthesise(tmp_path, 1_500, seed=9, defects=DefectRates().with_settings(HARD))
    ingest(tmp_path, workers=1, today=dt.date(2026, 11, 24))
    report = run_link(tmp_path)
    result = evaluate(tmp_path, tmp_path / "truth")
    # richer blocking (names swapped, addresses) costs comparisons; the guard allows 25
    assert report.comparisons / report.records < 10
    assert result["overall"]["blocking_recall"] >= 0.995
    assert result["overall"]["f1"] >= 0.99, result["overall"]
    assert result["overall"]["pairwise_precision"] >= 0.99
    assert result["lowest_group_f1"] >= 0.97


def test_a_sector_with_no_nhs_numbers_at_all_links_by_name_date_and_address(
    tmp_path: Path,
) -> None:
    defects = DefectRates().with_settings(["nhs_number_missing.social_care=1"])
    synthesise(tmp_path, 1_500, seed=4, defects=defects)
    ingest(tmp_path, workers=1, today=dt.date(2026, 11, 24))
    run_link(tmp_path)
    result = evaluate(tmp_path, tmp_path / "truth")
    assert result["overall"]["f1"] >= 0.99 and result["lowest_group_f1"] >= 0.97
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        numbers = con.sql(
            "SELECT count(*), count(nhs_number) FROM source_records "
            "WHERE source_id LIKE 'social-care-%'"
        ).fetchone()
        con.execute(
            "CREATE TEMP TABLE truth AS SELECT feed || '|' || record_id AS unique_id, person_id "
            "FROM read_csv(?, all_varchar = true)",
            [str(tmp_path / "truth" / "records.csv.gz")],
        )
        # each social care record is with its person's GP record, found without the number
        joined = con.sql("""
            SELECT count(*), count(*) FILTER (WHERE s.person_id = g.person_id)
            FROM truth ts JOIN person_index s ON s.unique_id = ts.unique_id
            JOIN truth tg ON tg.person_id = ts.person_id AND tg.unique_id LIKE 'gp-%'
            JOIN person_index g ON g.unique_id = tg.unique_id
            WHERE ts.unique_id LIKE 'social-care-%'
        """).fetchone()
    assert numbers is not None and joined is not None
    assert numbers[0] > 50 and numbers[1] == 0
    assert joined[0] > 50 and joined[1] / joined[0] >= 0.98


def test_uncertain_pairs_are_listed_for_review_with_both_records(tmp_path: Path) -> None:
    from neighbourhood.linkage.run import pending_review

    data = tmp_path
    synthesise(
        data,
        1_500,
        seed=9,
        defects=DefectRates().with_settings(HARD),
    )
    ingest(data, workers=1, today=dt.date(2026, 11, 24))
    report = run_link(data, replace(LinkageConfig(), match_threshold=0.999, review_from=0.3))
    pairs = pending_review(data)
    assert report.to_review == len(pairs) > 0
    first = pairs[0]
    assert 0.3 <= first["match_probability"] < 0.999
    assert first["left"]["record"] != first["right"]["record"]
    assert {"given_name", "family_name", "date_of_birth", "postcode", "address"} <= set(
        first["left"]
    )


def test_a_reviewer_sees_missing_values_as_missing_and_no_probability_at_the_threshold() -> None:
    from neighbourhood.cli.sources import describe_record, probability_text

    record = {
        "record": "vcfse-zl01|VR1",
        "given_name": None,
        "family_name": "Noble",
        "date_of_birth": "1950-02-03",
        "postcode": "",
        "address": None,
    }
    assert describe_record(record) == (
        "(missing) Noble, born 1950-02-03, postcode (missing), address (missing) (vcfse-zl01)"
    )
    assert probability_text(0.8974) == "0.8974"
    assert probability_text(0.89996) == "0.8999"  # never "0.9000", the match threshold
    assert probability_text(0.9) == "0.9000"


def test_bench_link_times_a_copy_of_a_given_warehouse_and_refuses_a_linked_one(
    tmp_path: Path, linked: tuple[Path, LinkReport]
) -> None:
    data = tmp_path / "ingested"
    synthesise(data, 600, seed=9, neighbourhood_size=300)
    ingest(data, workers=1, today=dt.date(2026, 11, 24))
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        (records,) = con.sql("SELECT count(*) FROM source_records").fetchone() or (0,)

    def bench(given: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                *(sys.executable, "-m", "neighbourhood.cli.app", "bench", "link"),
                *("--sizes", "600", "--spark-sizes", "", "--from", str(given), "--json"),
            ],
            capture_output=True,
            text=True,
            check=False,
        )

    done = bench(data)
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(done.stdout)["results"]
    assert row["engine"] == "duckdb" and row["records"] == records > 0
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        assert con.sql("SELECT count(*) FROM link_runs").fetchone() == (0,)  # untouched

    refused = bench(linked[0])
    assert refused.returncode == 2
    assert "has been linked already" in refused.stderr and "Traceback" not in refused.stderr


def test_the_guard_counts_the_pairs_each_blocking_rule_makes() -> None:
    records = pa.table(
        {
            "family": ["Khan", "Khan", "Khan", "Khan", "Khan", "Smith", "Smith"],
            "given": ["Aisha", "Aisha", "Aisha", None, None, "Tom", "Tim"],
            "dob": [dt.date(1950, 1, 1)] * 2 + [None, None] + [dt.date(1960, 2, 2)] * 3,
        }
    )
    # Khan Aisha: 3 records, 3 pairs; Smith Tom and Smith Tim, 1 record each, no pair; a
    # missing name or date of birth blocks with nobody, not with the others missing it
    by_name = LinkageConfig(blocking=(("family", "given"),))
    assert comparisons_upper_bound(records, by_name) == 3
    by_dob = LinkageConfig(blocking=(("dob",),))
    assert comparisons_upper_bound(records, by_dob) == 1 + 3  # two of 1950, three of 1960
    both = LinkageConfig(blocking=(("family", "given"), ("dob",)))
    assert comparisons_upper_bound(records, both) == 3 + 4  # counted per rule
