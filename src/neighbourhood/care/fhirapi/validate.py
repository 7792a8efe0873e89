"""What a partner sends is checked twice before anything is written: against the FHIR
R4 model of its resource type (fhir.resources), then against the UK Core rules this
record relies on (NHS numbers, SNOMED CT codings, ODS codes). Each problem names the
element at fault as a FHIRPath expression, e.g. ``Task.for.identifier.value``."""

from __future__ import annotations

import re
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from neighbourhood.care.fhirapi.outcome import FhirError
from neighbourhood.standards.nhs_number import is_valid as is_nhs_number
from neighbourhood.standards.snomed import is_valid_sctid

NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
ODS = "https://fhir.nhs.uk/Id/ods-organization-code"
SNOMED = "http://snomed.info/sct"
_ODS_CODE = re.compile(r"^[A-Z0-9]{3,10}$")
MAX_ISSUES = 20


def _path(resource_type: str, loc: tuple[Any, ...]) -> str:
    out = resource_type
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part != "__root__":
            out += f".{part}"
    return out


def resource(body: Any, expected: str | None = None, where: str = "") -> dict[str, Any]:
    """``body`` as a FHIR resource of type ``expected`` (any type when None), or a
    ``FhirError`` listing every problem."""
    prefix = f"{where}: " if where else ""
    if not isinstance(body, dict):
        raise FhirError(
            400, "structure", f"{prefix}the body must be a JSON object, a FHIR resource"
        )
    kind = body.get("resourceType")
    if not isinstance(kind, str) or not kind:
        raise FhirError(
            400, "structure", f"{prefix}the resource has no resourceType", "resourceType"
        )
    if expected is not None and kind != expected:
        raise FhirError(
            400,
            "invalid",
            f"{prefix}expected a {expected}, but the body is a {kind}",
            "resourceType",
        )
    try:
        model = get_fhir_model_class(kind)
    except (ValueError, KeyError):
        raise FhirError(
            400, "not-supported", f"{prefix}{kind} is not a FHIR R4 resource type"
        ) from None
    try:
        model.model_validate(body)
    except ValidationError as error:
        issues = [
            {
                "severity": "error",
                "code": "invalid",
                "diagnostics": f"{prefix}{_path(kind, tuple(e['loc']))}: {e['msg']}",
                "expression": [_path(kind, tuple(e["loc"]))],
            }
            for e in error.errors()[:MAX_ISSUES]
        ]
        raise Invalid(issues) from None
    except (TypeError, ValueError, RecursionError) as error:
        raise FhirError(400, "invalid", f"{prefix}{kind} is not valid FHIR: {error}") from None
    problems = list(uk_core(body, kind))
    if problems:
        raise Invalid(
            [
                {
                    "severity": "error",
                    "code": "business-rule",
                    "diagnostics": f"{prefix}{text}",
                    "expression": [path],
                }
                for path, text in problems[:MAX_ISSUES]
            ],
            status=422,
        )
    return body


class Invalid(FhirError):  # noqa: N818 - named for what the partner meets
    """Several problems at once, each an issue of the OperationOutcome."""

    def __init__(self, issues: list[dict[str, Any]], status: int = 400) -> None:
        first = issues[0]
        super().__init__(status, first["code"], first["diagnostics"], first["expression"][0])
        self.issues = issues

    def outcome(self) -> dict[str, Any]:
        return {"resourceType": "OperationOutcome", "issue": self.issues}


def uk_core(node: Any, path: str) -> Any:
    """Each (path, problem) of the UK Core rules found anywhere in ``node``."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from uk_core(item, f"{path}[{index}]")
        return
    if not isinstance(node, dict):
        return
    system = node.get("system")
    if isinstance(system, str):
        if "value" in node:
            value = str(node.get("value", ""))
            if system == NHS_NUMBER and not is_nhs_number(value):
                yield (
                    f"{path}.value",
                    f"{path}.value: '{value}' is not a valid NHS number (10 digits whose last "
                    "is the modulus 11 check digit)",
                )
            if system == ODS and not _ODS_CODE.match(value):
                yield (
                    f"{path}.value",
                    f"{path}.value: '{value}' is not an ODS code (3 to 10 capital letters and digits)",
                )
        if system == SNOMED and "code" in node:
            code = str(node.get("code", ""))
            if not is_valid_sctid(code):
                yield (
                    f"{path}.code",
                    f"{path}.code: '{code}' is not a SNOMED CT identifier (6 to 18 digits with "
                    "a valid Verhoeff check digit)",
                )
    for key, value in node.items():
        if key != "resourceType" and isinstance(value, dict | list):
            yield from uk_core(value, f"{path}.{key}")
