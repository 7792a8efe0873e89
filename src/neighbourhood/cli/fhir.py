"""``neighbourhood fhir``: partners' systems on the FHIR API: register one, list them,
get a token the way a partner's system does, and deliver subscription notifications."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from neighbourhood.cli.care import start
from neighbourhood.cli.options import DataOption, JsonOption
from neighbourhood.cli.output import console, print_json
from neighbourhood.config import resolve_data_dir
from neighbourhood.errors import UserError

fhir_app = typer.Typer(help="The FHIR API for partners' systems.", no_args_is_help=True)
TOKEN_URL = "http://127.0.0.1:8000/fhir/token"


@fhir_app.command("register")
def register_command(
    name: Annotated[str, typer.Option("--name", help="The system's name, as its users know it.")],
    organisation: Annotated[
        str, typer.Option("--organisation", help="Its organisation's ODS code.")
    ],
    team: Annotated[
        list[str], typer.Option("--team", help="A team it acts for, by name (repeatable).")
    ],
    scope: Annotated[
        list[str], typer.Option("--scope", help="A SMART scope, e.g. system/Task.rs (repeatable).")
    ],
    keys: Annotated[Path, typer.Option("--keys", help="Its public keys: a JSON Web Key Set file.")],
    data: DataOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register a partner's system to an organisation (as the IG lead's page does)."""
    server = start(resolve_data_dir(data), serving=False)
    made = server.register_api_client(
        name=name, organisation=organisation, teams=team, scopes=scope, keys=keys
    )
    if as_json:
        print_json({"client_id": made.client_id, "scopes": made.scopes})
    else:
        console.print(f"Registered {made.name}: its client id is [bold]{made.client_id}[/bold].")


@fhir_app.command("clients")
def clients_command(data: DataOption = None, as_json: JsonOption = False) -> None:
    """The partners' systems registered, with their organisations and scopes."""
    server = start(resolve_data_dir(data), serving=False)
    found = server.api_clients()
    if as_json:
        print_json(
            {
                "clients": [
                    {
                        "name": c.name,
                        "client_id": c.client_id,
                        "organisation": c.organisation.ods_code,
                        "scopes": c.scopes,
                        "active": c.active,
                    }
                    for c in found
                ]
            }
        )
        return
    table = Table(title=f"{len(found)} partners' systems")
    for column in ("System", "Client id", "Organisation", "Scopes", "Active"):
        table.add_column(column)
    for c in found:
        table.add_row(
            c.name,
            c.client_id,
            c.organisation.ods_code,
            " ".join(c.scopes),
            "yes" if c.active else "no",
        )
    console.print(table)


@fhir_app.command("token")
def token_command(
    client_id: Annotated[str, typer.Option("--client-id", help="The client id the IG lead gave.")],
    key: Annotated[Path, typer.Option("--key", help="The system's private key (PEM).")],
    scope: Annotated[str, typer.Option("--scope", help="Scopes, space-separated.")] = "system/*.rs",
    url: Annotated[str, typer.Option("--url", help="The token endpoint.")] = TOKEN_URL,
    kid: Annotated[
        str, typer.Option("--kid", help="The key's id in the registered key set.")
    ] = "demo-1",
    as_json: JsonOption = False,
) -> None:
    """Get a bearer token as a partner's system does (SMART Backend Services): sign a
    short-lived assertion with the private key and exchange it at the token endpoint."""
    import jwt

    from neighbourhood import smart

    try:
        private = key.read_bytes()
    except OSError as error:
        raise UserError(f"cannot read the key {key}: {error.strerror}") from None
    try:
        form = urllib.parse.urlencode(
            smart.token_form(private, client_id, url, kid, scope)
        ).encode()
    except (ValueError, TypeError, jwt.PyJWTError) as error:
        raise UserError(f"{key} is not a private key this can sign with: {error}") from None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=form), timeout=30) as answer:
            body = json.loads(answer.read())
    except urllib.error.HTTPError as error:
        refused = json.loads(error.read() or b"{}")
        raise UserError(
            f"the token endpoint refused: {refused.get('error_description') or error.reason}"
        ) from None
    except (urllib.error.URLError, OSError) as error:
        raise UserError(
            f"cannot reach {url}: {getattr(error, 'reason', error)} (is the server running?)"
        ) from None
    if as_json:
        print_json(body)
        return
    base = url.rsplit("/token", 1)[0]
    console.print(f"Token for {body['scope']}, valid {body['expires_in']} s:")
    console.print(body["access_token"], soft_wrap=True)
    console.print(
        f"Try: curl -H 'Authorization: Bearer {body['access_token']}' -H 'Accept: application/fhir+json' "
        f"'{base}/Task?status=requested&_count=5'",
        soft_wrap=True,
    )


@fhir_app.command("deliver")
def deliver_command(
    once: Annotated[bool, typer.Option("--once", help="One round, then stop.")] = False,
    every: Annotated[float, typer.Option("--every", help="Seconds between rounds.", min=0.5)] = 5.0,
    data: DataOption = None,
) -> None:
    """Deliver subscription notifications to partners (the server does this too, on each
    worker): in order, retried with back-off until each is received."""
    server = start(resolve_data_dir(data), serving=False)
    server.deliver_notifications(once, every)
