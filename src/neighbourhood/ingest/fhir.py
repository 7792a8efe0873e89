"""FHIR R4 resources into source records and events, validated with fhir.resources.

Runs in worker processes, a batch of items at a time; an item is one line of an
NDJSON file, one entry of a Bundle file, or one JSON or XML file. Bundles of every
type that carries resources are unpacked wherever they appear (an NDJSON line, an
entry of another Bundle), and each entry counts as a record.

Every record ends in exactly one of three places:

- *accepted*, perhaps *with flags* when its only faults are in fields we can do
  without (a birth date that is not a date, a code outside its value set): those
  fields are dropped and named in ``flags``;
- *quarantined*, with the field and the reason, and its full text so it can be
  replayed once the declaration is fixed: it cannot be read, it has no usable key,
  or reading it hit a fault of ours (the fault's details go to the log, never the
  record);
- *not used*: a valid resource of a type the platform does not take yet, counted by
  type in the file's account.

See ADR 0005 and ADR 0016.
"""

from __future__ import annotations

import traceback
import typing
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson
from fhir.resources.R4B import get_fhir_model_class
from pydantic import BaseModel, TypeAdapter, ValidationError

from neighbourhood.ingest.fhir_map import (
    DIRECTORY_COLUMNS,
    EVENT_COLUMNS,
    FLAGGABLE,
    HANDLERS,
    RECORD_COLUMNS,
    Bundled,
    Mapper,
    Place,
    Rejected,
    Unreadable,
)

QUARANTINE_COLUMNS = ("line", "entry", "field", "reason", "raw")
# Bundle types that carry resources to ingest, and what to say of the others.
BUNDLE_TYPES = ("collection", "batch", "transaction", "searchset", "document", "message")
BUNDLES_NOT_TAKEN = {
    "history": "a history Bundle holds past versions of resources, not current records",
    "batch-response": "a batch-response Bundle holds a server's replies, not records",
    "transaction-response": "a transaction-response Bundle holds a server's replies, not records",
}
MAX_DEPTH = 8  # Bundles inside Bundles, deeper than any real export


@dataclass
class Batch:
    """Items to read: ``(line, entry, raw)``, raw being JSON or XML bytes; ``expected``
    is the type the file's name promises. Or the entries of a Bundle already parsed,
    ``(line, entry, the entry)``, with the Bundle's type and ``bundled``, what it says of
    its own references."""

    sector: str
    expected: str | None
    items: list[tuple[int, str, bytes]]
    bundled: Bundled = field(default_factory=Bundled)
    bundle_type: str | None = None
    entries: list[tuple[int, str, Any]] = field(default_factory=list)


