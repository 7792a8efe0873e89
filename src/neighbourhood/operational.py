"""The integrated neighbourhood teams' own work, as a feed back into the warehouse.

What the teams did (enrolments with a care coordinator, assessments, care plans agreed,
MDT reviews, referrals, urgent community response visits, virtual ward admissions) is
exported from the operational database on each refresh as a CSV feed of its own, in one
shape whoever writes it (the application's export, or synth for a synthetic ICS). It is
ingested and linked like any partner's feed, so evaluation reads, under pseudonyms in
the planning tables, what the teams actually did.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from pathlib import Path

from neighbourhood.registry import Agreement, CsvSpec, Source

SOURCE_ID = "int-operational"
SECTOR = "integrated_care"
PEOPLE_FILE = "people.csv"
EVENTS_FILE = "activity.csv"
PEOPLE_COLUMNS = (
    ("local_id", "Record ID"),
    ("nhs_number", "NHS Number"),
    ("dob", "Date of Birth"),
    ("sex", "Sex"),
    ("postcode", "Postcode"),
)
EVENT_COLUMNS = (
    ("event_id", "Event ID"),
    ("local_id", "Record ID"),
    ("date", "Date"),
    ("end_date", "End Date"),
    ("activity", "Activity"),
    ("detail", "Team"),
)
DATE_FORMAT = "%Y-%m-%d"
# The words in the file, and the activity each becomes in the warehouse.
ACTIVITIES = {
    "Enrolment": "int_enrolment",
    "Assessment": "int_assessment",
    "Care plan agreed": "int_care_plan",
    "MDT review": "int_mdt_review",
    "Referral sent": "int_referral",
    "Urgent community response": "int_ucr_response",
    "Virtual ward admission": "int_virtual_ward",
}
ENROLMENT = ACTIVITIES["Enrolment"]


def spec() -> CsvSpec:
    return CsvSpec(
        PEOPLE_FILE,
        EVENTS_FILE,
        dict(PEOPLE_COLUMNS),
        dict(EVENT_COLUMNS),
        DATE_FORMAT,
        DATE_FORMAT,
        activity_role="activity",
        activities=dict(ACTIVITIES),
    )


def source(path: str, partner_ods: str, partner_name: str, expires: dt.date) -> Source:
    """The feed's entry in sources.toml."""
    return Source(
        SOURCE_ID,
        partner_ods,
        partner_name,
        SECTOR,
        "csv",
        path,
        Agreement(
            "DSA-INT-OPERATIONAL",
            "Evaluation of the model of care: the teams' own record, pseudonymised for planning",
            expires,
        ),
        spec(),
    )


def csv_text(rows: Iterable[Iterable[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def headers() -> tuple[str, str]:
    """The header lines of the people file and the activity file."""
    return (
        csv_text([[name for _, name in PEOPLE_COLUMNS]]),
        csv_text([[name for _, name in EVENT_COLUMNS]]),
    )


def write_headers(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    people, events = headers()
    (folder / PEOPLE_FILE).write_text(people, encoding="utf-8")
    (folder / EVENTS_FILE).write_text(events, encoding="utf-8")
