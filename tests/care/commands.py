"""Running ``neighbourhood`` as a user would, in its own process, free of the test run's
Django settings and of any NEIGHBOURHOOD_* variable the developer has set."""

from __future__ import annotations

import os
import subprocess
import sys

TEST_ONLY = ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("NEIGHBOURHOOD_") and k not in TEST_ONLY
    }
    return env | extra


def neighbourhood(
    *args: str, timeout: float = 300, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "neighbourhood.cli.app", *args],
        capture_output=True,
        text=True,
        env=clean_env(**extra_env),
        check=False,
        timeout=timeout,
    )
