"""Running our own commands for the benchmarks: a failed run says why, and keeps all of it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from neighbourhood.bench.measure import run_measured
from neighbourhood.errors import UserError


def test_a_failed_run_shows_its_last_words_and_keeps_the_rest(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(UserError) as raised:
        run_measured(["link", "--data", str(missing)])
    message = str(raised.value)
    assert message.startswith(f"'neighbourhood link --data {missing}' failed: ")
    kept = re.search(r"its whole error output is in (\S+)\)$", message)
    assert kept is not None
    whole = Path(kept.group(1)).read_text(encoding="utf-8")
    assert whole.strip()
    assert whole.strip()[-100:] in message  # the end of it is shown
    Path(kept.group(1)).unlink()
