"""MDT meetings: the agenda builds itself from the list, the caseload's events, reviews
due and flags, in order of need, with a noted list; a coordinator adjusts it; each case
is recorded with decisions and actions that become tasks; attendance by role and
organisation; the next meeting opens with last time's actions; closing sends outcomes to
the record and the practice's inbox."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from neighbourhood.care import published
from neighbourhood.care.caseload import actions as caseload
from neighbourhood.care.meetings import actions, agenda
from neighbourhood.care.meetings.models import AgendaItem, Meeting, Outcome, PracticeMessage
from neighbourhood.care.plans import actions as plans
from neighbourhood.care.plans.models import CarePlan, Task
from neighbourhood.care.teams.models import Organisation
from neighbourhood.phm.publish import open_published
from tests.support import factories
from tests.support.concurrency import writers_at_once
from tests.support.people import admitted as _admitted

pytestmark = pytest.mark.django_db
SOON = timezone.now() + dt.timedelta(days=1)


def _listed(published_dir: Path) -> list[dict[str, Any]]:
    con = open_published(published_dir)
    try:
        rows = con.execute(
            "SELECT c.person_id, c.rank, c.risk, p.practice FROM case_finding c "
            "JOIN person_profiles p USING (person_id) WHERE c.neighbourhood = 'ZU0001' "
            "ORDER BY c.rank"
        ).fetchall()
    finally:
        con.close()
    return [{"person_id": r[0], "rank": r[1], "risk": r[2], "practice": r[3]} for r in rows]


def _team() -> tuple[Any, Any, Any]:
    team = factories.team("ZU0001")
    nurse = factories.professional("nurse", teams=[team], job_title="Community matron")
    gp = factories.professional("gp", role="clinician", teams=[team], job_title="GP")
    return team, nurse, gp


def _meeting(team: Any, nurse: Any, gp: Any, when: dt.datetime = SOON) -> Meeting:
    return actions.schedule(
        team=team,
        starts_at=when,
        place="Surgery meeting room",
        online_link="",
        expected=[nurse, gp],
        by=nurse,
    )


def test_the_agenda_builds_itself_in_order_of_need_with_a_noted_list(
    published_dir: Path,
) -> None:
    team, nurse, gp = _team()
    listed = _listed(published_dir)
    admitted, on = _admitted(published_dir)
    caseload.enrol(person_id=admitted, team=team, coordinator=nurse, reason="frail", by=nurse)
    plan = plans.save_plan(person_id=admitted, version=0, content={"goals": []}, by=nurse)
    CarePlan.objects.filter(pk=plan.pk).update(last_reviewed=on - dt.timedelta(days=1))
    # Someone whose review is due with nothing new: noted, not discussed.
    quiet = next(r["person_id"] for r in listed[::-1] if r["person_id"] != admitted)
    caseload.enrol(person_id=quiet, team=team, coordinator=nurse, reason="frail", by=nurse)
    plans.save_plan(person_id=quiet, version=0, content={"goals": []}, by=nurse)
    CarePlan.objects.filter(person_id=quiet).update(review_due=dt.date.today())
    actions.flag(team=team, person_id="P-FLAGGED", reason="carer at breaking point", by=gp)
    published.QUERIES[0] = 0
    meeting = _meeting(team, nurse, gp)
    assert published.QUERIES[0] <= 3  # the list, then the caseload's facts and events
    items = list(meeting.items.all())
    by_person = {i.person_id: i for i in items}
    assert items[0].person_id == "P-FLAGGED"  # a colleague's concern first
    assert by_person["P-FLAGGED"].reasons == [
        {"kind": "flagged", "text": f"flagged by {gp.display_name}: carer at breaking point"}
    ]
    assert "events" in by_person[admitted].reason_kinds
    assert any(
        f"an emergency admission on {on:%-d %B %Y}" == r["text"]
        for r in by_person[admitted].reasons
    )
    assert by_person[quiet].list == "noted" and by_person[quiet].reason_kinds == ["review"]
    # New on the list: everyone listed but the two in the caseload, up to NEW_AT_MOST; with
    # the flag and the admission, more than one meeting takes: the rest are counted.
    qualified = 2 + min(agenda.NEW_AT_MOST, len(listed) - 2)
    discuss = [i for i in items if i.list == "discuss"]
    assert len(discuss) == min(agenda.DISCUSS_AT_MOST, qualified)
    assert len(discuss) + meeting.not_shown.get("discuss", 0) == qualified
    risks = [i.need for i in items if i.list == "discuss" and i.person_id != "P-FLAGGED"]
    assert risks == sorted(risks, reverse=True)
    assert meeting.listed == [r["person_id"] for r in listed]


def test_the_agenda_reads_the_refresh_the_same_number_of_times_for_any_caseload(
    published_dir: Path,
) -> None:
    team, nurse, _ = _team()
    people = [r["person_id"] for r in _listed(published_dir)]
    costs = []
    for size in (3, 30):
        for person_id in people[(3 if costs else 0) : size]:
            caseload.enrol(person_id=person_id, team=team, coordinator=nurse, reason="x", by=nurse)
        published.close()
        published.QUERIES[0] = 0
        meeting = Meeting.objects.create(team=team, starts_at=SOON, place="x", created_by=nurse)
        agenda.candidates(meeting)
        costs.append(published.QUERIES[0])
    assert costs[0] == costs[1] == 2


def test_a_meeting_from_agenda_to_actions_to_the_next_meeting_and_the_practice(
    published_dir: Path,
) -> None:
    team, nurse, gp = _team()
    listed = _listed(published_dir)
    meeting = _meeting(team, nurse, gp)
    # A coordinator adjusts the agenda: down, back up, to the noted list and back.
    item, second = meeting.items.filter(list="discuss")[:2]
    person = next(r for r in listed if r["person_id"] == item.person_id)
    practice = Organisation.objects.create(
        ods_code=person["practice"], name="The Practice", sector="general_practice"
    )
    order = lambda: list(meeting.items.filter(list="discuss").values_list("pk", flat=True))  # noqa: E731
    assert order().index(item.pk) < order().index(second.pk)
    actions.adjust(item_id=item.pk, how="down", note="", by=nurse)
    assert order().index(item.pk) > order().index(second.pk)
    actions.adjust(item_id=item.pk, how="up", note="", by=nurse)
    with pytest.raises(actions.PlanError, match="which standard of care settles it"):
        actions.adjust(item_id=item.pk, how="noted", note="", by=nurse)
    actions.adjust(item_id=item.pk, how="noted", note="frailty pathway covers it", by=nurse)
    actions.adjust(item_id=item.pk, how="discuss", note="", by=nurse)
    item.refresh_from_db()
    with pytest.raises(actions.PlanError, match="Record what was decided"):
        actions.record_item(
            item_id=item.pk,
            version=item.version,
            discussion="",
            decisions=" ",
            new_actions=[],
            by=nurse,
        )
    due = dt.date.today() + dt.timedelta(days=7)
    recorded = actions.record_item(
        item_id=item.pk,
        version=item.version,
        discussion="Two falls; lives alone.",
        decisions="Falls clinic; medicines review.",
        by=nurse,
        new_actions=[
            actions.Action("Refer to the falls clinic", due, owner=nurse),
            actions.Action("Medicines review", due, owner=gp),
            actions.Action("Carer's assessment", due, owner_team=team),
        ],
    )
    with pytest.raises(actions.Conflict):
        actions.record_item(
            item_id=item.pk,
            version=item.version,
            discussion="",
            decisions="other",
            new_actions=[],
            by=gp,
        )
    tasks = Task.objects.filter(person_id=person["person_id"]).order_by("pk")
    assert [t.owner_name.split(" (")[0] for t in tasks] == [
        nurse.display_name,
        gp.display_name,
        team.name,
    ]
    assert recorded.discussed and recorded.version == item.version + 1
    with pytest.raises(actions.PlanError, match="Record who came"):
        actions.close(meeting_id=meeting.pk, by=nurse)
    came = {a.pk for a in meeting.attendees.all() if a.professional_id == nurse.pk}
    actions.record_attendance(
        meeting_id=meeting.pk,
        version=meeting.version,
        attended=came,
        guests=[{"name": "Ann Lee", "role": "Pharmacist", "organisation": "PCN"}],
        by=nurse,
    )
    rows = {
        (a.name, a.role, a.organisation, a.expected, a.attended) for a in meeting.attendees.all()
    }
    assert (gp.display_name, "GP", gp.organisation.name, True, False) in rows
    assert ("Ann Lee", "Pharmacist", "PCN", False, True) in rows
    closed = actions.close(meeting_id=meeting.pk, by=nurse)
    assert closed == {"outcomes": 1, "to_practices": 1}
    outcome = Outcome.objects.get(person_id=person["person_id"])
    assert "Decided: Falls clinic; medicines review." in outcome.summary
    assert f"Action: Medicines review ({gp.display_name}" in outcome.summary
    message = PracticeMessage.objects.get()
    assert message.practice == practice and message.read_at is None
    with pytest.raises(actions.PlanError, match="can no longer change"):
        actions.adjust(item_id=item.pk, how="up", note="", by=nurse)
    # The next meeting opens with the actions decided last time, and whether each was done.
    first, second_task, _ = tasks
    plans.move_task(task_id=first.pk, version=1, status="accepted", reason="", by=nurse)
    plans.move_task(task_id=first.pk, version=2, status="completed", reason="", by=nurse)
    Task.objects.filter(pk=second_task.pk).update(due=dt.date.today() - dt.timedelta(days=1))
    following = _meeting(team, nurse, gp, SOON + dt.timedelta(days=7))
    done = {r["task"].description: r for r in agenda.previous_actions(following)}
    assert (
        done["Refer to the falls clinic"]["done"] and done["Refer to the falls clinic"]["on_time"]
    )
    assert done["Medicines review"]["overdue"] and not done["Medicines review"]["done"]
    # Nobody is new on the list since the last meeting, and the person discussed has no
    # events since: only flags, reviews and events bring people back.
    assert not following.items.filter(reasons__contains=[{"kind": "new"}]).exists()


@pytest.mark.django_db(transaction=True)
def test_ten_people_recording_one_case_at_once_lose_no_action() -> None:
    assert connection.vendor == "postgresql"
    team = factories.team("ZU0001")
    writers = [factories.professional(f"w{n}", teams=[team]) for n in range(10)]
    meeting = Meeting.objects.create(team=team, starts_at=SOON, place="x", created_by=writers[0])
    item = AgendaItem.objects.create(meeting=meeting, person_id="P1", position=1)
    due = dt.date.today() + dt.timedelta(days=3)

    def write(number: int) -> None:
        current = AgendaItem.objects.get(pk=item.pk)
        actions.record_item(
            item_id=item.pk,
            version=current.version,
            discussion="",
            by=writers[number],
            decisions=f"{current.decisions}; decision {number}".strip("; "),
            new_actions=[actions.Action(f"action {number}", due, owner=writers[number])],
        )

    conflicts = writers_at_once(10, write, actions.Conflict)
    after = AgendaItem.objects.get(pk=item.pk)
    assert after.version == 11 and conflicts
    assert sorted(after.decisions.split("; ")) == sorted(f"decision {n}" for n in range(10))
    assert sorted(Task.objects.values_list("description", flat=True)) == sorted(
        f"action {n}" for n in range(10)
    )
