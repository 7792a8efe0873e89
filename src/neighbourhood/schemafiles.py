"""Files people write by hand and we check against a versioned schema (pydantic):
capacity scenarios and evaluation protocols. Read as TOML or JSON; every problem
reported at once, each naming its field."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from neighbourhood.errors import InvalidOptionsError, UserError

Model = TypeVar("Model", bound=BaseModel)


def read(path: Path, what: str) -> tuple[str, object]:
    """A file's text and what it holds (JSON if it ends .json, else TOML), or one line
    saying why it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: no such {what} file") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, not a {what} file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: cannot read the {what} ({error})") from None
    try:
        raw = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise UserError(
            f"{path}: not valid {'JSON' if path.suffix == '.json' else 'TOML'}: {error}"
        ) from None
    return text, raw


def validate(model: type[Model], raw: object, schema: str, where: str) -> Model:
    """``raw`` as a ``model`` of the version ``schema``, or every problem at once."""
    if isinstance(raw, dict) and raw.get("schema") not in (None, schema):
        raise UserError(
            f"{where}: schema '{raw.get('schema')}' is not one this version reads "
            f"(expected '{schema}')"
        )
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise InvalidOptionsError(
            [f"{where}: {field_path(e['loc'])}: {_message(e)}" for e in error.errors()]
        ) from None


def field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + ("schema" if part == "schema_" else str(part))
    return out or "(the file)"


def _message(error: object) -> str:
    e = error if isinstance(error, dict) else {}
    kind, message = e.get("type", ""), str(e.get("msg", ""))
    if kind == "extra_forbidden":
        return "not a field of this schema"
    if kind == "missing":
        return "required"
    return message.removeprefix("Value error, ")
