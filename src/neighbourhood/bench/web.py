"""``neighbourhood bench web``: a bounded load (locust) on the served application, on
PostgreSQL, with a published refresh at neighbourhood and ICS size.

For each size: a published refresh (made here, or taken from ``--from``), a throwaway
PostgreSQL server, the users and plan (``bench.load.plan``), ``neighbourhood serve`` on a
loopback port, then locust with a fixed number of users, timed for a fixed period from
the moment the last of them has signed in. Afterwards every write the application
acknowledged is looked for in the database.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from neighbourhood.bench.load.plan import AUDIT_REPEATS
from neighbourhood.bench.measure import manifest_people, run_measured
from neighbourhood.bench.postgres import free_port, running
from neighbourhood.care.server import server_workers
from neighbourhood.config import published_dir
from neighbourhood.errors import UserError
from neighbourhood.phm.versions import POINTER

TARGET_P95_MS = 200.0
TARGET_RPS = 100.0
ENDPOINTS = (
    "case-finding list",
    "person profile",
    "enrol",
    "edit enrolment",
    "worklist",
    "care plan",
    "care plan save",
    "task update",
    "agenda",
    "meeting case",
    "referral inbox",
    "referral",
    "referral status change",
)
URGENT_ENDPOINTS = (
    "queue",
    "call form",
    "take a call",
    "call",
    "claim a call",
    "triage",
    "board",
    "response",
    "set off",
    "record a visit",
)
MIXES = {
    "care": ("CareCoordinator", ENDPOINTS),
    "urgent": ("SinglePointOfAccess", URGENT_ENDPOINTS),
}
TARGET_BOARD_MS = 100.0
SIGN_IN_LIMIT = 300  # seconds for every user to sign in before the measured period
LOCUSTFILE = Path(__file__).resolve().parent / "load" / "locustfile.py"


def run(
    *,
    sizes: list[int],
    reuse: list[Path],
    users: int,
    seconds: int,
    workers: int,
    scratch: Path | None,
    mix: str = "care",
) -> dict[str, Any]:
    """p50 and p95 latency, requests/s, errors and lost updates of the web application
    under a bounded load on loopback, at each size: the care coordinators' mix of pages,
    or the single point of access's (``mix="urgent"``)."""
    results = at_each_size(
        sizes,
        reuse,
        scratch,
        lambda people, data, tmp: _load(people, data, tmp, users, seconds, workers, mix),
    )
    return {
        "benchmark": "web" if mix == "care" else mix,
        "mix": mix,
        "results": results,
        "users": users,
        "seconds": seconds,
    }


def at_each_size(
    sizes: list[int],
    reuse: list[Path],
    scratch: Path | None,
    load: Callable[[int, Path, Path], dict[str, Any]],
) -> list[dict[str, Any]]:
    """``load(people, data, tmp)`` on a published refresh of each size (``reuse``'s, or
    made in a scratch folder); a size that cannot be made or served says why."""
    prepared = {_people_of(d): d for d in reuse}
    results = []
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        for people in sizes:
            data = Path(tmp) / f"ics-{people}"
            try:
                _prepare(people, data, prepared.get(people))
                results.append(load(people, data, Path(tmp)))
            except UserError as error:
                results.append({"people": people, "failed": str(error)})
    return results


def show(payload: dict[str, Any], console: Console) -> None:
    _print(
        payload["results"],
        payload["users"],
        payload["seconds"],
        console,
        payload.get("mix", "care"),
    )


def _people_of(data: Path) -> int:
    return manifest_people(
        data,
        (published_dir(data) / POINTER,),
        "no published refresh there (run 'neighbourhood refresh' and "
        "'neighbourhood publish' on it first)",
    )


def _prepare(people: int, data: Path, reuse: Path | None) -> None:
    if reuse is not None:
        data.mkdir(parents=True)
        published_dir(data).symlink_to(published_dir(reuse).resolve())
        (data / "extracts").symlink_to((reuse / "extracts").resolve())
        return
    for step in (
        ["synth", "--people", str(people), "--seed", "1"],
        ["ingest"],
        ["link"],
        ["refresh"],
        ["publish"],
    ):
        run_measured([*step, "--data", str(data)])


