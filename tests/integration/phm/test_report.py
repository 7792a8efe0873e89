"""The inequalities report: every group, disclosure control, the opt-out, and the HTML page."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from neighbourhood.phm.refresh import open_current
from neighbourhood.phm.report import DIMENSIONS, build, protect
from neighbourhood.standards import ethnicity


def cells(report: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """Every published count in the report: (dimension, field, value)."""
    out = []
    for key, dimension in report["dimensions"].items():
        for group in dimension["groups"]:
            for name, value in group.items():
                if isinstance(value, int) and not name.endswith(("cost_12m",)):
                    out.append((key, name, value))
            out += [(key, s, v) for s, v in group["segments"].items() if v is not None]
        out += [(key, f"total {n}", v) for n, v in dimension["total"].items()]
    return out


@pytest.fixture(scope="module")
def report(refreshed: Path) -> dict[str, Any]:
    return build(refreshed)


def test_no_published_count_is_1_to_7_and_every_count_is_a_multiple_of_5(
    report: dict[str, Any],
) -> None:
    published = cells(report)
    assert len(published) > 400
    assert not [c for c in published if 1 <= c[2] <= 7]
    assert not [c for c in published if c[2] % 5]


def test_every_dimension_is_reported_and_totals_add_up_from_the_cells(
    report: dict[str, Any],
) -> None:
    assert set(report["dimensions"]) == set(DIMENSIONS)
    for dimension in report["dimensions"].values():
        groups = dimension["groups"]
        assert dimension["total"]["people"] == sum(g["people"] or 0 for g in groups)
    ages = [g["group"] for g in report["dimensions"]["age_band"]["groups"]]
    assert ages == ["0-17", "18-44", "45-64", "65-74", "75-84", "85+"]
    quintiles = {g["group"] for g in report["dimensions"]["imd_quintile"]["groups"]}
    assert quintiles <= {"1", "2", "3", "4", "5"} and len(quintiles) >= 3  # every person placed
    ethnic = {g["group"] for g in report["dimensions"]["ethnic_group"]["groups"]}
    assert {"White", "Asian or Asian British", "Not stated"} <= ethnic <= set(ethnicity.GROUPS)


def test_opted_out_people_are_left_out(refreshed: Path, report: dict[str, Any]) -> None:
    with open_current(refreshed) as con:
        everyone, opted = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE opted_out) FROM person_measures"
        ).fetchone()  # type: ignore[misc]
    with duckdb.connect(str(refreshed / "warehouse.duckdb"), read_only=True) as con:
        listed = con.execute("SELECT count(*) FROM opt_outs").fetchone()[0]  # type: ignore[index]
    assert opted > 0.02 * everyone and opted <= listed  # linked people on the list
    total = report["dimensions"]["sex"]["total"]["people"]
    groups = len(report["dimensions"]["sex"]["groups"])
    assert abs(total - (everyone - opted)) <= 2.5 * groups  # rounding only
    assert report["opted_out_excluded"] == protect(opted)


def test_deprivation_shows_the_gradient_the_synthetic_population_has(
    report: dict[str, Any],
) -> None:
    """Synth makes conditions commoner with deprivation: the most deprived fifth has a
    higher share with complex needs than the least deprived fifth present."""
    groups = {g["group"]: g for g in report["dimensions"]["imd_quintile"]["groups"]}
    present = sorted(q for q in groups if q != "Unknown")
    most, least = groups[present[0]], groups[present[-1]]
    assert most["complex_needs_pct"] > least["complex_needs_pct"]


def test_the_risk_model_is_reported_by_group(report: dict[str, Any]) -> None:
    assert 0.6 < report["risk_model"]["auroc"] < 1
    by_sex = report["dimensions"]["sex"]["groups"]
    # a person known only to a feed that records no sex is 'Unknown', too few to show
    assert all(0.6 < g["model"]["auroc"] < 1 for g in by_sex if (g["people"] or 0) > 1000)
    shown = [g for g in by_sex if g["people"] is not None]
    assert {g["group"] for g in shown} >= {"female", "male"}
    for g in shown:
        observed, predicted = g["model"]["observed_pct"], g["model"]["mean_predicted_pct"]
        assert abs(observed - predicted) < 3  # calibrated within a group, in points


def test_the_command_writes_json_and_an_html_page_without_names(
    refreshed: Path, tmp_path: Path
) -> None:
    page = tmp_path / "report.html"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "neighbourhood.cli.app",
            "report",
            "--data",
            str(refreshed),
            "--html",
            str(page),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["dimensions"]["sex"]["groups"]
    text = page.read_text(encoding="utf-8")
    assert text.count("<svg") == 1 + len(DIMENSIONS)  # calibration, and one per dimension
    assert text.count("<table>") == len(DIMENSIONS)
    assert 'lang="en-GB"' in text and "aria-label=" in text
    with duckdb.connect(str(refreshed / "warehouse.duckdb"), read_only=True) as con:
        people = con.execute(
            "SELECT given_name || ' ' || family_name, nhs_number FROM persons"
        ).fetchall()
    # A family name alone can be a word the report uses ("North"): look for whole names.
    visible = " ".join(re.sub(r"<[^>]+>", " ", text).split())
    assert not [name for name, _ in people if name and name in visible]
    assert not [number for _, number in people if number and number in text]


def test_report_before_any_refresh_says_what_to_do(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "neighbourhood.cli.app", "report", "--data", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "run 'neighbourhood refresh' first" in done.stderr
    assert "Traceback" not in done.stderr
