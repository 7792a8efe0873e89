"""The FHIR API's endpoints under ``/fhir/``: the token endpoint, the SMART
configuration, the CapabilityStatement, and the RESTful interactions on each resource
type (read, vread, search, create, update, delete of a subscription, ``_history``) and
on the server (a ``transaction`` Bundle).

Every answer is FHIR JSON; every failure is an OperationOutcome with the status that
fits, never a page and never a traceback. Every access is on the audit trail with the
client and its organisation.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

import orjson
from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from neighbourhood.care import published
from neighbourhood.care.access import bearer
from neighbourhood.care.audit.chain import record
from neighbourhood.care.fhirapi import auth, capability, validate, writes
from neighbourhood.care.fhirapi.outcome import (
    FHIR_JSON,
    FhirError,
    error_response,
    fhir_response,
    invalid,
    not_found,
)
from neighbourhood.care.fhirapi.params import RESULT, Search, whole
from neighbourhood.care.fhirapi.resources import KINDS, Context, Kind, Page
from neighbourhood.care.roles import Role

log = logging.getLogger(__name__)
JSON_TYPES = ("application/fhir+json", "application/json", "application/json+fhir")
MAX_BODY = 5 * 1024 * 1024
MAX_ENTRIES = 100


def _answers(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The API's envelope: content negotiation, and every failure as an
    OperationOutcome (an unexpected one logged, and said without its details)."""

    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            _negotiate(request)
            return view(request, *args, **kwargs)
        except FhirError as error:
            return error_response(error)
        except published.NotPublished:
            return error_response(
                FhirError(503, "transient", "no refresh is published yet: try again later")
            )
        except DatabaseError:
            log.exception("FHIR API: database error")
            return error_response(
                FhirError(503, "transient", "the record is busy: nothing was changed, try again")
            )
        except Exception:
            log.exception("FHIR API: unexpected error")
            return error_response(
                FhirError(500, "exception", "the server could not answer; nothing was changed")
            )

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return csrf_exempt(bearer(wrapped))


def _negotiate(request: HttpRequest) -> None:
    if "\x00" in request.path or "\x00" in unquote_plus(request.META.get("QUERY_STRING", "")):
        raise invalid("the address holds a NUL character, which no FHIR value may")
    if b"\\u0000" in request.body or b"\x00" in request.body:
        raise invalid("the body holds a NUL character, which no FHIR string may")
    wanted = request.GET.get("_format", "") or request.headers.get("Accept", "")
    if "xml" in wanted and "json" not in wanted:
        raise FhirError(
            406,
            "not-supported",
            "this server answers in FHIR JSON only: ask for application/fhir+json",
        )
    if request.method in ("POST", "PUT") and request.path.rstrip("/") != "/fhir/token":
        kind = request.headers.get("Content-Type", "").split(";")[0].strip()
        if kind not in JSON_TYPES:
            raise FhirError(
                415,
                "not-supported",
                f"send FHIR JSON (Content-Type: application/fhir+json), not '{kind or 'nothing'}'",
            )


def _body(request: HttpRequest) -> Any:
    if len(request.body) > MAX_BODY:
        raise FhirError(413, "too-costly", "the body is larger than 5 MB")
    try:
        return orjson.loads(request.body)
    except orjson.JSONDecodeError as error:
        raise FhirError(400, "structure", f"the body is not JSON: {error}") from None


def base_of(request: HttpRequest) -> str:
    return request.build_absolute_uri("/fhir/")


def _context(request: HttpRequest) -> Context:
    return Context(auth.caller(request), base_of(request))


def _audit(ctx: Context, action: str, person_id: str = "", reason: str = "", **detail: Any) -> None:
    client = ctx.caller.client
    record(
        f"api:{client.client_id}",
        action,
        role=Role.PARTNER_SYSTEM,
        person_id=person_id,
        reason=reason or "",
        detail={"client": client.client_id, "organisation": client.organisation.ods_code, **detail},
    )


def _kind(name: str) -> Kind:
    kind = KINDS.get(name)
    if kind is None:
        raise FhirError(
            404,
            "not-supported",
            f"{name} is not served here: see /fhir/metadata for the resource types this server has",
        )
    return kind


def _etag(version: int) -> str:
    return f'W/"{version}"'


