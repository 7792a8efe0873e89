"""Each FHIR resource type the platform takes, mapped to warehouse rows.

What GP and acute systems send, as UK Core profiles it: a Patient with its NHS
number, verification status, ethnic category, death notification, interpreter need
and residential status; events with codes in any system (SNOMED CT checked, LOINC
and others kept with their system), every FHIR date shape, Observation components
and coded values; medicines, allergies, procedures and immunisations; and the
organisations and practitioners partners name, as a directory.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from neighbourhood.costs import cost_of, spell_cost
from neighbourhood.standards import ethnicity, nhs_number, snomed

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEMS = (
    "https://fhir.nhs.uk/Id/ods-organization-code",
    "https://fhir.nhs.uk/Id/ods-site-code",
)
UK_CORE = "https://fhir.hl7.org.uk/StructureDefinition/"
ETHNIC_EXTENSION = UK_CORE + "Extension-UKCore-EthnicCategory"
VERIFICATION_EXTENSION = UK_CORE + "Extension-UKCore-NHSNumberVerificationStatus"
DEATH_EXTENSION = UK_CORE + "Extension-UKCore-DeathNotificationStatus"
INTERPRETER_EXTENSIONS = (
    "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired",
    UK_CORE + "Extension-UKCore-InterpreterRequired",
)
COMMUNICATION_EXTENSION = UK_CORE + "Extension-UKCore-NHSCommunication"
RESIDENTIAL_EXTENSION = UK_CORE + "Extension-UKCore-ResidentialStatus"
LANGUAGE_SYSTEM = "urn:ietf:bcp:47"
# Value sets UK Core binds, checked on the field they bind.
GENDERS = frozenset({"male", "female", "other", "unknown"})
VERIFICATION_CODES = frozenset(f"{n:02d}" for n in range(1, 9))
DEATH_NOTIFICATION_CODES = frozenset({"1", "2", "U"})  # informal, formal, removed
RESIDENTIAL_CODES = frozenset({"H", "O", "U"})  # UK resident, overseas, unknown
SUBJECT_BY_NHS_NUMBER = "nhs-number/"  # record key of a subject named by identifier alone

# Fields whose faults we flag and drop rather than lose the record for.
FLAGGABLE: dict[str, frozenset[str]] = {
    "Patient": frozenset(
        {
            "birthDate",
            "deceasedDateTime",
            "deceasedBoolean",
            "gender",
            "address",
            "telecom",
            "extension",
            "maritalStatus",
            "name",
            "generalPractitioner",
            "communication",
            "contact",
        }
    ),
    "Encounter": frozenset(
        {"reasonCode", "type", "priority", "hospitalization", "serviceProvider", "serviceType"}
    ),
    "Condition": frozenset(
        {"onsetDateTime", "recordedDate", "category", "clinicalStatus", "verificationStatus"}
    ),
    "Observation": frozenset(
        {"valueQuantity", "category", "effectiveDateTime", "interpretation", "issued", "note"}
    ),
    "RelatedPerson": frozenset({"name", "birthDate", "relationship", "identifier"}),
    "Flag": frozenset({"category", "period"}),
    "MedicationStatement": frozenset({"dosage", "note", "reasonCode", "dateAsserted"}),
    "MedicationRequest": frozenset({"dosageInstruction", "note", "reasonCode", "authoredOn"}),
    "AllergyIntolerance": frozenset({"reaction", "note", "recordedDate", "onsetDateTime"}),
    "Procedure": frozenset({"note", "reasonCode", "bodySite", "performer"}),
    "Immunization": frozenset({"note", "site", "route", "doseQuantity", "performer"}),
    "Organization": frozenset({"telecom", "address", "type"}),
    "Practitioner": frozenset({"telecom", "address", "name", "qualification"}),
}
SETTINGS = {
    "AMB": "general practice",
    "HH": "home",
    "EMER": "emergency department",
    "IMP": "inpatient",
    "SS": "day case",
    "VR": "virtual",
}

RECORD_COLUMNS = (
    "line",
    "entry",
    "record_key",
    "nhs_number",
    "nhs_number_raw",
    "nhs_number_status",
    "nhs_number_verification",
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "postcode",
    "address",
    "ethnicity",
    "practice_ods",
    "date_of_death",
    "death_notification",
    "interpreter_language",
    "residential_status",
    "flags",
    "house_number",
    "street",
    "locality",
)
EVENT_COLUMNS = (
    "line",
    "entry",
    "event_key",
    "record_key",
    "setting",
    "activity",
    "start_date",
    "end_date",
    "code",
    "code_system",
    "code_status",
    "value",
    "unit",
    "value_code",
    "value_system",
    "cost_gbp",
    "flags",
)
DIRECTORY_COLUMNS = (
    "line",
    "entry",
    "kind",
    "resource_id",
    "identifier_system",
    "identifier",
    "name",
    "active",
)


class Rejected(Exception):  # noqa: N818 - internal signal, never leaves the worker
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(field, reason)
        self.field, self.reason = field, reason


@dataclass(frozen=True)
class Unreadable:
    """A Bundle entry that could not be read (FHIR XML that is not a valid resource):
    quarantined with its reason and its own text when its turn comes."""

    field: str
    reason: str
    raw: bytes


@dataclass(frozen=True)
class Place:
    """Where a record is: its line in the file, and its entry in a Bundle ('' if none)."""

    line: int
    entry: str = ""

    def within(self, index: int) -> Place:
        step = f"entry[{index}]"
        return Place(self.line, f"{self.entry}.{step}" if self.entry else step)


@dataclass
class Bundled:
    """What the entries of the Bundles around a resource say about each other: full
    URLs that stand for an id, and organisations' and medicines' codes by id."""

    keys: dict[str, str] = field(default_factory=dict)
    organisations: dict[str, str] = field(default_factory=dict)
    medications: dict[str, tuple[str, str]] = field(default_factory=dict)

    def within(self, entries: list[Any]) -> Bundled:
        inner = Bundled(dict(self.keys), dict(self.organisations), dict(self.medications))
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
                continue
            resource, full_url = entry["resource"], entry.get("fullUrl")
            rid = resource.get("id")
            if isinstance(full_url, str):
                own = rid or full_url.removeprefix("urn:uuid:")
                if isinstance(own, str) and full_url.rsplit("/", 1)[-1] != own:
                    inner.keys[full_url] = own
                rid = rid or own
            inner.note(resource, rid)
        return inner

    def note(self, resource: dict[str, Any], rid: Any) -> None:
        if not isinstance(rid, str):
            return
        if resource.get("resourceType") == "Organization":
            code = _identifier(resource, ODS_SYSTEMS)
            if code:
                self.organisations[rid] = code
        elif resource.get("resourceType") == "Medication":
            coded = coding(resource.get("code"))
            if coded[0]:
                self.medications[rid] = (coded[0], coded[1] or "")

    def key(self, reference: str) -> str:
        if reference in self.keys:
            return self.keys[reference]
        return reference.split("?", 1)[0].rsplit("/", 1)[-1].removeprefix("urn:uuid:")


def _identifier(resource: dict[str, Any], systems: tuple[str, ...]) -> str | None:
    for ident in resource.get("identifier") or []:
        if isinstance(ident, dict) and ident.get("system") in systems and ident.get("value"):
            return str(ident["value"])
    return None


def _append(table: Any, **values: Any) -> None:
    table.add(values)


def date_of(value: Any) -> str | None:
    """The date of any FHIR date shape: date, dateTime, instant, or a Period's start."""
    if isinstance(value, dict):
        value = value.get("start") or value.get("end")
    return value[:10] if isinstance(value, str) and len(value) >= 10 else None


