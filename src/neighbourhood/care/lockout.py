"""Lockout after wrong passwords, that a stranger cannot turn against a colleague.

django-axes counts failures per username *and* source address together: guessing at a
colleague's account from elsewhere locks out only the guesser's address for that account,
not the colleague at their own desk. Each further failure past the limit doubles the wait
(1, 2, 4 ... minutes, never more than an hour), and the information governance lead can
lift a lockout at once (``/audit/lockouts/``), which is audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.contrib import messages
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from neighbourhood.care.access import professional_of, requires
from neighbourhood.care.audit.chain import record_by
from neighbourhood.care.roles import Permission

LONGEST = dt.timedelta(hours=1)


def wait_after(failures: int) -> dt.timedelta:
    """How long an account is locked at one address after this many failures there."""
    over = max(0, failures - int(settings.AXES_FAILURE_LIMIT))
    return min(dt.timedelta(minutes=2 ** min(over, 10)), LONGEST)


def cool_off(request: HttpRequest | None = None) -> dt.timedelta:
    """``AXES_COOLOFF_TIME``: the wait for the failures of this request's username and
    address (the most recent count axes has, or the stored one)."""
    failures = getattr(request, "axes_failures_since_start", None)
    if failures is None and request is not None:
        username = request.POST.get("username", "") if request.method == "POST" else ""
        address = getattr(request, "axes_ip_address", None)
        failures = AccessAttempt.objects.filter(
            username=username[:255], ip_address=address
        ).aggregate(most=Max("failures_since_start"))["most"]
    return wait_after(int(failures or 0))


def locked() -> list[dict[str, Any]]:
    now = timezone.now()
    rows = []
    for attempt in AccessAttempt.objects.filter(
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT
    ).order_by("-attempt_time"):
        until = attempt.attempt_time + wait_after(attempt.failures_since_start)
        if until > now:
            rows.append({"attempt": attempt, "until": until})
    return rows


@requires(Permission.SEARCH_AUDIT)
def lockouts(request: HttpRequest) -> HttpResponse:
    professional = professional_of(request)
    assert professional is not None
    record_by(professional, "view_lockouts", reason="information governance review")
    return render(request, "audit/lockouts.html", {"rows": locked()})


@requires(Permission.SEARCH_AUDIT)
@require_POST
def unlock(request: HttpRequest, attempt_id: int) -> HttpResponse:
    professional = professional_of(request)
    assert professional is not None
    attempt = get_object_or_404(AccessAttempt, pk=attempt_id)
    reset(ip=attempt.ip_address, username=attempt.username)
    record_by(
        professional,
        "unlock_account",
        reason="information governance lead lifted a lockout",
        detail={"username": attempt.username, "address": attempt.ip_address},
    )
    messages.success(request, f"{attempt.username} can sign in again from {attempt.ip_address}.")
    return redirect("lockouts")
