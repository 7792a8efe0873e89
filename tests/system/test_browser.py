"""The care coordinator's journey in real headless Chromium, with axe-core on every page."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Page, expect, sync_playwright

from neighbourhood.care.caseload.models import Enrolment
from tests.support import factories
from tests.support.people import listed

CHROMIUM = "/usr/bin/chromium"
expect.set_options(timeout=20_000)  # a busy two-core CI machine is slower than a laptop
SERIOUS = {"serious", "critical"}


def _axe_script() -> Path:
    script = Path(settings.FRONTEND_DIR) / "axe-core" / "axe.min.js"
    if not script.exists():
        pytest.fail(f"axe-core is not installed ({script}): run 'npm ci' (make test does)")
    return script


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make test does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        launched.close()


INJECT = """source => {
    const script = document.createElement("script");
    script.nonce = document.querySelector("script[nonce]").nonce;  // the page's own nonce
    script.textContent = source;
    document.head.appendChild(script);
}"""


def assert_accessible(page: Page) -> None:
    # The page's Content-Security-Policy stands: axe goes in with the page's nonce.
    page.evaluate(INJECT, _axe_script().read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate("async () => await axe.run()")
    serious = [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} elements)"
        for v in result["violations"]
        if v.get("impact") in SERIOUS
    ]
    assert serious == [], f"{page.url}: {serious}"


@pytest.mark.django_db(transaction=True)
def test_sign_in_find_enrol_and_be_refused_another_teams_person(
    live_server: Any, browser: Browser, published_dir: Path
) -> None:
    team_a, team_b = factories.team("ZU0001"), factories.team("ZU0002")
    nurse = factories.professional("nurse", teams=[team_a], job_title="Community matron")
    other = factories.professional("other-team", teams=[team_b])
    person = listed(published_dir, "ZU0001")[0]
    theirs = listed(published_dir, "ZU0002")[0]
    page = browser.new_page()
    refused_by_policy: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused_by_policy.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    page.on(  # the design system's scripts report what they miss on the console
        "console",
        lambda message: (
            script_errors.append(message.text)
            if re.match(r"\w*Error\b", message.text)  # e.g. ElementError, logged, not thrown
            else None
        ),
    )
    try:
        # Given a care coordinator who is not signed in
        page.goto(live_server.url + "/case-finding/")
        expect(page.locator("h1")).to_have_text("Sign in")
        assert_accessible(page)
        # When they sign in
        page.fill("#id_username", "nurse")
        page.fill("#id_password", factories.PASSWORD)
        page.click("main button[type=submit]")
        # Then they see their neighbourhood's case-finding list
        expect(page.locator("h1")).to_have_text("Case finding")
        assert_accessible(page)
        # When they find a person on it and open the profile
        page.fill("#q", person["family_name"])
        page.click("text=Apply")
        page.click(f"text={person['given_name']} {person['family_name']}")
        expect(page.locator("h1")).to_have_text(f"{person['given_name']} {person['family_name']}")
        expect(page.get_by_text("Timeline across all services")).to_be_visible()
        assert_accessible(page)
        # And enrol them, forgetting the care coordinator at first
        page.click("text=Add to a caseload")
        page.click("main button[type=submit]")
        expect(page.get_by_text("There is a problem")).to_be_visible()
        assert_accessible(page)
        page.select_option(
            "#id_care_coordinator", label="Nurse Tester, Community matron (Organisation ZC1)"
        )
        page.fill("#id_reason", "Severe frailty and three admissions this year")
        page.click("main button[type=submit]")
        # Then the profile names their care coordinator
        expect(
            page.get_by_text("Added to the caseload with a named care coordinator")
        ).to_be_visible()
        expect(page.get_by_text("Nurse Tester, Community matron")).to_be_visible()
        # And they are in the caseload
        page.click("nav >> text=Caseload")
        expect(
            page.get_by_role(
                "link", name=f"{person['given_name']} {person['family_name']}", exact=True
            )
        ).to_be_visible()
        assert_accessible(page)
        # And when they move house, they transfer them: the team first, then its coordinator
        page.click(f"text={person['given_name']} {person['family_name']}")
        page.click("text=Change, transfer or discharge")
        assert_accessible(page)
        page.select_option("#id_transfer_to", value=str(team_b.pk))
        page.click("text=Choose a care coordinator in this team")
        assert_accessible(page)
        page.select_option("#id_transfer-care_coordinator", value=str(other.pk))
        page.fill("#id_transfer-note", "Moved to the next neighbourhood")
        page.click("button:has-text('Transfer')")
        expect(page.get_by_text(f"Transferred to {team_b.name}")).to_be_visible()
        # But another team's person is refused
        response = page.goto(f"{live_server.url}/people/{theirs['person_id']}/")
        assert response is not None and response.status == 403
        expect(page.locator("h1")).to_have_text("You cannot see this record")
        assert theirs["family_name"] not in page.content()
        assert_accessible(page)
        assert refused_by_policy == []  # nothing of ours broke the policy on any page
        assert script_errors == []  # the design system's scripts found the markup they need
    finally:
        page.close()
    first, moved = Enrolment.objects.filter(person_id=person["person_id"]).order_by("pk")
    assert first.care_coordinator == nurse and first.team == team_a and not first.is_open
    assert moved.care_coordinator == other and moved.team == team_b and moved.is_open


def _watched(page: Page) -> list[str]:
    """Script errors and refusals by the Content-Security-Policy on the page, as they come."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if "Content Security Policy" in message.text or re.match(r"\w*Error\b", message.text)
            else None
        ),
    )
    return problems