def first_date(r: dict[str, Any], *names: str) -> str | None:
    for name in names:
        found = date_of(r.get(name))
        if found:
            return found
    return None


def coding(concept: Any, prefer: str | None = snomed.SYSTEM) -> tuple[str | None, str | None]:
    """The code of a concept and its system: in the ``prefer``-red system (SNOMED CT)
    when there is one, else the first coding with a code (LOINC, a local system), kept
    with its system."""
    if isinstance(concept, list):
        concept = concept[0] if concept else None
    if not isinstance(concept, dict):
        return None, None
    codings = [c for c in concept.get("coding") or [] if isinstance(c, dict) and c.get("code")]
    for c in codings:
        if prefer and c.get("system") == prefer:
            return str(c["code"]), prefer
    if codings:
        return str(codings[0]["code"]), codings[0].get("system")
    return None, None


@functools.lru_cache(maxsize=65_536)  # codes recur: Verhoeff once per distinct code
def code_status(code: str | None, system: str | None) -> str:
    """SNOMED CT codes are checked (Verhoeff); another system's are kept unchecked."""
    if not code:
        return "none"
    if system != snomed.SYSTEM:
        return "other system"
    return "valid" if snomed.is_valid_sctid(code) else "invalid"


class Mapper:
    """The mapping of one resource: where it is, what Bundles say, and its flags."""

    def __init__(
        self,
        rows: Any,
        sector: str,
        bundled: Bundled,
        place: Place,
        r: dict[str, Any],
        flags: list[str],
    ) -> None:
        self.rows, self.sector, self.bundled, self.place = rows, sector, bundled, place
        self.r, self.flags = r, flags

    def reference(self, value: Any) -> str | None:
        if not isinstance(value, dict) or not isinstance(value.get("reference"), str):
            return None
        return self.bundled.key(value["reference"])

    def subject(self, key: str = "subject") -> str:
        """The record key of the person: a reference, or an NHS number identifier."""
        value = self.r.get(key)
        found = self.reference(value)
        if found:
            return found
        ident = value.get("identifier") if isinstance(value, dict) else None
        if isinstance(ident, dict) and ident.get("system") == NHS_NUMBER_SYSTEM:
            number = str(ident.get("value") or "")
            if nhs_number.is_valid(number):
                self.rows.by_nhs_number += 1
                return SUBJECT_BY_NHS_NUMBER + nhs_number.normalise(number)
            raise Rejected(
                f"{key}.identifier", "the subject's NHS number fails its Modulus 11 check digit"
            )
        raise Rejected(key, f"the {self.r['resourceType']} has no {key}, so nobody's record it is")

    def event(self, **values: Any) -> None:
        values.setdefault("event_key", self.r.get("id"))
        _append(
            self.rows.events,
            line=self.place.line,
            entry=self.place.entry or None,
            code_status=code_status(values.get("code"), values.get("code_system")),
            flags="; ".join(self.flags) or None,
            **values,
        )

    def flag(self, where: str, message: str) -> None:
        self.flags.append(f"{where}: {message}")


