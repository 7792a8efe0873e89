"""Urgent community response and virtual ward activity, in the shape of the Community
Services Data Set (CSDS) fields a provider submits: one CSV of referrals with their first
care contact, and one of virtual ward stays. Every column is described, with its source
and whether its values are national codes, in docs/reference/csds-returns.md.

The files are identifiable, as a CSDS submission is: they leave only through the
provider's own submission route. Writing them is on the audit trail, with the period and
the number of people, never who they are.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils import timezone

from neighbourhood.care import published
from neighbourhood.care.audit.chain import record
from neighbourhood.care.urgent.models import UCR_NEEDS, Call, Response, Stay
from neighbourhood.errors import UserError

# PERSON STATED GENDER CODE (NHS Data Dictionary)
GENDER = {"male": "1", "female": "2", "indeterminate": "9"}
NOT_KNOWN_GENDER = "X"
URGENT = "2"  # PRIORITY TYPE CODE: 1 routine, 2 urgent, 3 two week wait
ATTENDED = "5"  # ATTENDED OR DID NOT ATTEND: 5 attended on time (or seen before ready)

UCR_COLUMNS = [
    "OrgID_Provider",
    "LocalPatientId",
    "NHSNumber",
    "PersonBirthDate",
    "Gender",
    "EthnicCategory",
    "Postcode",
    "OrgID_GP",
    "ServiceRequestId",
    "ReferralRequestReceivedDate",
    "ReferralRequestReceivedTime",
    "SourceOfReferral_Local",
    "PriorityTypeCode",
    "PrimaryReasonForReferral_Local",
    "UCRCondition",
    "TeamType_Local",
    "TeamName",
    "CareContactId",
    "CareContDate",
    "CareContTime",
    "AttendOrDNACode",
    "MinutesToFirstContact",
    "WithinTwoHours",
    "InStandardHours",
    "LateReason",
    "ServDischDate",
    "OutcomeAfterVisit_Local",
]
VW_COLUMNS = [
    "OrgID_Provider",
    "LocalPatientId",
    "NHSNumber",
    "PersonBirthDate",
    "Gender",
    "EthnicCategory",
    "Postcode",
    "OrgID_GP",
    "ServiceRequestId",
    "VirtualWardName",
    "VirtualWardPathway_Local",
    "Route_Local",
    "AdmissionDate",
    "AdmissionTime",
    "DischargeDate",
    "DischargeTime",
    "DischargeOutcome_Local",
    "LengthOfStayDays",
    "ObservationSets",
    "HighestNEWS2",
    "SourceServiceRequestId",
]


@dataclass(frozen=True)
class Written:
    responses: int
    stays: int
    files: tuple[Path, Path]


def _local(at: dt.datetime | None) -> tuple[str, str]:
    if at is None:
        return "", ""
    at = timezone.localtime(at)
    return at.date().isoformat(), f"{at:%H:%M:%S}"


def _person(person_id: str, people: dict[str, dict[str, Any]]) -> dict[str, str]:
    p = people.get(person_id) or {}
    born = p.get("date_of_birth")
    return {
        "LocalPatientId": person_id,
        "NHSNumber": str(p.get("nhs_number") or ""),
        "PersonBirthDate": born.isoformat() if born else "",
        "Gender": GENDER.get(str(p.get("sex") or "").lower(), NOT_KNOWN_GENDER) if p else "",
        "EthnicCategory": str(p.get("ethnicity") or ""),
        "Postcode": str(p.get("postcode") or ""),
        "OrgID_GP": str(p.get("practice") or ""),
    }


def _window(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    if end < start:
        raise UserError(f"the period ends ({end}) before it starts ({start})")
    zone = timezone.get_current_timezone()
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=zone),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone),
    )


def ucr_rows(start: dt.date, end: dt.date) -> list[dict[str, str]]:
    """Urgent community response referrals received in the period (inclusive)."""
    since, until = _window(start, end)
    found = list(
        Response.objects.filter(received_at__gte=since, received_at__lt=until)
        .select_related("call__organisation", "team")
        .order_by("received_at", "pk")
    )
    people = published.for_returns(sorted({r.person_id for r in found if r.person_id}))
    rows = []
    for r in found:
        call: Call = r.call
        received_date, received_time = _local(r.received_at)
        contact_date, contact_time = _local(r.visited_at)
        minutes = r.minutes_to_visit()
        rows.append(
            {
                "OrgID_Provider": call.organisation.ods_code,
                **_person(r.person_id, people),
                "ServiceRequestId": r.reference,
                "ReferralRequestReceivedDate": received_date,
                "ReferralRequestReceivedTime": received_time,
                "SourceOfReferral_Local": call.source,
                "PriorityTypeCode": URGENT,
                "PrimaryReasonForReferral_Local": call.need,
                "UCRCondition": "Y" if call.need in UCR_NEEDS else "N",
                "TeamType_Local": "urgent_community_response",
                "TeamName": r.team.name,
                "CareContactId": f"{r.reference}-1" if r.visited_at else "",
                "CareContDate": contact_date,
                "CareContTime": contact_time,
                "AttendOrDNACode": ATTENDED if r.visited_at else "",
                "MinutesToFirstContact": "" if minutes is None else str(minutes),
                "WithinTwoHours": "" if minutes is None else ("Y" if r.on_time() else "N"),
                "InStandardHours": "Y" if r.in_hours else "N",
                "LateReason": r.late_reason,
                "ServDischDate": _local(r.closed_at)[0],
                "OutcomeAfterVisit_Local": r.after,
            }
        )
    return rows


def ward_rows(start: dt.date, end: dt.date) -> list[dict[str, str]]:
    """Virtual ward stays open at any time in the period."""
    since, until = _window(start, end)
    found = list(
        Stay.objects.filter(admitted_at__lt=until)
        .exclude(discharged_at__lt=since)
        .select_related("ward__organisation", "call")
        .prefetch_related("observations")
        .order_by("admitted_at", "pk")
    )
    people = published.for_returns(sorted({s.person_id for s in found}))
    rows = []
    for s in found:
        admitted_date, admitted_time = _local(s.admitted_at)
        discharged_date, discharged_time = _local(s.discharged_at)
        scores = [o.news2 for o in s.observations.all()]
        days = (
            (
                timezone.localtime(s.discharged_at).date()
                - timezone.localtime(s.admitted_at).date()
            ).days
            if s.discharged_at
            else None
        )
        rows.append(
            {
                "OrgID_Provider": s.ward.organisation.ods_code,
                **_person(s.person_id, people),
                "ServiceRequestId": s.reference,
                "VirtualWardName": s.ward.name,
                "VirtualWardPathway_Local": s.ward.pathway,
                "Route_Local": s.route,
                "AdmissionDate": admitted_date,
                "AdmissionTime": admitted_time,
                "DischargeDate": discharged_date,
                "DischargeTime": discharged_time,
                "DischargeOutcome_Local": s.discharge,
                "LengthOfStayDays": "" if days is None else str(days),
                "ObservationSets": str(len(scores)),
                "HighestNEWS2": str(max(scores)) if scores else "",
                "SourceServiceRequestId": s.call.reference if s.call else "",
            }
        )
    return rows


def write(folder: Path, start: dt.date, end: dt.date, by: str) -> Written:
    """Both files into ``folder`` (made if need be), all or nothing."""
    ucr, wards = ucr_rows(start, end), ward_rows(start, end)
    paths = (
        folder / f"csds-urgent-community-response-{start}-{end}.csv",
        folder / f"csds-virtual-wards-{start}-{end}.csv",
    )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path, columns, rows in ((paths[0], UCR_COLUMNS, ucr), (paths[1], VW_COLUMNS, wards)):
            part = path.with_suffix(".csv.part")
            with part.open("w", newline="", encoding="utf-8") as out:
                writer = csv.DictWriter(out, fieldnames=columns)
                writer.writeheader()
                writer.writerows(rows)
            part.replace(path)
    except OSError as error:
        raise UserError(
            f"cannot write the returns into {folder}: {error.strerror or error}"
        ) from None
    record(
        by,
        "export_csds",
        reason=f"CSDS returns {start} to {end}",
        detail={"responses": len(ucr), "stays": len(wards)},
    )
    return Written(len(ucr), len(wards), paths)