def _sign_in(browser: Browser, url: str, username: str) -> tuple[Page, list[str]]:
    page = browser.new_context().new_page()
    problems = _watched(page)
    page.goto(url + "/sign-in/")
    page.fill("#id_username", username)
    page.fill("#id_password", factories.PASSWORD)
    page.click("main button[type=submit]")
    return page, problems


@pytest.mark.django_db(transaction=True)
def test_assess_plan_share_tasks_reconcile_and_review(
    live_server: Any, browser: Browser, published_dir: Path
) -> None:
    from neighbourhood.care.caseload import actions as caseload
    from neighbourhood.care.plans import reviews
    from neighbourhood.care.plans.models import CarePlan, Task
    from neighbourhood.care.plans.questionnaires import shipped

    team = factories.team("ZU0001")
    nurse = factories.professional("nurse", teams=[team], job_title="Community matron")
    social = factories.professional("social", job_title="Social worker")
    social.organisation = factories.OrganisationFactory(ods_code="ZLA1", name="Ashcombe Council")
    social.save()
    doctor = factories.professional("gp", role="clinician", job_title="GP")
    doctor.organisation = factories.OrganisationFactory(ods_code="ZP001", name="Mill Surgery")
    doctor.save()
    factories.MembershipFactory(team=team, professional=social, kind="extended")
    factories.MembershipFactory(team=team, professional=doctor)
    person = listed(published_dir, "ZU0001")[0]
    pid, name = person["person_id"], f"{person['given_name']} {person['family_name']}"
    caseload.enrol(person_id=pid, team=team, coordinator=nurse, reason="frail", by=nurse)
    due = (dt.date.today() + dt.timedelta(days=14)).isoformat()
    url = live_server.url
    page, problems = _sign_in(browser, url, "nurse")
    # The care coordinator's home page is the worklist: this person waits for a plan.
    expect(page.locator("h1")).to_have_text("Worklist")
    expect(page.get_by_text("no assessment, no plan")).to_be_visible()
    assert_accessible(page)
    # They record what matters, in the person's words.
    page.goto(f"{url}/people/{pid}/plan/")
    assert_accessible(page)
    page.click("text=Record what matters to them")
    page.fill("#id_text", "Getting to the allotment on Saturdays")
    assert_accessible(page)
    page.click("main button[type=submit]")
    expect(page.get_by_text("Getting to the allotment on Saturdays")).to_be_visible()
    # They assess: a comprehensive geriatric assessment, every question answered.
    page.select_option("#questionnaire", value="comprehensive-geriatric-assessment")
    page.click("button:text-is('Start')")
    expect(page.locator("h1")).to_have_text("Comprehensive geriatric assessment")
    assert_accessible(page)
    for link_id, question in shipped()["comprehensive-geriatric-assessment"].questions.items():
        if question.kind == "choice":
            calm = next(o.code for o in question.options if not o.problem)
            answer = "yes" if link_id == "physical.falls" else calm
            page.check(f"input[name='{link_id}'][value='{answer}']")
    page.click("text=Finish the assessment")
    expect(page.get_by_text("Assessment finished")).to_be_visible()
    # They write the plan, drawing on the problem the assessment raised.
    page.click("text=Write the plan")
    assert_accessible(page)
    expect(page.get_by_label("Falls in the last year")).to_be_checked()
    expect(page.get_by_label("Low mood")).to_have_count(0)  # raised by no answer
    page.fill("#id_about_me", "Retired engineer; lives with his wife")
    page.fill("#id_goal-0-text", "Dig my allotment again")
    page.fill("#id_goal-0-target", "an hour on Saturdays")
    page.fill("#id_contingency_what", "After a fall, use the pendant alarm")
    page.fill("#id_contingency_call", "Community matron, 0300 000 0000")
    page.check("#id_consent_share")
    page.click("button:text-is('Save the plan')")
    expect(page.get_by_text("Plan saved as a new version")).to_be_visible()
    assert_accessible(page)
    # Two actions, for professionals of two organisations.
    for description, owner in (
        ("Care Act needs assessment", social),
        ("Medication review", doctor),
    ):
        page.click("text=Add an action for this goal")
        page.fill("#id_description", description)
        page.select_option("#id_owner", value=str(owner.pk))
        page.fill("#id_due", due)
        page.click("main button[type=submit]")
        expect(page.get_by_text("Action added")).to_be_visible()
    assert_accessible(page)
    # The social worker, of the council, completes theirs from My tasks.
    other, other_problems = _sign_in(browser, url, "social")
    other.goto(f"{url}/tasks/")
    other.click("text=Care Act needs assessment")
    assert_accessible(other)
    other.check("input[name=status][value=accepted]")
    other.click("text=Update the task")
    other.click("text=Care Act needs assessment")
    other.check("input[name=status][value=completed]")
    other.click("text=Update the task")
    expect(other.get_by_text("Task updated")).to_be_visible()
    # The coordinator changes the goal: the GP's open task must be decided first.
    page.goto(f"{url}/people/{pid}/plan/edit/")
    page.fill("#id_goal-0-text", "Grow vegetables in raised beds")
    page.click("button:text-is('Save the plan')")
    expect(page.get_by_text("Open tasks serve goals you changed or removed")).to_be_visible()
    assert_accessible(page)
    gp_task = Task.objects.get(description="Medication review")
    page.check(f"input[name='task-{gp_task.pk}'][value=keep]")
    page.click("button:text-is('Save the plan')")
    expect(page.get_by_text("Plan saved as a new version")).to_be_visible()
    assert CarePlan.objects.get(person_id=pid).version == 2
    page.click("text=Every version and what changed")
    expect(page.get_by_text("Grow vegetables in raised beds")).to_be_visible()
    assert_accessible(page)
    # A new refresh: events since the last review raise a review for the coordinator.
    CarePlan.objects.filter(person_id=pid).update(
        last_reviewed=dt.date(2020, 1, 1), baseline={"frailty": "fit", "conditions": []}
    )
    assert reviews.raise_reviews() == 1
    page.goto(url + "/worklist/")
    expect(page.locator("#raised ~ ul").get_by_text("Review the plan:")).to_be_visible()
    assert_accessible(page)
    page.goto(f"{url}/people/{pid}/plan/copy/")
    expect(page.locator("h1")).to_have_text("My care and support plan")
    expect(page.get_by_text("Grow vegetables in raised beds")).to_be_visible()
    assert name in page.content()
    assert problems == [] and other_problems == []
    assert Task.objects.get(description="Care Act needs assessment").status == "completed"
    assert Task.objects.get(pk=gp_task.pk).status == "requested"


