"""Options shared by several commands, declared once."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

DataOption = Annotated[
    Path | None,
    typer.Option(
        "--data",
        help="Data directory (default: $NEIGHBOURHOOD_DATA, else ./data).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the figures as one JSON object.")]
ScratchOption = Annotated[
    Path | None,
    typer.Option(
        "--scratch",
        help="Where to write (default: a temporary directory, removed after).",
        show_default=False,
    ),
]


class EngineName(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


EngineOption = Annotated[
    EngineName,
    typer.Option(
        "--engine",
        help="Where to compute: DuckDB in this process, or Spark in local mode.",
        case_sensitive=False,
    ),
]


HtmlOption = Annotated[
    Path | None,
    typer.Option("--html", help="Write the report as one self-contained HTML page here."),
]


def check_html_target(path: Path | None) -> None:
    """Refuse an --html target that cannot be written, before any work is done."""
    from neighbourhood.errors import UserError

    if path is None:
        return
    if path.is_dir():
        raise UserError(f"--html {path} is a directory: give a file name")
    if not path.parent.is_dir():
        raise UserError(f"--html {path}: the folder {path.parent} does not exist")
