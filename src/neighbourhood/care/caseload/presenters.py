"""What the enrolment page shows: the enrolment, the person, its three forms and any
conflict. Each action's view changes one part (its bound form, or the conflict) and
asks the presenter to draw the page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from neighbourhood.care.audit.chain import record_by
from neighbourhood.care.caseload import actions
from neighbourhood.care.caseload.forms import (
    DischargeForm,
    TransferForm,
    TransferTeamForm,
    UpdateForm,
)
from neighbourhood.care.caseload.models import Enrolment
from neighbourhood.care.teams.models import Professional


@dataclass
class EnrolmentPage:
    me: Professional
    enrolment: Enrolment
    person: dict[str, Any]
    reason: str  # why this member of staff may see the page, for the trail
    update_form: UpdateForm = field(init=False)
    discharge_form: DischargeForm = field(init=False)
    team_form: TransferTeamForm = field(init=False)
    transfer_form: TransferForm | None = field(init=False, default=None)
    conflict: actions.Conflict | None = None

    def __post_init__(self) -> None:
        initial = {"version": self.enrolment.version}
        self.update_form = UpdateForm(
            initial=initial
            | {
                "care_coordinator": self.enrolment.care_coordinator_id,
                "notes": self.enrolment.notes,
            },
            team=self.enrolment.team,
        )
        self.discharge_form = DischargeForm(initial=initial, prefix="discharge")
        self.choose_team(None)

    def choose_team(self, chosen: str | None) -> None:
        """A transfer takes two steps: the team (a GET, so nothing changes), then a care
        coordinator from that team's members."""
        self.team_form = TransferTeamForm(
            None if chosen is None else {"transfer_to": chosen}, current=self.enrolment.team
        )
        self.transfer_form = (
            TransferForm(
                initial={"version": self.enrolment.version},
                team=self.team_form.cleaned_data["transfer_to"],
                prefix="transfer",
            )
            if self.team_form.is_bound and self.team_form.is_valid()
            else None
        )

    def changed_meanwhile(self, conflict: actions.Conflict) -> None:
        self.conflict = conflict
        self.enrolment.refresh_from_db()

    def attempt(
        self,
        request: HttpRequest,
        form: Any,
        write: Callable[[dict[str, Any]], object],
        *,
        done: str,
        then: str,
    ) -> HttpResponse:
        """An action's write, from its bound form: on success a message and a redirect to
        ``then``; otherwise the page again, with the form's errors or what someone else
        changed meanwhile."""
        if form.is_valid():
            try:
                write(form.cleaned_data)
            except actions.Conflict as conflict:
                self.changed_meanwhile(conflict)
            except actions.CaseloadError as error:
                add_error(form, error)
            else:
                messages.success(request, done)
                return redirect(then)
        return self.render(request)

    def render(self, request: HttpRequest) -> HttpResponse:
        record_by(  # only when the page is shown: a saved change has its own event
            self.me,
            "view_enrolment",
            person_id=self.enrolment.person_id,
            reason=self.reason,
        )
        return render(
            request,
            "caseload/enrolment.html",
            {
                "enrolment": self.enrolment,
                "person": self.person,
                "update_form": self.update_form,
                "discharge_form": self.discharge_form,
                "team_form": self.team_form,
                "transfer_form": self.transfer_form,
                "conflict": self.conflict,
            },
        )


def add_error(form: Any, error: actions.CaseloadError) -> None:
    """The error on its field when the form has that field, else on the whole form."""
    form.add_error(error.field if error.field in form.fields else None, str(error))
