"""Every error of the API is an ``OperationOutcome`` that names what is wrong and where
(the FHIRPath of the element at fault, when there is one)."""

from __future__ import annotations

from typing import Any

import orjson
from django.http import HttpResponse

FHIR_JSON = "application/fhir+json"


class FhirError(Exception):
    """An answer of the API that is not a success: its HTTP status, the issue code
    (http://hl7.org/fhir/issue-type) and what to tell the partner."""

    def __init__(
        self, status: int, code: str, diagnostics: str, expression: str = "", **headers: str
    ) -> None:
        super().__init__(status, code, diagnostics, expression)
        self.status = status
        self.code = code
        self.diagnostics = diagnostics
        self.expression = expression
        self.headers = headers

    def outcome(self) -> dict[str, Any]:
        return outcome(self.code, self.diagnostics, self.expression)


def outcome(
    code: str, diagnostics: str, expression: str = "", severity: str = "error"
) -> dict[str, Any]:
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def fhir_response(body: dict[str, Any], status: int = 200, **headers: str) -> HttpResponse:
    response = HttpResponse(orjson.dumps(body), status=status, content_type=FHIR_JSON)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def error_response(error: FhirError) -> HttpResponse:
    return fhir_response(error.outcome(), error.status, **error.headers)


def not_found(resource_type: str, resource_id: str) -> FhirError:
    return FhirError(404, "not-found", f"{resource_type}/{resource_id} is not known here")


def invalid(diagnostics: str, expression: str = "") -> FhirError:
    return FhirError(400, "invalid", diagnostics, expression)


def unprocessable(diagnostics: str, expression: str = "") -> FhirError:
    """Valid FHIR that breaks a rule of the record (UK Core or the service's)."""
    return FhirError(422, "business-rule", diagnostics, expression)
