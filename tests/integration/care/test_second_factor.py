"""Two-factor sign-in, the idle time-out, a lockout no stranger can turn against a
colleague, and the Content-Security-Policy (issue 22, items 5 and 6)."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from neighbourhood.care.audit.models import AuditEvent
from neighbourhood.care.lockout import wait_after
from neighbourhood.care.roles import Role
from tests.support import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def required(settings: Any) -> None:
    settings.TWO_FACTOR_REQUIRED = True


def _sign_in(username: str, address: str = "127.0.0.1") -> Client:
    client = Client(REMOTE_ADDR=address)
    answer = client.post(reverse("sign-in"), {"username": username, "password": factories.PASSWORD})
    assert answer.status_code == 302, answer.content[:500]
    return client


def _code(device: TOTPDevice, offset: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


@pytest.mark.usefixtures("required")
def test_care_staff_set_up_a_second_factor_before_seeing_anyone() -> None:
    factories.professional("nurse", teams=[factories.team("ZU0001")])
    client = _sign_in("nurse")
    first = client.get(reverse("case-finding"))
    assert first.status_code == 302 and first["Location"].startswith(reverse("two-factor-set-up"))
    page = client.get(first["Location"])
    assert b"<svg" in page.content and b"Set up your authenticator app" in page.content
    device = TOTPDevice.objects.get(user__username="nurse", confirmed=False)

    wrong = client.post(
        first["Location"], {"code": "000000" if _code(device) != "000000" else "111111"}
    )
    assert b"That code is not right" in wrong.content
    assert client.get(reverse("case-finding")).status_code == 302  # still not through
    too_soon = client.post(first["Location"], {"code": _code(device)})
    assert b"Too many wrong codes: wait" in too_soon.content  # the wait doubles each time
    device.refresh_from_db()
    device.throttle_reset()  # as if the second had passed

    done = client.post(first["Location"], {"code": _code(device)})
    codes = re.findall(rb"<li><code>([a-z0-9]+)</code></li>", done.content)
    assert len(codes) == 10
    assert client.get(reverse("case-finding")).status_code == 200
    assert AuditEvent.objects.filter(action="two_factor_set_up", actor="nurse").exists()

    # The next sign-in asks for a code; a recovery code works once.
    again = _sign_in("nurse")
    asked = again.get(reverse("caseload"))
    assert asked["Location"].startswith(reverse("two-factor"))
    assert again.post(asked["Location"], {"code": codes[0].decode()}).status_code == 302
    assert again.get(reverse("caseload")).status_code == 200
    reused = _sign_in("nurse")
    answer = reused.post(reverse("two-factor"), {"code": codes[0].decode()})
    assert b"has been used" in answer.content
    assert reused.get(reverse("caseload")).status_code == 302
    assert [e.reason for e in AuditEvent.objects.filter(action="two_factor_verified")] == [
        "recovery code"
    ]
    assert AuditEvent.objects.filter(action="two_factor_failed", actor="nurse").count() == 1


@pytest.mark.usefixtures("required")
def test_planning_roles_need_no_second_factor_and_the_admin_does() -> None:
    factories.professional("analyst", role=Role.ANALYST)
    assert _sign_in("analyst").get(reverse("planning")).status_code == 200
    factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    client = _sign_in("root")
    answer = client.get("/admin/")
    assert answer.status_code == 302 and answer["Location"].startswith(reverse("two-factor-set-up"))


def test_a_second_factor_is_optional_in_the_demo_until_set_up() -> None:
    factories.professional("nurse", teams=[factories.team("ZU0001")])
    client = _sign_in("nurse")
    assert client.get(reverse("caseload")).status_code == 200
    client.get(reverse("two-factor-set-up"))
    device = TOTPDevice.objects.get(user__username="nurse")
    client.post(reverse("two-factor-set-up"), {"code": _code(device)})
    assert _sign_in("nurse").get(reverse("caseload")).status_code == 302  # now asked


def test_an_idle_session_is_signed_out(settings: Any) -> None:
    settings.IDLE_TIMEOUT_MINUTES = 30
    factories.professional("nurse", teams=[factories.team("ZU0001")])
    client = _sign_in("nurse")
    assert client.get(reverse("caseload")).status_code == 200
    session = client.session
    session["last_seen"] = time.time() - 29 * 60
    session.save()
    assert client.get(reverse("caseload")).status_code == 200  # 29 minutes: still in
    session = client.session
    session["last_seen"] = time.time() - 31 * 60
    session.save()
    out = client.get(reverse("caseload"))
    assert out.status_code == 302 and out["Location"].startswith(reverse("sign-in"))
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="signed_out_idle", actor="nurse").exists()


def test_a_stranger_cannot_lock_out_a_colleague_and_the_ig_lead_can_unlock() -> None:
    factories.professional("nurse", teams=[factories.team("ZU0001")])
    factories.professional("ig", role=Role.IG_LEAD)
    stranger = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(5):
        stranger.post(reverse("sign-in"), {"username": "nurse", "password": "wrong"})
    locked = stranger.post(
        reverse("sign-in"), {"username": "nurse", "password": factories.PASSWORD}
    )
    assert b"This account is locked" in locked.content
    assert _sign_in("nurse", "10.0.0.7").get(reverse("caseload")).status_code == 200

    ig = _sign_in("ig", "10.0.0.8")
    listed = ig.get(reverse("lockouts"))
    assert b"203.0.113.9" in listed.content and b"nurse" in listed.content
    attempt = int(re.search(rb"/audit/lockouts/(\d+)/unlock/", listed.content).group(1))  # type: ignore[union-attr]
    ig.post(reverse("unlock", args=[attempt]))
    assert b"No account is locked" in ig.get(reverse("lockouts")).content
    entry = AuditEvent.objects.get(action="unlock_account")
    assert (entry.actor, entry.detail) == ("ig", {"username": "nurse", "address": "203.0.113.9"})
    assert _sign_in("nurse", "203.0.113.9").get(reverse("caseload")).status_code == 200


def test_each_further_failure_doubles_the_wait_up_to_an_hour() -> None:
    assert [wait_after(n).total_seconds() / 60 for n in (5, 6, 7, 8, 10, 11, 12, 50)] == [
        1,
        2,
        4,
        8,
        32,
        60,
        60,
        60,
    ]


def test_every_page_carries_a_strict_policy_with_a_fresh_nonce() -> None:
    factories.professional("nurse", teams=[factories.team("ZU0001")])
    client = _sign_in("nurse")
    pages = [client.get(reverse("caseload")) for _ in range(2)]
    nonces = []
    for page in pages:
        policy = page["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        nonce = re.search(r"'nonce-([^']+)'", policy).group(1)  # type: ignore[union-attr]
        scripts = re.findall(rb"<script([^>]*)>(?!</script>)", page.content)
        inline = [s for s in scripts if b"src=" not in s]
        assert inline and all(f'nonce="{nonce}"'.encode() in s for s in inline)
        nonces.append(nonce)
    assert nonces[0] != nonces[1]
    assert "Content-Security-Policy" in Client().get(reverse("sign-in"))


def test_the_account_page_shows_the_second_factor_and_renews_recovery_codes() -> None:
    factories.professional("nurse", teams=[factories.team("ZU0001")])
    client = _sign_in("nurse")
    before = client.get(reverse("two-factor-account"))
    assert b"You sign in with your password alone." in before.content
    client.get(reverse("two-factor-set-up"))
    device = TOTPDevice.objects.get(user__username="nurse")
    client.post(reverse("two-factor-set-up"), {"code": _code(device)})
    after = client.get(reverse("two-factor-account"))
    assert b"You have 10 recovery codes left." in after.content
    renewed = client.post(reverse("two-factor-recovery-codes"))
    assert len(re.findall(rb"<li><code>([a-z0-9]+)</code></li>", renewed.content)) == 10
    assert AuditEvent.objects.filter(action="recovery_codes_renewed", actor="nurse").exists()
