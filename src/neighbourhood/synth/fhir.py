"""FHIR R4 (UK Core) resources as general practice and acute trusts send them.

Resources are written as compact JSON text straight from arrays: building
dictionaries and serialising them would be several times slower, and tests
validate every resource against fhir.resources' R4B models.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import orjson

from neighbourhood.synth import catalogue as cat
from neighbourhood.synth.activity import Events
from neighbourhood.synth.dates import format_days
from neighbourhood.synth.geography import Geography
from neighbourhood.synth.population import IntArray, Population
from neighbourhood.synth.records import SourceRecords, assign_events_to_records

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
SNOMED = "http://snomed.info/sct"
ETHNIC_EXTENSION = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory"
ETHNIC_SYSTEM = "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland"
PATIENT_PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ETHNIC_NOT_STATED_RATE = 0.08
_DISPLAYS = {c.code: c.display for c in cat.CONDITIONS} | {
    c.code: c.display
    for c in (
        cat.GP_CONSULTATION,
        cat.TELEPHONE_CONSULTATION,
        cat.HOME_VISIT,
        cat.ED_ATTENDANCE,
        cat.EMERGENCY_ADMISSION,
        cat.ELECTIVE_ADMISSION,
        *cat.FRAILTY_CODES.values(),
        *(d for d, _ in cat.FRAILTY_DEFICITS),
        cat.PALLIATIVE_CARE,
        cat.CARER,
        *cat.SMOKING_STATUS.values(),
    )
}


def _j(text: object) -> str:
    return orjson.dumps(str(text)).decode()


def _snomed(code: str) -> str:
    display = f',"display":{_j(_DISPLAYS[code])}' if code in _DISPLAYS else ""
    return f'{{"coding":[{{"system":"{SNOMED}","code":"{code}"{display}}}]}}'


def uuids(rng: np.random.Generator, n: int) -> list[str]:
    """Version-4-shaped identifiers, reproducible from the generator's state."""
    h = rng.bytes(16 * n).hex()
    return [
        f"{h[i : i + 8]}-{h[i + 8 : i + 12]}-4{h[i + 13 : i + 16]}-a{h[i + 17 : i + 20]}-{h[i + 20 : i + 32]}"
        for i in range(0, 32 * n, 32)
    ]


@dataclass
class FhirOutput:
    """Resources of one feed and chunk: the JSON text and the record each belongs to."""

    lines: dict[str, list[str]] = field(default_factory=dict)
    owner: dict[str, list[int]] = field(default_factory=dict)
    ids: dict[str, list[str]] = field(default_factory=dict)

    def add(self, rtype: str, owners: list[int], texts: list[str], ids: list[str]) -> None:
        if not len(texts) == len(owners) == len(ids):
            raise ValueError(f"{rtype}: every resource needs one owner and one id")
        self.lines.setdefault(rtype, []).extend(texts)
        self.owner.setdefault(rtype, []).extend(owners)
        self.ids.setdefault(rtype, []).extend(ids)


