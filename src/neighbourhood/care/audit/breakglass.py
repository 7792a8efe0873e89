"""Break-glass access: opening a record outside one's care relationship, for a stated
reason, recorded on the trail and reviewed by the information governance lead.

A grant lasts ``BREAK_GLASS_MINUTES`` (default 60) for that member of staff and that
person only; the hazard log (docs/governance.md) says why.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from neighbourhood.care.audit.chain import record_by
from neighbourhood.care.audit.models import BreakGlassAccess, BreakGlassReason
from neighbourhood.care.teams.models import Professional


class BreakGlassForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why do you need to see this record?",
        choices=[("", "Choose a reason"), *BreakGlassReason.choices],
        error_messages={"required": "Choose why you need to see this record"},
    )
    explanation = forms.CharField(
        label="Explain in your own words",
        help_text="For example, the referral or call you are dealing with. Your "
        "information governance lead will read this.",
        min_length=10,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Explain why you need to see this record",
            "min_length": "Explain in at least 10 characters why you need to see this record",
            "max_length": "Keep the explanation to 500 characters or fewer",
        },
    )

    def clean_explanation(self) -> str:
        text: str = self.cleaned_data["explanation"]
        if "\x00" in text:
            raise forms.ValidationError("The explanation contains a character not allowed")
        return text.strip()


class ReviewForm(forms.Form):
    note = forms.CharField(
        label="Review note (optional)",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": "Keep the note to 500 characters or fewer"},
    )

    def clean_note(self) -> str:
        return str(self.cleaned_data["note"]).replace("\x00", "").strip()


def minutes() -> int:
    return int(settings.BREAK_GLASS_MINUTES)


def active(professional: Professional, person_id: str) -> BreakGlassAccess | None:
    """This member of staff's unexpired grant for this person, if any."""
    return (
        BreakGlassAccess.objects.filter(
            professional=professional, person_id=person_id, until__gt=timezone.now()
        )
        .order_by("-at")
        .first()
    )


def open_record(
    professional: Professional, person_id: str, reason: str, explanation: str
) -> BreakGlassAccess:
    now = timezone.now()
    label = BreakGlassReason(reason).label
    with transaction.atomic():
        grant = BreakGlassAccess.objects.create(
            professional=professional,
            person_id=person_id,
            reason=reason,
            explanation=explanation,
            at=now,
            until=now + dt.timedelta(minutes=minutes()),
        )
        record_by(
            professional,
            "break_glass",
            person_id=person_id,
            reason=f"break-glass: {label}",
            detail={"explanation": explanation, "access": grant.pk},
        )
    return grant


def review(grant: BreakGlassAccess, by: Professional, note: str) -> None:
    with transaction.atomic():
        grant.reviewed_by = by
        grant.reviewed_at = timezone.now()
        grant.review_note = note
        grant.save(update_fields=["reviewed_by", "reviewed_at", "review_note"])
        record_by(
            by,
            "review_break_glass",
            person_id=grant.person_id,
            reason="information governance review",
            detail={"access": grant.pk, "by": grant.professional.user.get_username()},
        )