def _patient(m: Mapper) -> None:
    r = m.r
    if not r.get("id"):
        raise Rejected("id", "the Patient has no id, so its events could never be joined to it")
    nhs = next(
        (
            i
            for i in (r.get("identifier") or [])
            if isinstance(i, dict) and i.get("system") == NHS_NUMBER_SYSTEM
        ),
        {},
    )
    raw_number = nhs.get("value")
    status = "missing"
    if raw_number:
        status = "valid" if nhs_number.is_valid(str(raw_number)) else "invalid"
        if status == "invalid":
            m.flag("identifier", "the NHS number fails its Modulus 11 check digit")
    verification = _coded_extension(m, nhs, VERIFICATION_EXTENSION, VERIFICATION_CODES)
    name = _first(r.get("name"))
    address = _first(r.get("address"))
    given = " ".join(g for g in name.get("given") or [] if isinstance(g, str)) or None
    if not (raw_number or given or name.get("family") or r.get("birthDate")):
        raise Rejected(
            "Patient",
            "the Patient has no NHS number, name or date of birth: nothing to identify or "
            "link them by",
        )
    sex = r.get("gender")
    if sex is not None and sex not in GENDERS:
        m.flag("gender", f"'{sex}' is not an administrative gender ({', '.join(sorted(GENDERS))})")
        sex = None
    death = _death_notification(m)
    language = _interpreter(m)
    _append(
        m.rows.records,
        line=m.place.line,
        entry=m.place.entry or None,
        record_key=r["id"],
        nhs_number=nhs_number.normalise(str(raw_number)) if status == "valid" else None,
        nhs_number_raw=raw_number,
        nhs_number_status=status,
        nhs_number_verification=verification,
        given_name=given,
        family_name=name.get("family"),
        date_of_birth=date_of(r.get("birthDate")),
        sex=sex,
        postcode=address.get("postalCode"),
        address=", ".join(x for x in address.get("line") or [] if isinstance(x, str)) or None,
        ethnicity=_ethnicity(m),
        practice_ods=_practice(m),
        date_of_death=date_of(r.get("deceasedDateTime")),
        death_notification=death,
        interpreter_language=language,
        residential_status=_coded_extension(m, r, RESIDENTIAL_EXTENSION, RESIDENTIAL_CODES),
        flags="; ".join(m.flags) or None,
        house_number=None,  # linkage reads both from the first line of the address
        street=None,
        locality=address.get("city") or address.get("district"),
    )
    if language:  # an interpreter need is a reasonable adjustment
        m.event(
            event_key=f"{r['id']}/interpreter",
            record_key=r["id"],
            activity="reasonable_adjustment_flag",
            setting="interpreter required",
            value_code=None if language == "required" else language,
        )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _first(value: Any) -> dict[str, Any]:
    first = value[0] if isinstance(value, list) and value else None
    return first if isinstance(first, dict) else {}


