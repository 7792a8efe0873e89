"""``neighbourhood bench fhir``: the FHIR API under load on the served application, on
PostgreSQL, at neighbourhood and ICS size (at ICS size 100,000 care plans and 500,000
tasks), side by side with the same care plans read through the web application's pages.

For each size: a published refresh (made here, or taken from ``--from``), a throwaway
PostgreSQL server, the care ``bench web`` seeds and a registered partner's system
(``bench.load.fhir``), ``neighbourhood serve`` on a loopback port, then four timed phases
of concurrent clients: FHIR reads (CarePlan and Task by id), the same plans' pages, FHIR
searches (by patient, by NHS number with includes, a worklist by owner and status), and
writers (If-Match updates on shared tasks, conditional creates each sent twice).
Afterwards every write the API acknowledged is looked for in the database.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from neighbourhood import smart
from neighbourhood.bench.postgres import free_port, running
from neighbourhood.bench.web import _python, _wait_for, at_each_size, serve_process
from neighbourhood.care.server import server_workers
from neighbourhood.errors import UserError

TARGET_READS_PER_SECOND = 300.0
TARGET_SEARCH_P95_MS = 150.0
TARGET_WRITE_P95_MS = 200.0
WRITERS = 10
NHS = "https://fhir.nhs.uk/Id/nhs-number"
PROFESSIONAL = "https://neighbourhood.health/fhir/Id/professional"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def run(
    *,
    sizes: list[int],
    reuse: list[Path],
    seconds: int,
    readers: int,
    workers: int,
    scratch: Path | None,
) -> dict[str, Any]:
    results = at_each_size(
        sizes,
        reuse,
        scratch,
        lambda people, data, tmp: _load(people, data, tmp, seconds, readers, workers),
    )
    return {"benchmark": "fhir", "results": results, "seconds": seconds, "readers": readers}


def _load(
    people: int, data: Path, tmp: Path, seconds: int, readers: int, workers: int
) -> dict[str, Any]:
    with running(durable=True) as postgres:
        env = {**os.environ, "NEIGHBOURHOOD_DATABASE_URL": postgres.url("postgres")}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        plan_file = tmp / f"fhir-plan-{people}.json"
        _python(
            [
                "-m",
                "neighbourhood.bench.load.fhir",
                "make",
                "--data",
                str(data),
                "--plan",
                str(plan_file),
                "--users",
                str(max(readers, 2)),
            ],
            env,
        )
        plan = json.loads(plan_file.read_text(encoding="utf-8"))
        port = free_port()
        count = server_workers(workers)
        log = (tmp / f"serve-fhir-{people}.log").open("w")
        server = serve_process(data, port, count, log, env)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_for(f"{base}/fhir/metadata", server)
            load = _Load(base, plan, seconds, readers)
            phases = {
                "FHIR read": load.phase(readers, load.fhir_read),
                "page read": load.phase(readers, load.page_read, signed_in=True),
                "FHIR search": load.phase(readers, load.fhir_search),
                "FHIR write": load.phase(WRITERS, load.fhir_write),
            }
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)
            log.close()
        acknowledged = tmp / f"fhir-acknowledged-{people}.json"
        acknowledged.write_text(json.dumps(load.acknowledged), encoding="utf-8")
        checked = json.loads(
            _python(
                [
                    "-m",
                    "neighbourhood.bench.load.fhir",
                    "check",
                    "--data",
                    str(data),
                    "--plan",
                    str(plan_file),
                    "--acknowledged",
                    str(acknowledged),
                ],
                env,
            ).stdout
        )
    return {
        "people": people,
        "workers": count,
        "seeded": plan["seeded"],
        "phases": phases,
        "conflicts": load.conflicts,
        **checked,
        "met_reads": phases["FHIR read"]["per_second"] >= TARGET_READS_PER_SECOND,
        "met_search": phases["FHIR search"]["p95_ms"] < TARGET_SEARCH_P95_MS,
        "met_writes": phases["FHIR write"]["p95_ms"] < TARGET_WRITE_P95_MS,
    }


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)


class _Load:
    """Concurrent clients, each a thread with its own HTTP session."""

    def __init__(self, base: str, plan: dict[str, Any], seconds: int, readers: int) -> None:
        self.base, self.plan, self.seconds = base, plan, seconds
        self.acknowledged: dict[str, list[Any]] = {"updates": [], "creates": []}
        self.conflicts = 0
        self.lock = threading.Lock()
        self.users = iter(plan["users"])
        self.token = ""
        self.local = threading.local()

    def _token(self) -> str:
        import requests

        url = f"{self.base}/fhir/token"
        form = smart.token_form(
            self.plan["key"], self.plan["client_id"], url, "bench", "system/*.cruds"
        )
        answer = requests.post(url, data=form, timeout=30)
        if answer.status_code != 200:
            raise UserError(f"the bench partner got no token: {answer.text[:300]}")
        return str(answer.json()["access_token"])

    def _session(self, signed_in: bool) -> Any:
        import requests

        session = requests.Session()
        if not signed_in:
            session.headers.update(
                {"Authorization": f"Bearer {self.token}", "Accept": "application/fhir+json"}
            )
            return session
        from django_otp.oath import totp

        with self.lock:
            me = next(self.users)
        page = session.get(f"{self.base}/sign-in/", timeout=30)
        found = CSRF.search(page.text)
        session.post(
            f"{self.base}/sign-in/",
            data={
                "username": me["username"],
                "password": me["password"],
                "csrfmiddlewaretoken": found.group(1) if found else "",
            },
            timeout=30,
        )
        step = session.get(f"{self.base}/two-factor/", timeout=30)
        found = CSRF.search(step.text)
        session.post(
            f"{self.base}/two-factor/",
            data={
                "code": f"{totp(bytes.fromhex(me['totp_key'])):06d}",
                "csrfmiddlewaretoken": found.group(1) if found else "",
            },
            timeout=30,
        )
        session.me = me  # type: ignore[attr-defined]
        return session

    def _send(self, session: Any, method: str, url: str, counted: bool = True, **kw: Any) -> Any:
        """One request, timed: a write's own request is counted, the read before it not."""
        began = time.perf_counter()
        answer = session.request(method, f"{self.base}{url}", timeout=30, **kw)
        took = (time.perf_counter() - began) * 1000
        status = int(answer.status_code)
        self.local.errors += int((status >= 400 and status != 412) or status == 0)
        if counted:
            self.local.timed.append(took)
        return answer

    def phase(
        self, clients: int, work: Callable[[Any, random.Random, int], Any], signed_in: bool = False
    ) -> dict[str, Any]:
        """``clients`` threads doing ``work`` for the phase's seconds. Latency of every
        counted request (a 412 is a write refused as stale, made again: not an error)."""
        self.token = self._token()
        sessions = [self._session(signed_in) for _ in range(clients)]
        latencies: list[float] = []
        errors: list[int] = []
        stop = time.monotonic() + self.seconds
        start = threading.Barrier(clients)

        def client(number: int) -> None:
            rng = random.Random(number)
            self.local.timed, self.local.errors = [], 0
            start.wait()
            n = 0
            while time.monotonic() < stop:
                try:
                    work(sessions[number], rng, number * 1_000_000 + n)
                except Exception:  # a dropped connection: an error
                    self.local.errors += 1
                n += 1
            with self.lock:
                latencies.extend(self.local.timed)
                errors.append(self.local.errors)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - began
        return {
            "requests": len(latencies),
            "per_second": round(len(latencies) / elapsed, 1),
            "p50_ms": _percentile(latencies, 0.5),
            "p95_ms": _percentile(latencies, 0.95),
            "errors": sum(errors),
            "clients": clients,
        }

    # What each client does, once per call -------------------------------------------

    def fhir_read(self, session: Any, rng: random.Random, n: int) -> None:
        if n % 2:
            self._send(session, "GET", f"/fhir/CarePlan/{rng.choice(self.plan['plans'])['id']}")
        else:
            self._send(session, "GET", f"/fhir/Task/{rng.choice(self.plan['tasks'])}")

    def page_read(self, session: Any, rng: random.Random, n: int) -> None:
        mine = session.me.get("plans") or [p["person"] for p in self.plan["plans"]]
        self._send(session, "GET", f"/people/{rng.choice(mine)}/plan/")

    def fhir_search(self, session: Any, rng: random.Random, n: int) -> None:
        plan = rng.choice(self.plan["plans"])
        kind = n % 4
        if kind == 0:
            url = f"/fhir/Task?patient=Patient/{plan['person']}"
        elif kind == 1 and plan["nhs"]:
            url = (
                f"/fhir/CarePlan?subject:identifier={NHS}|{plan['nhs']}"
                "&_include=CarePlan:goal&_revinclude=Task:based-on"
            )
        elif kind == 2:
            url = f"/fhir/Task?owner={rng.choice(self.plan['owners'])}&status=requested&_count=20"
        else:
            url = f"/fhir/EpisodeOfCare?patient={plan['person']}&status=active"
        self._send(session, "GET", url)

    def fhir_write(self, session: Any, rng: random.Random, n: int) -> None:
        """An update of a shared task against the version just read (the read is not
        counted), or a conditional create sent twice, as a partner retrying does."""
        if n % 10 < 7:
            task_id = rng.choice(self.plan["contested"])
            current = self._send(session, "GET", f"/fhir/Task/{task_id}", counted=False)
            if current.status_code != 200:
                return
            body = current.json()
            body["description"] = f"Bench update {n}"
            answer = self._send(
                session,
                "PUT",
                f"/fhir/Task/{task_id}",
                data=json.dumps(body),
                headers={
                    "If-Match": f'W/"{body["meta"]["versionId"]}"',
                    "Content-Type": "application/fhir+json",
                },
            )
            with self.lock:
                if answer.status_code == 200:
                    self.acknowledged["updates"].append(
                        [task_id, int(answer.json()["meta"]["versionId"]), body["description"]]
                    )
                elif answer.status_code == 412:
                    self.conflicts += 1
            return
        plan = rng.choice(self.plan["plans"])
        value = f"bench-{n}"
        body = {
            "resourceType": "Task",
            "status": "requested",
            "intent": "order",
            "description": "A partner's action",
            "for": {"reference": f"Patient/{plan['person']}"},
            "identifier": [{"system": "https://partner.example/task", "value": value}],
            "owner": {
                "identifier": {
                    "system": PROFESSIONAL,
                    "value": str(rng.choice(self.plan["team_owners"][str(plan["team"])])),
                }
            },
            "restriction": {"period": {"end": "2099-01-01"}},
        }
        made = None
        for _ in range(2):  # a partner's retry after a lost answer
            answer = self._send(
                session,
                "POST",
                "/fhir/Task",
                data=json.dumps(body),
                headers={
                    "If-None-Exist": f"identifier=https://partner.example/task|{value}",
                    "Content-Type": "application/fhir+json",
                },
            )
            if answer.status_code not in (200, 201):
                return
            made = answer.json()["id"]
        with self.lock:
            self.acknowledged["creates"].append([made, value])


