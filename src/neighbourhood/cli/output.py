"""Printing for people (Rich) and for programs (--json: one object on stdout)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from neighbourhood.bench.measure import figure

__all__ = ["console", "err_console", "figure"]

console = Console()
err_console = Console(stderr=True)


def print_json(payload: dict[str, Any]) -> None:
    sys.stdout.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode() + "\n")


def error_line(message: str) -> None:
    """A user error: one red line on stderr."""
    err_console.print(f"[bold red]error:[/bold red] {message}", highlight=False, soft_wrap=True)


@contextmanager
def progress_bar(description: str, total: int, quiet: bool) -> Iterator[Progress]:
    """A progress bar on stderr, hidden for --json or when stderr is not a terminal."""
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=quiet or not err_console.is_terminal,
    )
    with bar:
        bar.add_task(description, total=total)
        yield bar


def figures_table(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    for label, value in rows:
        table.add_row(label, value)
    return table
