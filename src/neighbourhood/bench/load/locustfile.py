"""The load ``neighbourhood bench web`` puts on a served application (run by locust).

Each virtual user is a care coordinator: signs in (password, then the code of an
authenticator app, as the application requires of care staff), then reads the case-finding list,
opens profiles, enrols people and edits a shared enrolment's notes (reading its version
first, and trying again on a conflict, as a person would). What the application said
was saved is written out at the end, for the bench to look for in the database.

Signing in is deliberately slow (Django's password hashing takes about half a second of
CPU), and people sign in once a day, not once a page. So the measured period starts when
the last user has signed in: the figures so far are set aside (their count, failures
and duration are kept) and the load runs ``NEIGHBOURHOOD_LOAD_SECONDS`` from there.
"""

from __future__ import annotations

import html
import json
import os
import random
import re
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import gevent  # type: ignore[import-untyped]
from django_otp.oath import totp
from locust import FastHttpUser, between, events, task
from locust.env import Environment

PLAN = json.loads(Path(os.environ["NEIGHBOURHOOD_LOAD_PLAN"]).read_text(encoding="utf-8"))
SECONDS = float(os.environ["NEIGHBOURHOOD_LOAD_SECONDS"])
ACKNOWLEDGED: dict[str, Any] = {
    "enrolled": [],
    "notes": [],
    "plans": [],
    "tasks": [],
    "referrals": [],
    "calls": [],
    "claims": [],
    "set_offs": [],
    "visits": [],
    "claims_refused": 0,
}
REFERRAL_ROW = re.compile(r'href="/referrals/(\d+)/"')
VERSION = re.compile(r'name="version" value="(\d+)"')
STARTED = time.monotonic()
_signed_in = 0
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d+)"')
NOTES = re.compile(r'<textarea[^>]*name="notes"[^>]*>(.*?)</textarea>', re.S)
_next_user = iter(PLAN["users"])


