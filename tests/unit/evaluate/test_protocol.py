"""Analysis protocols: checked against a versioned schema, hashed, amendments accounted for."""

from __future__ import annotations

from pathlib import Path

import pytest

from neighbourhood.errors import InvalidOptionsError, UserError
from neighbourhood.evaluate import protocol

EXAMPLE = Path(__file__).parents[3] / "docs" / "examples" / "evaluation-protocol.toml"
SMALL = """
schema = "neighbourhood.evaluate.protocol/1"
name = "Emergency use"
outcomes = ["emergency_admissions"]
designs = ["matched", "naive"]
subgroups = ["sex"]
"""


def write(tmp_path: Path, text: str, name: str = "p.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_example_reads_and_names_every_outcome_design_and_subgroup() -> None:
    p, text = protocol.load(EXAMPLE)
    assert p.outcomes == protocol.OUTCOMES and p.designs == protocol.DESIGNS
    assert p.subgroups == protocol.SUBGROUPS and "schema" in text
    assert (p.population.threshold, p.follow_up_days, p.comparison.controls_per_person) == (
        3,
        365,
        3,
    )


def test_a_small_protocol_keeps_the_defaults_it_does_not_name(tmp_path: Path) -> None:
    p, _ = protocol.load(write(tmp_path, SMALL))
    assert p.designs == ("matched", "naive") and p.subgroups == ("sex",)
    assert p.population.look_back_days == 365 and p.comparison.exact == ("segment",)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ('outcomes = ["admissions"]', "outcomes: unknown outcome admissions (known: "),
        ('designs = ["rct"]', "designs: unknown design rct"),
        ("designs = []", "designs: name at least one design"),
        ('subgroups = ["sex", "sex"]', "subgroups: a subgroup is named twice"),
        ("follow_up_days = 7", "follow_up_days: Input should be greater than or equal to 30"),
        ("[population]\nthreshold = 0", "population.threshold: Input should be greater than"),
        ("[comparison]\nexact = ['postcode']", "comparison.exact[0]: Input should be"),
        ("colour = 'blue'", "colour: not a field of this schema"),
        ("[[amendments]]\ndate = 2026-01-01", "amendments[0].reason: required"),
    ],
)
def test_each_problem_names_its_field(tmp_path: Path, change: str, expected: str) -> None:
    text = SMALL.replace('outcomes = ["emergency_admissions"]\n', "")
    text = text.replace('designs = ["matched", "naive"]\n', "").replace('subgroups = ["sex"]\n', "")
    with pytest.raises(InvalidOptionsError) as found:
        protocol.load(write(tmp_path, text + change + "\n"))
    assert expected in str(found.value), str(found.value)


@pytest.mark.parametrize(
    ("text", "name", "expected"),
    [
        (
            "schema = 'neighbourhood.evaluate.protocol/9'\nname = 'x'",
            "p.toml",
            "is not one this version reads",
        ),
        ("name = ", "p.toml", "not valid TOML"),
        ("{", "p.json", "not valid JSON"),
    ],
)
def test_unreadable_files_get_one_line(tmp_path: Path, text: str, name: str, expected: str) -> None:
    with pytest.raises(UserError, match=expected):
        protocol.load(write(tmp_path, text, name))
    with pytest.raises(UserError, match="no such protocol file"):
        protocol.load(tmp_path / "missing.toml")
    with pytest.raises(UserError, match="is a directory"):
        protocol.load(tmp_path)


def test_the_digest_is_of_the_content_not_its_layout(tmp_path: Path) -> None:
    a, _ = protocol.load(write(tmp_path, SMALL))
    b, _ = protocol.load(write(tmp_path, "# a comment\n" + SMALL.replace('"', "'"), "b.toml"))
    c, _ = protocol.load(write(tmp_path, SMALL + "follow_up_days = 182\n", "c.toml"))
    assert a.digest() == b.digest() != c.digest() and len(a.digest()) == 64


def test_a_change_after_a_run_needs_an_amendment_with_a_reason(tmp_path: Path) -> None:
    log = tmp_path / "evaluation" / "protocols.json"
    first, _ = protocol.load(write(tmp_path, SMALL))
    protocol.check_amended(first, log)
    protocol.record_run(first, log)
    protocol.check_amended(first, log)  # the same protocol again: fine
    changed, _ = protocol.load(write(tmp_path, SMALL + "follow_up_days = 182\n", "c.toml"))
    with pytest.raises(UserError, match=r"has changed since it was last run .* no new amendment"):
        protocol.check_amended(changed, log)
    amended, _ = protocol.load(
        write(
            tmp_path,
            SMALL
            + "follow_up_days = 182\n[[amendments]]\ndate = 2026-12-01\n"
            + "reason = 'The last wave went live late'\n",
            "d.toml",
        )
    )
    protocol.check_amended(amended, log)
    protocol.record_run(amended, log)
    assert [r["amendments"] for r in protocol._runs(log)["Emergency use"]] == [0, 1]
    other, _ = protocol.load(write(tmp_path, SMALL.replace("Emergency use", "Another"), "e.toml"))
    protocol.check_amended(other, log)  # another protocol's history is its own
