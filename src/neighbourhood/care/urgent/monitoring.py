"""Readings from a remote monitoring platform, onto the people's virtual ward stays.

Platforms export readings as CSV, a row a set of observations: the NHS number, when
they were taken, and the NEWS2 parameters. Column names are matched without regard to
case, spaces or underscores, and common synonyms are read (``rr``, ``sats``, ``sbp``,
``hr``, ``temp``, ``avpu``); other columns are ignored. An import is all or nothing: one
bad row and nothing is recorded, with every problem named by its line and column. Each
reading is recorded as the remote monitoring feed's, scored, and escalated as a
clinician's would be.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from neighbourhood.care import published
from neighbourhood.care.urgent import actions, news2
from neighbourhood.care.urgent.models import Stay
from neighbourhood.errors import UserError
from neighbourhood.standards.nhs_number import is_valid, normalise

SHOWN = 10
COLUMNS = {
    "nhs_number": ("nhsnumber", "nhsno", "nhs"),
    "taken_at": ("takenat", "taken", "datetime", "recordedat", "timestamp", "time"),
    "respiration_rate": ("respirationrate", "respiratoryrate", "rr", "resprate"),
    "spo2": ("spo2", "sats", "oxygensaturation", "saturation"),
    "scale2": ("scale2", "spo2scale2", "hypercapnic"),
    "on_oxygen": ("onoxygen", "oxygen", "supplementaloxygen", "o2"),
    "systolic": ("systolic", "sbp", "systolicbp", "systolicbloodpressure", "bpsystolic"),
    "pulse": ("pulse", "hr", "heartrate", "pulserate"),
    "consciousness": ("consciousness", "acvpu", "avpu", "levelofconsciousness"),
    "temperature": ("temperature", "temp", "tempc", "temperaturec"),
}
OPTIONAL = {"scale2", "on_oxygen"}
YES = {"y", "yes", "true", "1"}
NO = {"n", "no", "false", "0", ""}


@dataclass(frozen=True)
class Recorded:
    readings: int
    escalations: int


def _key(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def _columns(header: list[str], source: str) -> dict[str, int]:
    keys = [_key(h) for h in header]
    found: dict[str, int] = {}
    for field, names in COLUMNS.items():
        for name in names:
            if name in keys:
                found[field] = keys.index(name)
                break
    missing = [f for f in COLUMNS if f not in found and f not in OPTIONAL]
    if missing:
        raise UserError(
            f"{source}: no column for {', '.join(missing)} (the header has: {', '.join(header)})"
        )
    return found


def _when(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("not a date and time like 2026-12-04T09:30") from None
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def _whole(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError("not a whole number") from None


def _yes(text: str) -> bool:
    if text.strip().lower() in YES:
        return True
    if text.strip().lower() in NO:
        return False
    raise ValueError("not yes or no")


def _reading(row: list[str], columns: dict[str, int]) -> tuple[dict[str, Any], list[str]]:
    def cell(field: str) -> str:
        index = columns.get(field)
        return row[index] if index is not None and index < len(row) else ""

    parsed: dict[str, Any] = {}
    problems: list[str] = []
    parsers: dict[str, Any] = {
        "nhs_number": lambda t: t,
        "taken_at": _when,
        "respiration_rate": _whole,
        "spo2": _whole,
        "scale2": _yes,
        "on_oxygen": _yes,
        "systolic": _whole,
        "pulse": _whole,
        "consciousness": lambda t: t.strip().upper(),
        "temperature": lambda t: Decimal(t.strip()),
    }
    for field, parse in parsers.items():
        try:
            parsed[field] = parse(cell(field))
        except (ValueError, InvalidOperation) as error:
            problems.append(f"{field} {cell(field)!r}: {error or 'not a number'}")
    number = normalise(str(parsed.get("nhs_number", "")))
    if "nhs_number" in parsed and not is_valid(number):
        problems.append(f"nhs_number {cell('nhs_number')!r}: not a valid NHS number")
    parsed["nhs_number"] = number
    if parsed.get("consciousness", "A") not in news2.CONSCIOUSNESS:
        problems.append(f"consciousness {cell('consciousness')!r}: one of A, C, V, P, U")
    for field, (low, high) in news2.LIMITS.items():
        value = parsed.get(field)
        if value is not None and not low <= value <= high:
            problems.append(f"{field} {value}: not a plausible reading (from {low} to {high})")
    return parsed, problems


def import_file(path: Path) -> Recorded:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except (UnicodeDecodeError, IsADirectoryError, PermissionError) as error:
        raise UserError(f"{path}: cannot be read as a text file ({error})") from None
    rows = [r for r in csv.reader(text.splitlines()) if any(c.strip() for c in r)]
    if not rows:
        raise UserError(f"{path}: empty, not even a header")
    columns = _columns(rows[0], str(path))
    wanted: list[tuple[int, dict[str, Any]]] = []
    problems: list[str] = []
    for line, row in enumerate(rows[1:], start=2):
        parsed, wrong = _reading(row, columns)
        problems += [f"line {line}: {p}" for p in wrong]
        if not wrong:
            wanted.append((line, parsed))
    stays: dict[str, Stay] = {}
    for line, parsed in wanted:
        number = parsed["nhs_number"]
        if number not in stays:
            person = published.by_nhs_number(number)
            stay = (
                Stay.objects.filter(
                    person_id=person["person_id"], discharged_at__isnull=True
                ).first()
                if person
                else None
            )
            if stay is None:
                problems.append(
                    f"line {line}: NHS number {number} is not on a virtual ward"
                    + ("" if person else " (and not in the published refresh)")
                )
                continue
            stays[number] = stay
    if problems:
        more = f" (and {len(problems) - SHOWN} more)" if len(problems) > SHOWN else ""
        raise UserError(f"{path}: nothing recorded: " + "; ".join(problems[:SHOWN]) + more)
    escalations = 0
    with transaction.atomic():
        for line, parsed in wanted:
            try:
                made = actions.observe(
                    stay=stays[parsed["nhs_number"]],
                    readings={k: parsed.get(k, False) for k in news2.READINGS},
                    taken="remote",
                    taken_at=parsed["taken_at"],
                    by=None,
                )
            except actions.PlanError as error:  # the transaction is rolled back: nothing kept
                raise UserError(f"{path}: nothing recorded: line {line}: {error}") from None
            escalations += bool(made.escalated)
    return Recorded(len(wanted), escalations)
