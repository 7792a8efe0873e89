"""FHIR XML read with fhir.resources' own XML support, into the JSON shape the rest of
ingest reads.

A resource is read whole by its fhir.resources model. A Bundle is read entry by
entry, so one unreadable entry is quarantined alone rather than losing the Bundle.
The parser never fetches anything and never expands entities (no XXE).
"""

from __future__ import annotations

from typing import Any

import orjson
from fhir.resources.R4B import get_fhir_model_class
from lxml import etree
from pydantic import ValidationError

from neighbourhood.ingest.fhir_map import Rejected, Unreadable

FHIR_NS = "http://hl7.org/fhir"


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, remove_comments=True, huge_tree=False
    )


def xml_resource(raw: bytes) -> Any:
    """The resource (or Bundle, entries read one by one) an XML document holds."""
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as error:
        raise Rejected("", f"not valid XML ({error})") from error
    return _element(root, raw_fallback=raw)


def _name(element: Any) -> str:
    qname = etree.QName(element)
    if qname.namespace != FHIR_NS:
        raise Rejected(
            "resourceType",
            f"not FHIR XML: the element {qname.localname} is not in the FHIR namespace ({FHIR_NS})",
        )
    return str(qname.localname)


def _value(element: Any, child: str) -> str | None:
    found = element.find(f"{{{FHIR_NS}}}{child}")
    return None if found is None else found.get("value")


def _element(element: Any, raw_fallback: bytes | None = None) -> Any:
    name = _name(element)
    if name == "Bundle":
        return _bundle(element)
    try:
        model = get_fhir_model_class(name)
    except (KeyError, ValueError) as error:
        raise Rejected("resourceType", f"'{name}' is not a FHIR R4 resource type") from error
    text = raw_fallback if raw_fallback is not None else etree.tostring(element)
    try:
        read = model.model_validate_xml(text, xmlparser=_parser())
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or name
        raise Rejected(where, f"the XML is not a valid {name}: {first.get('msg')}") from error
    except (KeyError, ValueError, TypeError) as error:
        raise Rejected(name, f"the XML is not a valid {name} ({type(error).__name__})") from error
    return orjson.loads(read.model_dump_json(exclude_none=True))


def _bundle(element: Any) -> dict[str, Any]:
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": _value(element, "type")}
    entries = []
    for entry in element.findall(f"{{{FHIR_NS}}}entry"):
        read: dict[str, Any] = {}
        full_url = _value(entry, "fullUrl")
        if full_url:
            read["fullUrl"] = full_url
        request = entry.find(f"{{{FHIR_NS}}}request")
        if request is not None:
            read["request"] = {"method": _value(request, "method"), "url": _value(request, "url")}
        holder = entry.find(f"{{{FHIR_NS}}}resource")
        inner = None if holder is None else next(iter(holder), None)
        if inner is not None:
            try:
                read["resource"] = _element(inner)
            except Rejected as rejected:
                read["resource"] = Unreadable(
                    rejected.field, rejected.reason, etree.tostring(inner)
                )
        entries.append(read)
    bundle["entry"] = entries
    return bundle
