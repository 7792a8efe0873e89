"""The information governance lead's search of the audit trail."""

from __future__ import annotations

import datetime as dt

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from neighbourhood.care.access import professional_of, requires
from neighbourhood.care.audit.chain import record_by
from neighbourhood.care.audit.models import AuditEvent
from neighbourhood.care.roles import Permission


@requires(Permission.SEARCH_AUDIT)
def search(request: HttpRequest) -> HttpResponse:
    get = request.GET
    events = AuditEvent.objects.order_by("-seq")
    problems = []
    if actor := get.get("actor", "").strip():
        events = events.filter(actor=actor)
    if person := get.get("person", "").strip():
        events = events.filter(person_id=person)
    if action := get.get("action", "").strip():
        events = events.filter(action=action)
    for key, lookup in (("since", "at__date__gte"), ("until", "at__date__lte")):
        value = get.get(key, "").strip()
        if value:
            try:
                events = events.filter(**{lookup: dt.date.fromisoformat(value)})
            except ValueError:
                problems.append(f"'{value}' is not a date: write it as 2026-11-24")
    professional = professional_of(request)
    assert professional is not None
    record_by(
        professional,
        "search_audit",
        reason="information governance review",
        detail={k: get.get(k, "") for k in ("actor", "person", "action", "since", "until")},
    )
    page = Paginator(events, 50).get_page(get.get("page"))
    actions = AuditEvent.objects.values_list("action", flat=True).distinct().order_by("action")
    return render(
        request,
        "audit/search.html",
        {"page": page, "problems": problems, "actions": list(actions), "query": get},
    )
