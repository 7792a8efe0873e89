"""Two-factor sign-in (TOTP from an authenticator app, and single-use recovery codes, with
django-otp), the idle time-out, and who must use a second factor.

A second factor is required of every account that can see identifiable data or change who
can: the direct-care roles, the information governance lead, and the admin's staff. The
planning roles see only pseudonymised aggregates. ``TWO_FACTOR_REQUIRED`` switches the
requirement off (``NEIGHBOURHOOD_TWO_FACTOR=optional``), for ``neighbourhood demo`` only:
its users can still set up a second factor and are then asked for it.
"""

from __future__ import annotations

import time
from base64 import b32encode
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import user_has_device, verify_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from neighbourhood.care.access import BEARER, PUBLIC, SIGNED_IN
from neighbourhood.care.audit.chain import record_as
from neighbourhood.care.roles import Role, role_of

RECOVERY_CODES = 10
NEEDS_SECOND_FACTOR = {
    Role.CARE_COORDINATOR,
    Role.CLINICIAN,
    Role.SPA,
    Role.IG_LEAD,
    Role.LINK_WORKER,
    Role.VCFSE_WORKER,
}
LAST_SEEN = "last_seen"


def signed_in(view: Any) -> Any:
    view.required_permission = SIGNED_IN
    return view


def required_for(user: Any) -> bool:
    if not settings.TWO_FACTOR_REQUIRED:
        return bool(user_has_device(user))  # set up by choice: then always asked for
    return bool(user.is_staff or user.is_superuser or role_of(user) in NEEDS_SECOND_FACTOR)


HAS_DEVICE = "has_second_factor"


def _required(request: HttpRequest, user: Any) -> bool:
    """``required_for``, asking the database whether an optional second factor was set
    up once a session rather than on every page (setting one up verifies the session)."""
    if settings.TWO_FACTOR_REQUIRED:
        return required_for(user)
    if HAS_DEVICE not in request.session:
        request.session[HAS_DEVICE] = required_for(user)
    return bool(request.session[HAS_DEVICE])


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=20,
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
        error_messages={
            "required": "Enter the code from your authenticator app",
            "max_length": "Enter a code of 20 characters or fewer",
        },
    )

    def clean_code(self) -> str:
        code = "".join(str(self.cleaned_data["code"]).split()).lower()
        if not code.isascii() or not code.isalnum():
            raise forms.ValidationError("Enter only the letters and digits of the code")
        return code


def _via(name: str, then: str) -> HttpResponse:
    """To the page ``name``, and from there on to ``then``."""
    return redirect(f"{reverse(name)}?{urlencode({'next': then})}")