def _extensions(holder: dict[str, Any], url: str) -> list[dict[str, Any]]:
    return [e for e in holder.get("extension") or [] if isinstance(e, dict) and e.get("url") == url]


def _coded_extension(
    m: Mapper, holder: dict[str, Any], url: str, allowed: frozenset[str], inner: str | None = None
) -> str | None:
    """The code of a UK Core coded extension, flagged and dropped if outside its value set."""
    for ext in _extensions(holder, url):
        value = ext
        if inner is not None:
            value = next(iter(_extensions(ext, inner)), {})
        code, _ = coding(value.get("valueCodeableConcept"))
        if code is None:
            continue
        if code not in allowed:
            m.flag("extension", f"'{code}' is not in the value set of {url.rsplit('/', 1)[-1]}")
            return None
        return code
    return None


def _ethnicity(m: Mapper) -> str | None:
    """The NHS ethnic category code; a concept with only text keeps the text (an ONS
    label is read as one later); a code outside the value set is flagged."""
    for ext in _extensions(m.r, ETHNIC_EXTENSION):
        concept = ext.get("valueCodeableConcept")
        if not isinstance(concept, dict):
            continue
        code, _ = coding(concept)
        if code is None:
            text = concept.get("text")
            return text.strip() if isinstance(text, str) and text.strip() else None
        if code.upper() not in ethnicity.NHS_CODES:
            m.flag("extension", f"ethnic category '{code}' is not in the UK Core value set")
            return None
        return code.upper()
    return None


def _death_notification(m: Mapper) -> str | None:
    return _coded_extension(
        m, m.r, DEATH_EXTENSION, DEATH_NOTIFICATION_CODES, inner="deathNotificationStatus"
    )


def _interpreter(m: Mapper) -> str | None:
    """The language of a person who needs an interpreter ('required' if none named)."""
    needed = any(
        e.get("valueBoolean") is True
        for url in INTERPRETER_EXTENSIONS
        for e in _extensions(m.r, url)
    )
    for ext in _extensions(m.r, COMMUNICATION_EXTENSION):
        wants = any(e.get("valueBoolean") is True for e in _extensions(ext, "interpreterRequired"))
        if wants or needed:
            for part in _extensions(ext, "language"):
                code, _ = coding(part.get("valueCodeableConcept"), LANGUAGE_SYSTEM)
                if code:
                    return code
            needed = True
    for item in m.r.get("communication") or []:
        if needed and isinstance(item, dict):
            code, _ = coding(item.get("language"), LANGUAGE_SYSTEM)
            if code:
                return code
    return "required" if needed else None


def _practice(m: Mapper) -> str | None:
    """The practice's ODS code: by identifier, or by a reference to an Organization
    contained, in the same Bundle, conditional on its ODS code, or named by it."""
    gp = _first(m.r.get("generalPractitioner"))
    ident = gp.get("identifier")
    if isinstance(ident, dict) and ident.get("value"):
        return str(ident["value"])
    reference = gp.get("reference")
    if not isinstance(reference, str):
        return None
    if reference.startswith("#"):
        for contained in m.r.get("contained") or []:
            if isinstance(contained, dict) and contained.get("id") == reference[1:]:
                return _identifier(contained, ODS_SYSTEMS)
        return None
    if "identifier=" in reference:
        return reference.rsplit("|", 1)[-1] or None
    if "Organization/" not in reference and not reference.startswith("urn:uuid:"):
        return None  # a Practitioner: no practice to read
    key = m.bundled.key(reference)
    return m.bundled.organisations.get(key, key if not reference.startswith("urn:") else None)


