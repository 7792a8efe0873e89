"""Sign-in: the form's words, and an audit event for every success and failure."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from neighbourhood.care.audit.chain import record, record_as


class SignInForm(AuthenticationForm):
    error_messages = {
        "invalid_login": (
            "Enter a correct username and password. After 5 wrong attempts the account "
            "is locked here for a while, longer after each further wrong attempt."
        ),
        "inactive": "This account is switched off: ask your system administrator.",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].error_messages["required"] = "Enter your username"
        self.fields["password"].error_messages["required"] = "Enter your password"


class StaffBackend(ModelBackend):
    """Django's own password check; a signed-in user is loaded with their professional
    record and its organisation in one query, as every page needs both."""

    def get_user(self, user_id: Any) -> Any:
        users = get_user_model()._default_manager.select_related("professional__organisation")
        user = users.filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None


@receiver(user_logged_in)
def _signed_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    record_as(user, "sign_in")


@receiver(user_login_failed)
def _failed(sender: Any, credentials: dict[str, Any], **kwargs: Any) -> None:
    record(str(credentials.get("username", ""))[:150], "sign_in_failed")