def _next(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return wanted if allowed else reverse("home")


@signed_in
def verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in."""
    user = request.user
    if not user_has_device(user):
        return _via("two-factor-set-up", _next(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        candidates = _devices_for(user, form.cleaned_data["code"])
        waiting = next(filter(None, map(_too_soon, candidates)), None)
        device = None if waiting else _matching(user, candidates, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            kind = "recovery code" if isinstance(device, StaticDevice) else "authenticator app"
            record_as(user, "two_factor_verified", reason=kind)
            if isinstance(device, StaticDevice):
                left = device.token_set.count()
                messages.warning(
                    request,
                    f"You used a recovery code: {left} left. Set up new codes if you are "
                    "running out.",
                )
            return redirect(_next(request))
        record_as(user, "two_factor_failed")
        form.add_error("code", waiting or "That code is not right, or has been used. Try again.")
    return render(request, "two_factor/verify.html", {"form": form, "next": _next(request)})


def _too_soon(device: Any) -> str | None:
    """Each wrong code doubles the wait before the next is checked: say how long."""
    allowed, why = device.verify_is_allowed() if device is not None else (True, None)
    if not allowed and why and why.get("locked_until"):
        wait = max(1, int((why["locked_until"] - timezone.now()).total_seconds()) + 1)
        return f"Too many wrong codes: wait {wait} seconds, then enter the newest code."
    return None


def _devices_for(user: Any, code: str) -> list[Any]:
    """An app's code is 6 digits, a recovery code is not: each is tried only against its
    own kind, so a recovery code does not count as a wrong code for the app."""
    if len(code) == 6 and code.isdigit():
        return list(TOTPDevice.objects.devices_for_user(user))
    return list(StaticDevice.objects.devices_for_user(user))


def _matching(user: Any, devices: list[Any], code: str) -> Any:
    for device in devices:
        found = verify_token(user, device.persistent_id, code)
        if found is not None:
            return found
    return None


@signed_in
def set_up(request: HttpRequest) -> HttpResponse:
    """Add an authenticator app: scan the code, type what it shows."""
    user = request.user
    if user_has_device(user) and not user.is_verified():  # type: ignore[union-attr]
        return _via("two-factor", _next(request))
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        waiting = _too_soon(device)
        if not waiting and device.verify_token(form.cleaned_data["code"]):
            with transaction.atomic():
                TOTPDevice.objects.filter(user=user, confirmed=True).delete()
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                codes = _new_recovery_codes(user)
                record_as(user, "two_factor_set_up")
            otp_login(request, device)
            return render(
                request, "two_factor/recovery_codes.html", {"codes": codes, "next": _next(request)}
            )
        form.add_error(
            "code", waiting or "That code is not right. Check your phone's clock and try again."
        )
    secret = b32encode(device.bin_key).decode().rstrip("=")  # as the app's URL gives it
    qr = segno.make(device.config_url, error="m").svg_inline(scale=5, dark="#212b32")
    return render(
        request,
        "two_factor/set_up.html",
        {"form": form, "qr": qr, "secret": secret, "next": _next(request)},
    )


@signed_in
def account(request: HttpRequest) -> HttpResponse:
    """Whether this account has a second factor, how many recovery codes are left, and
    the ways to change them."""
    user = request.user
    app = TOTPDevice.objects.devices_for_user(user).first()
    codes = StaticDevice.objects.devices_for_user(user).first()
    return render(
        request,
        "two_factor/account.html",
        {
            "app": app,
            "codes_left": codes.token_set.count() if codes is not None else 0,
            "required": required_for(user),
        },
    )


@signed_in
@require_POST
def new_recovery_codes(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_verified():  # type: ignore[union-attr]
        return redirect("two-factor")
    codes = _new_recovery_codes(user)
    record_as(user, "recovery_codes_renewed")
    return render(
        request, "two_factor/recovery_codes.html", {"codes": codes, "next": reverse("home")}
    )


def _new_recovery_codes(user: Any) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(user=user, name="Recovery codes")
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


class SecondFactorMiddleware:
    """After the password: a second factor where one is required, and an idle time-out
    (``IDLE_TIMEOUT_MINUTES``) on top of the session's absolute limit."""

    OPEN = ("two-factor", "two-factor-set-up", "sign-out")  # the way through

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated:
            return None
        if _idle_too_long(request):
            record_as(user, "signed_out_idle")  # while the user is still known
            logout(request)
            messages.info(
                request,
                f"You were signed out after {settings.IDLE_TIMEOUT_MINUTES:g} minutes "
                "without activity. Sign in again to carry on.",
            )
            return _via("sign-in", request.get_full_path())
        match = request.resolver_match
        if match is not None and match.url_name in self.OPEN:
            return None
        if getattr(view_func, "required_permission", None) in (PUBLIC, BEARER):
            return None  # sign-in, and the stylesheet's icons
        if user.is_verified():  # type: ignore[attr-defined]
            return None
        if _required(request, user):
            target = "two-factor" if user_has_device(user) else "two-factor-set-up"
            return _via(target, request.get_full_path())
        return None


def _idle_too_long(request: HttpRequest) -> bool:
    """Whether the last request of this session was longer ago than the idle limit; if
    not, this one is noted (in the session, at most once a minute: a write each time)."""
    now, seen = time.time(), request.session.get(LAST_SEEN)
    if not isinstance(seen, (int, float)):
        request.session[LAST_SEEN] = now
        return False
    if now - seen > 60 * settings.IDLE_TIMEOUT_MINUTES:
        return True
    if now - seen > 60:
        request.session[LAST_SEEN] = now
    return False