def _read_one(ctx: Context, kind: Kind, rid: str, action: str) -> Any:
    ctx.caller.require(kind.name, "r")
    found = kind.get(ctx, rid)
    person_id = kind.person_of(found)
    reason = ""
    if person_id:
        reason = ctx.relationship(person_id).reason
    _audit(ctx, action, person_id, reason, resource=f"{kind.name}/{rid}")
    return found


# ---------------------------------------------------------------------------------------
# Endpoints


@_answers
def token(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return JsonResponse(
            {"error": "invalid_request", "error_description": "POST the form"}, status=405
        )
    try:
        answer = auth.issue_token(request.POST.dict(), request.build_absolute_uri())
    except auth.OAuthError as error:
        return JsonResponse(
            {"error": error.error, "error_description": error.description}, status=error.status
        )
    response = JsonResponse(answer)
    response["Cache-Control"] = "no-store"
    return response


@_answers
def smart_configuration(request: HttpRequest) -> HttpResponse:
    return JsonResponse(capability.smart_configuration(base_of(request)))


@_answers
def metadata(request: HttpRequest) -> HttpResponse:
    return fhir_response(capability.statement(base_of(request)))


@_answers
def server(request: HttpRequest) -> HttpResponse:
    """A ``transaction`` Bundle: every entry or none."""
    if request.method != "POST":
        raise FhirError(405, "not-supported", "POST a transaction Bundle here")
    ctx = _context(request)
    body = validate.resource(_body(request), "Bundle")
    if body.get("type") != "transaction":
        raise invalid(
            "only transaction Bundles are taken here (Bundle.type = transaction)", "Bundle.type"
        )
    entries = body.get("entry") or []
    if not entries or len(entries) > MAX_ENTRIES:
        raise invalid(f"a transaction has 1 to {MAX_ENTRIES} entries", "Bundle.entry")
    return fhir_response(_transaction(ctx, entries))


def _transaction(ctx: Context, entries: list[dict[str, Any]]) -> dict[str, Any]:
    refs: dict[str, str] = {}
    answers: list[dict[str, Any] | None] = [None] * len(entries)
    # POSTs first, referrals before tasks, so a task's basedOn finds the referral made
    # in the same transaction; then the PUTs.
    order = sorted(
        range(len(entries)),
        key=lambda i: (
            (entries[i].get("request") or {}).get("method") != "POST",
            (entries[i].get("resource") or {}).get("resourceType") != "ServiceRequest",
            i,
        ),
    )
    written: list[writes.Written] = []
    with transaction.atomic():
        for index in order:
            entry = entries[index]
            where = f"Bundle.entry[{index}]"
            try:
                answers[index], made = _entry(ctx, entry, refs, where)
            except FhirError as error:
                error.diagnostics = f"{where}: {error.diagnostics}"
                error.expression = (
                    f"{where}.resource.{error.expression}" if error.expression else where
                )
                raise
            if made is not None:
                written.append(made)
        for made in written:
            _audit_write(ctx, made, transaction_of=len(entries))
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "transaction-response",
        "entry": answers,
    }


def _entry(
    ctx: Context, entry: dict[str, Any], refs: dict[str, str], where: str
) -> tuple[dict[str, Any], writes.Written | None]:
    request = entry.get("request") or {}
    method, url = request.get("method"), str(request.get("url") or "")
    resource = entry.get("resource")
    if method not in ("POST", "PUT"):
        raise invalid("a transaction here takes POST and PUT entries", "request.method")
    resource = validate.resource(resource, None, where)
    resource_type = resource["resourceType"]
    if method == "POST":
        if url.split("?")[0] != resource_type or resource_type not in writes.CREATE:
            raise invalid(f"POST {url}: create a Task or a ServiceRequest", "request.url")
        condition = str(request.get("ifNoneExist") or "")
        record_, made = writes.create_once(ctx, resource_type, resource, refs, condition)
        rid, status = str(record_.pk), "201 Created" if made else "200 OK"
        if made is None:
            _audit_found(ctx, KINDS[resource_type], record_)
        if entry.get("fullUrl"):
            refs[str(entry["fullUrl"])] = f"{resource_type}/{rid}"
    else:
        resource_type_, _, rid = url.partition("/")
        if resource_type_ != resource_type or resource_type not in writes.UPDATE or not rid:
            raise invalid(
                f"PUT {url}: update a Task, ServiceRequest or CarePlan by its id", "request.url"
            )
        version = writes.if_match(request.get("ifMatch")) or 0
        made = writes.UPDATE[resource_type](ctx, rid, resource, version)
        record_, status = made.record, "200 OK"
    kind = KINDS[resource_type]
    return {
        "fullUrl": f"{ctx.base}{resource_type}/{rid}",
        "response": {
            "status": status,
            "location": f"{resource_type}/{rid}/_history/{kind.version_of(record_)}",
            "etag": _etag(kind.version_of(record_)),
        },
    }, made


