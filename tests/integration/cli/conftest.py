"""One ``neighbourhood demo --json`` run, shared by the tests that read its figures; the
one test that goes on to link again works in the directory, and nothing else does."""

from __future__ import annotations

import pytest

from tests.support.commands import Demo, run_demo


@pytest.fixture(scope="package")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return run_demo(tmp_path_factory.mktemp("demo"), people=600)