class FhirWriter:
    def __init__(
        self,
        geo: Geography,
        pop: Population,
        records: SourceRecords,
        rng: np.random.Generator,
        ods: str,
        reference_prefix: str,
    ) -> None:
        self.geo, self.pop, self.rec, self.rng = geo, pop, records, rng
        self.ods = ods
        self.ref = reference_prefix  # "Patient/" in bulk exports, "urn:uuid:" in Bundles
        self.patient_ids = uuids(rng, len(records))
        self.out = FhirOutput()

    def subject(self, record: int) -> str:
        prefix = "Patient/" if self.ref == "Patient/" else self.ref
        return f'{{"reference":"{prefix}{self.patient_ids[record]}"}}'

    # -- Patient ---------------------------------------------------------------
    def patients(self, practice_of: Callable[[int], str], with_deaths: bool) -> None:
        r, p, g = self.rec, self.pop, self.geo
        births = format_days(r.dob, "%Y-%m-%d")
        deaths = format_days(np.maximum(p.death_date[r.person], 0), "%Y-%m-%d")
        stated = self.rng.random(len(r)) >= ETHNIC_NOT_STATED_RATE
        texts = []
        for i in range(len(r)):
            person = int(r.person[i])
            lsoa = int(r.lsoa[i])
            parts = [
                f'{{"resourceType":"Patient","id":"{self.patient_ids[i]}",'
                f'"meta":{{"profile":["{PATIENT_PROFILE}"]}}'
            ]
            eth = cat.ETHNICITIES[int(p.ethnicity[person])]
            code, display = (eth.nhs_code, eth.label) if stated[i] else ("Z", "Not stated")
            parts.append(
                f',"extension":[{{"url":"{ETHNIC_EXTENSION}","valueCodeableConcept":'
                f'{{"coding":[{{"system":"{ETHNIC_SYSTEM}","code":"{code}",'
                f'"display":{_j(display)}}}]}}}}]'
            )
            ids = [
                f'{{"system":"https://fhir.example.org/{self.ods}/Id/patient","value":"{r.record_no[i]}"}}'
            ]
            if r.nhs_number[i]:
                ids.insert(0, f'{{"system":"{NHS_NUMBER_SYSTEM}","value":"{r.nhs_number[i]}"}}')
            parts.append(f',"identifier":[{",".join(ids)}]')
            given = f',"given":[{_j(r.given[i])}]' if r.given[i] else ""
            parts.append(f',"name":[{{"use":"official","family":{_j(r.family[i])}{given}}}]')
            parts.append(f',"gender":"{"female" if r.female[i] else "male"}"')
            birth = births[i]
            if r.malformed[i] == "impossible_date":
                birth = birth[:4] + "-02-31"
            if not r.dob_missing[i]:
                parts.append(f',"birthDate":"{birth}"')
            if with_deaths and p.death_date[person] >= 0:
                parts.append(f',"deceasedDateTime":"{deaths[i]}"')
            town = g.places[int(g.lsoa_place[lsoa])][1]
            postcode = f',"postalCode":"{r.postcode_text[i]}"' if r.postcode_text[i] else ""
            parts.append(
                f',"address":[{{"use":"home","line":[{_j(r.address_line[i])}],'
                f'"city":{_j(town)}{postcode}}}]'
            )
            parts.append(
                f',"generalPractitioner":[{{"type":"Organization","identifier":'
                f'{{"system":"{ODS_SYSTEM}","value":"{practice_of(person)}"}}}}]}}'
            )
            text = "".join(parts)
            if r.malformed[i] == "truncated":
                text = text[: len(text) // 2]
            texts.append(text)
        self.out.add("Patient", list(range(len(r))), texts, self.patient_ids)

    # -- Encounters ------------------------------------------------------------
    def encounters(self, events: Events, kind: str) -> None:
        if not len(events):
            return
        owner = assign_events_to_records(self.rec, events.person, self.rng).tolist()
        ids = uuids(self.rng, len(events))
        starts = format_days(events.start, "%Y-%m-%d")
        ends = format_days(events.end, "%Y-%m-%d")
        codes = events.code.tolist()
        values = events.value.tolist()
        provider = (
            f'"serviceProvider":{{"identifier":{{"system":"{ODS_SYSTEM}","value":"{self.ods}"}}}}'
        )
        texts = []
        for i, rec in enumerate(owner):
            cls, etype, extra = self._encounter_shape(kind, codes[i], values[i], starts[i], ends[i])
            reason = (
                f',"reasonCode":[{_snomed(codes[i])}]'
                if kind != "gp_appointment" and codes[i]
                else ""
            )
            texts.append(
                f'{{"resourceType":"Encounter","id":"{ids[i]}","status":"finished",'
                f'"class":{{"system":"{ACT_CODE}","code":"{cls}"}},"type":[{_snomed(etype)}],'
                f'"subject":{self.subject(rec)},"period":{{"start":"{starts[i]}","end":"{ends[i]}"}}'
                f"{reason}{extra},{provider}}}"
            )
        self.out.add("Encounter", owner, texts, ids)

    @staticmethod
    def _encounter_shape(
        kind: str, code: str, value: float, start: str, end: str
    ) -> tuple[str, str, str]:
        if kind == "gp_appointment":
            return ("HH" if code == cat.HOME_VISIT.code else "AMB"), code, ""
        if kind == "ed_attendance":
            return "EMER", cat.ED_ATTENDANCE.code, ""
        priority = "EM" if kind == "emergency_admission" else "EL"
        disposition = "exp" if kind == "emergency_admission" and value == 1 else "home"
        extra = (
            f',"priority":{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/'
            f'v3-ActPriority","code":"{priority}"}}]}},"hospitalization":{{"dischargeDisposition":'
            f'{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/discharge-disposition",'
            f'"code":"{disposition}"}}]}}}}'
        )
        if kind == "elective_admission":
            return ("SS" if value == 1 else "IMP"), cat.ELECTIVE_ADMISSION.code, extra
        return "IMP", cat.EMERGENCY_ADMISSION.code, extra

    # -- Conditions and observations ----------------------------------------------
    def conditions(self, end: int) -> None:
        """Problems coded in the GP record: conditions, frailty, deficits, palliative care, carers."""
        r, p = self.rec, self.pop
        primary = np.flatnonzero(~r.duplicate)
        owners: list[int] = []
        codes: list[str] = []
        dates: list[int] = []
        person_rows = r.person[primary]
        for c_index, condition in enumerate(cat.CONDITIONS):
            onset = p.onset[person_rows, c_index]
            hit = onset >= 0
            owners += primary[hit].tolist()
            codes += [condition.code] * int(hit.sum())
            dates += onset[hit].tolist()
        span = end - np.maximum(p.dob[person_rows], end - 1095)
        for level, concept in (
            (1, cat.FRAILTY_CODES["mild"]),
            (2, cat.FRAILTY_CODES["moderate"]),
            (3, cat.FRAILTY_CODES["severe"]),
        ):
            hit = p.frailty_coded[person_rows] & (p.frailty[person_rows] == level)
            owners += primary[hit].tolist()
            codes += [concept.code] * int(hit.sum())
            dates += (end - (self.rng.random(int(hit.sum())) * span[hit]).astype(np.int64)).tolist()
        for d_index, (concept, _share) in enumerate(cat.FRAILTY_DEFICITS):
            hit = p.deficits[person_rows, d_index]
            owners += primary[hit].tolist()
            codes += [concept.code] * int(hit.sum())
            dates += (
                end - (self.rng.random(int(hit.sum())) * span[hit] * 2).astype(np.int64)
            ).tolist()
        pal = p.palliative_date[person_rows] >= 0
        owners += primary[pal].tolist()
        codes += [cat.PALLIATIVE_CARE.code] * int(pal.sum())
        dates += p.palliative_date[person_rows][pal].tolist()
        is_carer = np.isin(person_rows, p.carers[:, 0])
        owners += primary[is_carer].tolist()
        codes += [cat.CARER.code] * int(is_carer.sum())
        dates += (end - (self.rng.random(int(is_carer.sum())) * 700).astype(np.int64)).tolist()
        self._write_conditions(
            owners, codes, np.maximum(np.array(dates, dtype=np.int64), p.dob[r.person[owners]])
        )

    def _write_conditions(self, owners: list[int], codes: list[str], dates: IntArray) -> None:
        ids = uuids(self.rng, len(owners))
        when = format_days(dates, "%Y-%m-%d")
        texts = [
            f'{{"resourceType":"Condition","id":"{ids[i]}","clinicalStatus":{{"coding":[{{"system":'
            f'"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}}]}},'
            f'"verificationStatus":{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/'
            f'condition-ver-status","code":"confirmed"}}]}},"category":[{{"coding":[{{"system":'
            f'"http://terminology.hl7.org/CodeSystem/condition-category","code":"problem-list-item"}}]}}],'
            f'"code":{_snomed(codes[i])},"subject":{self.subject(owners[i])},'
            f'"onsetDateTime":"{when[i]}","recordedDate":"{when[i]}"}}'
            for i in range(len(owners))
        ]
        self.out.add("Condition", owners, texts, ids)

    def observations(self, events: dict[str, Events]) -> None:
        groups: tuple[tuple[str, str, Callable[[float], tuple[str, str]]], ...] = (
            ("gp_bmi", "vital-signs", lambda v: (cat.BMI.code, _quantity(v, "kg/m2"))),
            (
                "gp_blood_pressure",
                "vital-signs",
                lambda v: (cat.SYSTOLIC_BP.code, _quantity(v, "mm[Hg]")),
            ),
            (
                "gp_smoking_status",
                "social-history",
                lambda v: (cat.SMOKING_STATUS[("never", "ex", "current")[int(v)]].code, ""),
            ),
        )
        for kind, category, shape in groups:
            ev = events[kind]
            owner = assign_events_to_records(self.rec, ev.person, self.rng).tolist()
            ids = uuids(self.rng, len(ev))
            when = format_days(ev.start, "%Y-%m-%d")
            values = ev.value.tolist()
            texts = []
            for i, rec in enumerate(owner):
                code, value = shape(values[i])
                texts.append(
                    f'{{"resourceType":"Observation","id":"{ids[i]}","status":"final","category":'
                    f'[{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/observation-category",'
                    f'"code":"{category}"}}]}}],"code":{_snomed(code)},"subject":{self.subject(rec)},'
                    f'"effectiveDateTime":"{when[i]}"{value}}}'
                )
            self.out.add("Observation", owner, texts, ids)

    def carers_and_flags(self) -> None:
        r, p = self.rec, self.pop
        primary = {
            int(person): i for i, person in enumerate(r.person.tolist()) if not r.duplicate[i]
        }
        owners, texts, used = [], [], []
        ids = uuids(self.rng, len(p.carers))
        births = format_days(p.dob[p.carers[:, 0]], "%Y-%m-%d") if len(p.carers) else []
        for k, (carer, cared) in enumerate(p.carers.tolist()):
            if cared not in primary:
                continue
            owners.append(primary[cared])
            used.append(ids[k])
            texts.append(
                f'{{"resourceType":"RelatedPerson","id":"{ids[k]}","identifier":[{{"system":'
                f'"{NHS_NUMBER_SYSTEM}","value":"{p.nhs_number[carer]}"}}],"active":true,'
                f'"patient":{self.subject(primary[cared])},"relationship":[{{"text":"Unpaid carer"}}],'
                f'"name":[{{"family":{_j(p.family[carer])},"given":[{_j(p.given[carer])}]}}],'
                f'"birthDate":"{births[k]}"}}'
            )
        self.out.add("RelatedPerson", owners, texts, used)
        flagged = [i for person, i in primary.items() if p.reasonable_adjustment[person]]
        flag_ids = uuids(self.rng, len(flagged))
        self.out.add(
            "Flag",
            flagged,
            [
                f'{{"resourceType":"Flag","id":"{flag_ids[k]}","status":"active","category":[{{"coding":'
                f'[{{"system":"http://terminology.hl7.org/CodeSystem/flag-category","code":"clinical"}}]}}],'
                f'"code":{{"text":"National Reasonable Adjustments Flag"}},"subject":{self.subject(i)}}}'
                for k, i in enumerate(flagged)
            ],
            flag_ids,
        )


def _quantity(value: float, unit: str) -> str:
    return (
        f',"valueQuantity":{{"value":{value:g},"unit":"{unit}",'
        f'"system":"http://unitsofmeasure.org","code":"{unit}"}}'
    )


def bundles(
    output: FhirOutput, rng: np.random.Generator, per_bundle: int, timestamp: str
) -> list[str]:
    """Resources grouped by patient into collection Bundles of ``per_bundle`` patients."""
    owners = np.array([o for rtype in output.lines for o in output.owner[rtype]], dtype=np.int64)
    entries = [
        f'{{"fullUrl":"urn:uuid:{rid}","resource":{text}}}'
        for rtype, lines in output.lines.items()
        for rid, text in zip(output.ids[rtype], lines, strict=True)
    ]
    order = np.argsort(owners, kind="stable")
    group = owners[order] // per_bundle
    bounds = np.flatnonzero(np.diff(group)) + 1
    out = []
    ids = uuids(rng, len(bounds) + 1)
    for k, chunk in enumerate(np.split(order, bounds) if len(order) else []):
        body = ",".join([entries[i] for i in chunk.tolist()])
        out.append(
            f'{{"resourceType":"Bundle","id":"{ids[k]}","type":"collection",'
            f'"timestamp":"{timestamp}","entry":[{body}]}}'
        )
    return out