def _audit_write(ctx: Context, made: writes.Written, **detail: Any) -> None:
    reason = ctx.relationship(made.person_id).reason if made.person_id else ""
    action = "fhir_create" if made.created else "fhir_update"
    _audit(
        ctx,
        action,
        made.person_id,
        reason,
        resource=f"{made.resource_type}/{made.record.pk}",
        **detail,
    )


@_answers
def type_level(request: HttpRequest, resource_type: str) -> HttpResponse:
    kind = _kind(resource_type)
    ctx = _context(request)
    if request.method == "GET":
        return _search(request, ctx, kind, request.GET)
    if request.method == "POST":
        if request.path.rstrip("/").endswith("_search"):
            return _search(request, ctx, kind, request.POST)
        return _create(request, ctx, kind)
    raise FhirError(405, "not-supported", f"{request.method} is not supported on {resource_type}")


@_answers
def search_post(request: HttpRequest, resource_type: str) -> HttpResponse:
    kind = _kind(resource_type)
    if request.method != "POST":
        raise FhirError(405, "not-supported", "POST a form to _search")
    return _search(request, _context(request), kind, request.POST)


def _search(request: HttpRequest, ctx: Context, kind: Kind, query: Any) -> HttpResponse:
    ctx.caller.require(kind.name, "s")
    search = Search.read(query, set(kind.params), kind.name)
    page: Page = kind.search(ctx, search)
    included = kind.includes(ctx, page.records, search) if page.records else []
    people = sorted({kind.person_of(r) for r in page.records} - {""})
    extra_kinds: dict[str, list[Any]] = {}
    for name, found in included:
        extra_kinds.setdefault(name, []).append(found)
    _audit(
        ctx,
        "fhir_search",
        people[0] if len(people) == 1 else "",
        "; ".join(sorted({r.reason for r in ctx.seen.values()}))[:300]
        or f"records held by the teams of {ctx.caller.client.organisation.name}",
        resource=kind.name,
        query=request.META.get("QUERY_STRING", "")[:500] if request.method == "GET" else "",
        people=people,
        results=len(page.records),
    )
    entries = [
        _entry_of(ctx, kind, resource, "match") for resource in kind.render_many(ctx, page.records)
    ]
    for name, records in extra_kinds.items():
        entries += [
            _entry_of(ctx, KINDS[name], r, "include") for r in KINDS[name].render_many(ctx, records)
        ]
    this = f"{ctx.base}{kind.name}?{_query_string(query, search.offset)}"
    links = [{"relation": "self", "url": this}]
    if page.more:
        links.append(
            {
                "relation": "next",
                "url": f"{ctx.base}{kind.name}?{_query_string(query, search.offset + search.count)}",
            }
        )
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": timezone.now().isoformat(timespec="seconds")},
        "type": "searchset",
        "link": links,
        "entry": entries,
    }
    if page.total is not None:
        bundle["total"] = page.total
    if not entries:
        del bundle["entry"]
    return fhir_response(bundle)


def _entry_of(ctx: Context, kind: Kind, resource: dict[str, Any], mode: str) -> dict[str, Any]:
    return {
        "fullUrl": f"{ctx.base}{resource['resourceType']}/{resource['id']}",
        "resource": resource,
        "search": {"mode": mode},
    }


def _query_string(query: Any, offset: int) -> str:
    copy = query.copy()
    copy["_offset"] = str(offset)
    return str(copy.urlencode())


def _create(request: HttpRequest, ctx: Context, kind: Kind) -> HttpResponse:
    if kind.name not in writes.CREATE:
        raise FhirError(405, "not-supported", f"{kind.name} cannot be created through this API")
    body = validate.resource(_body(request), kind.name)
    # The header, as FHIR says; or the query string, as some clients send it (fhirpy).
    condition = request.headers.get("If-None-Exist") or _search_in(request.GET)
    with transaction.atomic():
        record_, made = writes.create_once(ctx, kind.name, body, {}, condition)
        if made is None:
            _audit_found(ctx, kind, record_)
            return _resource_response(ctx, kind, record_, 200)
        _audit_write(ctx, made)
    return _resource_response(ctx, kind, made.record, 201)