class Table:
    """Rows of one warehouse table, each a tuple in the order of ``names``; read a column
    at a time (``table["line"]``) or all columns at once for Arrow."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.rows: list[tuple[Any, ...]] = []

    def add(self, values: dict[str, Any]) -> None:
        """A row of the values named; a column not named is null."""
        self.rows.append(tuple(map(values.get, self.names)))

    def __getitem__(self, name: str) -> list[Any]:
        i = self.names.index(name)
        return [row[i] for row in self.rows]

    def __len__(self) -> int:
        return len(self.rows)

    def columns(self) -> dict[str, list[Any]]:
        if not self.rows:
            return {name: [] for name in self.names}
        return dict(zip(self.names, map(list, zip(*self.rows, strict=True)), strict=True))


@dataclass
class Rows:
    """Rows for the warehouse tables, filled a resource at a time, and the account of the
    records they came from."""

    records: Table = field(default_factory=lambda: Table(RECORD_COLUMNS))
    events: Table = field(default_factory=lambda: Table(EVENT_COLUMNS))
    directory: Table = field(default_factory=lambda: Table(DIRECTORY_COLUMNS))
    quarantine: Table = field(default_factory=lambda: Table(QUARANTINE_COLUMNS))
    accepted: int = 0
    flagged: int = 0
    not_used: Counter[str] = field(default_factory=Counter)
    faults: list[str] = field(default_factory=list)  # our bugs met, for the log
    by_nhs_number: int = 0  # events whose subject is an NHS number, not a reference

    @property
    def quarantined(self) -> int:
        return len(self.quarantine)

    @property
    def records_in(self) -> int:
        return self.accepted + self.quarantined + sum(self.not_used.values())

    def tables(self) -> tuple[Table, ...]:
        return (self.records, self.events, self.directory, self.quarantine)

    def mark(self) -> tuple[int, ...]:
        return tuple(len(t.rows) for t in self.tables())

    def undo(self, mark: tuple[int, ...]) -> None:
        """Drop the rows appended since ``mark``: a record is written whole or not at all."""
        for table, length in zip(self.tables(), mark, strict=True):
            del table.rows[length:]


def process_batch(batch: Batch, rows: Rows | None = None) -> Rows:
    """Validate and map one batch of items, into ``rows`` if given. Never raises: whatever
    goes wrong with one record quarantines that record."""
    rows = Rows() if rows is None else rows
    walk = Walk(rows, batch.sector, batch.expected, batch.bundled)
    if batch.bundle_type is not None:
        for line, label, entry in batch.entries:
            walk.entry(Place(line, label), {"type": batch.bundle_type}, entry, depth=1)
    for line, label, raw in batch.items:
        try:
            resource = parse(raw)
        except Rejected as rejected:
            _quarantine(rows, Place(line, label), rejected, raw)
            continue
        walk.resource(Place(line, label), resource, raw, depth=0)
    return rows


def parse(raw: bytes) -> Any:
    """A JSON value, or for XML the resource fhir.resources reads from it, as JSON."""
    if raw.lstrip()[:1] == b"<":
        from neighbourhood.ingest.fhir_xml import xml_resource

        return xml_resource(raw)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise Rejected("", f"not valid JSON ({error}); the line may be cut short") from error


@dataclass
class Walk:
    """One item's resources, Bundles unpacked, each into rows or the quarantine."""

    rows: Rows
    sector: str
    expected: str | None
    bundled: Bundled

    def resource(self, place: Place, resource: Any, raw: bytes | None, depth: int) -> None:
        rows = self.rows
        mark = rows.mark()
        try:
            self._resource(place, resource, depth)
        except Rejected as rejected:
            rows.undo(mark)
            _quarantine(rows, place, rejected, raw if raw is not None else _text(resource))
        except Exception as error:
            rows.undo(mark)
            rows.faults.append(_fault(error))
            reason = (
                f"not read because of a fault in neighbourhood ({type(error).__name__}); "
                "the record is kept here to replay once the fault is fixed, and the fault's "
                "details are in the log"
            )
            _quarantine(rows, place, Rejected("", reason), raw if raw is not None else b"")

    def _resource(self, place: Place, resource: Any, depth: int) -> None:
        if isinstance(resource, Unreadable):
            raise Rejected(resource.field, resource.reason)
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            raise Rejected("resourceType", "not a FHIR resource: it has no resourceType")
        rtype = resource["resourceType"]
        if rtype == "Bundle":
            self.bundle(place, resource, depth)
            return
        if self.expected and depth == 0 and rtype != self.expected:
            raise Rejected(
                "resourceType", f"a {rtype} resource in a file of {self.expected} resources"
            )
        handler = HANDLERS.get(rtype)
        if handler is None:
            _validate_whole(rtype, resource)  # only a valid resource is "not used"
            self.rows.not_used[rtype] += 1
            return
        flags = _validate(rtype, resource)
        handler(Mapper(self.rows, self.sector, self.bundled, place, resource, flags))
        self.rows.accepted += 1
        if flags:
            self.rows.flagged += 1

    def bundle(self, place: Place, bundle: dict[str, Any], depth: int) -> None:
        entries = bundle_entries(bundle, depth)
        inner = Walk(self.rows, self.sector, None, self.bundled.within(entries))
        for i, entry in enumerate(entries):
            inner.entry(place.within(i), bundle, entry, depth + 1)

    def entry(self, place: Place, bundle: dict[str, Any], entry: Any, depth: int) -> None:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if resource is None:
            _quarantine(self.rows, place, entry_without_resource(bundle, entry), _text(entry))
            return
        self.resource(place, with_id(entry, resource), None, depth)


def bundle_entries(bundle: dict[str, Any], depth: int) -> list[Any]:
    """The entries of a Bundle whose type carries resources; ``Rejected`` for any other."""
    kind = bundle.get("type")
    if depth >= MAX_DEPTH:
        raise Rejected("entry", f"Bundles nested more than {MAX_DEPTH} deep")
    if kind in BUNDLES_NOT_TAKEN:
        raise Rejected(
            "type", f"{BUNDLES_NOT_TAKEN[kind]}; send a {', '.join(BUNDLE_TYPES)} Bundle"
        )
    if kind not in BUNDLE_TYPES:
        shown = f"'{kind}'" if isinstance(kind, str) else "missing"
        raise Rejected(
            "type", f"the Bundle's type is {shown}: it must be one of {', '.join(BUNDLE_TYPES)}"
        )
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise Rejected("entry", "the Bundle's entry is not a list")
    if not entries:
        raise Rejected("entry", f"the {kind} Bundle has no entries")
    return entries


