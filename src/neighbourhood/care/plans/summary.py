"""What a person's profile shows of their personalised care: what matters to them at the
top, their plan's review date and open actions, and their advance care plan, first of
all for the single point of access."""

from __future__ import annotations

from typing import Any

from neighbourhood.care.plans.models import OPEN_TASK, AdvanceCarePlan, CarePlan, Task, WhatMatters
from neighbourhood.care.roles import Permission, allows, in_urgent_care


def care_summary(person_id: str, role: str) -> dict[str, Any]:
    if not allows(role, Permission.VIEW_CARE_RECORD):
        return {"care_record": False}
    return {
        "care_record": True,
        "what_matters": WhatMatters.objects.filter(person_id=person_id)
        .select_related("recorded_by__user")
        .first(),
        "care_plan": CarePlan.objects.filter(person_id=person_id).first(),
        "open_tasks": Task.objects.filter(person_id=person_id, status__in=OPEN_TASK).count(),
        "acp": AdvanceCarePlan.in_force(person_id).select_related("cpr_clinician__user").first(),
        "acp_first": in_urgent_care(role),
    }
