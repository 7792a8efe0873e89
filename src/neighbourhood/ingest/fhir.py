"""FHIR R4 resources into source records and events, validated with fhir.resources.

Runs in worker processes, a batch of lines at a time. A resource is
*quarantined* when it cannot be read, is of a type we do not take, or has no
usable key (no id, or an event with no subject); it is *accepted with flags*
when its only faults are in fields we can do without (a birth date that is not
a date, say): those fields are dropped and named in ``flags``. See ADR 0005.
"""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from fhir.resources.R4B import get_fhir_model_class
from pydantic import BaseModel, ValidationError

from neighbourhood.costs import cost_of, spell_cost
from neighbourhood.standards import nhs_number, snomed

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ETHNIC_EXTENSION = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory"
# Fields whose faults we flag and drop rather than lose the record for.
FLAGGABLE: dict[str, frozenset[str]] = {
    "Patient": frozenset(
        {
            "birthDate",
            "deceasedDateTime",
            "gender",
            "address",
            "telecom",
            "extension",
            "maritalStatus",
            "name",
            "generalPractitioner",
        }
    ),
    "Encounter": frozenset(
        {"reasonCode", "type", "priority", "hospitalization", "serviceProvider", "serviceType"}
    ),
    "Condition": frozenset(
        {"onsetDateTime", "recordedDate", "category", "clinicalStatus", "verificationStatus"}
    ),
    "Observation": frozenset({"valueQuantity", "category", "effectiveDateTime", "interpretation"}),
    "RelatedPerson": frozenset({"name", "birthDate", "relationship", "identifier"}),
    "Flag": frozenset({"category", "period"}),
}
SETTINGS = {
    "AMB": "general practice",
    "HH": "home",
    "EMER": "emergency department",
    "IMP": "inpatient",
    "SS": "day case",
    "VR": "virtual",
}


RECORD_COLUMNS = (
    "line",
    "record_key",
    "nhs_number",
    "nhs_number_raw",
    "nhs_number_status",
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "postcode",
    "address",
    "ethnicity",
    "practice_ods",
    "date_of_death",
    "flags",
    "house_number",
    "street",
    "locality",
)
EVENT_COLUMNS = (
    "line",
    "event_key",
    "record_key",
    "setting",
    "activity",
    "start_date",
    "end_date",
    "code",
    "code_status",
    "value",
    "unit",
    "cost_gbp",
    "flags",
)
QUARANTINE_COLUMNS = ("line", "field", "reason", "raw")


@dataclass
class Rows:
    """Column lists for the warehouse tables, filled a resource at a time."""

    records: dict[str, list[Any]] = field(default_factory=lambda: _columns(RECORD_COLUMNS))
    events: dict[str, list[Any]] = field(default_factory=lambda: _columns(EVENT_COLUMNS))
    quarantine: dict[str, list[Any]] = field(default_factory=lambda: _columns(QUARANTINE_COLUMNS))
    flagged: int = 0

    def extend(self, other: Rows) -> None:
        for mine, theirs in (
            (self.records, other.records),
            (self.events, other.events),
            (self.quarantine, other.quarantine),
        ):
            for key, values in theirs.items():
                mine[key].extend(values)
        self.flagged += other.flagged

    def size(self) -> int:
        return len(self.records["line"]) + len(self.events["line"]) + len(self.quarantine["line"])


def _columns(names: tuple[str, ...]) -> dict[str, list[Any]]:
    return {n: [] for n in names}


class Rejected(Exception):  # noqa: N818 - internal signal, never leaves this module
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field, self.reason = field, reason


def process_batch(batch: tuple[str, str | None, list[tuple[int, bytes]]]) -> Rows:
    """Validate and map one batch of resources; ``expected`` is the type a file promises."""
    sector, expected, items = batch
    rows = Rows()
    for line, raw in items:
        try:
            _process(rows, sector, expected, line, raw)
        except Rejected as rejected:
            _append(
                rows.quarantine,
                line=line,
                field=rejected.field,
                reason=rejected.reason,
                raw=raw[:4096].decode("utf-8", "replace"),
            )
    return rows


