"""The information governance lead's search of the audit trail, and the review queue of
break-glass accesses."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from neighbourhood.care.access import professional_of, requires
from neighbourhood.care.audit import breakglass
from neighbourhood.care.audit.chain import record_by
from neighbourhood.care.audit.forms import AuditQuery
from neighbourhood.care.audit.models import AuditEvent, BreakGlassAccess
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


@requires(Permission.SEARCH_AUDIT)
def break_glass_queue(request: HttpRequest) -> HttpResponse:
    """Every break-glass access, those not yet reviewed first, oldest of them first."""
    professional = professional_of(request)
    assert professional is not None
    show_all = request.GET.get("show") == "all"
    grants = BreakGlassAccess.objects.select_related(
        "professional__user", "reviewed_by__user"
    ).order_by(F("reviewed_at").desc(nulls_first=True), "at")
    waiting = grants.filter(reviewed_at__isnull=True)
    page = Paginator(grants if show_all else waiting, 50).get_page(request.GET.get("page"))
    record_by(
        professional,
        "view_break_glass_queue",
        reason="information governance review",
        detail={"people_shown": [g.person_id for g in page]},
    )
    return render(
        request,
        "audit/break_glass.html",
        {
            "page": page,
            "show_all": show_all,
            "waiting": waiting.count() if show_all else page.paginator.count,
        },
    )


@requires(Permission.SEARCH_AUDIT)
@require_POST
def break_glass_reviewed(request: HttpRequest, access_id: int) -> HttpResponse:
    professional = professional_of(request)
    assert professional is not None
    grant = get_object_or_404(
        BreakGlassAccess.objects.select_related("professional__user"), pk=access_id
    )
    form = breakglass.ReviewForm(request.POST)
    if not form.is_valid():
        problems = [str(e) for e in form.errors.get("note", [])]
        messages.error(request, " ".join(problems) or "Nothing was changed.")
    elif grant.reviewed_at is not None:
        messages.info(request, f"Access {grant.pk} had already been reviewed.")
    else:
        breakglass.review(grant, professional, form.cleaned_data["note"])
        messages.success(request, f"Access {grant.pk} marked as reviewed.")
    return redirect("break-glass-queue")
