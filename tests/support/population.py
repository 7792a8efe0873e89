"""A tiny hand-written warehouse: a few people, each with the records the test names.

The population health method reads the warehouse's tables (persons, person_index,
events, source_records, organisations, postcodes, opt_outs). A ``Population`` writes
them with every column of the warehouse's schema, so a test says only what matters:

    pop = Population(as_of=AS_OF)
    pop.person("ann", age=80).diagnosed("ann", "Falls", "Dementia")
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from neighbourhood.phm.codelists import codelists
from neighbourhood.warehouse.schema import TABLES

AS_OF = dt.date(2026, 6, 30)
SOURCE = "gp"
PRACTICE = "P00001"
PCN = "U00001"


def code(term: str) -> str:
    """The SNOMED CT code of a term in the shipped codelists ("Falls", "Heart failure")."""
    for codelist in codelists().values():
        for row in codelist.rows:
            if row["term"] == term:
                return row["code"]
    raise KeyError(f"no codelist has the term {term!r}")


def born(age: int, as_of: dt.date = AS_OF, days_after_birthday: int = 0) -> dt.date:
    """The date of birth of someone ``age`` years old on ``as_of``, whose birthday was
    ``days_after_birthday`` days before it (0: it is their birthday)."""
    birthday = as_of - dt.timedelta(days=days_after_birthday)
    return birthday.replace(year=birthday.year - age)


@dataclass
class Population:
    as_of: dt.date = AS_OF
    persons: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    postcodes: list[dict[str, Any]] = field(default_factory=list)
    opt_outs: list[dict[str, Any]] = field(default_factory=list)

    def person(
        self,
        person_id: str,
        *,
        age: int = 50,
        date_of_birth: dt.date | None = None,
        sex: str | None = "female",
        ethnicity: str | None = None,
        postcode: str | None = None,
        nhs_number: str | None = None,
        practice: str | None = PRACTICE,
    ) -> Population:
        self.persons.append(
            {
                "person_id": person_id,
                "nhs_number": nhs_number,
                "date_of_birth": date_of_birth or born(age, self.as_of),
                "sex": sex,
                "postcode": postcode,
                "ethnicity": ethnicity,
                "records": 1,
                "sources": 1,
                "run_id": 1,
                "_practice": practice,
            }
        )
        return self

    def event(
        self,
        person_id: str,
        activity: str,
        *,
        code: str | None = None,
        days_ago: int = 30,
        cost_gbp: float | None = None,
        sector: str = "primary_care",
    ) -> Population:
        self.events.append(
            {
                "source_id": SOURCE,
                "file_id": 1,
                "line": len(self.events) + 1,
                "event_key": f"e{len(self.events) + 1}",
                "record_key": person_id,
                "sector": sector,
                "activity": activity,
                "start_date": self.as_of - dt.timedelta(days=days_ago),
                "code": code,
                "cost_gbp": cost_gbp,
            }
        )
        return self

    def diagnosed(self, person_id: str, *terms: str, days_ago: int = 400) -> Population:
        """A coded diagnosis of each term, recorded ``days_ago`` days before the as-of date."""
        for term in terms:
            self.event(person_id, "diagnosis", code=code(term), days_ago=days_ago)
        return self

    def attended_ed(self, person_id: str, times: int, *, days_ago: int = 30) -> Population:
        for _ in range(times):
            self.event(person_id, "ed_attendance", days_ago=days_ago, sector="acute")
        return self

    def admitted(self, person_id: str, times: int, *, days_ago: int = 30) -> Population:
        for _ in range(times):
            self.event(person_id, "emergency_admission", days_ago=days_ago, sector="acute")
        return self

    def lives_in(self, postcode: str, *, lsoa: str, imd_decile: int) -> Population:
        self.postcodes.append(
            {"postcode": postcode, "lsoa": lsoa, "imd_decile": imd_decile, "file_id": 1}
        )
        return self

    def opted_out(self, nhs_number: str) -> Population:
        self.opt_outs.append({"nhs_number": nhs_number, "file_id": 1})
        return self

    def tables(self) -> dict[str, pa.Table]:
        """The warehouse's tables, every column typed as the warehouse types it."""
        people = [{k: v for k, v in p.items() if k != "_practice"} for p in self.persons]
        index = [
            {"person_id": p["person_id"], "unique_id": f"{SOURCE}-{p['person_id']}"}
            | {"source_id": SOURCE, "record_key": p["person_id"], "linked_by": "spec"}
            for p in self.persons
        ]
        records = [
            {"source_id": SOURCE, "record_key": p["person_id"], "practice_ods": p["_practice"]}
            for p in self.persons
        ]
        organisations = [
            {"ods_code": PRACTICE, "name": "Spec Practice", "kind": "gp_practice"}
            | {"parent": PCN, "place": "Spec Place"},
            {"ods_code": PCN, "name": "Spec Neighbourhood", "kind": "pcn", "place": "Spec Place"},
        ]
        rows = {
            "persons": people,
            "person_index": index,
            "source_records": records,
            "events": self.events,
            "organisations": organisations,
            "postcodes": self.postcodes,
            "opt_outs": self.opt_outs,
        }
        return {name: _typed(name, found) for name, found in rows.items()}


def _typed(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    schema = TABLES[name].to_pyarrow()
    return pa.Table.from_pylist(
        [{column: row.get(column) for column in schema.names} for row in rows], schema=schema
    )
