"""The one exception hierarchy of the project.

A :class:`UserError` is something the person running a command or filling in a
form can put right: it reaches the command line as one red line and exit code 2,
and a web page as a message beside the field. Anything else is a bug and keeps
its traceback, in the logs.
"""

from __future__ import annotations

from collections.abc import Iterable


class NeighbourhoodError(Exception):
    """Base class of every error this package raises on purpose."""


class UserError(NeighbourhoodError):
    """Bad input: say what is wrong, where, and what to do about it."""


class InvalidOptionsError(UserError):
    """Several problems with the options given, gathered into one message."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))

    def __reduce__(self) -> tuple[type[InvalidOptionsError], tuple[list[str]]]:
        return InvalidOptionsError, (self.problems,)  # whole across a process boundary