def _python(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise UserError(f"'{' '.join(args[:3])}' failed: {done.stderr.strip()[-400:]}")
    return done


def _load(
    people: int, data: Path, tmp: Path, users: int, seconds: int, workers: int, mix: str
) -> dict[str, Any]:
    user_class, endpoints = MIXES[mix]
    with running(durable=True) as postgres:
        env = {**os.environ, "NEIGHBOURHOOD_DATABASE_URL": postgres.url("postgres")}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        plan = tmp / f"plan-{people}.json"
        acknowledged = tmp / f"acknowledged-{people}.json"
        _python(
            [
                "-m",
                "neighbourhood.bench.load.plan",
                "make",
                "--data",
                str(data),
                "--plan",
                str(plan),
                "--users",
                str(users),
                "--mix",
                mix,
            ],
            env,
        )
        port = free_port()
        count = server_workers(workers)
        log = (tmp / f"serve-{people}.log").open("w")
        server = serve_process(data, port, count, log, env)
        try:
            _wait_for(f"http://127.0.0.1:{port}/sign-in/", server)
            stats = tmp / f"locust-{people}"
            _python(
                [
                    "-m",
                    "locust",
                    "-f",
                    str(LOCUSTFILE),
                    user_class,
                    "--headless",
                    "--users",
                    str(users),
                    "--spawn-rate",
                    str(users),
                    "--run-time",  # a limit: the load stops itself SECONDS after sign-in
                    f"{seconds + SIGN_IN_LIMIT}s",
                    "--host",
                    f"http://127.0.0.1:{port}",
                    "--csv",
                    str(stats),
                    "--only-summary",
                    "--loglevel",
                    "ERROR",
                    "--exit-code-on-error",
                    "0",
                ],
                env
                | {
                    "NEIGHBOURHOOD_LOAD_PLAN": str(plan),
                    "NEIGHBOURHOOD_LOAD_ACKNOWLEDGED": str(acknowledged),
                    "NEIGHBOURHOOD_LOAD_SECONDS": str(seconds),
                },
            )
        finally:
            with contextlib.suppress(ProcessLookupError):  # it may have stopped itself
                os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)
            log.close()
        checked = json.loads(
            _python(
                [
                    "-m",
                    "neighbourhood.bench.load.plan",
                    "check",
                    "--data",
                    str(data),
                    "--plan",
                    str(plan),
                    "--acknowledged",
                    str(acknowledged),
                    "--mix",
                    mix,
                ],
                env,
            ).stdout
        )
    signing_in = json.loads(acknowledged.read_text(encoding="utf-8")).get("signing_in")
    if signing_in is None:
        raise UserError(
            f"not every one of the {users} users had signed in after {SIGN_IN_LIMIT} s: "
            "try fewer users"
        )
    figures = _stats(stats, endpoints)
    figures["errors"] += signing_in["failures"]  # none may hide before the measured period
    figures["signing_in"] = signing_in
    if figures["errors"]:  # what the server said about them (synthetic data only)
        lines = (tmp / f"serve-{people}.log").read_text(encoding="utf-8").splitlines()
        figures["server_log"] = [line for line in lines if line.strip()][-40:]
    seeded = json.loads(plan.read_text(encoding="utf-8")).get("seeded", {})
    return {"people": people, "workers": count, "seeded": seeded, **figures, **checked}


