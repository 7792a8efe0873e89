"""``neighbourhood link``: resolve every accepted source record to a person, in one transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from neighbourhood import registry
from neighbourhood.errors import UserError
from neighbourhood.linkage.config import LinkageConfig, load_config
from neighbourhood.linkage.engines import open_engine
from neighbourhood.linkage.identities import assign
from neighbourhood.linkage.model import Steps, link
from neighbourhood.linkage.records import SECTOR_PRECEDENCE, standardised
from neighbourhood.private import owner_only_files
from neighbourhood.warehouse import Warehouse, open_warehouse

logger = logging.getLogger(__name__)


@dataclass
class LinkReport:
    run_id: int
    engine: str
    records: int
    persons: int
    comparisons: int
    merges: int
    splits: int
    to_review: int
    linked_by: dict[str, int]
    seconds: float
    steps: dict[str, float] = field(default_factory=dict)  # seconds, step by step

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__) | {"seconds": round(self.seconds, 2)}


@owner_only_files
def run_link(
    data_dir: Path,
    config: LinkageConfig | None = None,
    engine: str = "duckdb",
    scratch: Path | None = None,
) -> LinkReport:
    """Link every record in the warehouse, on DuckDB (default) or Spark in local mode."""
    began = time.perf_counter()
    config = config or load_config(data_dir)
    wh = open_warehouse(data_dir)
    try:
        steps = Steps()
        with steps.timed("standardise"):
            records = standardised(wh)
        if records.num_rows == 0:
            raise UserError(
                "the warehouse holds no source records: run 'neighbourhood ingest' first"
            )
        decisions = (
            wh.table("clerical_review")
            .filter(lambda t: t.decision.notnull())
            .select("unique_id_l", "unique_id_r", "decision")
            .to_pyarrow()
        )
        with open_engine(engine, scratch) as running:
            linked = link(records, config, decisions, running)
        sectors = (
            {s.id: s.sector for s in registry.load(data_dir)}
            if (data_dir / registry.REGISTRY_FILE).exists()
            else {}
        )
        with steps.timed("save"):
            report = _save(wh, records, linked, began, sectors, engine)
        report.steps = steps | linked.steps
    finally:
        wh.close()
    logger.info(
        "linked %d records into %d people in %.1f s", report.records, report.persons, report.seconds
    )
    return report


def _save(
    wh: Warehouse,
    records: pa.Table,
    linked: Any,
    began: float,
    sectors: dict[str, str],
    engine: str,
) -> LinkReport:
    previous_index = wh.table("person_index").select("unique_id", "person_id").to_pyarrow()
    previous = dict(
        zip(
            previous_index.column("unique_id").to_pylist(),
            previous_index.column("person_id").to_pylist(),
            strict=True,
        )
    )
    clusters: dict[str, list[str]] = {}
    for uid, cid in zip(
        linked.clusters.column("unique_id").to_pylist(),
        linked.clusters.column("cluster_id").to_pylist(),
        strict=True,
    ):
        clusters.setdefault(cid, []).append(uid)
    identities = assign(clusters, previous)
    best: dict[str, tuple[float, str]] = {}
    edges = linked.edges
    for left, right, p, rule in zip(
        *(
            edges.column(c).to_pylist()
            for c in ("unique_id_l", "unique_id_r", "match_probability", "rule")
        ),
        strict=True,
    ):
        for uid in (left, right):
            if uid not in best or p > best[uid][0]:
                best[uid] = (p, rule)
    with wh.transaction():
        run_id = int(wh.table("link_runs").run_id.max().execute() or 0) + 1
        uids = records.column("unique_id").to_pylist()
        wh.con.raw_sql("DELETE FROM person_index")
        wh.append_rows(
            "person_index",
            {
                "person_id": [identities.person_of[u] for u in uids],
                "unique_id": uids,
                "source_id": records.column("source_id").to_pylist(),
                "record_key": records.column("record_key").to_pylist(),
                "match_probability": [best.get(u, (None, None))[0] for u in uids],
                "linked_by": [best.get(u, (None, "no other record"))[1] for u in uids],
                "run_id": [run_id] * len(uids),
            },
        )
        _write_persons(wh, run_id, sectors)
        wh.append_rows(
            "identity_changes",
            {
                "run_id": [run_id] * len(identities.changes),
                "change": [c[0] for c in identities.changes],
                "person_id": [c[1] for c in identities.changes],
                "other_person_id": [c[2] for c in identities.changes],
                "records": [c[3] for c in identities.changes],
            },
        )
        wh.con.raw_sql("DELETE FROM clerical_review WHERE decision IS NULL")
        review = linked.review
        wh.append_rows(
            "clerical_review",
            {
                "pair_id": [
                    pair_id(left, right)
                    for left, right in zip(
                        review.column("unique_id_l").to_pylist(),
                        review.column("unique_id_r").to_pylist(),
                        strict=True,
                    )
                ],
                "unique_id_l": review.column("unique_id_l").to_pylist(),
                "unique_id_r": review.column("unique_id_r").to_pylist(),
                "match_probability": review.column("match_probability").to_pylist(),
                "decision": [None] * review.num_rows,
                "decided_at": [None] * review.num_rows,
                "run_id": [run_id] * review.num_rows,
            },
        )
        kinds = [c[0] for c in identities.changes]
        linked_by: dict[str, int] = {}
        for u in uids:
            rule = best.get(u, (None, "no other record"))[1]
            linked_by[rule] = linked_by.get(rule, 0) + 1
        report = LinkReport(
            run_id,
            engine,
            len(uids),
            len(set(identities.person_of.values())),
            linked.comparisons,
            kinds.count("merge"),
            kinds.count("split"),
            review.num_rows,
            linked_by,
            time.perf_counter() - began,
        )
        wh.append_rows(
            "link_runs",
            {
                "run_id": [run_id],
                "started_at": [dt.datetime.now()],
                "records": [report.records],
                "persons": [report.persons],
                "comparisons": [report.comparisons],
                "merges": [report.merges],
                "splits": [report.splits],
                "to_review": [report.to_review],
                "seconds": [report.seconds],
            },
        )
    return report


def pair_id(left: str, right: str) -> str:
    """A short, stable name for a pair of records, to type at the command line."""
    return hashlib.sha256(f"{left}\n{right}".encode()).hexdigest()[:10]


def pending_review(data_dir: Path) -> list[dict[str, Any]]:
    """Pairs the model was unsure of, with both records side by side, most likely first."""
    wh = open_warehouse(data_dir, read_only=True)
    try:
        rows = wh.con.con.execute("""
            SELECT c.pair_id, c.match_probability, c.unique_id_l, c.unique_id_r,
                   l.given_name, l.family_name, l.date_of_birth, l.postcode, l.address,
                   r.given_name, r.family_name, r.date_of_birth, r.postcode, r.address
            FROM clerical_review c
            JOIN source_records l ON l.source_id || '|' || l.record_key = c.unique_id_l
            JOIN source_records r ON r.source_id || '|' || r.record_key = c.unique_id_r
            WHERE c.decision IS NULL
            QUALIFY row_number() OVER (PARTITION BY c.pair_id ORDER BY l.file_id DESC,
                                       r.file_id DESC) = 1
            ORDER BY c.match_probability DESC, c.pair_id
        """).fetchall()
    finally:
        wh.close()
    keys = ("given_name", "family_name", "date_of_birth", "postcode", "address")
    return [
        {
            "pair": row[0],
            "match_probability": row[1],
            "left": {"record": row[2]} | {k: _text(v) for k, v in zip(keys, row[4:9], strict=True)},
            "right": {"record": row[3]}
            | {k: _text(v) for k, v in zip(keys, row[9:14], strict=True)},
        }
        for row in rows
    ]


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def decide(data_dir: Path, pair: str, same_person: bool) -> None:
    """Record a data manager's decision; it wins over the model from the next run on."""
    wh = open_warehouse(data_dir)
    try:
        found = wh.con.con.execute(
            "SELECT count(*) FROM clerical_review WHERE pair_id = ?", [pair]
        ).fetchone()
        if not found or not found[0]:
            raise UserError(f"no pair '{pair}' to review: 'neighbourhood link review' lists them")
        with wh.transaction():
            wh.con.con.execute(
                "UPDATE clerical_review SET decision = ?, decided_at = now() WHERE pair_id = ?",
                ["same person" if same_person else "different people", pair],
            )
    finally:
        wh.close()