def show(payload: dict[str, Any], console: Console) -> None:
    for result in payload["results"]:
        if "failed" in result:
            console.print(f"[red]{result['people']:,} people: {result['failed']}[/red]")
            continue
        seeded = result["seeded"]
        table = Table(
            title=f"FHIR API at {result['people']:,} people ({seeded.get('plans', 0):,} care plans, "
            f"{seeded.get('tasks', 0):,} tasks in PostgreSQL; {result['workers']} server workers; "
            f"{payload['seconds']} s a phase)"
        )
        for column in ("Phase", "Clients", "Requests", "Per second", "p50 ms", "p95 ms", "Errors"):
            table.add_column(column, justify="right" if column != "Phase" else "left")
        for name, figures in result["phases"].items():
            table.add_row(
                name,
                str(figures["clients"]),
                f"{figures['requests']:,}",
                f"{figures['per_second']:,}",
                f"{figures['p50_ms']}",
                f"{figures['p95_ms']}",
                str(figures["errors"]),
            )
        console.print(table)
        console.print(
            f"Writes: {result['acknowledged_updates']:,} updates and {result['acknowledged_creates']:,} "
            f"creates acknowledged; {result['conflicts']:,} refused as stale (412) and made again; "
            f"{result['lost_updates']} lost, {result['duplicated_creates']} duplicated."
        )
        targets = [
            (result["met_reads"], f"reads at least {TARGET_READS_PER_SECOND:.0f} a second"),
            (result["met_search"], f"searches p95 under {TARGET_SEARCH_P95_MS:.0f} ms"),
            (result["met_writes"], f"writes p95 under {TARGET_WRITE_P95_MS:.0f} ms"),
        ]
        console.print(
            "Targets: " + "; ".join(f"{text}: {'met' if ok else 'NOT met'}" for ok, text in targets)
        )
