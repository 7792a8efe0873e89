"""The directory of services, and its import from an Open Referral UK (HSDS) file.

Open Referral UK publishes services in two shapes: the first UK profile (a page of
``content`` with ``eligibilitys``, ``service_areas`` and ``service_taxonomys``) and
the UK profile of HSDS 3 (``contents``, ``eligibility_description``, ``minimum_age``,
``capacities``). Both are read; a single service object or a bare list is read too.
What HSDS does not carry (the kind of service when no taxonomy term says it, the
neighbourhoods served, the response times promised) comes from the command's options
or from each kind's default. An import is all or nothing: one bad service and nothing
is written, with every problem named by its place in the file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from neighbourhood.care.referrals.models import PROMISES, Service, ServiceKind
from neighbourhood.care.teams.models import Organisation, Sector
from neighbourhood.errors import UserError

LISTS = ("content", "contents", "services", "items", "data")
# Words of a taxonomy term (or a service's name) that say what kind of service it is.
KIND_WORDS = [
    ("social prescribing", ServiceKind.SOCIAL_PRESCRIBING),
    ("reablement", ServiceKind.REABLEMENT),
    ("intermediate care bed", ServiceKind.BED_BASED),
    ("step-up bed", ServiceKind.BED_BASED),
    ("intermediate care", ServiceKind.HOME_BASED),
    ("mental health", ServiceKind.MENTAL_HEALTH),
    ("district nursing", ServiceKind.COMMUNITY),
    ("community nursing", ServiceKind.COMMUNITY),
]
SHOWN = 10  # problems named; the rest counted


@dataclass(frozen=True)
class Imported:
    created: int
    updated: int
    organisations: int


def _services(document: Any) -> list[Any]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        for key in LISTS:
            if isinstance(document.get(key), list):
                return list(document[key])
        if "name" in document and "id" in document:
            return [document]
    raise UserError(
        "no services found: an Open Referral UK file is a service, a list of services or a "
        f"page of them under one of {', '.join(repr(k) for k in LISTS)}"
    )


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _terms(service: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for item in service.get("service_taxonomys") or []:
        taxonomy = item.get("taxonomy") if isinstance(item, dict) else None
        if isinstance(taxonomy, dict) and _text(taxonomy.get("name")):
            found.append(_text(taxonomy["name"]))
    for item in service.get("attributes") or []:
        term = item.get("taxonomy_term") if isinstance(item, dict) else None
        if isinstance(term, dict) and _text(term.get("name")):
            found.append(_text(term["name"]))
    return found


def _kind(service: dict[str, Any], terms: list[str], default: str) -> str:
    words = " ".join([*terms, _text(service.get("name"))]).lower()
    return next((kind for word, kind in KIND_WORDS if word in words), default)


def _age(value: Any, where: str, problems: list[str]) -> int | None:
    if value in (None, ""):
        return None
    try:
        age = int(value)
    except (TypeError, ValueError):
        problems.append(f"{where}: an age must be a whole number, not {value!r}")
        return None
    if not 0 <= age <= 130:
        problems.append(f"{where}: an age of {age} is not an age")
        return None
    return age


def _eligibility(service: dict[str, Any], where: str, problems: list[str]) -> tuple[str, Any, Any]:
    words = [_text(service.get("eligibility_description"))]
    low = _age(service.get("minimum_age"), where, problems)
    high = _age(service.get("maximum_age"), where, problems)
    for item in service.get("eligibilitys") or []:
        if not isinstance(item, dict):
            continue
        words.append(_text(item.get("eligibility")))
        found_low = _age(item.get("minimum_age"), where, problems)
        found_high = _age(item.get("maximum_age"), where, problems)
        low = found_low if low is None else (low if found_low is None else min(low, found_low))
        high = (
            found_high if high is None else (high if found_high is None else max(high, found_high))
        )
    if low is not None and high is not None and low > high:
        problems.append(f"{where}: its minimum age {low} is above its maximum age {high}")
    return "; ".join(w for w in words if w), low, high


def _area(service: dict[str, Any]) -> str:
    names = []
    for item in service.get("service_areas") or []:
        if isinstance(item, dict):
            names.append(_text(item.get("service_area")) or _text(item.get("name")))
    return "; ".join(n for n in names if n)


def _capacity(service: dict[str, Any]) -> int | None:
    for item in service.get("capacities") or []:
        if isinstance(item, dict):
            for key in ("maximum", "available"):
                if isinstance(item.get(key), int | float) and item[key] >= 0:
                    return int(item[key])
    return None


def _contact(service: dict[str, Any]) -> str:
    for contact in service.get("contacts") or []:
        if not isinstance(contact, dict):
            continue
        for phone in contact.get("phones") or []:
            if isinstance(phone, dict) and _text(phone.get("number")):
                return _text(phone["number"])
        if _text(contact.get("email")):
            return _text(contact["email"])
    return _text(service.get("email")) or _text(service.get("url"))


def _organisation_of(
    service: dict[str, Any], organisations: dict[str, dict[str, Any]]
) -> dict[str, Any] | None:
    found = service.get("organization")
    if isinstance(found, dict) and _text(found.get("name")):
        return found
    wanted = service.get("organization_id")
    if wanted is not None and str(wanted) in organisations:
        return organisations[str(wanted)]
    return None


def _code(organisation: dict[str, Any]) -> str:
    """An Organisation code for a provider the ODS does not know (most VCFSE bodies)."""
    key = str(organisation.get("id") or organisation.get("name"))
    return "OR" + hashlib.sha1(key.encode()).hexdigest()[:8].upper()


@dataclass(frozen=True)
class Options:
    kind: str | None = None  # every service of this kind; else from its terms, or VCFSE
    catchment: tuple[str, ...] = ()
    respond_hours: int | None = None
    contact_hours: int | None = None


def read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except (UnicodeDecodeError, IsADirectoryError, PermissionError) as error:
        raise UserError(f"{path}: cannot be read as a text file ({error})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise UserError(
            f"{path}: not JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None


def import_file(path: Path, options: Options | None = None) -> Imported:
    return import_document(read(path), options or Options(), str(path))


def import_document(document: Any, options: Options, source: str = "the file") -> Imported:
    options = options or Options()
    if options.kind is not None and options.kind not in ServiceKind.values:
        raise UserError(
            f"--kind {options.kind!r} is not a kind of service: one of {', '.join(ServiceKind.values)}"
        )
    services = _services(document)
    organisations = {}
    if isinstance(document, dict) and isinstance(document.get("organizations"), list):
        organisations = {
            str(o.get("id")): o for o in document["organizations"] if isinstance(o, dict)
        }
    problems: list[str] = []
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, service in enumerate(services, start=1):
        where = f"{source}, service {index}"
        if not isinstance(service, dict):
            problems.append(f"{where}: not an object")
            continue
        ident = service.get("id")
        name = _text(service.get("name"))
        where += f" ({name or ident or 'no name'})"
        if ident in (None, "") or not isinstance(ident, str | int):
            problems.append(f"{where}: has no id, which Open Referral UK requires")
            continue
        if str(ident) in seen:
            problems.append(f"{where}: its id {ident} is given twice")
            continue
        seen.add(str(ident))
        if not name:
            problems.append(f"{where}: has no name")
            continue
        organisation = _organisation_of(service, organisations)
        if organisation is None:
            problems.append(f"{where}: names no organisation that provides it")
            continue
        terms = _terms(service)
        kind = options.kind or _kind(service, terms, ServiceKind.VCFSE)
        eligibility, low, high = _eligibility(service, where, problems)
        respond, contact = PROMISES[ServiceKind(kind)]
        rows.append(
            {
                "hsds_id": str(ident)[:100],
                "organisation": organisation,
                "fields": {
                    "name": name[:200],
                    "kind": kind,
                    "description": _text(service.get("description")),
                    "eligibility": eligibility,
                    "minimum_age": low,
                    "maximum_age": high,
                    "catchment": list(options.catchment),
                    "area": _area(service),
                    "capacity": _capacity(service),
                    "respond_hours": options.respond_hours or respond,
                    "contact_hours": options.contact_hours or contact,
                    "activities": [t for t in terms if _kind({}, [t], "") == ""][:20],
                    "contact": _contact(service)[:200],
                    "active": _text(service.get("status")).lower() not in ("inactive", "defunct"),
                },
            }
        )
    if problems:
        more = f"; and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
        raise UserError("nothing was imported: " + "; ".join(problems[:SHOWN]) + more)
    if not rows:
        raise UserError(f"{source} lists no services: nothing was imported")
    return _write(rows)


@transaction.atomic
def _write(rows: list[dict[str, Any]]) -> Imported:
    created = updated = made_organisations = 0
    for row in rows:
        source = row["organisation"]
        name = _text(source.get("name"))[:200]
        organisation = Organisation.objects.filter(name__iexact=name).first()
        if organisation is None:
            organisation, new = Organisation.objects.get_or_create(
                ods_code=_code(source),
                defaults={
                    "name": name,
                    "sector": Sector.VCFSE
                    if row["fields"]["kind"] in (ServiceKind.VCFSE, ServiceKind.SOCIAL_PRESCRIBING)
                    else Sector.COMMUNITY,
                },
            )
            made_organisations += new
        _, new = Service.objects.update_or_create(
            hsds_id=row["hsds_id"], defaults={**row["fields"], "organisation": organisation}
        )
        created += new
        updated += not new
    return Imported(created, updated, made_organisations)