def _write_persons(wh: Warehouse, run_id: int, sectors: dict[str, str]) -> None:
    """Resolved demographics: each field from the highest-precedence record that has it
    (general practice first, then acute, community, ...; the latest extract first; ADR 7);
    a stated ethnicity and a postcode in the postcode directory first (ADR 15)."""
    wh.con.raw_sql("DELETE FROM persons")
    rank = " ".join(
        f"WHEN '{source}' THEN {SECTOR_PRECEDENCE.get(sector, 9)}"
        for source, sector in sectors.items()
        if "'" not in source
    )
    fields = ("nhs_number", "given_name", "family_name", "date_of_birth", "sex")
    picks = ", ".join(
        f"arg_min({f}, precedence) FILTER (WHERE {f} IS NOT NULL) AS {f}" for f in fields
    )
    # A postcode the postcode directory knows gives way to none: a mistyped one in the GP
    # record would leave the person with no LSOA, and so no deprivation or neighbourhood.
    picks += (
        ", coalesce(arg_min(postcode, precedence) FILTER (WHERE known_postcode), "
        "arg_min(postcode, precedence) FILTER (WHERE postcode IS NOT NULL)) AS postcode"
    )
    # Ethnicity "not stated" (code Z) gives way to a record that states it.
    picks += (
        ", coalesce(arg_min(ethnicity, precedence) FILTER (WHERE ethnicity IS NOT NULL "
        "AND upper(ethnicity) NOT IN ('Z', '99', 'NOT STATED')), "
        "arg_min(ethnicity, precedence) FILTER (WHERE ethnicity IS NOT NULL)) AS ethnicity"
    )
    wh.con.raw_sql(f"""
        INSERT INTO persons BY NAME
        SELECT person_id, {picks}, count(*) AS records, count(DISTINCT source_id) AS sources,
               {run_id} AS run_id
        FROM (
            SELECT i.person_id, r.*,
                   (CASE r.source_id {rank} ELSE 9 END) * 1e12 - r.file_id AS precedence,
                   replace(upper(r.postcode), ' ', '') IN (SELECT postcode FROM postcodes)
                       AS known_postcode
            FROM person_index i
            JOIN (SELECT s.*, row_number() OVER (PARTITION BY s.source_id, s.record_key
                                                  ORDER BY s.file_id DESC) AS n
                  FROM source_records s) r
              ON r.source_id = i.source_id AND r.record_key = i.record_key AND r.n = 1
        )
        GROUP BY person_id
    """)
