"""The IG lead's pages for partners' systems on the FHIR API: who is registered, for
which organisation and teams, with which scopes and keys; register one, rotate its keys,
change its scopes, deactivate it; and whether its subscriptions are being delivered."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from neighbourhood.care.access import requires, staff_of
from neighbourhood.care.audit.chain import record_by
from neighbourhood.care.fhirapi import clients
from neighbourhood.care.fhirapi.forms import KeysForm, RegisterForm, ScopesForm
from neighbourhood.care.fhirapi.models import Client, Notification
from neighbourhood.care.roles import Permission
from neighbourhood.errors import UserError


@requires(Permission.MANAGE_API_CLIENTS)
def client_list(request: HttpRequest) -> HttpResponse:
    me = staff_of(request)
    record_by(me, "view_api_clients", reason="information governance review")
    rows = Client.objects.select_related("organisation").order_by("-active", "name")
    return render(request, "fhirapi/clients.html", {"clients": rows})


@requires(Permission.MANAGE_API_CLIENTS)
def client_new(request: HttpRequest) -> HttpResponse:
    me = staff_of(request)
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            made = clients.register(
                name=data["name"],
                organisation=data["organisation"],
                teams=list(data["teams"]),
                scopes=data["scopes"],
                jwks=data["jwks"],
                by=me.user.get_username(),
            )
        except UserError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, f"{made.name} is registered: give its client id to the partner."
            )
            return redirect("api-client", made.pk)
    return render(request, "fhirapi/client_new.html", {"form": form})


@requires(Permission.MANAGE_API_CLIENTS)
def client_detail(request: HttpRequest, client_id: int) -> HttpResponse:
    me = staff_of(request)
    client = get_object_or_404(
        Client.objects.select_related("organisation", "account"), pk=client_id
    )
    keys = KeysForm(initial={"jwks": json.dumps(client.jwks, indent=2)})
    scopes = ScopesForm(initial={"scopes": "\n".join(client.scopes)})
    if request.method == "POST":
        action = request.POST.get("action")
        keys, scopes, done = _change(request, client, me.user.get_username(), action, keys, scopes)
        if done:
            return redirect("api-client", client.pk)
    record_by(
        me,
        "view_api_client",
        reason="information governance review",
        detail={"client": client.client_id},
    )
    subscriptions = [
        {
            "subscription": s,
            "waiting": Notification.objects.filter(
                subscription=s, delivered_at__isnull=True
            ).count(),
        }
        for s in client.subscriptions.order_by("pk")
    ]
    return render(
        request,
        "fhirapi/client.html",
        {
            "client": client,
            "teams": client.account.teams_by_name,
            "keys_form": keys,
            "scopes_form": scopes,
            "subscriptions": subscriptions,
            "kids": [k.get("kid", "") for k in client.jwks.get("keys", [])],
        },
    )


def _change(
    request: HttpRequest,
    client: Client,
    by: str,
    action: str | None,
    keys: KeysForm,
    scopes: ScopesForm,
) -> tuple[KeysForm, ScopesForm, bool]:
    if action == "keys":
        keys = KeysForm(request.POST)
        if keys.is_valid():
            clients.rotate_keys(client, keys.cleaned_data["jwks"], by)
            messages.success(
                request, "The keys are replaced: assertions signed with a removed key are refused."
            )
            return keys, scopes, True
    elif action == "scopes":
        scopes = ScopesForm(request.POST)
        if scopes.is_valid():
            clients.set_scopes(client, scopes.cleaned_data["scopes"], by)
            messages.success(
                request, "The scopes are changed: its tokens were withdrawn, it asks for new ones."
            )
            return keys, scopes, True
    return keys, scopes, False


@requires(Permission.MANAGE_API_CLIENTS)
@require_POST
def client_deactivate(request: HttpRequest, client_id: int) -> HttpResponse:
    me = staff_of(request)
    client = get_object_or_404(Client, pk=client_id)
    clients.deactivate(client, me.user.get_username())
    messages.success(request, f"{client.name} is deactivated: its tokens no longer work.")
    return redirect("api-client", client.pk)