def _process(rows: Rows, sector: str, expected: str | None, line: int, raw: bytes) -> None:
    try:
        resource = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise Rejected("", f"not valid JSON ({error}); the line may be cut short") from error
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        raise Rejected("resourceType", "not a FHIR resource: it has no resourceType")
    rtype = resource["resourceType"]
    if expected and rtype != expected:
        raise Rejected("resourceType", f"a {rtype} resource in a file of {expected} resources")
    if rtype not in HANDLERS:
        raise Rejected(
            "resourceType",
            f"{rtype} resources are not ingested (we take {', '.join(sorted(HANDLERS))})",
        )
    flags = _validate(rtype, resource)
    HANDLERS[rtype](rows, sector, line, resource, flags)
    if flags:
        rows.flagged += 1


# Distinct values of one element kept validated, per element of each resource type; a
# full cache is emptied and starts again, so a worker's memory stays bounded.
ELEMENT_CACHE = 2_048


class ElementwiseValidator:
    """fhir.resources' model of a resource type, validating each distinct element once.

    A resource is valid when each of its elements is valid for its data type and the
    resource's own rules hold (cardinality, choice of types, required elements). The
    models check a data type without regard to where it sits, so an element valid once
    is valid again: the coding of a blood pressure reading, the class of an encounter,
    the partner's organisation recur in most resources of a file. This validates each
    distinct complex element with its own fhir.resources model once, keeps the
    validated instance, and hands the resource's model those instances, which pydantic
    takes as they are. The resource's model still checks every element of the resource
    and runs every rule of its own. Any failure is left to ``validate_resource`` to
    describe, by validating the resource afresh in the plain way.
    """

    def __init__(self, rtype: str) -> None:
        self.model: type[BaseModel] = get_fhir_model_class(rtype)
        self.elements: dict[str, tuple[type[BaseModel], bool, dict[bytes, BaseModel]]] = {}
        for name, info in self.model.model_fields.items():
            klass, many = _element_model(info.annotation)
            if klass is not None and name != "contained":
                self.elements[info.alias or name] = (klass, many, {})

    def is_valid(self, resource: dict[str, Any]) -> bool:
        """Whether fhir.resources' model accepts the resource (the dict is left unchanged)."""
        shaped = dict(resource)
        try:
            for key, value in resource.items():
                element = self.elements.get(key)
                if element is None or value is None:
                    continue
                klass, many, seen = element
                if many and isinstance(value, list):
                    shaped[key] = [_validated(klass, seen, item) for item in value]
                elif not many:
                    shaped[key] = _validated(klass, seen, value)
            self.model.model_validate(shaped)
        except (ValidationError, ValueError, TypeError):
            return False
        return True


