"""Files that hold identifiable data are readable by their owner only.

Every command sets the process's umask to 077 (``cli.app.main``); the pipeline's entry
points do the same for as long as they run when called from Python (a notebook, a test,
a scheduler), and put back what was there before.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

OWNER_ONLY = 0o077
P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def owner_only() -> Iterator[None]:
    previous = os.umask(OWNER_ONLY)
    try:
        yield
    finally:
        os.umask(previous)


def owner_only_files(run: Callable[P, R]) -> Callable[P, R]:
    """What ``run`` creates is readable by its owner only."""

    @functools.wraps(run)
    def private(*args: P.args, **kwargs: P.kwargs) -> R:
        with owner_only():
            return run(*args, **kwargs)

    return private
