"""Linkage from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.commands import run


def test_demo_then_link_evaluate_and_review(tmp_path: Path) -> None:
    demo = run("demo", "--people", "600", "--data", str(tmp_path), "--json", "--no-serve")
    assert demo.returncode == 0, demo.stderr
    figures = json.loads(demo.stdout)
    assert figures["evaluation"]["overall"]["f1"] >= 0.98
    done = run("link", "--evaluate", "--json", "--data", str(tmp_path))
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["link"]["merges"] == payload["link"]["splits"] == 0
    assert set(payload["evaluation"]["by_group"]) == {
        "ethnic_group",
        "deprivation_quintile",
        "age_band",
        "sex",
    }
    review = run("link", "review", "--json", "--data", str(tmp_path))
    assert review.returncode == 0 and "pairs" in json.loads(review.stdout)
    wrong = run("link", "review", "--same", "nope", "--data", str(tmp_path))
    assert wrong.returncode == 2 and "no pair 'nope'" in wrong.stderr


def test_bad_linkage_configuration_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "linkage.toml").write_text('match_threshold = 1.5\nblocking = [["surname"]]\n')
    done = run("link", "--data", str(tmp_path))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "match_threshold must be a probability" in lines[0]
    assert "blocking rule ['surname']" in lines[0] and "Traceback" not in done.stderr