def _audit_found(ctx: Context, kind: Kind, found: Any) -> None:
    """A conditional create that found its record reads it: on the trail as a read."""
    _audit(
        ctx,
        "fhir_read",
        kind.person_of(found),
        "conditional create found it",
        resource=f"{kind.name}/{found.pk}",
    )


def _search_in(query: Any) -> str:
    """A search in a create's query string (its own parameters, not _format and the like)."""
    copy = query.copy()
    for name in RESULT:
        copy.pop(name, None)
    return str(copy.urlencode())


def _resource_response(ctx: Context, kind: Kind, found: Any, status: int) -> HttpResponse:
    version = kind.version_of(found)
    body = kind.render(ctx, found)
    rid = str(body["id"])
    return fhir_response(
        body,
        status,
        ETag=_etag(version),
        Location=f"{ctx.base}{kind.name}/{rid}/_history/{version}",
    )


@_answers
def instance(request: HttpRequest, resource_type: str, rid: str) -> HttpResponse:
    kind = _kind(resource_type)
    ctx = _context(request)
    if request.method == "GET":
        found = _read_one(ctx, kind, rid, "fhir_read")
        version = kind.version_of(found)
        response = fhir_response(kind.render(ctx, found), ETag=_etag(version))
        return response
    if request.method == "PUT":
        if kind.name not in writes.UPDATE:
            raise FhirError(405, "not-supported", f"{kind.name} cannot be updated through this API")
        body = validate.resource(_body(request), kind.name)
        if body.get("id") not in (None, rid):
            raise invalid(
                f"the body's id ({body.get('id')}) is not the address's ({rid})", f"{kind.name}.id"
            )
        version = writes.if_match(request.headers.get("If-Match")) or 0
        with transaction.atomic():
            made = writes.UPDATE[kind.name](ctx, rid, body, version)
            _audit_write(ctx, made)
        return _resource_response(ctx, kind, made.record, 200)
    if request.method == "DELETE":
        if kind.name != "Subscription":
            raise FhirError(
                405,
                "not-supported",
                f"{kind.name} records are never deleted: end them with their status",
            )
        writes.delete_subscription(ctx, rid)
        _audit(ctx, "fhir_delete", resource=f"Subscription/{rid}")
        return HttpResponse(status=204)
    raise FhirError(
        405, "not-supported", f"{request.method} is not supported on {resource_type}/{rid}"
    )


@_answers
def history(request: HttpRequest, resource_type: str, rid: str) -> HttpResponse:
    kind = _kind(resource_type)
    ctx = _context(request)
    if not kind.history:
        raise FhirError(
            404, "not-supported", f"{kind.name} keeps no history: read its current version"
        )
    found = _read_one(ctx, kind, rid, "fhir_history")
    versions = kind.versions(found) or [kind.render(ctx, found)]
    return fhir_response(
        {
            "resourceType": "Bundle",
            "id": str(uuid.uuid4()),
            "type": "history",
            "total": len(versions),
            "entry": [
                {
                    "fullUrl": f"{ctx.base}{kind.name}/{rid}",
                    "resource": v,
                    "request": {
                        "method": "PUT" if v["meta"]["versionId"] != "1" else "POST",
                        "url": f"{kind.name}/{rid}",
                    },
                    "response": {"status": "200", "etag": _etag(int(v["meta"]["versionId"]))},
                }
                for v in versions
            ],
        }
    )


@_answers
def vread(request: HttpRequest, resource_type: str, rid: str, vid: str) -> HttpResponse:
    kind = _kind(resource_type)
    ctx = _context(request)
    found = _read_one(ctx, kind, rid, "fhir_vread")
    if not whole(vid):
        raise not_found(kind.name, f"{rid}/_history/{vid}")
    current = kind.version_of(found)
    if int(vid) == current:
        return fhir_response(kind.render(ctx, found), ETag=_etag(current))
    past = kind.past(found, int(vid)) if kind.history else None
    if past is None:
        raise not_found(kind.name, f"{rid}/_history/{vid}")
    return fhir_response(past, ETag=_etag(int(vid)))


@_answers
def unknown(request: HttpRequest, rest: str) -> HttpResponse:
    raise FhirError(
        404, "not-supported", f"/fhir/{rest} is not an address of this API: see /fhir/metadata"
    )


__all__ = ["FHIR_JSON"]