def serve_process(
    data: Path, port: int, workers: int, log: Any, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    """'neighbourhood serve' on a loopback port, in a session of its own (stopped with
    its workers by ``os.killpg``)."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "neighbourhood.cli.app",
            "serve",
            "--data",
            str(data),
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )


def _wait_for(url: str, server: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if server.poll() is not None:
            raise UserError("'neighbourhood serve' stopped before it answered")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise UserError(f"the server did not answer at {url} within two minutes")


def _stats(prefix: Path, wanted: tuple[str, ...]) -> dict[str, Any]:
    rows = list(csv.DictReader((prefix.parent / f"{prefix.name}_stats.csv").open(encoding="utf-8")))
    by_name = {r["Name"]: r for r in rows}
    total = by_name["Aggregated"]
    endpoints = {
        name: {
            "requests": int(by_name[name]["Request Count"]),
            "failures": int(by_name[name]["Failure Count"]),
            "p50_ms": float(by_name[name]["50%"]),
            "p95_ms": float(by_name[name]["95%"]),
        }
        for name in wanted
        if name in by_name
    }
    failures_file = prefix.parent / f"{prefix.name}_failures.csv"
    failures = (
        [
            f"{r['Name']}: {r['Error']} ({r['Occurrences']}×)"
            for r in csv.DictReader(failures_file.open(encoding="utf-8"))
        ]
        if failures_file.exists()
        else []
    )
    worst_p95 = max((e["p95_ms"] for e in endpoints.values()), default=0.0)
    rps = float(total["Requests/s"])
    return {
        "requests": int(total["Request Count"]),
        "errors": int(total["Failure Count"]),
        "requests_per_second": round(rps, 1),
        "p50_ms": float(total["50%"]),
        "p95_ms": float(total["95%"]),
        "endpoints": endpoints,
        "failures": failures[:5],
        "met_latency": worst_p95 < TARGET_P95_MS,
        "met_throughput": rps >= TARGET_RPS,
    }


def _seeded(result: dict[str, Any]) -> str:
    seeded = result.get("seeded", {})
    if "open_responses" in seeded:
        return f"{seeded['open_responses']:,} open urgent responses seeded in PostgreSQL"
    return (
        f"with {seeded.get('plans', 0):,} care plans and {seeded.get('tasks', 0):,} tasks "
        "in PostgreSQL"
    )


def _writes(result: dict[str, Any]) -> int:
    return sum(
        int(result.get(f"{kind}_acknowledged", 0))
        for kind in (
            "enrolments",
            "notes",
            "plan_saves",
            "task_updates",
            "referral_moves",
            "calls",
            "claims",
            "set_offs",
            "visits",
        )
    )


def _print(
    results: list[dict[str, Any]], users: int, seconds: int, console: Console, mix: str
) -> None:
    name = "web" if mix == "care" else f"web --mix {mix}"
    table = Table(title=f"neighbourhood bench {name}: {users} users for {seconds} s on PostgreSQL")
    for column in ("people", "endpoint", "requests", "errors", "p50 ms", "p95 ms"):
        table.add_column(column, justify="right" if column != "endpoint" else "left")
    for result in results:
        if "failed" in result:
            table.add_row(f"{result['people']:,}", "failed", result["failed"], "", "", "")
            continue
        for name, figures in result["endpoints"].items():
            table.add_row(
                f"{result['people']:,}",
                name,
                f"{figures['requests']:,}",
                str(figures["failures"]),
                f"{figures['p50_ms']:.0f}",
                f"{figures['p95_ms']:.0f}",
            )
        table.add_row(
            f"{result['people']:,}",
            "[bold]all[/bold]",
            f"{result['requests']:,}",
            str(result["errors"]),
            f"{result['p50_ms']:.0f}",
            f"{result['p95_ms']:.0f}",
        )
    console.print(table)
    for result in results:
        if "failed" not in result:
            console.print(
                f"{result['people']:,} people: {result['requests_per_second']:.1f} requests/s, "
                f"{result['errors']} errors, {result['lost_updates']} lost updates of "
                f"{_writes(result)} acknowledged writes, {result['workers']} workers; with "
                f"{_seeded(result)}; measured after all "
                f"{users} had signed in ({result['signing_in']['seconds']:.0f} s)."
            )
            board = result.get("board")
            if board and "median_ms" in board:
                console.print(
                    f"  The board read alone with {board['open']:,} open responses: median "
                    f"{board['median_ms']:.1f} ms, p95 {board['p95_ms']:.1f} ms (target "
                    f"< {TARGET_BOARD_MS:.0f} ms); {result['duplicated_claims']} claims "
                    f"acknowledged to two people, {result['claims_refused']} claims refused "
                    "to a second clinician (the right answer)."
                )
            audit = result.get("audit_ms")
            if audit:
                console.print(
                    f"  One audited page view's audit write: {audit['keyed']:.2f} ms with the "
                    f"keyed, anchored trail (the unkeyed chain before it: "
                    f"{audit['unkeyed']:.2f} ms), median of {AUDIT_REPEATS} each."
                )
            for failure in result["failures"]:
                console.print(f"  failed: {failure}")
    console.print(
        f"Targets: p95 < {TARGET_P95_MS:.0f} ms for each endpoint above; "
        + ("the board alone < 100 ms; 0 duplicated claims; " if mix == "urgent" else "")
        + f"≥ {TARGET_RPS:.0f} requests/s; 0 errors; 0 lost updates."
    )
