"""The care coordinator's journey in real headless Chromium, with axe-core on every page."""

from __future__ import annotations

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
