"""The synthetic ICS's staff: every partner's workforce extract, in its own shape.

Staffing per neighbourhood of 50,000 people is a rough INT's (community nursing and
therapy from the community trust, mental health practitioners, a frailty practitioner from
the acute trust, each practice's GPs, nurses and admin, the PCN's Additional Roles, the
council's social workers and assessors, the VCFSE's link workers and volunteers), scaled to
the neighbourhood's size; about one post in twelve is vacant. Written from its own random
stream, so the people and their records do not change when the staffing does.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from neighbourhood.synth.geography import Geography, Organisation

NEIGHBOURHOOD = 50_000
VACANT = 0.08
# (kind of employer, role as the partner calls it, people per 50,000, band, FTE or hours,
#  INT share, skills)
TRUST_POSTS = {
    "community_trust": (
        ("District Nurse", 10, "6", 1.0, 1.0, "Wound care;Catheter care;Insulin administration"),
        ("Community Nurse", 6, "5", 1.0, 1.0, "Wound care;Insulin administration"),
        ("Community Matron", 2, "8a", 1.0, 1.0, "Urgent assessment;Prescribing;Falls assessment"),
        ("Nursing Associate", 3, "4", 1.0, 1.0, "Wound care"),
        ("Healthcare Assistant", 5, "3", 1.0, 1.0, "Personal care"),
        ("Physiotherapist", 3, "6", 1.0, 1.0, "Falls assessment"),
        ("Occupational Therapist", 2, "6", 1.0, 1.0, "Falls assessment"),
        ("Therapy Assistant", 2, "3", 1.0, 1.0, ""),
        ("Administrator", 2, "3", 1.0, 1.0, ""),
    ),
    "mental_health_trust": (
        ("Community Psychiatric Nurse", 4, "6", 1.0, 1.0, "Mental health assessment"),
        ("Mental Health Practitioner", 3, "5", 1.0, 1.0, "Mental health assessment"),
        ("Clinical Psychologist", 1, "8a", 0.8, 0.5, "Mental health assessment"),
    ),
    "acute_trust": (
        ("Advanced Clinical Practitioner", 2, "8a", 1.0, 0.5, "Urgent assessment;Prescribing"),
    ),
}
TRUST_STAFF_GROUP = {
    "District Nurse": ("Nursing and Midwifery Registered", "N1C"),
    "Community Nurse": ("Nursing and Midwifery Registered", "N1C"),
    "Community Matron": ("Nursing and Midwifery Registered", "N0C"),
    "Nursing Associate": ("Additional Clinical Services", "H1Z"),
    "Healthcare Assistant": ("Additional Clinical Services", "H1C"),
    "Physiotherapist": ("Allied Health Professionals", "S2P"),
    "Occupational Therapist": ("Allied Health Professionals", "S2O"),
    "Therapy Assistant": ("Additional Clinical Services", "H2P"),
    "Administrator": ("Administrative and Clerical", "G2C"),
    "Community Psychiatric Nurse": ("Nursing and Midwifery Registered", "N4C"),
    "Mental Health Practitioner": ("Additional Professional Scientific and Technic", "S7C"),
    "Clinical Psychologist": ("Additional Professional Scientific and Technic", "S7P"),
    "Advanced Clinical Practitioner": ("Nursing and Midwifery Registered", "N0A"),
}
# Per practice of about 9,000 people: (staff group, role, people, weekly hours, INT share,
# skills); then the PCN's Additional Roles, per 50,000.
PRACTICE_POSTS = (
    ("GP", "GP Partner", 3, 30.0, 1.0, "Prescribing;Medication review;End-of-life care"),
    ("GP", "Salaried GP", 2, 26.0, 1.0, "Prescribing;Medication review"),
    ("Nurses", "Practice Nurse", 2, 30.0, 1.0, "Wound care;Insulin administration"),
    ("Nurses", "Advanced Nurse Practitioner", 1, 37.5, 1.0, "Prescribing;Urgent assessment"),
    ("Direct Patient Care", "Healthcare Assistant", 2, 30.0, 1.0, ""),
    ("Admin/Non-Clinical", "Receptionist", 5, 25.0, 0.0, ""),
    ("Admin/Non-Clinical", "Practice Manager", 1, 37.5, 0.1, ""),
)
ARRS_POSTS = (
    ("Clinical Pharmacist", 3, 37.5, 0.5, "Medication review;Prescribing"),
    ("Social Prescribing Link Worker", 3, 37.5, 1.0, "Social prescribing"),
    ("Care Coordinator", 3, 37.5, 1.0, ""),
    ("Paramedic", 2, 37.5, 0.8, "Urgent assessment"),
    ("First Contact Physiotherapist", 2, 37.5, 0.3, "Falls assessment"),
    ("Health and Wellbeing Coach", 1, 37.5, 1.0, "Social prescribing"),
    ("Mental Health Practitioner", 1, 37.5, 1.0, "Mental health assessment"),
)
# ASC-WDS main job role codes: (code, people per 50,000, contracted hours, INT share, skills)
COUNCIL_POSTS = (
    ("6", 5, 37.0, 1.0, "Social work assessment"),
    ("39", 3, 37.0, 1.0, "Social work assessment"),
    ("15", 2, 37.0, 1.0, "Falls assessment"),
    ("40", 1, 37.0, 1.0, ""),
    ("8", 20, 30.0, 0.3, "Personal care"),
    ("3", 1, 37.0, 0.5, ""),
)
# VCFSE: (role, people per 50,000 per organisation, hours, paid, INT share, skills)
VCFSE_POSTS = (
    ("Link Worker", 1, 30.0, "Paid", 1.0, "Social prescribing"),
    ("Community Connector", 1, 22.5, "Paid", 1.0, "Social prescribing"),
    ("Befriender", 5, 4.0, "Volunteer", 1.0, ""),
)
NHS_HEADER = [
    "Employee Number",
    "Position Number",
    "Organisation Code",
    "Team",
    "Base",
    "Occupation Code",
    "Staff Group",
    "Job Role",
    "AfC Band",
    "FTE",
    "Contract Type",
    "INT Share",
    "Skills",
    "Vacancy",
    "Cost Centre",  # partners send more than the map reads
]
GP_HEADER = [
    "Practice Code",
    "PCN Code",
    "Staff ID",
    "Staff Group",
    "Staff Role",
    "ARRS",
    "Contracted Hours",
    "INT Share",
    "Skills",
    "Vacancy",
]
ASC_HEADER = [
    "LOCALESTID",
    "UNIQUEWORKERID",
    "MAINJOBROLE",
    "EMPLSTATUS",
    "ZEROHRCONT",
    "CONTHOURS",
    "AVGHOURS",
    "TEAM",
    "INTSHARE",
    "SKILLS",
    "VACANCY",
]
VCFSE_HEADER = [
    "Organisation Code",
    "Person Ref",
    "Role",
    "Paid or Volunteer",
    "Hours per Week",
    "Neighbourhood",
    "INT Share",
    "Skills",
    "Vacancy",
]
# Each extract's source: (source id, sector, format, folder).
SOURCES = (
    ("workforce-community", "community", "workforce-nhs-csv", "community"),
    ("workforce-mental-health", "mental_health", "workforce-nhs-csv", "mental_health"),
    ("workforce-acute", "acute", "workforce-nhs-csv", "acute"),
    ("workforce-general-practice", "general_practice", "workforce-gp-csv", "general_practice"),
    ("workforce-social-care", "social_care", "workforce-asc-csv", "social_care"),
    ("workforce-vcfse", "vcfse", "workforce-vcfse-csv", "vcfse"),
)


def _count(per_50k: int, scale: float) -> int:
    """Posts for a neighbourhood of this scale: at least one of each, however small."""
    return max(1, round(per_50k * scale))


def write_workforce(geo: Geography, people: int, seed: int, out: Path) -> dict[str, int]:
    """Write each partner's extract under ``out/workforce/``; rows written per source."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7]))
    per_neigh = people / len(geo.neighbourhoods)
    scale = per_neigh / NEIGHBOURHOOD
    files: dict[tuple[str, str], list[list[str]]] = {}
    serial = iter(range(1, 10**9))

    def add(folder: str, employer: str, header: list[str], row: list[str]) -> None:
        files.setdefault((folder, employer), [header]).append(row)

    def posts(per_50k: int, size: float, ever_vacant: bool = True) -> Iterator[tuple[bool, int]]:
        """Each post of a kind: whether it is vacant, and its serial number."""
        for _ in range(_count(per_50k, size)):
            yield ever_vacant and bool(rng.random() < VACANT), next(serial)

    for n, (_code, _name, place) in enumerate(geo.neighbourhoods):
        code = f"ZU{n + 1:04d}"  # the team is the neighbourhood's, named by its PCN's code
        for kind, trust_posts in TRUST_POSTS.items():
            trust = geo.trust_for_place(kind, place)
            folder = kind.removesuffix("_trust")
            for role, per, band, fte, share, skills in trust_posts:
                group, occupation = TRUST_STAFF_GROUP[role]
                for empty, k in posts(per, scale):
                    add(
                        folder,
                        trust.ods_code,
                        NHS_HEADER,
                        [
                            "" if empty else f"{trust.ods_code}-E{k:06d}",
                            f"{trust.ods_code}-P{k:06d}",
                            trust.ods_code,
                            code,
                            f"{_name} Health Centre",
                            occupation,
                            group,
                            role,
                            band,
                            f"{fte if rng.random() < 0.7 else round(fte * 0.8, 2):g}",
                            "Permanent" if rng.random() < 0.9 else "Fixed Term",
                            f"{share:g}",
                            skills,
                            "Y" if empty else "N",
                            f"CC{n + 1:04d}",
                        ],
                    )
        practices: list[Organisation] = [
            geo.organisations[i] for i in geo.practices_by_neighbourhood[n]
        ]
        practice_scale = per_neigh / max(len(practices), 1) / 9_000
        for practice in practices:
            for group, role, per, hours, share, skills in PRACTICE_POSTS:
                for empty, k in posts(per, practice_scale):
                    worked = hours if rng.random() < 0.6 else round(hours * 0.8 * 2) / 2
                    add(
                        "general_practice",
                        code,
                        GP_HEADER,
                        [
                            practice.ods_code,
                            code,
                            "" if empty else f"S{k:07d}",
                            group,
                            role,
                            "N",
                            f"{worked:g}",
                            f"{share:g}",
                            skills,
                            "Y" if empty else "N",
                        ],
                    )
        host = practices[0].ods_code if practices else code
        for role, per, hours, share, skills in ARRS_POSTS:
            for empty, k in posts(per, scale):
                add(
                    "general_practice",
                    code,
                    GP_HEADER,
                    [
                        host,
                        code,
                        "" if empty else f"S{k:07d}",
                        "Direct Patient Care",
                        role,
                        "Y",
                        f"{hours:g}",
                        f"{share:g}",
                        skills,
                        "Y" if empty else "N",
                    ],
                )
        council = geo.places[place][0]
        for job, per, hours, share, skills in COUNCIL_POSTS:
            for empty, k in posts(per, scale):
                zero = job == "8" and rng.random() < 0.3
                add(
                    "social_care",
                    council,
                    ASC_HEADER,
                    [
                        council,
                        "" if empty else f"W{k:07d}",
                        job,
                        "1" if rng.random() < 0.85 else "3",
                        "1" if zero else "0",
                        "0" if zero else f"{hours:g}",
                        f"{hours * 0.7:g}" if zero else "",
                        code,
                        f"{share:g}",
                        skills,
                        "1" if empty else "0",
                    ],
                )
        for org in (o for o in geo.orgs("vcfse") if o.place == council):
            for role, per, hours, paid, share, skills in VCFSE_POSTS:
                for _, k in posts(per, scale / 3, ever_vacant=False):
                    add(
                        "vcfse",
                        org.ods_code,
                        VCFSE_HEADER,
                        [
                            org.ods_code,
                            f"V{k:07d}",
                            role,
                            paid,
                            f"{hours:g}",
                            code,
                            f"{share:g}",
                            skills,
                            "N",
                        ],
                    )
    written: dict[str, int] = {}
    for (folder, employer), rows in sorted(files.items()):
        path = out / "workforce" / folder / f"{employer}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows(rows)
        path.write_text(buffer.getvalue(), encoding="utf-8")
        source = next(s[0] for s in SOURCES if s[3] == folder)
        written[source] = written.get(source, 0) + len(rows) - 1
    return written