def _encounter(m: Mapper) -> None:
    r = m.r
    subject = m.subject()
    cls = (r.get("class") or {}).get("code", "")
    period = _dict(r.get("period"))
    start, end = date_of(period.get("start")), date_of(period.get("end"))
    if not start:
        raise Rejected(
            "period.start", "the Encounter has no start date, so it has no place on the timeline"
        )
    priority = str(_first((r.get("priority") or {}).get("coding")).get("code", ""))
    activity, cost = _encounter_activity(m.sector, cls, priority, start, end)
    code, system = coding(r.get("reasonCode"))
    if code is None:
        code, system = coding(r.get("type"))
    m.event(
        record_key=subject,
        setting=SETTINGS.get(cls, cls or None),
        activity=activity,
        start_date=start,
        end_date=end,
        code=code,
        code_system=system,
        cost_gbp=cost,
    )


def _encounter_activity(
    sector: str, cls: str, priority: str, start: str, end: str | None
) -> tuple[str, float | None]:
    if sector == "general_practice":
        return "gp_appointment", cost_of("gp_appointment")
    if cls == "EMER":
        return "ed_attendance", cost_of("ed_attendance")
    if cls == "SS":
        return "elective_day_case", cost_of("elective_day_case")
    days = _days_between(start, end)
    if priority == "EM":
        return "emergency_admission", spell_cost("emergency_admission", days)
    return "elective_admission", spell_cost("elective_admission", days)


def _days_between(start: str, end: str | None) -> int:
    if not end:
        return 0
    try:
        return max((dt.date.fromisoformat(end) - dt.date.fromisoformat(start)).days, 0)
    except ValueError:
        return 0


def _coded_event(
    m: Mapper,
    activity: str,
    coded: tuple[str | None, str | None],
    start: str | None,
    subject_key: str = "subject",
    **more: Any,
) -> None:
    m.event(
        record_key=m.subject(subject_key),
        activity=activity,
        start_date=start,
        code=coded[0],
        code_system=coded[1],
        **more,
    )


def _condition(m: Mapper) -> None:
    r = m.r
    start = first_date(r, "onsetDateTime", "onsetPeriod", "recordedDate")
    _coded_event(
        m, "diagnosis", coding(r.get("code")), start, end_date=first_date(r, "abatementDateTime")
    )


def _observation(m: Mapper) -> None:
    """One event per Observation, or one per component (both blood pressures, each
    NEWS2 sub-score), each with its own code, value and unit."""
    r = m.r
    start = first_date(r, "effectiveDateTime", "effectivePeriod", "effectiveInstant", "issued")
    subject = m.subject()
    parts = [c for c in r.get("component") or [] if isinstance(c, dict)]
    if r.get("valueQuantity") or r.get("valueCodeableConcept") or not parts:
        _observed(m, subject, start, r, r.get("id"))
    for i, part in enumerate(parts):
        _observed(m, subject, start, part, f"{r.get('id')}/component/{i}")


def _observed(m: Mapper, subject: str, start: str | None, part: dict[str, Any], key: Any) -> None:
    code, system = coding(part.get("code"))
    quantity = _dict(part.get("valueQuantity"))
    value_code, value_system = coding(part.get("valueCodeableConcept"))
    value = quantity.get("value")
    if value is None and isinstance(part.get("valueInteger"), int):
        value = part["valueInteger"]
    m.event(
        event_key=key,
        record_key=subject,
        activity="observation",
        start_date=start,
        code=code,
        code_system=system,
        value=value if isinstance(value, int | float) and not isinstance(value, bool) else None,
        unit=quantity.get("unit") or quantity.get("code"),
        value_code=value_code,
        value_system=value_system,
    )


def _medicine(m: Mapper) -> tuple[Any, tuple[str | None, str | None]]:
    r = m.r
    concept = r.get("medicationCodeableConcept")
    if concept is not None:
        return concept, coding(concept)
    reference = r.get("medicationReference")
    if isinstance(reference, dict) and isinstance(reference.get("reference"), str):
        ref = reference["reference"]
        if ref.startswith("#"):
            for contained in r.get("contained") or []:
                if isinstance(contained, dict) and contained.get("id") == ref[1:]:
                    return None, coding(contained.get("code"))
        found = m.bundled.medications.get(m.bundled.key(ref))
        if found:
            return None, found
    return None, (None, None)