def _element_model(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The fhir.resources model of a field's data type, and whether the field is a list."""
    if hasattr(annotation, "get_model_klass"):
        return annotation.get_model_klass(), False
    for arg in typing.get_args(annotation):
        klass, many = _element_model(arg)
        if klass is not None:
            return klass, many or typing.get_origin(annotation) is list
    return None, False


def _validated(klass: type[BaseModel], seen: dict[bytes, BaseModel], value: Any) -> Any:
    if not isinstance(value, dict):
        return value  # not an element: the resource's model says what is wrong with it
    key = orjson.dumps(value)
    instance = seen.get(key)
    if instance is None:
        instance = klass.model_validate(value)
        if len(seen) >= ELEMENT_CACHE:
            seen.clear()
        seen[key] = instance
    return instance


_VALIDATORS: dict[str, ElementwiseValidator] = {}


def _validate(rtype: str, resource: dict[str, Any]) -> list[str]:
    validator = _VALIDATORS.get(rtype)
    if validator is None:
        validator = _VALIDATORS[rtype] = ElementwiseValidator(rtype)
    if validator.is_valid(resource):  # the parsed dict: JSON is parsed once, by orjson
        return []
    return validate_resource(rtype, resource)


def validate_resource(rtype: str, resource: dict[str, Any]) -> list[str]:
    """fhir.resources' model on the whole resource: flags for faults in flaggable fields
    (which are dropped from ``resource``), ``Rejected`` for any other fault."""
    model = get_fhir_model_class(rtype)
    try:
        model.model_validate(resource)
        return []
    except ValidationError as error:
        problems = error.errors()
    fields = {str(p["loc"][0]) for p in problems if p["loc"]}
    first = problems[0]
    where = ".".join(str(x) for x in first["loc"]) or rtype
    if not fields or not fields <= FLAGGABLE[rtype]:
        raise Rejected(where, _describe(first))
    flags = sorted({f"{'.'.join(str(x) for x in p['loc'])}: {_describe(p)}" for p in problems})
    for name in fields:
        resource.pop(name, None)
    try:
        model.model_validate(resource)
    except ValidationError as error:
        raise Rejected(where, _describe(error.errors()[0])) from error
    return flags


def _describe(problem: Any) -> str:
    value = problem.get("input")
    shown = f"'{value}'" if isinstance(value, str | int | float) else "the value"
    message = str(problem.get("msg", "is not valid"))
    if "date" in message.lower():
        return f"{shown} is not a date"
    if problem.get("type") == "missing":
        return "is required but missing"
    return f"{shown} is not valid: {message}"


def _append(columns: dict[str, list[Any]], **values: Any) -> None:
    get = values.get
    for key, values_list in columns.items():
        values_list.append(get(key))


def _reference_key(reference: Any) -> str | None:
    if not isinstance(reference, dict) or not isinstance(reference.get("reference"), str):
        return None
    return str(reference["reference"]).rsplit("/", 1)[-1].removeprefix("urn:uuid:")


def _date(value: Any) -> str | None:
    return value[:10] if isinstance(value, str) and len(value) >= 10 else None


def _snomed_code(concept: Any) -> str | None:
    if isinstance(concept, list):
        concept = concept[0] if concept else None
    if not isinstance(concept, dict):
        return None
    for coding in concept.get("coding") or []:
        if coding.get("system") == snomed.SYSTEM and coding.get("code"):
            return str(coding["code"])
    return None


def _code_status(code: str | None) -> str:
    return "none" if not code else "valid" if snomed.is_valid_sctid(code) else "invalid"


def _patient(rows: Rows, sector: str, line: int, r: dict[str, Any], flags: list[str]) -> None:
    if not r.get("id"):
        raise Rejected("id", "the Patient has no id, so its events could never be joined to it")
    raw_number = next(
        (
            i.get("value")
            for i in (r.get("identifier") or [])
            if i.get("system") == NHS_NUMBER_SYSTEM
        ),
        None,
    )
    status = "missing"
    if raw_number:
        status = "valid" if nhs_number.is_valid(str(raw_number)) else "invalid"
        if status == "invalid":
            flags.append("identifier: the NHS number fails its Modulus 11 check digit")
    name = (r.get("name") or [{}])[0] or {}
    address = (r.get("address") or [{}])[0] or {}
    ethnicity = next(
        (
            e["valueCodeableConcept"]["coding"][0].get("code")
            for e in (r.get("extension") or [])
            if e.get("url") == ETHNIC_EXTENSION and e.get("valueCodeableConcept")
        ),
        None,
    )
    practice = (r.get("generalPractitioner") or [{}])[0].get("identifier", {}).get("value")
    _append(
        rows.records,
        line=line,
        record_key=r["id"],
        nhs_number=nhs_number.normalise(str(raw_number)) if status == "valid" else None,
        nhs_number_raw=raw_number,
        nhs_number_status=status,
        given_name=" ".join(name.get("given") or []) or None,
        family_name=name.get("family"),
        date_of_birth=_date(r.get("birthDate")),
        sex=r.get("gender"),
        postcode=address.get("postalCode"),
        address=", ".join(address.get("line") or []) or None,
        ethnicity=ethnicity,
        practice_ods=practice,
        date_of_death=_date(r.get("deceasedDateTime")),
        flags="; ".join(flags) or None,
        house_number=None,  # linkage reads both from the first line of the address
        street=None,
        locality=address.get("city") or address.get("district"),
    )


def _subject(r: dict[str, Any], key: str = "subject") -> str:
    subject = _reference_key(r.get(key))
    if not subject:
        raise Rejected(key, f"the {r['resourceType']} has no {key}, so nobody's record it is")
    return subject


def _encounter(rows: Rows, sector: str, line: int, r: dict[str, Any], flags: list[str]) -> None:
    subject = _subject(r)
    cls = (r.get("class") or {}).get("code", "")
    start, end = _date(r["period"].get("start")) if r.get("period") else None, None
    if r.get("period"):
        end = _date(r["period"].get("end"))
    if not start:
        raise Rejected(
            "period.start", "the Encounter has no start date, so it has no place on the timeline"
        )
    priority = _snomed_priority(r)
    activity, cost = _encounter_activity(sector, cls, priority, start, end)
    code = _snomed_code(r.get("reasonCode")) or _snomed_code(r.get("type"))
    _append(
        rows.events,
        line=line,
        event_key=r.get("id"),
        record_key=subject,
        setting=SETTINGS.get(cls, cls or None),
        activity=activity,
        start_date=start,
        end_date=end,
        code=code,
        code_status=_code_status(code),
        cost_gbp=cost,
        flags="; ".join(flags) or None,
    )


def _snomed_priority(r: dict[str, Any]) -> str:
    codings = (r.get("priority") or {}).get("coding") or [{}]
    return str(codings[0].get("code", ""))


def _encounter_activity(
    sector: str, cls: str, priority: str, start: str, end: str | None
) -> tuple[str, float | None]:
    if sector == "general_practice":
        return "gp_appointment", cost_of("gp_appointment")
    if cls == "EMER":
        return "ed_attendance", cost_of("ed_attendance")
    if cls == "SS":
        return "elective_day_case", cost_of("elective_day_case")
    days = _days_between(start, end)
    if priority == "EM":
        return "emergency_admission", spell_cost("emergency_admission", days)
    return "elective_admission", spell_cost("elective_admission", days)


def _days_between(start: str, end: str | None) -> int:
    if not end:
        return 0
    try:
        return max((dt.date.fromisoformat(end) - dt.date.fromisoformat(start)).days, 0)
    except ValueError:
        return 0


def _condition(rows: Rows, sector: str, line: int, r: dict[str, Any], flags: list[str]) -> None:
    code = _snomed_code(r.get("code"))
    _append(
        rows.events,
        line=line,
        event_key=r.get("id"),
        record_key=_subject(r),
        setting=None,
        activity="diagnosis",
        start_date=_date(r.get("onsetDateTime")) or _date(r.get("recordedDate")),
        code=code,
        code_status=_code_status(code),
        flags="; ".join(flags) or None,
    )


def _observation(rows: Rows, sector: str, line: int, r: dict[str, Any], flags: list[str]) -> None:
    code = _snomed_code(r.get("code"))
    quantity = r.get("valueQuantity") or {}
    _append(
        rows.events,
        line=line,
        event_key=r.get("id"),
        record_key=_subject(r),
        activity="observation",
        start_date=_date(r.get("effectiveDateTime")),
        code=code,
        code_status=_code_status(code),
        value=quantity.get("value"),
        unit=quantity.get("unit"),
        flags="; ".join(flags) or None,
    )


def _related_person(
    rows: Rows, sector: str, line: int, r: dict[str, Any], flags: list[str]
) -> None:
    _append(
        rows.events,
        line=line,
        event_key=r.get("id"),
        record_key=_subject(r, "patient"),
        activity="unpaid_carer_recorded",
        code_status="none",
        flags="; ".join(flags) or None,
    )


def _flag(rows: Rows, sector: str, line: int, r: dict[str, Any], flags: list[str]) -> None:
    _append(
        rows.events,
        line=line,
        event_key=r.get("id"),
        record_key=_subject(r),
        activity="reasonable_adjustment_flag",
        code_status="none",
        flags="; ".join(flags) or None,
    )


HANDLERS: dict[str, Callable[[Rows, str, int, dict[str, Any], list[str]], None]] = {
    "Patient": _patient,
    "Encounter": _encounter,
    "Condition": _condition,
    "Observation": _observation,
    "RelatedPerson": _related_person,
    "Flag": _flag,
}
