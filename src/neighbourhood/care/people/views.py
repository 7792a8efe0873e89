"""The case-finding list, the person profile and the planning figures."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from neighbourhood.care import published
from neighbourhood.care.access import (
    care_relationship,
    professional_of,
    relationship_or_break_glass,
    requires,
)
from neighbourhood.care.audit import breakglass
from neighbourhood.care.audit.chain import record_by
from neighbourhood.care.caseload.models import Enrolment
from neighbourhood.care.people.forms import CaseFindingQuery, PlanningQuery
from neighbourhood.care.people.presenters import (
    planning_chart,
    planning_row,
    publication,
    readable,
    split_reasons,
)
from neighbourhood.care.plans.summary import care_summary
from neighbourhood.care.roles import Permission, allows
from neighbourhood.phm.vocabulary import COHORTS, RISK_BANDS, SEGMENTS, condition_name

TIMELINE_SHOWN = 30  # the newest; the rest a click away
TIMELINE_ALL = 2000
DIMENSIONS = {
    "imd_quintile": "Deprivation quintile (1 = most deprived)",
    "age_band": "Age band",
    "sex": "Sex",
    "ethnic_group": "Ethnic group",
    "segment": "Segment",
}


@requires(Permission.VIEW_CASE_FINDING)
def case_finding(request: HttpRequest) -> HttpResponse:
    professional = professional_of(request)
    assert professional is not None  # the middleware let only staff with a role in
    teams = professional.teams_by_name
    neighbourhoods = sorted({t.neighbourhood.code for t in teams})
    query_form = CaseFindingQuery(request.GET)
    filters, problems, page = query_form.filters(), query_form.problems(), query_form.page_number
    rows, total = published.case_finding(neighbourhoods, filters, page)
    enrolled = dict(
        Enrolment.objects.filter(
            person_id__in=[r["person_id"] for r in rows], ended_at__isnull=True
        ).values_list("person_id", "team__name")
    )
    for row in rows:
        row["caseload_team"] = enrolled.get(row["person_id"])
    query = request.GET.copy()
    query.pop("page", None)
    record_by(
        professional,
        "view_case_finding",
        reason="case-finding list of " + ", ".join(neighbourhoods),
        detail={"people_shown": [r["person_id"] for r in rows], "page": page},
    )
    pages = max(1, -(-total // published.PAGE_SIZE))
    return render(
        request,
        "people/case_finding.html",
        {
            "rows": rows,
            "total": total,
            "page": min(page, pages),
            "pages": pages,
            "filters": filters,
            "problems": problems,
            "teams": teams,
            "cohorts": COHORTS,
            "segments": SEGMENTS,
            "risk_bands": RISK_BANDS,
            "sorts": {
                "rank": "Rank",
                "risk": "Risk",
                "age": "Age",
                "deprivation": "Most deprived first",
                "name": "Family name",
            },
            "query": query.urlencode(),
        },
    )


@requires(Permission.VIEW_PERSON)
def profile(request: HttpRequest, person_id: str) -> HttpResponse:
    professional = professional_of(request)
    assert professional is not None
    person = published.profile(person_id)
    enrolments: list[Enrolment] = []
    relationship = None
    if person is not None:
        enrolments = list(
            Enrolment.objects.filter(person_id=person_id).select_related(
                "team", "care_coordinator__user", "care_coordinator__organisation"
            )
        )
        relationship = relationship_or_break_glass(professional, person_id, enrolments)
    if person is None or relationship is None:
        # One answer whether the person does not exist or may not be seen, so the page
        # tells no one who is in the published refresh; the trail keeps which it was.
        record_by(
            professional,
            "refused_profile",
            person_id=person_id,
            reason="no care relationship" if person is not None else "no such person",
        )
        return _not_shown(request, person_id, breakglass.BreakGlassForm())
    record_by(
        professional,
        "view_profile",
        person_id=person_id,
        reason=relationship.reason,
    )
    enrolment = next((e for e in enrolments if e.ended_at is None), None)
    history = [e for e in enrolments if e.ended_at is not None]
    cohorts = [label for key, label in COHORTS.items() if person.get(f"cohort_{key}")]
    every_event = request.GET.get("events") == "all"
    events, event_count = published.timeline(
        person_id, TIMELINE_ALL if every_event else TIMELINE_SHOWN
    )
    return render(
        request,
        "people/profile.html",
        {
            "person": person,
            "cohorts": cohorts,
            "factors": split_reasons(person.get("risk_factors")),
            "reasons": split_reasons(person.get("reasons")),
            "conditions": [condition_name(c) for c in person.get("conditions") or []],
            "timeline": [readable(e) for e in events],
            "medicines": published.medicines(person_id),
            "event_count": event_count,
            "enrolment": enrolment,
            "history": history,
            "relationship": relationship,
            "can_manage": allows(professional.role, Permission.MANAGE_CASELOAD),
            **care_summary(person_id, professional.role),
        },
    )


def _not_shown(request: HttpRequest, person_id: str, form: Any) -> HttpResponse:
    return render(
        request,
        "people/not_shown.html",
        {"person_id": person_id, "form": form, "minutes": breakglass.minutes()},
        status=403,
    )


@requires(Permission.VIEW_PERSON)
@require_POST
def break_glass(request: HttpRequest, person_id: str) -> HttpResponse:
    """Open a record outside one's care relationship, for a stated reason."""
    professional = professional_of(request)
    assert professional is not None
    form = breakglass.BreakGlassForm(request.POST)
    if not form.is_valid():
        return _not_shown(request, person_id, form)
    if published.profile(person_id) is None:
        record_by(
            professional,
            "refused_profile",
            person_id=person_id,
            reason="break-glass asked for no such person",
        )
        raise Http404("There is no person with that identifier in the published refresh.")
    if care_relationship(professional, person_id) is None:
        # The record itself says so, in a warning banner, while the access lasts.
        breakglass.open_record(
            professional, person_id, form.cleaned_data["reason"], form.cleaned_data["explanation"]
        )
    return redirect("profile", person_id=person_id)


@requires(Permission.VIEW_PLANNING)
def planning(request: HttpRequest) -> HttpResponse:
    """Aggregates of pseudonymised planning data, disclosure-controlled; no one is named."""
    dimension = PlanningQuery(request.GET, dimensions=DIMENSIONS, default="imd_quintile").dimension
    table = [planning_row(row) for row in published.planning_counts(dimension)]
    names = sorted({r["neighbourhood"] for r in table})
    chosen = request.GET.get("neighbourhood", "")
    chosen = chosen if chosen in names else ""
    if chosen:
        table = [r for r in table if r["neighbourhood"] == chosen]
    chart, top = planning_chart(table)
    professional = professional_of(request)
    assert professional is not None
    record_by(
        professional,
        "view_planning",
        reason="pseudonymised aggregates",
        detail={"by": dimension, "neighbourhood": chosen},
    )
    return render(
        request,
        "people/planning.html",
        {
            "table": table,
            "dimension": dimension,
            "dimensions": DIMENSIONS,
            "dimension_label": DIMENSIONS[dimension],
            "cohort_labels": list(COHORTS.values()),
            "neighbourhoods": names,
            "neighbourhood": chosen,
            "chart": chart,
            "top": top,
            "info": publication(published.current_info()),
        },
    )
