"""The partners' feeds: who sends what, in which format, with which columns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from neighbourhood.registry import Agreement, CsvSpec, Source
from neighbourhood.synth.geography import Geography
from neighbourhood.synth.workforce import SOURCES as WORKFORCE_SOURCES

FHIR_NDJSON = "fhir-ndjson"
FHIR_BUNDLE = "fhir-bundle"
CSV = "csv"


@dataclass(frozen=True)
class CsvLayout:
    """How one partner writes its CSV extract: files, columns, dates, codes."""

    people_file: str
    events_file: str
    people_columns: tuple[tuple[str, str], ...]  # (role, header)
    event_columns: tuple[tuple[str, str], ...]
    date_format: str  # strftime format of dates of birth
    event_date_format: str
    delimiter: str = ","
    encoding: str = "utf-8"
    sex_codes: tuple[str, str] = ("M", "F")  # (male, female)
    nhs_number_style: str = "plain"  # or "spaced": 999 123 4567
    ethnicity_style: str = "nhs_code"  # or "label" (ONS 2021 wording)

    def describe(self) -> dict[str, Any]:
        return {
            "people_file": self.people_file,
            "events_file": self.events_file,
            "delimiter": self.delimiter,
            "encoding": self.encoding,
            "date_format": self.date_format,
            "event_date_format": self.event_date_format,
            "sex_codes": {"male": self.sex_codes[0], "female": self.sex_codes[1]},
            "nhs_number_style": self.nhs_number_style,
            "ethnicity_style": self.ethnicity_style,
            "people_columns": dict(self.people_columns),
            "event_columns": dict(self.event_columns),
        }


LAYOUTS: dict[str, CsvLayout] = {
    "community": CsvLayout(
        "patients.csv",
        "contacts.csv",
        (
            ("local_id", "Patient_ID"),
            ("nhs_number", "NHS_No"),
            ("given", "Forename"),
            ("family", "Surname"),
            ("dob", "DOB"),
            ("sex", "Gender"),
            ("address", "Address_Line_1"),
            ("postcode", "Postcode"),
            ("ethnicity", "Ethnicity"),
            ("practice", "GP_Practice_Code"),
        ),
        (
            ("event_id", "Contact_ID"),
            ("local_id", "Patient_ID"),
            ("date", "Contact_Date"),
            ("service", "Team"),
            ("code", "Activity_SNOMED"),
            ("detail", "Contact_Mode"),
        ),
        "%d/%m/%Y",
        "%d/%m/%Y",
    ),
    "mental_health": CsvLayout(
        "clients.csv",
        "care_contacts.csv",
        (
            ("local_id", "ClientID"),
            ("nhs_number", "NHSNumber"),
            ("given", "GivenName"),
            ("family", "FamilyName"),
            ("dob", "BirthDate"),
            ("sex", "Sex"),
            ("postcode", "PostCode"),
            ("ethnicity", "EthnicCategory"),
        ),
        (
            ("event_id", "CareContactID"),
            ("local_id", "ClientID"),
            ("date", "CareContDate"),
            ("service", "ServiceType"),
            ("code", "PrimaryDiagnosisSNOMED"),
        ),
        "%Y-%m-%d",
        "%Y-%m-%d",
        sex_codes=("1", "2"),
    ),
    "social_care": CsvLayout(
        "people.csv",
        "events.csv",
        (
            ("local_id", "Person ID"),
            ("nhs_number", "NHS Number"),
            ("given", "First Name"),
            ("family", "Last Name"),
            ("dob", "Date of Birth"),
            ("sex", "Gender"),
            ("address", "Address"),
            ("locality", "Town"),
            ("postcode", "Postcode"),
            ("ethnicity", "Ethnicity"),
            ("has_carer", "Has Unpaid Carer"),
        ),
        (
            ("event_id", "Event ID"),
            ("local_id", "Person ID"),
            ("activity", "Event Type"),
            ("date", "Start Date"),
            ("end_date", "End Date"),
            ("hours", "Weekly Hours"),
            ("service", "Service"),
        ),
        "%d/%m/%Y",
        "%d/%m/%Y",
        encoding="utf-8-sig",
        sex_codes=("Male", "Female"),
        nhs_number_style="spaced",
        ethnicity_style="label",
    ),
    "public_health": CsvLayout(
        "residents.csv",
        "measures.csv",
        (
            ("local_id", "pid"),
            ("nhs_number", "nhs_number"),
            ("given", "forename"),
            ("family", "surname"),
            ("dob", "dob"),
            ("sex", "sex"),
            ("postcode", "postcode"),
        ),
        (
            ("event_id", "record_id"),
            ("local_id", "pid"),
            ("date", "measure_date"),
            ("service", "service"),
            ("code", "snomed_code"),
            ("value", "value"),
            ("unit", "unit"),
        ),
        "%Y%m%d",
        "%Y%m%d",
        delimiter="|",
        sex_codes=("m", "f"),
    ),
    "vcfse": CsvLayout(
        "referrals_people.csv",
        "referrals_activity.csv",
        (
            ("local_id", "Ref"),
            ("full_name", "Full Name"),
            ("dob", "Date of Birth"),
            ("address", "Address Line 1"),
            ("postcode", "Postcode"),
            ("nhs_number", "NHS Number (if known)"),
        ),
        (
            ("event_id", "Contact No"),
            ("local_id", "Ref"),
            ("date", "Date"),
            ("activity", "Activity"),
            ("code", "SNOMED"),
        ),
        "%d/%m/%Y",
        "%d/%m/%y",
    ),
}
# Which activities each sector's partners record.
SECTOR_ACTIVITIES: dict[str, tuple[str, ...]] = {
    "general_practice": ("gp_appointment", "gp_smoking_status", "gp_bmi", "gp_blood_pressure"),
    "acute": ("ed_attendance", "emergency_admission", "elective_admission"),
    "community": ("district_nursing_visit", "therapy_contact"),
    "mental_health": ("mental_health_contact", "talking_therapy_session"),
    "social_care": (
        "social_care_assessment",
        "social_care_review",
        "home_care_package",
        "care_home_admission",
    ),
    "public_health": ("health_check", "smoking_cessation_episode"),
    "vcfse": ("social_prescribing_contact",),
}


@dataclass(frozen=True)
class Feed:
    feed_id: str
    partner_ods: str
    partner_name: str
    sector: str
    format: str
    places: tuple[int, ...]  # place indices whose residents (or practices) it covers
    gp_system: str = ""
    salt: int = 0
    practices: tuple[str, ...] = field(default=())

    @property
    def layout(self) -> CsvLayout | None:
        return LAYOUTS.get(self.sector) if self.format == CSV else None

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "feed": self.feed_id,
            "partner_ods_code": self.partner_ods,
            "partner_name": self.partner_name,
            "sector": self.sector,
            "format": self.format,
        }
        if self.practices:
            out["practices"] = list(self.practices)
        if self.layout:
            out["csv"] = self.layout.describe()
        return out


def plan_feeds(geo: Geography) -> list[Feed]:
    """Every feed of the ICS, in a fixed order."""
    feeds: list[Feed] = []
    for p, (code, name) in enumerate(geo.places):
        for system, fmt in (("a", FHIR_NDJSON), ("b", FHIR_BUNDLE)):
            practices = tuple(
                o.ods_code
                for o in geo.orgs("gp_practice")
                if o.place == code and o.gp_system == system
            )
            if practices:
                feeds.append(
                    Feed(
                        f"gp-{code.lower()}-{system}",
                        geo.orgs("icb")[0].ods_code,
                        f"{name} practices on GP system {system.upper()}",
                        "general_practice",
                        fmt,
                        (p,),
                        system,
                        practices=practices,
                    )
                )
    for t, org in enumerate(geo.orgs("acute_trust")):
        feeds.append(
            _trust_feed(
                geo,
                org.ods_code,
                org.name,
                "acute_trust",
                "acute",
                FHIR_NDJSON if t % 2 == 0 else FHIR_BUNDLE,
            )
        )
    for kind, sector in (
        ("community_trust", "community"),
        ("mental_health_trust", "mental_health"),
    ):
        for org in geo.orgs(kind):
            feeds.append(_trust_feed(geo, org.ods_code, org.name, kind, sector, CSV))
    for p, (code, _name) in enumerate(geo.places):
        la = next(o for o in geo.orgs("local_authority") if o.place == code)
        ph = next(o for o in geo.orgs("public_health") if o.place == code)
        vcfse = next(o for o in geo.orgs("vcfse") if o.place == code)
        feeds.append(
            Feed(f"social-care-{code.lower()}", la.ods_code, la.name, "social_care", CSV, (p,))
        )
        feeds.append(
            Feed(f"public-health-{code.lower()}", ph.ods_code, ph.name, "public_health", CSV, (p,))
        )
        feeds.append(Feed(f"vcfse-{code.lower()}", vcfse.ods_code, vcfse.name, "vcfse", CSV, (p,)))
    return [
        Feed(
            f.feed_id,
            f.partner_ods,
            f.partner_name,
            f.sector,
            f.format,
            f.places,
            f.gp_system,
            salt=i + 1,
            practices=f.practices,
        )
        for i, f in enumerate(feeds)
    ]


def _trust_feed(geo: Geography, ods: str, name: str, kind: str, sector: str, fmt: str) -> Feed:
    places = tuple(
        p for p in range(len(geo.places)) if geo.trust_for_place(kind, p).ods_code == ods
    )
    return Feed(f"{sector.replace('_', '-')}-{ods.lower()}", ods, name, sector, fmt, places)


# How each sector's CSV names its activities, for the registry synth writes.
ACTIVITY_NAMES: dict[str, tuple[str, dict[str, str]]] = {
    "community": (
        "service",
        {
            "District Nursing": "district_nursing_visit",
            "Physiotherapy": "therapy_contact",
            "Occupational Therapy": "therapy_contact",
        },
    ),
    "mental_health": (
        "service",
        {
            "Community Mental Health Team": "mental_health_contact",
            "Memory Service": "mental_health_contact",
            "NHS Talking Therapies": "talking_therapy_session",
        },
    ),
    "social_care": (
        "activity",
        {
            "Assessment": "social_care_assessment",
            "Review": "social_care_review",
            "Home care package started": "home_care_package",
            "Care home admission": "care_home_admission",
        },
    ),
    "public_health": (
        "service",
        {
            "NHS Health Check": "health_check_measure",
            "Stop Smoking Service": "smoking_cessation_episode",
        },
    ),
    "vcfse": (
        "activity",
        {
            "Referral received": "social_prescribing_referral",
            "Link worker session": "social_prescribing_contact",
        },
    ),
}


def to_sources(feeds: list[Feed], extracts: str, expires: dt.date) -> list[Source]:
    """Registry entries for synth's own feeds, each under a synthetic sharing agreement."""
    sources = [
        Source(
            "reference-organisations",
            "ZZ0",
            "Organisation Data Service (synthetic)",
            "reference",
            "organisations-csv",
            f"{extracts}/reference/organisations.csv",
            Agreement(
                "OGL-3.0",
                "Public reference data under the Open Government Licence",
                dt.date(9999, 12, 31),
            ),
        ),
        Source(
            "reference-postcodes",
            "ZZ0",
            "Postcode directory with LSOA and IMD decile (synthetic, as ONS's NSPL)",
            "reference",
            "postcodes-csv",
            f"{extracts}/reference/postcodes.csv",
            Agreement(
                "OGL-3.0",
                "Public reference data under the Open Government Licence",
                dt.date(9999, 12, 31),
            ),
        ),
        Source(
            "national-data-opt-out",
            "X26",
            "NHS England national data opt-out (synthetic)",
            "national",
            "opt-outs-csv",
            f"{extracts}/national/national_data_opt_out.csv",
            Agreement(
                "NDOO-COMPLIANCE",
                "Applying the national data opt-out to planning and research outputs",
                dt.date(9999, 12, 31),
            ),
        ),
    ]
    for source_id, sector, fmt, folder in WORKFORCE_SOURCES:
        sources.append(
            Source(
                source_id,
                "ZZ0",
                f"Partners' staff, {sector.replace('_', ' ')} (synthetic)",
                sector,
                fmt,
                f"{extracts}/workforce/{folder}",
                Agreement(
                    f"DSA-WORKFORCE-{sector.upper()}",
                    "Joint workforce planning across the partnership (synthetic data)",
                    expires,
                ),
            )
        )
    for feed in feeds:
        agreement = Agreement(
            f"DSA-{feed.partner_ods}-{feed.sector.upper()}",
            "Direct care and population health management (synthetic data)",
            expires,
        )
        spec = None
        if feed.layout:
            role, names = ACTIVITY_NAMES[feed.sector]
            spec = CsvSpec(
                feed.layout.people_file,
                feed.layout.events_file,
                dict(feed.layout.people_columns),
                dict(feed.layout.event_columns),
                feed.layout.date_format,
                feed.layout.event_date_format,
                feed.layout.delimiter,
                feed.layout.encoding,
                {"male": feed.layout.sex_codes[0], "female": feed.layout.sex_codes[1]},
                feed.layout.nhs_number_style,
                feed.layout.ethnicity_style,
                role,
                names,
            )
        sources.append(
            Source(
                feed.feed_id,
                feed.partner_ods,
                feed.partner_name,
                feed.sector,
                feed.format,
                f"{extracts}/{feed.feed_id}",
                agreement,
                spec,
            )
        )
    return sources
