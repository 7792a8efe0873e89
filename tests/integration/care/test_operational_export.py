"""The teams' record exported as the operational feed: read back by ingest's own CSV
declaration, carried by NHS number, declared once in sources.toml, and on the audit trail."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from neighbourhood import operational, registry
from neighbourhood.care import export
from neighbourhood.care.audit.models import AuditEvent
from neighbourhood.care.caseload import actions
from tests.support import factories
from tests.support.people import listed
from tests.support.synthetic import copy_of

pytestmark = pytest.mark.django_db


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_enrolments_go_out_with_nhs_numbers_and_their_team(
    published_dir: Path, tmp_path: Path, settings: Any
) -> None:
    data = copy_of(published_dir, tmp_path, only_published=True)
    settings.DATA_DIR = data
    team = factories.team("ZU0001")
    nurse = factories.professional("nurse", teams=[team])
    people = listed(published_dir, "ZU0001", 3)
    for p in people:
        actions.enrol(
            person_id=p["person_id"], team=team, coordinator=nurse, reason="frail", by=nurse
        )
    actions.enrol(person_id="P-not-published", team=team, coordinator=nurse, reason="x", by=nurse)
    written = export.export(data, by="test")
    assert written.people == 3 and written.activity == {"Enrolment": 3}
    folder = data / "extracts" / operational.SOURCE_ID
    out_people = _rows(folder / operational.PEOPLE_FILE)
    out_activity = _rows(folder / operational.EVENTS_FILE)
    assert sorted(r["NHS Number"] for r in out_people) == sorted(p["nhs_number"] for p in people)
    assert all(r["Sex"] in {"M", "F", ""} and len(r["Date of Birth"]) == 10 for r in out_people)
    assert {r["Activity"] for r in out_activity} == {"Enrolment"}
    assert {r["Team"] for r in out_activity} == {"ZU0001"}
    assert {r["Record ID"] for r in out_activity} == {r["Record ID"] for r in out_people}
    # No person id leaves in the file.
    text = (folder / operational.EVENTS_FILE).read_text() + (
        folder / operational.PEOPLE_FILE
    ).read_text()
    assert all(p["person_id"] not in text for p in people)
    sources = [s for s in registry.load(data) if s.id == operational.SOURCE_ID]
    assert len(sources) == 1 and sources[0].sector == "integrated_care"
    export.export(data, by="test")  # again: the whole history, declared once
    assert [s.id for s in registry.load(data)].count(operational.SOURCE_ID) == 1
    event = AuditEvent.objects.filter(action="export_operational_activity").last()
    assert event is not None and event.detail == {"people": 3, "Enrolment": 3}
