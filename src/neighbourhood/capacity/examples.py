"""Example scenario files: what the demo runs, and a start for a partnership's own."""

from __future__ import annotations

from pathlib import Path

BASELINE = """# A capacity scenario (neighbourhood capacity run --scenario FILE).
# Every key is optional but schema and name; 'neighbourhood capacity schema' prints them all.
schema = "neighbourhood.capacity.scenario/1"
name = "Today's teams"
replications = 10
days = 182
warm_up_days = 28
seed = 1

[levers]
# A share a year, or an interval [low, high] each replication draws from.
population_growth = 0.01
# The share of A&E attendances and emergency admissions urgent community response takes.
shift_to_community = [0.02, 0.05]

[levers.enrolment]
# The share of each case-finding cohort enrolled with a care coordinator.
frailty = 0.2
"""

MORE_NURSES = (
    BASELINE.replace(
        'name = "Today\'s teams"', 'name = "Half the frail enrolled, four more nurses"'
    ).replace("frailty = 0.2", "frailty = 0.5\npalliative = 0.8")
    + """
[staff]
# Whole-time equivalents added (or, negative, taken away) by role.
district_nurse = 4
advanced_practitioner = 1
"""
)
EXAMPLES = {"todays-teams.toml": BASELINE, "more-nurses.toml": MORE_NURSES}


def write(folder: Path) -> list[Path]:
    """The examples, into ``folder``; a file already there is the user's and stays."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in EXAMPLES.items():
        path = folder / name
        if not path.exists():
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
