"""The source registry: every feed, its format, and the data sharing agreement it arrives under.

It lives in ``DATA/sources.toml``. Loading it gathers every problem into one
message, so a data manager fixes the file in one go.

The contract between the parts: synth writes it, ingest reads it, linkage and the
benchmarks look feeds up in it. So it sits beside them, not inside any one of them.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from neighbourhood.errors import InvalidOptionsError, UserError

REGISTRY_FILE = "sources.toml"
# Partners' staff (the workforce map): NHS staff records, general practice, adult social
# care (ASC-WDS), VCFSE staff and volunteers (neighbourhood.capacity.workforce).
WORKFORCE_FORMATS = (
    "workforce-nhs-csv",
    "workforce-gp-csv",
    "workforce-asc-csv",
    "workforce-vcfse-csv",
)
FORMATS = (
    "fhir-ndjson",
    "fhir-bundle",
    "fhir-json",  # one resource or one Bundle per file, JSON or XML
    "csv",
    "organisations-csv",  # ODS: ods_code, name, kind, parent, place
    "postcodes-csv",  # a postcode directory (as ONS's NSPL): postcode, lsoa, imd_decile
    "opt-outs-csv",  # the national data opt-out: nhs_number, one a line
    *WORKFORCE_FORMATS,
)
REFERENCE_FORMATS = ("organisations-csv", "postcodes-csv", "opt-outs-csv", *WORKFORCE_FORMATS)
# The sectors partners' data comes from; reference data (public, such as ODS, or national,
# such as the national data opt-out) is apart.
DATA_SECTORS = (
    "general_practice",
    "acute",
    "community",
    "mental_health",
    "social_care",
    "public_health",
    "vcfse",
)
# The teams' own record (the operational feed) comes back as a sector of its own.
SECTORS = (*DATA_SECTORS, "integrated_care", "reference", "national")
WORKFORCE_SECTORS = tuple(s for s in DATA_SECTORS if s != "public_health")
PEOPLE_ROLES = (
    "local_id",
    "nhs_number",
    "given",
    "family",
    "full_name",
    "dob",
    "sex",
    "address",
    "house_number",
    "street",
    "locality",
    "postcode",
    "ethnicity",
    "practice",
    "has_carer",
)
# A role several columns may fill, joined with ", " (the parts of an address).
JOINED_ROLES = ("address",)
EXTRA_COLUMNS = ("refuse", "ignore")
EVENT_ROLES = (
    "event_id",
    "local_id",
    "date",
    "end_date",
    "service",
    "activity",
    "code",
    "detail",
    "hours",
    "value",
    "unit",
)
ENCODINGS = ("utf-8", "utf-8-sig", "windows-1252", "latin-1")


@dataclass(frozen=True)
class Agreement:
    reference: str
    purpose: str
    expires: dt.date


def headers(columns: dict[str, str | tuple[str, ...]]) -> list[str]:
    """Every column a mapping reads, in order, once."""
    out: dict[str, None] = {}
    for value in columns.values():
        out.update(dict.fromkeys((value,) if isinstance(value, str) else value))
    return list(out)


@dataclass(frozen=True)
class CsvSpec:
    """How a partner writes its CSVs: files, columns by role, dates, codes, activities.

    ``events_file`` is empty for a feed of people alone. ``extra_columns`` says what to do
    with a column the declaration does not map: refuse the file (a changed layout is
    caught) or ignore it. Every key is described in docs/reference/sources.md."""

    people_file: str
    events_file: str
    people_columns: dict[str, str | tuple[str, ...]]
    event_columns: dict[str, str | tuple[str, ...]]
    date_format: str
    event_date_format: str
    delimiter: str = ","
    encoding: str = "utf-8"
    sex_codes: dict[str, str] = field(default_factory=lambda: {"male": "M", "female": "F"})
    nhs_number_style: str = "plain"
    ethnicity_style: str = "nhs_code"
    activity_role: str = "service"
    activities: dict[str, str] = field(default_factory=dict)
    extra_columns: str = "refuse"

    @property
    def has_events(self) -> bool:
        return bool(self.events_file)


@dataclass(frozen=True)
class Source:
    id: str
    partner_ods: str
    partner_name: str
    sector: str
    format: str
    path: str  # a directory or file, relative to the data directory unless absolute
    agreement: Agreement | None
    csv: CsvSpec | None = None

    def location(self, data_dir: Path) -> Path:
        path = Path(self.path)
        return path if path.is_absolute() else data_dir / path

    def check_agreement(self, today: dt.date) -> None:
        """Refuse a feed with no data sharing agreement, or one that has expired."""
        if self.agreement is None:
            raise UserError(
                f"source '{self.id}' has no data sharing agreement: add [source.agreement] "
                f"with reference, purpose and expires to {REGISTRY_FILE} before ingesting it"
            )
        if self.agreement.expires < today:
            raise UserError(
                f"source '{self.id}': data sharing agreement {self.agreement.reference} expired on "
                f"{self.agreement.expires:%d %B %Y}; renew it and update {REGISTRY_FILE} before ingesting"
            )


def load(data_dir: Path) -> list[Source]:
    path = data_dir / REGISTRY_FILE
    if not path.exists():
        raise UserError(
            f"no source registry at {path}: run 'neighbourhood synth' or 'neighbourhood sources add'"
        )
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise UserError(f"{path} is not valid TOML: {error}") from error
    problems: list[str] = []
    sources = [_parse(entry, i, problems) for i, entry in enumerate(document.get("source", []))]
    seen: set[str] = set()
    for s in sources:
        if s and s.id in seen:
            problems.append(f"source '{s.id}' is declared twice")
        if s:
            seen.add(s.id)
    if problems:
        raise InvalidOptionsError([f"{path}: {p}" for p in problems])
    return [s for s in sources if s is not None]


def parse_entry(entry: dict[str, Any]) -> Source:
    """One source from a registry-shaped table, or every problem with it at once."""
    problems: list[str] = []
    source = _parse(entry, 0, problems)
    if problems or source is None:
        raise InvalidOptionsError([p.replace("source 1 ", "source ") for p in problems])
    return source


def save(data_dir: Path, sources: list[Source]) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / REGISTRY_FILE
    document = {"source": [_document(s) for s in sources]}
    header = "# Partners' feeds and the data sharing agreements they arrive under.\n"
    path.write_text(header + tomli_w.dumps(document), encoding="utf-8")
    return path


def add(data_dir: Path, source: Source, replace: bool = False) -> Path:
    path = data_dir / REGISTRY_FILE
    existing = load(data_dir) if path.exists() else []
    if any(s.id == source.id for s in existing) and not replace:
        raise UserError(f"source '{source.id}' is already registered; use --replace to change it")
    return save(data_dir, [s for s in existing if s.id != source.id] + [source])


def find(sources: list[Source], ids: list[str]) -> list[Source]:
    if not ids:
        return sources
    known = {s.id: s for s in sources}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise UserError(
            f"unknown source {', '.join(repr(u) for u in unknown)} (registered: "
            f"{', '.join(sorted(known)) or 'none'})"
        )
    return [known[i] for i in ids]


def _parse(entry: dict[str, Any], index: int, problems: list[str]) -> Source | None:
    where = f"source {index + 1} ({entry.get('id', 'no id')})"
    before = len(problems)
    for key in ("id", "partner_ods", "sector", "format", "path"):
        if not isinstance(entry.get(key), str) or not entry.get(key):
            problems.append(f"{where}: '{key}' is required")
    if entry.get("sector") not in SECTORS:
        problems.append(f"{where}: sector must be one of {', '.join(SECTORS)}")
    if entry.get("format") not in FORMATS:
        problems.append(f"{where}: format must be one of {', '.join(FORMATS)}")
    if entry.get("format") in WORKFORCE_FORMATS and entry.get("sector") not in WORKFORCE_SECTORS:
        problems.append(
            f"{where}: a workforce extract's sector must be one of {', '.join(WORKFORCE_SECTORS)}"
        )
    agreement = _agreement(entry.get("agreement"), where, problems)
    csv_spec = None
    if entry.get("format") == "csv":
        csv_spec = _csv(entry.get("csv"), where, problems)
    if len(problems) > before:
        return None
    return Source(
        entry["id"],
        entry["partner_ods"],
        entry.get("partner_name", ""),
        entry["sector"],
        entry["format"],
        entry["path"],
        agreement,
        csv_spec,
    )


def _agreement(raw: object, where: str, problems: list[str]) -> Agreement | None:
    if raw is None:
        return None  # refused at ingest, with its own message, but registrable
    if not isinstance(raw, dict):
        problems.append(f"{where}: 'agreement' must be a table")
        return None
    expires = raw.get("expires")
    if isinstance(expires, str):
        try:
            expires = dt.date.fromisoformat(expires)
        except ValueError:
            expires = None
    if not isinstance(expires, dt.date):
        problems.append(f"{where}: agreement 'expires' must be a date like 2027-03-31")
    for key in ("reference", "purpose"):
        if not raw.get(key):
            problems.append(f"{where}: agreement '{key}' is required")
    if not isinstance(expires, dt.date) or not raw.get("reference") or not raw.get("purpose"):
        return None
    return Agreement(str(raw["reference"]), str(raw["purpose"]), expires)


def _csv(raw: object, where: str, problems: list[str]) -> CsvSpec | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: a CSV source needs a [source.csv] table describing its columns")
        return None
    before = len(problems)
    unknown_keys = sorted(set(raw) - CSV_KEYS)
    if unknown_keys:
        problems.append(
            f"{where}: csv has unknown key(s) {', '.join(unknown_keys)} "
            f"(known: {', '.join(sorted(CSV_KEYS))})"
        )
    has_events = bool(raw.get("events_file"))
    needed = ["people_file", "people_columns", "date_format"]
    if has_events:
        needed += ["event_columns", "event_date_format"]
    missing = [k for k in needed if k not in raw]
    if missing:
        problems.append(f"{where}: csv needs {', '.join(missing)}")
        return None
    people = _columns(raw["people_columns"], "people_columns", PEOPLE_ROLES, where, problems)
    events = _columns(raw.get("event_columns", {}), "event_columns", EVENT_ROLES, where, problems)
    if "local_id" not in people:
        problems.append(f"{where}: csv people_columns must map 'local_id'")
    if has_events:
        for role in ("local_id", "date"):
            if role not in events:
                problems.append(f"{where}: csv event_columns must map '{role}'")
    elif events:
        problems.append(f"{where}: csv event_columns are declared but there is no events_file")
    encoding = raw.get("encoding", "utf-8")
    if encoding not in ENCODINGS:
        problems.append(f"{where}: csv encoding must be one of {', '.join(ENCODINGS)}")
    for key in ("date_format", "event_date_format"):
        if key in raw and "%" not in str(raw[key]):
            problems.append(f"{where}: csv {key} must be a strftime format such as %d/%m/%Y")
    extra = raw.get("extra_columns", "refuse")
    if extra not in EXTRA_COLUMNS:
        problems.append(f"{where}: csv extra_columns must be one of {', '.join(EXTRA_COLUMNS)}")
    delimiter = raw.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        problems.append(f"{where}: csv delimiter must be one character (got {delimiter!r})")
    sex_codes = raw.get("sex_codes", {"male": "M", "female": "F"})
    if not isinstance(sex_codes, dict) or not {"male", "female"} <= set(sex_codes):
        problems.append(f"{where}: csv sex_codes must map male and female to the codes sent")
    if len(problems) > before:
        return None
    return CsvSpec(
        people_file=raw["people_file"],
        events_file=raw.get("events_file") or "",
        people_columns=people,
        event_columns=events,
        date_format=raw["date_format"],
        event_date_format=raw.get("event_date_format", "%Y-%m-%d"),
        delimiter=delimiter,
        encoding=encoding,
        sex_codes={k: str(v) for k, v in sex_codes.items()},
        nhs_number_style=raw.get("nhs_number_style", "plain"),
        ethnicity_style=raw.get("ethnicity_style", "nhs_code"),
        activity_role=raw.get("activity_role", "service"),
        activities=dict(raw.get("activities", {})),
        extra_columns=extra,
    )


CSV_KEYS = frozenset(
    {
        "people_file",
        "events_file",
        "people_columns",
        "event_columns",
        "date_format",
        "event_date_format",
        "delimiter",
        "encoding",
        "sex_codes",
        "nhs_number_style",
        "ethnicity_style",
        "activity_role",
        "activities",
        "extra_columns",
    }
)


def _columns(
    raw: object, name: str, roles: tuple[str, ...], where: str, problems: list[str]
) -> dict[str, str | tuple[str, ...]]:
    """A role-to-column mapping: each value a column name, or for an address a list."""
    if not isinstance(raw, dict):
        problems.append(f'{where}: csv {name} must be a table of role = "column"')
        return {}
    unknown = sorted(set(raw) - set(roles))
    if unknown:
        problems.append(
            f"{where}: csv {name} has unknown roles {', '.join(unknown)} "
            f"(known: {', '.join(roles)})"
        )
    out: dict[str, str | tuple[str, ...]] = {}
    for role, value in raw.items():
        if isinstance(value, str) and value:
            out[role] = value
        elif (
            role in JOINED_ROLES
            and isinstance(value, list)
            and value
            and all(isinstance(v, str) and v for v in value)
        ):
            out[role] = tuple(value)
        elif role in roles:
            allowed = "a column name or a list of them" if role in JOINED_ROLES else "a column name"
            problems.append(f"{where}: csv {name} '{role}' must be {allowed} (got {value!r})")
    return out


def _document(s: Source) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": s.id,
        "partner_ods": s.partner_ods,
        "partner_name": s.partner_name,
        "sector": s.sector,
        "format": s.format,
        "path": s.path,
    }
    if s.agreement:
        out["agreement"] = {
            "reference": s.agreement.reference,
            "purpose": s.agreement.purpose,
            "expires": s.agreement.expires,
        }
    if s.csv:
        c = s.csv
        out["csv"] = {
            "people_file": c.people_file,
            "events_file": c.events_file,
            "delimiter": c.delimiter,
            "encoding": c.encoding,
            "date_format": c.date_format,
            "event_date_format": c.event_date_format,
            "sex_codes": c.sex_codes,
            "nhs_number_style": c.nhs_number_style,
            "ethnicity_style": c.ethnicity_style,
            "activity_role": c.activity_role,
            "activities": c.activities,
            "extra_columns": c.extra_columns,
            "people_columns": _listed(c.people_columns),
            "event_columns": _listed(c.event_columns),
        }
    return out


def _listed(columns: dict[str, str | tuple[str, ...]]) -> dict[str, str | list[str]]:
    return {k: v if isinstance(v, str) else list(v) for k, v in columns.items()}