@pytest.mark.django_db(transaction=True)
def test_a_meeting_from_agenda_to_actions_and_a_referral_to_attendance(
    live_server: Any, browser: Browser, published_dir: Path
) -> None:
    from neighbourhood.care.caseload import actions as caseload
    from neighbourhood.care.meetings.models import Outcome
    from neighbourhood.care.plans.models import Task
    from neighbourhood.care.referrals.models import Referral, Service

    team = factories.team("ZU0001")
    nurse = factories.professional("nurse", teams=[team], job_title="Community matron")
    gp = factories.professional("gp", role="clinician", teams=[team], job_title="GP")
    link = factories.professional("link", role="link_worker", teams=[team], job_title="Link worker")
    charity = factories.OrganisationFactory(
        ods_code="ZV099", name="Friends of Ashcombe", sector="vcfse"
    )
    vcfse = factories.professional("vcfse", role="vcfse_worker", job_title="Connector")
    vcfse.organisation = charity
    vcfse.save()
    Service.objects.create(
        name="Social prescribing",
        kind="social_prescribing",
        organisation=link.organisation,
        respond_hours=72,
        contact_hours=336,
    )
    Service.objects.create(
        name="Friends lunch club",
        kind="vcfse",
        organisation=charity,
        respond_hours=120,
        contact_hours=336,
        activities=["Lunch club"],
    )
    person = listed(published_dir, "ZU0001")[0]
    pid, name = person["person_id"], f"{person['given_name']} {person['family_name']}"
    caseload.enrol(person_id=pid, team=team, coordinator=nurse, reason="frail", by=nurse)
    url = live_server.url
    page, problems = _sign_in(browser, url, "nurse")
    # The coordinator flags the person, then schedules the meeting: the agenda builds itself.
    page.goto(f"{url}/people/{pid}/flag/")
    assert_accessible(page)
    page.click("main button[type=submit]")
    expect(page.get_by_text("Say why the team should discuss them").first).to_be_visible()
    page.fill("#id_reason", "Carer at breaking point")
    page.click("main button[type=submit]")
    expect(page.get_by_text("they will be on the next agenda")).to_be_visible()
    page.goto(f"{url}/meetings/new/")
    assert_accessible(page)
    when = (dt.datetime.now() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    page.fill("#id_starts_at", when)
    page.fill("#id_place", "Surgery meeting room")
    page.check(f"text={gp.display_name}, GP")
    page.click("main button[type=submit]")
    expect(page.get_by_text("Meeting scheduled; its agenda has")).to_be_visible()
    assert_accessible(page)
    first = page.locator("main ol li").first
    expect(first).to_contain_text(name)
    expect(first).to_contain_text(f"Flagged by {nurse.display_name}: Carer at breaking point")
    # In the meeting: the case, its decisions and an action that becomes the GP's task.
    first.get_by_role("link", name=name).click()
    assert_accessible(page)
    page.fill("#id_discussion", "Wife is exhausted; two falls")
    page.fill("#id_decisions", "Carer's assessment; medicines review")
    page.fill("#id_action_0", "Medicines review")
    page.select_option("#id_owner_0", label=f"{gp.display_name} ({gp.organisation.name})")
    page.fill("#id_due_0", (dt.date.today() + dt.timedelta(days=7)).isoformat())
    page.click("button:text-is('Save the case')")
    expect(page.get_by_text("Recorded.")).to_be_visible()
    page.check(f"label:has-text('{gp.display_name}, GP (')")
    page.click("button:text-is('Record attendance')")
    expect(page.get_by_text("Attendance recorded.")).to_be_visible()
    page.click("button:text-is('Close the meeting and send outcomes')")
    expect(page.get_by_text("Meeting closed: 1 outcome on people's records")).to_be_visible()
    task = Task.objects.get(person_id=pid, description="Medicines review")
    assert task.owner == gp and Outcome.objects.filter(person_id=pid).count() == 1
    # The GP refers to social prescribing from the plan page.
    page, problems_gp = _sign_in(browser, url, "gp")
    page.goto(f"{url}/people/{pid}/plan/")
    expect(page.get_by_text("Decided: Carer's assessment; medicines review")).to_be_visible()
    page.click("text=Make a referral")
    assert_accessible(page)
    page.select_option(
        "#id_service", label=f"Social prescribing: Social prescribing ({link.organisation.name})"
    )
    page.check("#id_pathway-3")  # community referral
    page.fill("#id_reason", "Isolated; carer strain")
    page.click("button:text-is('Send the referral')")
    expect(page.get_by_text("sent to Social prescribing")).to_be_visible()
    expect(page.get_by_text("SNOMED CT 871731000000106")).to_be_visible()
    # The link worker accepts, measures wellbeing and refers on to the charity.
    page, problems_link = _sign_in(browser, url, "link")
    expect(page.locator("h1")).to_have_text("Referrals")
    page.click("main table a")
    assert_accessible(page)
    page.check("input[name=status][value=accepted]")
    page.click("button:text-is('Update the referral')")
    expect(page.get_by_text("is now accepted")).to_be_visible()
    page.check("input[name=when][value=before]")
    for field, score in (
        ("life_satisfaction", "3"),
        ("worthwhile", "4"),
        ("happiness", "3"),
        ("anxiety", "8"),
    ):
        page.fill(f"#id_{field}", score)
    page.click("button:text-is('Record wellbeing')")
    expect(page.get_by_text("Wellbeing before support recorded.")).to_be_visible()
    page.select_option(
        "#id_service",
        label="Friends lunch club: Voluntary, community, faith and social enterprise (Friends of Ashcombe)",
    )
    page.fill("#id_activities", "Lunch club")
    page.fill("form:has(button:text-is('Refer on')) #id_reason", "Company once a week")
    page.click("button:text-is('Refer on')")
    expect(page.get_by_text("Referred on to Friends lunch club")).to_be_visible()
    # The voluntary sector worker sees only that referral, and closes the loop in clicks.
    page, problems_vcfse = _sign_in(browser, url, "vcfse")
    expect(page.locator("h1")).to_have_text("Referrals")
    assert_accessible(page)
    expect(page.locator("main table tbody tr")).to_have_count(1)
    page.click("main table a")
    page.check("input[name=status][value=accepted]")
    page.click("button:text-is('Update the referral')")
    page.check("input[name=attended][value=yes]")
    page.click("button:text-is('Record attendance')")
    expect(page.get_by_text("Attendance recorded.")).to_be_visible()
    assert_accessible(page)
    for closed in ("/case-finding/", f"/people/{pid}/", f"/people/{pid}/plan/", "/meetings/"):
        assert page.goto(f"{url}{closed}").status == 403
    onward = Referral.objects.get(service__name="Friends lunch club")
    assert onward.status == "in-progress" and onward.parent is not None
    assert list(onward.events.values_list("kind", flat=True))[-2:] == ["contact", "attended"]
    assert problems + problems_gp + problems_link + problems_vcfse == []


@pytest.mark.django_db(transaction=True)
def test_a_crews_call_triaged_to_a_response_visited_in_two_hours_and_a_ward_admission(
    live_server: Any, browser: Browser, published_dir: Path
) -> None:
    from neighbourhood.care.urgent.models import Call, Observation, Response, Stay, Ward

    team = factories.team("ZU0001")
    trust = factories.OrganisationFactory(ods_code="ZCT1", name="Ashcombe Community Trust")
    staff = {}
    for username, role, title in (
        ("senior", "single_point_of_access", "Senior nurse"),
        ("responder", "clinician", "Urgent community response nurse"),
    ):
        staff[username] = factories.professional(username, role=role, job_title=title)
        staff[username].organisation = trust
        staff[username].save()
    ward = Ward.objects.create(
        name="Frailty virtual ward", pathway="frailty", organisation=trust, beds=10
    )
    first, second = listed(published_dir, "ZU0001", 2)
    url = live_server.url
    # The single point of access takes a crew's call before conveying.
    page, problems = _sign_in(browser, url, "senior")
    expect(page.locator("h1")).to_have_text("Single point of access: urgent calls")
    assert_accessible(page)
    page.click("text=Take a call")
    page.click("button:text-is('Put the call in the queue')")
    expect(page.get_by_text("Say who is calling").first).to_be_visible()
    assert_accessible(page)
    page.fill("#id_nhs_number", first["nhs_number"])
    page.check("input[name=source][value=ambulance]")
    page.fill("#id_caller", "Paramedic on scene")
    page.select_option("#id_need", "fall")
    page.fill("#id_details", "Found on the floor; no injury; cannot get up alone")
    page.click("button:text-is('Put the call in the queue')")
    expect(page.get_by_text("is in the queue")).to_be_visible()
    assert_accessible(page)
    page.click("button:text-is('Triage this call')")
    page.check("input[name=acuity][value=two_hours]")
    page.check("input[name=outcome][value=ucr]")
    page.select_option("#id_team", str(team.pk))
    page.fill("#id_note", "Assess at home; falls pathway")
    page.click("button:text-is('Record the triage')")
    expect(page.get_by_text("triaged: Urgent community response")).to_be_visible()
    expect(page.get_by_text("left of two hours")).to_be_visible()
    assert_accessible(page)
    # The responder takes it from the board and records the visit inside two hours.
    page, problems_nurse = _sign_in(browser, url, "responder")
    page.goto(f"{url}/urgent/board/")
    assert_accessible(page)
    expect(page.get_by_text(f"{first['given_name']} {first['family_name']}")).to_be_visible()
    page.click("main table a")
    page.click("button:text-is('I am on my way')")
    expect(page.get_by_text("You are on the way")).to_be_visible()
    page.click("button:text-is('Record the visit')")
    expect(page.get_by_text("First visit recorded, 0 h")).to_be_visible()
    assert_accessible(page)
    response = Response.objects.get()
    assert (response.status, response.responder, response.on_time()) == (
        "visited",
        staff["responder"],
        True,
    )
    # Another person is admitted to the virtual ward, observed, and on the ward board.
    page.goto(f"{url}/virtual-wards/")
    assert_accessible(page)
    page.click("text=Admit someone")
    page.fill("#id_nhs_number", second["nhs_number"])
    page.select_option("#id_ward", str(ward.pk))
    page.fill("#id_reason", "Early discharge after a chest infection")
    page.click("main button[type=submit]")
    expect(page.get_by_text("admitted to Frailty virtual ward")).to_be_visible()
    assert_accessible(page)
    for field, value in (
        ("respiration_rate", "22"),
        ("spo2", "94"),
        ("systolic", "104"),
        ("pulse", "98"),
        ("temperature", "37.9"),
    ):
        page.fill(f"#observe_{field}", value)
    page.click("button:text-is('Record observations')")
    expect(page.get_by_text("Observations recorded: NEWS2 5.")).to_be_visible()
    assert_accessible(page)
    page.goto(f"{url}/virtual-wards/{ward.pk}/")
    expect(page.locator("main table").get_by_text("Urgent response", exact=True)).to_be_visible()
    assert_accessible(page)
    stay = Stay.objects.get()
    assert stay.person_id == second["person_id"] and stay.route == "step-down"
    assert Observation.objects.get(stay=stay).news2 == 5
    assert Call.objects.get().outcome == "ucr"
    assert problems + problems_nurse == []


@pytest.mark.django_db(transaction=True)
def test_a_partnership_lead_reads_the_workforce_map_and_compares_two_scenarios(
    live_server: Any, browser: Browser, published_dir: Path, tmp_path: Path, settings: Any
) -> None:
    import tomllib

    from neighbourhood.capacity import results, scenario
    from neighbourhood.capacity import run as capacity
    from tests.support.synthetic import copy_of

    data = copy_of(published_dir, tmp_path, only_published=True)
    settings.DATA_DIR = data
    for name, nurses in (("Today", 0), ("Three more nurses", 3)):
        text = (
            f'schema = "{scenario.SCHEMA}"\nname = "{name}"\nreplications = 2\ndays = 60\n'
            f"warm_up_days = 7\nworkers = 1\n[staff]\ndistrict_nurse = {nurses}\n"
        )
        results.save(data, capacity.run(published_dir, scenario.parse(tomllib.loads(text))))
    factories.professional("lead", role="partnership_lead", job_title="Partnership lead")
    page, problems = _sign_in(browser, live_server.url, "lead")
    page.click("header >> text=Workforce map")
    expect(page.locator("h1")).to_have_text("Workforce map")
    assert_accessible(page)
    page.select_option("#team", "ZU0002")
    page.select_option("#by", "skill")
    page.click("button:text-is('Show')")
    expect(page.locator("main table th[scope=row]", has_text="Wound care")).to_be_visible()
    expect(page.locator("svg.care-chart")).to_be_visible()
    assert_accessible(page)
    page.goto(live_server.url + "/capacity/")
    page.check("text=Today")
    page.check("text=Three more nurses")
    page.click("button:text-is('Compare')")
    expect(page.get_by_text("Utilisation of clinically available time")).to_be_visible()
    expect(
        page.locator("main table th", has_text="District or community nurse (scenario)")
    ).to_be_visible()
    assert page.locator("svg.care-chart").count() == 3
    assert_accessible(page)
    assert problems == []


@pytest.mark.django_db(transaction=True)
def test_an_analyst_reads_an_evaluation_and_the_population_figures(
    live_server: Any, browser: Browser, published_dir: Path, tmp_path: Path, settings: Any
) -> None:
    from neighbourhood.evaluate import protocol, results
    from neighbourhood.evaluate.run import evaluate
    from neighbourhood.evaluate.synthetic import synthetic
    from neighbourhood.synth.options import Rollout

    settings.DATA_DIR = tmp_path
    chosen = protocol.Protocol.model_validate(
        {
            "schema": protocol.SCHEMA,
            "name": "Emergency use after enrolment",
            "outcomes": ["emergency_admissions"],
            "subgroups": ["imd_quintile"],
        }
    )
    results.save(tmp_path, evaluate(synthetic(12_000, 3, Rollout(effect=0.8), 400), chosen))
    factories.professional("analyst", role="analyst", job_title="ICB analyst")
    page, problems = _sign_in(browser, live_server.url, "analyst")
    page.click("header >> text=Evaluation")
    expect(page.locator("h1")).to_have_text("Evaluation of the model of care")
    expect(page.locator("main h2", has_text="Emergency use after enrolment")).to_be_visible()
    expect(page.get_by_text("Before and after (biased: regression to the mean)")).to_be_visible()
    assert page.locator("svg.care-chart").count() == 3
    assert_accessible(page)
    settings.DATA_DIR = published_dir
    page.click("header >> text=Population figures")
    page.select_option("#by", "age_band")
    page.click("button:text-is('Show')")
    expect(page.locator("svg.care-chart")).to_be_visible()
    region = page.locator(".care-table-scroll")
    expect(region).to_be_visible()
    # The wide table scrolls within its own region, not the page.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1  # type: ignore[index]
    assert_accessible(page)
    assert problems == []
