"""synth's rollout of the model of care: staggered go-live, case finding by high prior use,
a known effect planted in the enrolled people's events, and the truth written apart."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from neighbourhood import operational, registry
from neighbourhood.errors import InvalidOptionsError
from neighbourhood.evaluate.synthetic import synthetic
from neighbourhood.synth.options import Rollout
from neighbourhood.synth.population import Period
from neighbourhood.synth.rollout import go_live_days
from tests.support.commands import neighbourhood
from tests.support.synthetic import synthesise


def _rows(path: Path) -> list[dict[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:  # type: ignore[operator]
        return list(csv.DictReader(handle))


def test_rollout_writes_the_teams_record_as_a_feed_and_the_truth_apart(tmp_path: Path) -> None:
    summary = synthesise(
        tmp_path, 6_000, seed=4, neighbourhood_size=500, workers=2, rollout=Rollout(effect=0.8)
    )
    truth = json.loads((tmp_path / "truth" / "evaluation.json").read_text())
    enrolled = _rows(tmp_path / "truth" / "evaluation_enrolled.csv.gz")
    prevented = _rows(tmp_path / "truth" / "evaluation_prevented.csv.gz")
    assert summary.enrolled == len(enrolled) > 30
    assert truth["rollout"]["effect"] == 0.8 and truth["effects"]["rate_ratio"] == {
        "emergency_admission": 0.8,
        "ed_attendance": 0.8,
        "care_home_admission": 0.8,
    }
    live = {k: v for k, v in truth["go_live"].items() if v}
    assert len(live) == 9 and len(truth["go_live"]) == 12  # three in four neighbourhoods
    assert len(set(live.values())) == 4 and all(v.endswith("-01") for v in live.values())
    # Everyone enrolled on their neighbourhood's go-live day; what was prevented came after.
    assert all(r["enrolled_on"] == live[r["neighbourhood"]] for r in enrolled)
    first = {r["person_id"]: r["enrolled_on"] for r in enrolled}
    assert prevented and all(r["start_date"] >= first[r["person_id"]] for r in prevented)
    assert {r["activity"] for r in prevented} <= {
        "emergency_admission",
        "ed_attendance",
        "care_home_admission",
    }
    # The feed: one enrolment each, declared in sources.toml under its own agreement.
    activity = _rows(tmp_path / "extracts" / operational.SOURCE_ID / operational.EVENTS_FILE)
    people = _rows(tmp_path / "extracts" / operational.SOURCE_ID / operational.PEOPLE_FILE)
    assert len(people) == len(enrolled)
    assert sum(r["Activity"] == "Enrolment" for r in activity) == len(enrolled)
    assert {r["Team"] for r in activity} == set(live)
    source = next(s for s in registry.load(tmp_path) if s.id == operational.SOURCE_ID)
    assert source.sector == "integrated_care" and source.csv is not None
    assert source.csv.activities["MDT review"] == "int_mdt_review"


def test_without_rollout_nothing_of_it_is_written(tmp_path: Path) -> None:
    synthesise(tmp_path, 600, seed=4, neighbourhood_size=200)
    assert not (tmp_path / "extracts" / operational.SOURCE_ID).exists()
    assert not (tmp_path / "truth" / "evaluation.json").exists()
    assert operational.SOURCE_ID not in {s.id for s in registry.load(tmp_path)}


def test_the_rollout_does_not_change_anything_else(tmp_path: Path) -> None:
    """The people and every partner's feed are the same with or without a rollout of no
    effect: the rollout draws from random streams of its own."""
    synthesise(tmp_path / "off", 800, seed=6, neighbourhood_size=200)
    synthesise(tmp_path / "on", 800, seed=6, neighbourhood_size=200, rollout=Rollout(effect=1.0))

    def digests(root: Path) -> dict[str, str]:
        return {
            str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((root / "extracts").rglob("*"))
            if p.is_file() and operational.SOURCE_ID not in p.parts and p.name != "manifest.json"
        }

    assert digests(tmp_path / "off") == digests(tmp_path / "on")


def test_waves_and_never_live_neighbourhoods() -> None:
    period = Period(19631, 19631 + 3 * 365)  # three years from 2023-10-01
    days = go_live_days(40, period, Rollout(), seed=1)
    assert (days < 0).sum() == 10 and len(set(days[days >= 0].tolist())) == 4
    assert go_live_days(40, period, Rollout(), seed=1).tolist() == days.tolist()
    assert go_live_days(40, period, Rollout(), seed=2).tolist() != days.tolist()
    short = Period(19631, 19631 + 365)  # a year: no look-back before and follow-up after
    assert (go_live_days(10, short, Rollout(), seed=1) < 0).all()


def test_the_planted_effect_is_the_share_of_events_kept() -> None:
    """Among enrolled people, emergency use after enrolment is thinned by the ratio:
    with no effect nothing is taken away, with 0.5 about half."""
    none = synthetic(20_000, 9, Rollout(effect=1.0))
    assert all(len(e) == 0 for e in none.prevented.values())
    half = synthetic(20_000, 9, Rollout(effect=0.5))
    kept = half.events["ed_attendance"]
    lost = half.prevented["ed_attendance"]
    since = dict(zip(half.enrolled.tolist(), half.enrolled_on.tolist(), strict=True))
    after = sum(
        1
        for p, d in zip(kept.person.tolist(), kept.start.tolist(), strict=True)
        if p in since and d >= since[p]
    )
    share = len(lost) / (len(lost) + after)
    assert 0.45 < share < 0.55 and len(lost) > 200
    assert np.array_equal(np.sort(half.enrolled), np.sort(none.enrolled))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--effect", "0.9"], "--effect and --effect-most-deprived need --rollout"),
        (["--rollout", "--effect", "0"], "--effect must be above 0 and at most 2 (got 0.0)"),
        (
            ["--rollout", "--effect-most-deprived", "5"],
            "--effect-most-deprived must be above 0 and at most 2",
        ),
    ],
)
def test_bad_rollout_options_get_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    ran = neighbourhood("synth", "--people", "300", "--data", str(tmp_path), *args)
    assert ran.returncode == 2 and expected in ran.stderr and "Traceback" not in ran.stderr


def test_rollout_options_are_checked() -> None:
    with pytest.raises(InvalidOptionsError, match="uptake must be above 0"):
        Rollout(uptake=0)
    with pytest.raises(InvalidOptionsError, match="waves must be from 1 to 24"):
        Rollout(waves=0)