def _medication(m: Mapper) -> None:
    """A medicine taken (MedicationStatement) or prescribed (MedicationRequest), with
    the period it covers: a medicines list and polypharmacy counts read these."""
    r = m.r
    _, coded = _medicine(m)
    if r["resourceType"] == "MedicationStatement":
        period = _dict(r.get("effectivePeriod"))
        start = first_date(r, "effectiveDateTime", "effectivePeriod", "dateAsserted")
        end = date_of(period.get("end"))
    else:
        validity = (r.get("dispenseRequest") or {}).get("validityPeriod") or {}
        start = first_date(r, "authoredOn") or date_of(validity.get("start"))
        end = date_of(validity.get("end")) if isinstance(validity, dict) else None
    status = r.get("status")
    _coded_event(
        m,
        "medication",
        coded,
        start,
        setting=status if isinstance(status, str) else None,
        end_date=end,
    )


def _allergy(m: Mapper) -> None:
    r = m.r
    reaction = _first(r.get("reaction"))
    value_code, value_system = coding(_first(reaction.get("manifestation")))
    _coded_event(
        m,
        "allergy",
        coding(r.get("code")),
        first_date(r, "onsetDateTime", "onsetPeriod", "recordedDate"),
        "patient",
        value_code=value_code,
        value_system=value_system,
    )


def _procedure(m: Mapper) -> None:
    r = m.r
    start = first_date(r, "performedDateTime", "performedPeriod")
    period = _dict(r.get("performedPeriod"))
    _coded_event(m, "procedure", coding(r.get("code")), start, end_date=date_of(period.get("end")))


def _immunisation(m: Mapper) -> None:
    r = m.r
    activity = "immunisation_not_given" if r.get("status") == "not-done" else "immunisation"
    _coded_event(m, activity, coding(r.get("vaccineCode")), _immunised_on(r), "patient")


def _immunised_on(r: dict[str, Any]) -> str | None:
    return first_date(r, "occurrenceDateTime", "recorded")


def _related_person(m: Mapper) -> None:
    m.event(record_key=m.subject("patient"), activity="unpaid_carer_recorded")


def _flag(m: Mapper) -> None:
    m.event(record_key=m.subject(), activity="reasonable_adjustment_flag")


def _directory(m: Mapper) -> None:
    """An organisation or practitioner a partner names, for the directory."""
    r = m.r
    rtype = r["resourceType"]
    if not r.get("id"):
        raise Rejected("id", f"the {rtype} has no id, so nothing could refer to it")
    systems = (
        ODS_SYSTEMS
        if rtype == "Organization"
        else (
            "https://fhir.hl7.org.uk/Id/gmc-number",
            "https://fhir.hl7.org.uk/Id/nmc-number",
            "https://fhir.nhs.uk/Id/sds-user-id",
            "https://fhir.hl7.org.uk/Id/gmp-number",
        )
    )
    ident = next(
        (
            i
            for i in r.get("identifier") or []
            if isinstance(i, dict) and i.get("system") in systems and i.get("value")
        ),
        _first(r.get("identifier")),
    )
    if rtype == "Organization":
        name = r.get("name")
    else:
        person = _first(r.get("name"))
        given = " ".join(g for g in person.get("given") or [] if isinstance(g, str))
        prefix = " ".join(p for p in person.get("prefix") or [] if isinstance(p, str))
        name = " ".join(x for x in (prefix, given, person.get("family") or "") if x) or person.get(
            "text"
        )
    _append(
        m.rows.directory,
        line=m.place.line,
        entry=m.place.entry or None,
        kind="organisation" if rtype == "Organization" else "practitioner",
        resource_id=r["id"],
        identifier_system=ident.get("system"),
        identifier=ident.get("value"),
        name=name if isinstance(name, str) else None,
        active=r.get("active") if isinstance(r.get("active"), bool) else None,
    )


HANDLERS: dict[str, Callable[[Mapper], None]] = {
    "Patient": _patient,
    "Encounter": _encounter,
    "Condition": _condition,
    "Observation": _observation,
    "RelatedPerson": _related_person,
    "Flag": _flag,
    "MedicationStatement": _medication,
    "MedicationRequest": _medication,
    "AllergyIntolerance": _allergy,
    "Procedure": _procedure,
    "Immunization": _immunisation,
    "Organization": _directory,
    "Practitioner": _directory,
}
RESOURCE_TYPES = tuple(HANDLERS)