class _Staff(FastHttpUser):
    """Signs in as the next user of the plan (password, then the authenticator's code)."""

    abstract = True
    wait_time = between(0.2, 0.4)

    def on_start(self) -> None:
        self.me = next(_next_user)
        page = self.client.get("/sign-in/", name="sign-in")
        token = CSRF.search(_text(page))
        self.client.post(
            "/sign-in/",
            data={
                "username": self.me["username"],
                "password": self.me["password"],
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
            name="sign-in",
        )
        step = self.client.get("/two-factor/", name="sign-in")
        self.client.post(
            "/two-factor/",
            data={
                "code": f"{totp(bytes.fromhex(self.me['totp_key'])):06d}",
                "csrfmiddlewaretoken": self._token(_text(step)),
            },
            name="sign-in",
        )
        self.writes = 0
        self.started()
        _one_more_signed_in(self.environment)

    def started(self) -> None:
        """What a user sets up for itself once signed in."""

    def _token(self, text: str) -> str:
        found = CSRF.search(text)
        if found:
            return found.group(1)
        cookie = next((c for c in self.client.cookiejar if c.name == "csrftoken"), None)
        return str(cookie.value or "") if cookie else ""


class CareCoordinator(_Staff):
    def started(self) -> None:
        self.to_enrol = list(self.me.get("enrol", []))

    @task(4)
    def case_finding(self) -> None:
        self.client.get(
            f"/case-finding/?page={random.randint(1, 3)}&sort={random.choice(['rank', 'risk', 'age'])}",
            name="case-finding list",
        )

    @task(4)
    def profile(self) -> None:
        person = random.choice(self.me["profiles"])
        self.client.get(f"/people/{person}/", name="person profile")

    @task(1)
    def enrol(self) -> None:
        if not self.to_enrol:
            return
        person = self.to_enrol.pop()
        form = self.client.get(f"/people/{person}/enrol/", name="enrolment form")
        with self.client.post(
            f"/people/{person}/enrol/",
            data={
                "team": self.me["team"],
                "care_coordinator": self.me["coordinator"],
                "reason": "found on the case-finding list",
                "csrfmiddlewaretoken": self._token(_text(form)),
            },
            name="enrol",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code == 302:
                ACKNOWLEDGED["enrolled"].append(person)
            else:
                response.failure(f"enrolment not saved (HTTP {response.status_code})")

    @task(1)
    def edit_notes(self) -> None:
        enrolment = self.me["shared_enrolment"]
        self.writes += 1
        line = f"{self.me['username']} note {self.writes}"
        for _ in range(20):  # a conflict: read again and make the change again
            page = self.client.get(f"/caseload/{enrolment}/", name="enrolment page")
            version = VERSION.search(_text(page))
            notes = NOTES.search(_text(page))
            if not version or notes is None:
                return
            current = html.unescape(notes.group(1)).strip("\n")
            with self.client.post(
                f"/caseload/{enrolment}/update/",
                data={
                    "version": version.group(1),
                    "care_coordinator": _coordinator(_text(page)),
                    "notes": (current + "\n" + line).strip("\n"),
                    "csrfmiddlewaretoken": self._token(_text(page)),
                },
                name="edit enrolment",
                allow_redirects=False,
                catch_response=True,
            ) as response:
                if response.status_code == 302:
                    ACKNOWLEDGED["notes"].append([enrolment, line])
                    return
                if "Someone else changed this" in _text(response):
                    response.success()  # the conflict is the right answer; try again
                    continue
                response.failure(f"edit not saved (HTTP {response.status_code})")
                return

    @task(2)
    def worklist(self) -> None:
        self.client.get("/worklist/", name="worklist")

    @task(2)
    def care_plan(self) -> None:
        if self.me.get("plans"):
            self.client.get(f"/people/{random.choice(self.me['plans'])}/plan/", name="care plan")

    @task(1)
    def save_plan(self) -> None:
        """Add a line to 'about me' of one of my plans, as a person would: open the
        form, change it, save; on a conflict, open it again."""
        if not self.me.get("plans"):
            return
        person = random.choice(self.me["plans"][:5])  # a few plans, so colleagues' saves meet
        self.writes += 1
        line = f"{self.me['username']} save {self.writes}"
        for _ in range(20):
            page = self.client.get(f"/people/{person}/plan/edit/", name="care plan form")
            fields = _form(_text(page))
            if "version" not in fields:
                return
            fields["about_me"] = (fields.get("about_me", "").strip() + "\n" + line).strip()
            with self.client.post(
                f"/people/{person}/plan/edit/",
                data=fields,
                name="care plan save",
                allow_redirects=False,
                catch_response=True,
            ) as response:
                if response.status_code == 302:
                    ACKNOWLEDGED["plans"].append([person, line])
                    return
                if "Someone else changed this plan" in _text(response):
                    response.success()
                    continue
                response.failure(f"plan not saved (HTTP {response.status_code})")
                return

    @task(2)
    def update_task(self) -> None:
        """Move one of my open tasks a step on (accept, start, complete)."""
        mine = self.client.get("/tasks/", name="my tasks")
        ids = TASK_ROW.findall(_text(mine))
        if not ids:
            return
        task_id = random.choice(ids[:20])
        page = self.client.get(f"/tasks/{task_id}/", name="task")
        fields = _form(_text(page))
        status = TASK_STATUS.search(_text(page))
        if "version" not in fields or status is None:
            return
        now = {"Requested": "requested", "Accepted": "accepted", "In progress": "in-progress"}
        fields["status"] = STATUS_NEXT[now[status.group(1)]]
        with self.client.post(
            f"/tasks/{task_id}/",
            data=fields,
            name="task update",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code == 302:
                ACKNOWLEDGED["tasks"].append([task_id, fields["status"]])
            elif "Someone else changed this task" in _text(response):
                response.success()  # a colleague's team task, moved a moment ago
            else:
                response.failure(f"task not updated (HTTP {response.status_code})")

    @task(2)
    def agenda(self) -> None:
        if self.me.get("meeting"):
            self.client.get(f"/meetings/{self.me['meeting']}/", name="agenda")

    @task(1)
    def meeting_case(self) -> None:
        if self.me.get("items"):
            item = random.choice(self.me["items"])
            self.client.get(f"/meetings/{self.me['meeting']}/people/{item}/", name="meeting case")

    @task(2)
    def referral_inbox(self) -> None:
        self.client.get(f"/referrals/?page={random.randint(1, 40)}", name="referral inbox")

    @task(1)
    def referral_status(self) -> None:
        """Accept a waiting referral from the inbox, as the receiving service does."""
        inbox = self.client.get(f"/referrals/?page={random.randint(1, 40)}", name="referral inbox")
        ids = REFERRAL_ROW.findall(_text(inbox))
        if not ids:
            return
        referral = random.choice(ids)
        page = _text(self.client.get(f"/referrals/{referral}/", name="referral"))
        version = VERSION.search(page)
        if version is None or 'value="accepted"' not in page:
            return  # accepted by a colleague a moment ago
        with self.client.post(
            f"/referrals/{referral}/",
            data={
                "action": "move",
                "version": version.group(1),
                "status": "accepted",
                "reason": "",
                "csrfmiddlewaretoken": self._token(page),
            },
            name="referral status change",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code == 302:
                ACKNOWLEDGED["referrals"].append([referral, "accepted"])
            elif any(
                said in _text(response)
                for said in (
                    "Someone else changed this referral",
                    "cannot become accepted",
                    "is not one of the available choices",
                )
            ):
                response.success()  # a colleague accepted it first: the right answer
            else:
                response.failure(f"referral not moved (HTTP {response.status_code})")


WAITING_CALL = re.compile(
    r'href="/urgent/calls/(\d+)/"(?:(?!</tr>).)*?nhsuk-tag--red">Waiting</strong>', re.S
)
FREE_RESPONSE = re.compile(r'href="/urgent/responses/(\d+)/"(?:(?!</tr>).)*?No one yet</td>', re.S)
NEEDS = ["fall", "frailty", "reduced_function", "delirium", "catheter", "carer", "chest_pain"]
SOURCES = ["ambulance", "nhs111", "gp", "care_home", "community", "self"]


class SinglePointOfAccess(_Staff):
    """A senior clinician of the single point of access: takes calls, claims and triages
    waiting ones, reads the board, sets off to responses and records visits."""

    @task(2)
    def take_call(self) -> None:
        form = self.client.get("/urgent/calls/new/", name="call form")
        with self.client.post(
            "/urgent/calls/new/",
            data={
                "nhs_number": random.choice(self.me["nhs_numbers"]),
                "source": random.choice(SOURCES),
                "caller": "Caller",
                "need": random.choice(NEEDS),
                "details": "Load: a call",
                "csrfmiddlewaretoken": self._token(_text(form)),
            },
            name="take a call",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            location = response.headers.get("Location", "")
            if response.status_code == 302 and location.startswith("/urgent/calls/"):
                ACKNOWLEDGED["calls"].append(location.strip("/").split("/")[-1])
            else:
                response.failure(f"call not saved (HTTP {response.status_code})")

    @task(2)
    def queue(self) -> None:
        self.client.get("/urgent/", name="queue")

    @task(3)
    def triage(self) -> None:
        """Claim a waiting call and triage it: of two clinicians at once, one is told the
        other has it, which is the right answer."""
        waiting = WAITING_CALL.findall(_text(self.client.get("/urgent/", name="queue")))
        if not waiting:
            return
        call = random.choice(waiting[:10])
        page = _text(self.client.get(f"/urgent/calls/{call}/", name="call"))
        version = VERSION.search(page)
        if version is None or 'value="claim"' not in page:
            return
        with self.client.post(
            f"/urgent/calls/{call}/",
            data={
                "action": "claim",
                "version": version.group(1),
                "csrfmiddlewaretoken": self._token(page),
            },
            name="claim a call",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                if "Someone else got there first" in _text(response):
                    ACKNOWLEDGED["claims_refused"] += 1
                    response.success()
                else:
                    response.failure(f"claim not saved (HTTP {response.status_code})")
                return
        page = _text(self.client.get(f"/urgent/calls/{call}/", name="call"))
        version = VERSION.search(page)
        with self.client.post(
            f"/urgent/calls/{call}/",
            data={
                "action": "triage",
                "version": version.group(1) if version else "",
                "acuity": "two_hours",
                "outcome": "ucr",
                "team": str(self.me["team"]),
                "note": "Load: assess at home",
                "csrfmiddlewaretoken": self._token(page),
            },
            name="triage",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code == 302:
                ACKNOWLEDGED["claims"].append([call, self.me["username"]])
            else:
                response.failure(f"triage not saved (HTTP {response.status_code})")

    @task(4)
    def board(self) -> None:
        self.client.get(f"/urgent/board/?page={random.randint(1, 40)}", name="board")

    @task(2)
    def set_off(self) -> None:
        board = _text(self.client.get(f"/urgent/board/?page={random.randint(1, 40)}", name="board"))
        free = FREE_RESPONSE.findall(board)
        if not free:
            return
        response_id = random.choice(free)
        page = _text(self.client.get(f"/urgent/responses/{response_id}/", name="response"))
        version = VERSION.search(page)
        if version is None or 'value="set_off"' not in page:
            return
        with self.client.post(
            f"/urgent/responses/{response_id}/",
            data={
                "action": "set_off",
                "version": version.group(1),
                "eta_minutes": "20",
                "csrfmiddlewaretoken": self._token(page),
            },
            name="set off",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code == 302:
                ACKNOWLEDGED["set_offs"].append([response_id, self.me["username"]])
            elif "Someone else got there first" in _text(response):
                ACKNOWLEDGED["claims_refused"] += 1
                response.success()
            else:
                response.failure(f"not on the way (HTTP {response.status_code})")

    @task(1)
    def visit(self) -> None:
        """Record the visit of a response this user set off to."""
        mine = [r for r, who in ACKNOWLEDGED["set_offs"] if who == self.me["username"]]
        done = set(ACKNOWLEDGED["visits"])
        todo = [r for r in mine if r not in done]
        if not todo:
            return
        response_id = todo[0]
        page = _text(self.client.get(f"/urgent/responses/{response_id}/", name="response"))
        version = VERSION.search(page)
        arrived = re.search(r'name="visited_at"[^>]*value="([^"]+)"', page)
        if version is None or arrived is None:
            return
        with self.client.post(
            f"/urgent/responses/{response_id}/",
            data={
                "action": "visit",
                "version": version.group(1),
                "visited_at": arrived.group(1),
                "late_reason": "Load: busy",
                "csrfmiddlewaretoken": self._token(page),
            },
            name="record a visit",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code == 302:
                ACKNOWLEDGED["visits"].append(response_id)
            else:
                response.failure(f"visit not saved (HTTP {response.status_code})")


class _Form(HTMLParser):
    """The fields of the first POST form in a page's main content (not the header's
    sign-out button), with the values a browser would send."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: list[tuple[str, str]] = []
        self._in_form = self._done = self._in_main = False
        self._textarea: str | None = None
        self._select: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self._in_main = self._in_main or tag == "main"
        if tag == "form" and a.get("method") == "post" and self._in_main and not self._done:
            self._in_form = True
        if not self._in_form:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "textarea":
            self._textarea, self._text = a.get("name", ""), []
        elif tag == "select":
            self._select = a.get("name", "")
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value", "")))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, "".join(self._text).lstrip("\n")))
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form" and self._in_form:
            self._in_form, self._done = False, True


def _form(page: str) -> dict[str, str]:
    parser = _Form()
    parser.feed(page)
    return dict(parser.fields)


STATUS_NEXT = {"requested": "accepted", "accepted": "in-progress", "in-progress": "completed"}
TASK_ROW = re.compile(r'<a href="/tasks/(\d+)/">')
TASK_STATUS = re.compile(r'nhsuk-tag--\w+">(Requested|Accepted|In progress)</strong>')


def _one_more_signed_in(environment: Environment) -> None:
    """When everyone has signed in, set those figures aside and time the load from here."""
    global _signed_in
    _signed_in += 1
    if _signed_in < len(PLAN["users"]) or environment.runner is None:
        return
    total = environment.runner.stats.total
    ACKNOWLEDGED["signing_in"] = {
        "seconds": round(time.monotonic() - STARTED, 1),
        "requests": total.num_requests,
        "failures": total.num_failures,
    }
    environment.runner.stats.reset_all()
    gevent.spawn_later(SECONDS, environment.runner.quit)


def _text(response: Any) -> str:
    return str(response.text or "")


def _coordinator(page: str) -> str:
    found = re.search(
        r'id="id_care_coordinator"[^>]*>.*?<option value="(\d+)" selected', page, re.S
    )
    return found.group(1) if found else ""


@events.test_stop.add_listener  # type: ignore[untyped-decorator]
def _write_acknowledged(**_: Any) -> None:
    Path(os.environ["NEIGHBOURHOOD_LOAD_ACKNOWLEDGED"]).write_text(
        json.dumps(ACKNOWLEDGED), encoding="utf-8"
    )