def entry_without_resource(bundle: dict[str, Any], entry: Any) -> Rejected:
    if not isinstance(entry, dict):
        return Rejected("entry", "the Bundle entry is not an object")
    request = entry.get("request")
    if isinstance(request, dict):
        method, url = request.get("method") or "?", request.get("url") or "?"
        return Rejected(
            "entry.resource",
            f"a {bundle.get('type')} Bundle entry with only a request ({method} {url}) and no "
            "resource: nothing to ingest",
        )
    return Rejected("entry.resource", "the Bundle entry has no resource")


def with_id(entry: dict[str, Any], resource: Any) -> Any:
    """A resource without an id takes the one its ``urn:uuid`` full URL gives it, as
    references to it within the Bundle do."""
    full_url = entry.get("fullUrl")
    if (
        isinstance(resource, dict)
        and not resource.get("id")
        and isinstance(full_url, str)
        and full_url.startswith("urn:uuid:")
    ):
        return {**resource, "id": full_url.removeprefix("urn:uuid:")}
    return resource


def _quarantine(rows: Rows, place: Place, rejected: Rejected, raw: bytes) -> None:
    rows.quarantine.rows.append(
        (
            place.line,
            place.entry or None,
            rejected.field,
            rejected.reason,
            raw.decode("utf-8", "replace"),
        )
    )


def _text(value: Any) -> bytes:
    if isinstance(value, Unreadable):
        return value.raw
    try:
        return orjson.dumps(value)
    except TypeError:
        return repr(value).encode()


def _fault(error: Exception) -> str:
    """Where our code failed, without the exception's message, which may quote the record."""
    frames = traceback.extract_tb(error.__traceback__)
    where = " < ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in frames[::-1])
    return f"{type(error).__name__} at {where}"


# Shapes kept per model, and distinct values of one element type kept as valid; a full
# cache is emptied and starts again, so a worker's memory stays bounded.
ELEMENT_CACHE = 2_048


class ElementwiseValidator:
    """Whether fhir.resources' model of a resource type accepts a resource, checking
    each element's *shape* once and its primitive values every time.

    A fhir.resources model's own rules (``extra="forbid"``, required elements, one of a
    choice of types, no null in a list of elements) look only at which keys are present
    and whether each value is a list, an object or a value of which Python type: its
    shape. The rest is each primitive value being valid for its field's type, and each
    complex element being valid for its own model, the same wherever it sits. So, for
    each model (the resource's and every data type's in it), the first object of a
    shape is validated by the model itself; once the model has accepted a shape, an
    object of that shape is valid when each primitive value passes its field's own
    pydantic type (a ``TypeAdapter``) and each complex element is valid in the same way,
    one level down. A name is cheap to check this way although no two names are alike;
    a coding that recurs (the class of an encounter, a blood pressure's code) is
    remembered whole. Objects with primitive extensions (``_status``), contained
    resources, nulls or empty lists always go to the model. Any fault is left to
    ``validate_resource`` to describe, by validating the resource in the plain way.
    """

    def __init__(self, rtype: str) -> None:
        self.rtype = rtype
        self.model: type[BaseModel] = get_fhir_model_class(rtype)
        self.shapes = _shapes_of(self.model)

    def is_valid(self, resource: dict[str, Any]) -> bool:
        """Whether the model accepts the resource (the dict is left unchanged)."""
        return self.shapes.valid(resource, remember=False)


class _Shapes:
    """One model's fields, the shapes it has accepted, and values seen valid.

    A shape is the object's keys, the Python type of each value, and its resourceType:
    tuples Python builds without a loop of ours, so a known shape costs one lookup."""

    def __init__(self, model: type[BaseModel]) -> None:
        self.model = model
        # name -> (_VALUE, a primitive field's validator) | (_ONE or _MANY, element model)
        self.fields: dict[str, tuple[int, Any]] = {"resourceType": (_TYPE, None)}
        for name, info in model.model_fields.items():
            alias = info.alias or name
            klass, many = _element_model(info.annotation)
            if alias.startswith("_") or name == "contained":
                continue  # always to the model: see ElementwiseValidator
            if klass is not None:
                self.fields[alias] = (_MANY if many else _ONE, klass)
            elif info.annotation is not None:
                self.fields[alias] = (_VALUE, TypeAdapter(info.annotation).validator)
        self.accepted: set[tuple[Any, ...]] = set()
        self.seen: set[bytes] = set()

    def valid(self, value: dict[str, Any], remember: bool = True) -> bool:
        key = orjson.dumps(value) if remember else b""
        if remember and key in self.seen:
            return True
        shape = (tuple(value), tuple(map(type, value.values())), value.get("resourceType"))
        if shape not in self.accepted:
            if not self._whole(value):
                return False
            if self._cacheable(value):
                _bounded_add(self.accepted, shape)
        elif not self._parts_valid(value):
            return False
        if remember:
            _bounded_add(self.seen, key)
        return True

    def _parts_valid(self, value: dict[str, Any]) -> bool:
        """Each value of an object whose shape the model has accepted."""
        fields = self.fields
        try:
            for name, item in value.items():
                kind, check = fields[name]
                if kind == _VALUE:
                    check.validate_python(item)
                elif kind == _ONE:
                    if not _shapes_of(check).valid(item):
                        return False
                elif kind == _MANY:
                    if not item or not _all_dicts(item):
                        return self._whole(value)  # not a list of elements: the model says
                    shapes = _shapes_of(check)
                    if not all(shapes.valid(each) for each in item):
                        return False
        except (ValidationError, ValueError, TypeError):
            return False
        return True

    def _cacheable(self, value: dict[str, Any]) -> bool:
        """A shape is kept only when every key is a field checked here, no value is null,
        every element an object and every list of elements a list of objects: a stray
        value the model happened to accept says nothing of the next."""
        for name, item in value.items():
            field = self.fields.get(name)
            if field is None or item is None:
                return False
            kind = field[0]
            if kind == _ONE and not isinstance(item, dict):
                return False
            if kind == _MANY and not (isinstance(item, list) and item and _all_dicts(item)):
                return False
            if kind == _VALUE and item == []:
                return False
            if kind == _TYPE and not isinstance(item, str):
                return False
        return True

    def _whole(self, value: dict[str, Any]) -> bool:
        try:
            self.model.model_validate(value)
        except (ValidationError, ValueError, TypeError):
            return False
        return True


