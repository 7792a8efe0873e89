"""The server log's filter: 4xx answers lose their address and traceback, 5xx keep both."""

from __future__ import annotations

import logging
import sys

from neighbourhood.care.logs import WithoutPaths


def _record(status: int, msg: str, *args: object) -> logging.LogRecord:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.LogRecord("django.request", logging.WARNING, "x", 1, msg, args, exc_info)
    record.status_code = status
    return record


def test_a_refusal_keeps_its_status_and_loses_its_address_and_traceback() -> None:
    refused = _record(403, "Forbidden (Permission denied): %s", "/people/N000000043/")
    assert WithoutPaths().filter(refused)
    assert refused.getMessage() == "403 Forbidden (address withheld)"
    assert refused.exc_info is None


def test_a_server_error_keeps_everything() -> None:
    failed = _record(500, "Internal Server Error: %s", "/caseload/")
    assert WithoutPaths().filter(failed)
    assert failed.getMessage() == "Internal Server Error: /caseload/"
    assert failed.exc_info is not None
