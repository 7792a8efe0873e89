"""'neighbourhood serve' runs a real WSGI server, static files included; production
settings pass Django's deployment checks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from neighbourhood.bench.postgres import free_port
from tests.support.commands import clean_env, neighbourhood
from tests.support.synthetic import copy_of


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_serve_answers_on_loopback_with_static_files(published_dir: Path, tmp_path: Path) -> None:
    data = copy_of(published_dir, tmp_path, only_published=True)  # serve writes its database
    port = free_port()
    command = [sys.executable, "-m", "neighbourhood.cli.app", "serve", "--data", str(data)]
    with (tmp_path / "serve.log").open("w") as log:
        server = subprocess.Popen(
            [*command, "--port", str(port), "--workers", "1"],
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            env=clean_env(),
            start_new_session=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(150):
                try:
                    status, body = _get(base + "/sign-in/")
                    break
                except (urllib.error.URLError, ConnectionError):
                    assert server.poll() is None, (tmp_path / "serve.log").read_text()
                    time.sleep(0.2)
            else:
                pytest.fail("the server did not answer within 30 s")
            assert status == 200 and b"<h1>Sign in</h1>" in body
            assert _get(base + "/static/nhsuk/nhsuk-frontend.min.css")[0] == 200
            assert _get(base + "/static/care.css")[0] == 200
            refused = _get(base + "/people/N000000001/")
            assert refused[0] == 200 and b"<h1>Sign in</h1>" in refused[1]  # via the redirect
            assert (data / "care.sqlite3").exists()
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


def test_production_settings_pass_the_deployment_checks(published_dir: Path) -> None:
    done = neighbourhood(
        "manage",
        "--production",
        "--data",
        str(published_dir),
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        NEIGHBOURHOOD_SECRET_KEY="x" * 20 + "production-test-key-" + "y" * 20,
    )
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout


def test_production_without_a_secret_key_says_what_to_set(published_dir: Path) -> None:
    done = neighbourhood("serve", "--production", "--data", str(published_dir), timeout=60)
    assert done.returncode == 2
    assert "production needs NEIGHBOURHOOD_SECRET_KEY" in done.stderr
    assert "Traceback" not in done.stderr
