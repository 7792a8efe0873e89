"""Changes of who may see records are on the trail: a professional added to or removed
from a team, their role changed, their account made active or inactive, their password
set. Wherever the change is made (the admin, a command, the demo set-up), the entry names
who made it: the signed-in user of the request, or "system" outside one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

from neighbourhood.care.audit.chain import record
from neighbourhood.care.roles import role_of
from neighbourhood.care.teams.models import Membership, Professional

SYSTEM = "system"
_actor: ContextVar[tuple[str, str]] = ContextVar("audit_actor", default=(SYSTEM, ""))


@contextmanager
def acting_as(username: str, role: str = "") -> Iterator[None]:
    token = _actor.set((username, role))
    try:
        yield
    finally:
        _actor.reset(token)


class AuditActorMiddleware:
    """Names the signed-in user of each request as the one making its changes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        role = role_of(user) or ("admin" if user.is_staff else "")
        with acting_as(user.get_username(), role):
            return self.get_response(request)


def _record(action: str, reason: str, detail: dict[str, Any]) -> None:
    actor, role = _actor.get()
    record(actor, action, role=role, reason=reason[:300], detail=detail)


@receiver(post_save, sender=Membership)
def _member_added(sender: Any, instance: Membership, created: bool, **kwargs: Any) -> None:
    if created:
        who = instance.professional.user.get_username()
        _record(
            "team_member_added",
            f"{who} added to {instance.team.name}",
            {"professional": who, "team": instance.team_id, "kind": instance.kind},
        )


@receiver(post_delete, sender=Membership)
def _member_removed(sender: Any, instance: Membership, **kwargs: Any) -> None:
    who = instance.professional.user.get_username()
    _record(
        "team_member_removed",
        f"{who} removed from {instance.team.name}",
        {"professional": who, "team": instance.team_id},
    )


@receiver(pre_save, sender=Professional)
def _role_before(sender: Any, instance: Professional, **kwargs: Any) -> None:
    before = Professional.objects.filter(pk=instance.pk).values_list("role", flat=True).first()
    instance._role_before = before  # type: ignore[attr-defined]


@receiver(post_save, sender=Professional)
def _role_after(sender: Any, instance: Professional, created: bool, **kwargs: Any) -> None:
    before = getattr(instance, "_role_before", None)
    who = instance.user.get_username()
    if created or before != instance.role:
        _record(
            "role_set",
            f"{who}: role {before or 'none'} to {instance.role}",
            {"professional": who, "from": before, "to": instance.role},
        )


User = get_user_model()


@receiver(pre_save, sender=User)
def _account_before(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    watched = {"is_active", "password"}
    if update_fields is not None and not watched & set(update_fields):
        instance._account_before = None  # e.g. last_login on every sign-in: nothing to read
        return
    instance._account_before = (
        User.objects.filter(pk=instance.pk).values_list("is_active", "password").first()
    )


@receiver(post_save, sender=User)
def _account_after(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    before = getattr(instance, "_account_before", None)
    who = instance.get_username()
    if created:
        _record("account_created", f"{who} created", {"account": who})
        return
    if before is None:
        return
    active, password = before
    if active != instance.is_active:
        state = "activated" if instance.is_active else "deactivated"
        _record("account_changed", f"{who} {state}", {"account": who, "active": instance.is_active})
    if password != instance.password:  # the hash only: never the password itself
        _record("password_set", f"password of {who} set", {"account": who})
