"""Scenario files: checked against a versioned schema, every problem named by its field."""

from __future__ import annotations

from pathlib import Path

import pytest

from neighbourhood.capacity import scenario
from neighbourhood.capacity.run import levers_for
from neighbourhood.errors import InvalidOptionsError, UserError

GOOD = """
schema = "neighbourhood.capacity.scenario/1"
name = "Two more district nurses"
replications = 5
[levers]
population_growth = 0.01
shift_to_community = [0.05, 0.15]
[levers.enrolment]
frailty = [0.4, 0.6]
[staff]
district_nurse = 2
[services.district_nursing]
minutes = 40
"""


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_keeps_the_defaults_it_does_not_change(tmp_path: Path) -> None:
    s = scenario.load(write(tmp_path, GOOD))
    assert s.name == "Two more district nurses" and s.replications == 5
    assert s.services["district_nursing"].minutes == 40
    assert (
        s.services["district_nursing"].roles == scenario.DEFAULT_SERVICES["district_nursing"].roles
    )
    assert s.services["therapy"] == scenario.DEFAULT_SERVICES["therapy"]
    assert s.levers.shift_to_community == (0.05, 0.15)


def test_every_problem_is_named_by_its_field_at_once(tmp_path: Path) -> None:
    bad = GOOD.replace("replications = 5", "replications = 1\ncolour = 'blue'")
    bad = bad.replace("district_nurse = 2", "district_nurse = 2\nwizard = 1")
    bad = bad.replace("frailty = [0.4, 0.6]", "frailty = [0.6, 0.4]")
    bad = bad.replace("minutes = 40", "minutes = -4\nroles = ['nurse']")
    with pytest.raises(InvalidOptionsError) as caught:
        scenario.load(write(tmp_path, bad))
    text = str(caught.value)
    for expected in (
        "replications: Input should be greater than or equal to 2",
        "colour: not a field of this schema",
        "staff: unknown role wizard",
        "levers: enrolment.frailty: an interval is [low, high] (got [0.6, 0.4])",
        "services.district_nursing.minutes: Input should be greater than 0",
        "services.district_nursing.roles: unknown role nurse",
    ):
        assert expected in text, (expected, text)
    assert str(tmp_path / "s.toml") in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('schema = "neighbourhood.capacity.scenario/9"\nname = "x"', "is not one this version"),
        ('name = "x"', "schema: required"),
        ("name = ", "not valid TOML"),
        (
            'schema = "neighbourhood.capacity.scenario/1"\nname = "x"\ndays = 20\nwarm_up_days = 30',
            "warm_up_days must be shorter than days",
        ),
        (
            'schema = "neighbourhood.capacity.scenario/1"\nname = "x"\n[availability]\nleave = 0.5\n'
            "training = 0.3\nadmin = 0.3",
            "must leave some time",
        ),
        (
            'schema = "neighbourhood.capacity.scenario/1"\nname = "x"\n[services.podiatry]\n'
            "minutes = 5",
            "unknown service podiatry",
        ),
    ],
)
def test_bad_files_get_one_clear_message(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UserError) as caught:
        scenario.load(write(tmp_path, text))
    assert message in str(caught.value)
    assert "Traceback" not in str(caught.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such scenario file"):
        scenario.load(tmp_path / "nowhere.toml")


def test_the_json_schema_describes_the_file() -> None:
    schema = scenario.json_schema()
    assert schema["properties"]["schema"]["const"] == scenario.SCHEMA  # type: ignore[index]
    assert "levers" in schema["properties"]  # type: ignore[operator]


def test_scenarios_compared_draw_the_same_lever_values(tmp_path: Path) -> None:
    a = scenario.load(write(tmp_path, GOOD))
    b = scenario.load(
        write(tmp_path, GOOD.replace("district_nurse = 2", "district_nurse = 5"), "b.toml")
    )
    draws_a = [levers_for(a, a.seed, r) for r in range(5)]
    draws_b = [levers_for(b, b.seed, r) for r in range(5)]
    assert draws_a == draws_b
    shifts = [d.shift for d in draws_a]
    assert all(0.05 <= s <= 0.15 for s in shifts) and len(set(shifts)) == 5
    assert all(0.4 <= d.enrolment["frailty"] <= 0.6 for d in draws_a)
    assert {d.growth for d in draws_a} == {0.01}