_TYPE, _VALUE, _ONE, _MANY = range(4)


def _all_dicts(items: list[Any]) -> bool:
    return all(isinstance(item, dict) for item in items)


def _bounded_add(cache: set[Any], item: Any) -> None:
    if len(cache) >= ELEMENT_CACHE:
        cache.clear()
    cache.add(item)


_SHAPES: dict[type[BaseModel], _Shapes] = {}


def _shapes_of(model: type[BaseModel]) -> _Shapes:
    shapes = _SHAPES.get(model)
    if shapes is None:
        shapes = _SHAPES[model] = _Shapes(model)
    return shapes


def _element_model(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The fhir.resources model of a field's data type, and whether the field is a list."""
    if hasattr(annotation, "get_model_klass"):
        return annotation.get_model_klass(), False
    for arg in typing.get_args(annotation):
        klass, many = _element_model(arg)
        if klass is not None:
            return klass, many or typing.get_origin(annotation) is list
    return None, False


_VALIDATORS: dict[str, ElementwiseValidator] = {}


def _validate(rtype: str, resource: dict[str, Any]) -> list[str]:
    validator = _VALIDATORS.get(rtype)
    if validator is None:
        validator = _VALIDATORS[rtype] = ElementwiseValidator(rtype)
    if validator.is_valid(resource):  # the parsed dict: JSON is parsed once, by orjson
        return []
    return validate_resource(rtype, resource)


def _validate_whole(rtype: str, resource: dict[str, Any]) -> None:
    try:
        model = get_fhir_model_class(rtype)
    except (KeyError, ValueError) as error:
        raise Rejected("resourceType", f"'{rtype}' is not a FHIR R4 resource type") from error
    try:
        model.model_validate(resource)
    except ValidationError as error:
        first = error.errors()[0]
        raise Rejected(".".join(str(x) for x in first["loc"]) or rtype, _describe(first)) from error


def validate_resource(rtype: str, resource: dict[str, Any]) -> list[str]:
    """fhir.resources' model on the whole resource: flags for faults in flaggable fields
    (which are dropped from ``resource``), ``Rejected`` for any other fault."""
    model = get_fhir_model_class(rtype)
    try:
        model.model_validate(resource)
        return []
    except ValidationError as error:
        problems = error.errors()
    fields = {str(p["loc"][0]) for p in problems if p["loc"]}
    first = problems[0]
    where = ".".join(str(x) for x in first["loc"]) or rtype
    if not fields or not fields <= FLAGGABLE.get(rtype, frozenset()):
        raise Rejected(where, _describe(first))
    flags = sorted({f"{'.'.join(str(x) for x in p['loc'])}: {_describe(p)}" for p in problems})
    for name in fields:
        resource.pop(name, None)
    try:
        model.model_validate(resource)
    except ValidationError as error:
        raise Rejected(where, _describe(error.errors()[0])) from error
    return flags


def _describe(problem: Any) -> str:
    value = problem.get("input")
    shown = f"'{value}'" if isinstance(value, str | int | float) else "the value"
    message = str(problem.get("msg", "is not valid"))
    if "date" in message.lower():
        return f"{shown} is not a date"
    if problem.get("type") == "missing":
        return "is required but missing"
    return f"{shown} is not valid: {message}"
