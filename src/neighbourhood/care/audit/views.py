"""The information governance lead's search of the audit trail."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from neighbourhood.care.access import professional_of, requires
from neighbourhood.care.audit.chain import record_by
from neighbourhood.care.audit.forms import AuditQuery
from neighbourhood.care.audit.models import AuditEvent
from neighbourhood.care.roles import Permission


@requires(Permission.SEARCH_AUDIT)
def search(request: HttpRequest) -> HttpResponse:
    get = request.GET
    query = AuditQuery(get)
    events = AuditEvent.objects.order_by("-seq").filter(**query.criteria())
    problems = query.problems()
    professional = professional_of(request)
    assert professional is not None
    record_by(
        professional,
        "search_audit",
        reason="information governance review",
        # As typed, less any NUL (which PostgreSQL's JSON refuses): the search is audited
        # even when the form names a problem in it.
        detail={k: get.get(k, "").replace("\x00", "") for k in AuditQuery.base_fields},
    )
    page = Paginator(events, 50).get_page(get.get("page"))
    actions = AuditEvent.objects.values_list("action", flat=True).distinct().order_by("action")
    return render(
        request,
        "audit/search.html",
        {"page": page, "problems": problems, "actions": list(actions), "query": get},
    )
