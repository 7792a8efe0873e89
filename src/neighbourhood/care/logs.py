"""The server log never learns whose record was asked for. Django logs every 4xx answer
with the request's path (which holds a person id: ``/people/<id>/``) and, for a refusal,
a traceback; this filter keeps the status and its reason and drops the path and the
traceback. Server errors (5xx) keep theirs: they are ours to fix."""

from __future__ import annotations

import logging
from http import HTTPStatus


class WithoutPaths(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and status < 500:
            try:
                reason = HTTPStatus(status).phrase
            except ValueError:  # a status no standard names
                reason = ""
            record.msg, record.args = "%s %s (address withheld)", (status, reason)
            record.exc_info, record.exc_text = None, None
            if hasattr(record, "request"):
                record.request = None
        return True
