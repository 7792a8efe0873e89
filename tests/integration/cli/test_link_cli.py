"""Linkage from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.commands import Demo, run


def test_demo_then_link_evaluate_and_review(demo: Demo) -> None:
    """The only test that writes to the demo's directory (it links again)."""
    assert demo.figures["evaluation"]["overall"]["f1"] >= 0.98
    data = demo.data
    done = run("link", "--evaluate", "--json", "--data", str(data))
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["link"]["merges"] == payload["link"]["splits"] == 0
    assert set(payload["evaluation"]["by_group"]) == {
        "ethnic_group",
        "deprivation_quintile",
        "age_band",
        "sex",
    }
    review = run("link", "review", "--json", "--data", str(data))
    assert review.returncode == 0 and "pairs" in json.loads(review.stdout)
    wrong = run("link", "review", "--same", "nope", "--data", str(data))
    assert wrong.returncode == 2 and "no pair 'nope'" in wrong.stderr


def test_bad_linkage_configuration_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "linkage.toml").write_text('match_threshold = 1.5\nblocking = [["surname"]]\n')
    done = run("link", "--data", str(tmp_path))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "match_threshold must be a probability" in lines[0]
    assert "blocking rule ['surname']" in lines[0] and "Traceback" not in done.stderr
