"""``neighbourhood link --evaluate``: linkage measured against a ground truth, overall and by
group, so bias is visible.

The truth is synth's (a directory: every record's person, and every person's ethnic group,
deprivation, age and sex) or a data team's own labelled sample: a CSV file with the columns
``source``, ``record_key`` and ``entity_id``, and any further columns as groups to break the
figures down by (docs/reference/linkage-truth.md). Besides pairwise precision, recall and
F1, it gives the blocking recall: the share of true pairs any blocking rule ever compared.
"""

from __future__ import annotations

import gzip
import math
from pathlib import Path
from typing import Any

import duckdb

from neighbourhood.errors import UserError
from neighbourhood.linkage.config import LinkageConfig, load_config
from neighbourhood.linkage.records import standardised
from neighbourhood.warehouse import open_warehouse

SYNTH_GROUPS = {
    "ethnic_group": "ethnic_group",
    "deprivation_quintile": "CAST((CAST(imd_decile AS INTEGER) + 1) // 2 AS VARCHAR)",
    "age_band": "CASE WHEN CAST(age AS INTEGER) < 18 THEN '0-17' WHEN CAST(age AS INTEGER) < 45 "
    "THEN '18-44' WHEN CAST(age AS INTEGER) < 65 THEN '45-64' WHEN CAST(age AS "
    "INTEGER) < 80 THEN '65-79' ELSE '80+' END",
    "sex": "sex",
}
TRUTH_COLUMNS = ("source", "record_key", "entity_id")


def evaluate(data_dir: Path, truth: Path, config: LinkageConfig | None = None) -> dict[str, Any]:
    """Precision, recall, F1 and blocking recall of the last linkage against ``truth``."""
    config = config or load_config(data_dir)
    wh = open_warehouse(data_dir, read_only=True)
    try:
        index = wh.table("person_index").select("unique_id", "person_id").to_pyarrow()
        records = standardised(wh, name_forms=False) if index.num_rows else None
    finally:
        wh.close()
    if records is None:
        raise UserError("nothing is linked yet: run 'neighbourhood link' first")
    con = duckdb.connect()
    try:
        con.register("predicted", index)
        con.register("standardised", records)
        groups = _load_truth(con, truth)
        _join(con, groups)
        return _measure(con, groups, config)
    finally:
        con.close()


def _load_truth(con: duckdb.DuckDBPyConnection, truth: Path) -> list[str]:
    """The table ``truth`` (unique_id, entity_id, groups...); returns the group columns."""
    if truth.is_dir():
        return _synth_truth(con, truth)
    if not truth.is_file():
        raise UserError(
            f"no ground truth at {truth}: give synth's truth directory or a CSV file with "
            f"columns {', '.join(TRUTH_COLUMNS)} (--truth)"
        )
    try:
        con.execute(
            "CREATE TABLE truth_file AS SELECT * FROM read_csv(?, all_varchar=true, header=true)",
            [str(truth)],
        )
    except duckdb.Error as error:
        raise UserError(f"{truth}: cannot read it as CSV ({str(error).splitlines()[0]})") from error
    header = [row[0] for row in con.execute("DESCRIBE truth_file").fetchall()]
    missing = [c for c in TRUTH_COLUMNS if c not in header]
    if missing:
        raise UserError(
            f"{truth}: the truth file needs column(s) {', '.join(missing)} (it has "
            f"{', '.join(header)}); see docs/reference/linkage-truth.md"
        )
    groups = [c for c in header if c not in TRUTH_COLUMNS]
    picked = "".join(f', "{g}"' for g in groups)
    con.execute(f"""
        CREATE TABLE truth AS SELECT source || '|' || record_key AS unique_id, entity_id{picked}
        FROM truth_file WHERE source IS NOT NULL AND record_key IS NOT NULL
          AND entity_id IS NOT NULL
    """)
    return groups


def _synth_truth(con: duckdb.DuckDBPyConnection, truth_dir: Path) -> list[str]:
    for name in ("records.csv.gz", "persons.csv.gz"):
        if not (truth_dir / name).exists():
            raise UserError(
                f"no ground truth at {truth_dir / name}: give synth's truth directory or a "
                f"CSV file with columns {', '.join(TRUTH_COLUMNS)} (--truth)"
            )
    for name in ("records", "persons"):
        path = str(truth_dir / f"{name}.csv.gz")
        with gzip.open(path):  # a corrupt truth file says so here, not inside DuckDB
            pass
        con.execute(
            f"CREATE TABLE truth_{name} AS SELECT * FROM read_csv(?, all_varchar=true, "
            "header=true)",
            [path],
        )
    groups = ", ".join(f"{expr} AS {name}" for name, expr in SYNTH_GROUPS.items())
    con.execute(f"""
        CREATE TABLE truth AS
        SELECT t.feed || '|' || t.record_id AS unique_id, t.person_id AS entity_id, {groups}
        FROM truth_records t JOIN truth_persons tp ON tp.person_id = t.person_id
    """)
    return list(SYNTH_GROUPS)


def _join(con: duckdb.DuckDBPyConnection, groups: list[str]) -> None:
    picked = "".join(f', t."{g}"' for g in groups)
    con.execute(f"""
        CREATE TABLE joined AS
        SELECT p.unique_id, p.person_id AS predicted, t.entity_id AS truth{picked}
        FROM predicted p JOIN truth t ON p.unique_id = t.unique_id
    """)
    found = con.execute("SELECT count(*) FROM joined").fetchone()
    if not found or not found[0]:
        raise UserError(
            "no record in the truth is in the warehouse: its source and record_key must be a "
            "source's id in sources.toml and the partner's local identifier"
        )


def _measure(
    con: duckdb.DuckDBPyConnection, groups: list[str], config: LinkageConfig
) -> dict[str, Any]:
    _true_pairs(con, groups, config)
    unmatched = con.execute(
        "SELECT count(*) FROM truth WHERE unique_id NOT IN (SELECT unique_id FROM joined)"
    ).fetchone()
    result: dict[str, Any] = {"overall": _metrics(con, "true")}
    result["naive_baseline"] = _naive_baseline(con)
    result["truth_records_not_linked"] = int(unmatched[0]) if unmatched else 0
    result["by_group"] = {
        name: {
            value: _metrics(con, f'"{name}" = ?', [value])
            for (value,) in con.execute(
                f'SELECT DISTINCT "{name}" FROM joined WHERE "{name}" IS NOT NULL ORDER BY 1'
            ).fetchall()
        }
        for name in groups
    }
    f1s = [
        m["f1"]
        for groups_ in result["by_group"].values()
        for m in groups_.values()
        if m["f1"] is not None
    ]
    result["lowest_group_f1"] = min(f1s) if f1s else None
    return result


def _true_pairs(con: duckdb.DuckDBPyConnection, groups: list[str], config: LinkageConfig) -> None:
    """Every pair of records of one true entity, and whether a blocking rule compared it
    (every column of the rule filled in on both records, and equal)."""
    rules = " OR ".join(
        "(" + " AND ".join(f'coalesce(l."{c}" = r."{c}", false)' for c in rule) + ")"
        for rule in config.blocking
    )
    picked = "".join(f', a."{g}"' for g in groups)
    con.execute(f"""
        CREATE TABLE true_pairs AS
        SELECT ({rules}) AS blocked{picked}
        FROM joined a JOIN joined b ON a.truth = b.truth AND a.unique_id < b.unique_id
        JOIN standardised l ON l.unique_id = a.unique_id
        JOIN standardised r ON r.unique_id = b.unique_id
    """)


BASELINE = "the same given name, family name and date of birth (upper case, letters only)"


def _naive_baseline(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """How hard the data is: pairwise figures of linking on exact names and date of birth
    alone, with no NHS number and no model."""
    row = con.execute("""
        WITH k AS (SELECT j.truth, s.given, s.family, s.dob FROM joined j
                   JOIN standardised s ON s.unique_id = j.unique_id
                   WHERE s.given IS NOT NULL AND s.family IS NOT NULL AND s.dob IS NOT NULL),
        pred AS (SELECT count(*) AS n FROM k GROUP BY given, family, dob),
        both_ AS (SELECT count(*) AS n FROM k GROUP BY given, family, dob, truth)
        SELECT (SELECT sum(n * (n - 1) / 2) FROM both_), (SELECT sum(n * (n - 1) / 2) FROM pred),
               (SELECT count(*) FROM true_pairs)
    """).fetchone()
    assert row is not None
    tp, predicted, actual = (float(x or 0) for x in row)
    return {"rule": BASELINE} | _scores(tp, predicted, actual)


def _scores(tp: float, predicted: float, actual: float) -> dict[str, float | None]:
    precision = tp / predicted if predicted else None
    recall = tp / actual if actual else None
    f1 = (
        2 * precision * recall / (precision + recall)
        if precision is not None and recall is not None and precision + recall
        else None
    )
    return {
        "pairwise_precision": cut(precision),
        "pairwise_recall": cut(recall),
        "f1": cut(f1),
    }


def _metrics(
    con: duckdb.DuckDBPyConnection, where: str, parameters: list[Any] | None = None
) -> dict[str, Any]:
    parameters = parameters or []
    row = con.execute(
        f"""
        WITH j AS (SELECT * FROM joined WHERE {where}),
        both_ AS (SELECT count(*) AS n FROM j GROUP BY predicted, truth),
        pred AS (SELECT count(*) AS n FROM j GROUP BY predicted),
        true_ AS (SELECT count(*) AS n FROM j GROUP BY truth),
        exact AS (SELECT truth FROM j GROUP BY truth
                  HAVING count(DISTINCT predicted) = 1
                     AND max(predicted) IN (SELECT predicted FROM joined GROUP BY predicted
                                            HAVING count(DISTINCT truth) = 1)),
        pairs AS (SELECT count(*) AS n, count(*) FILTER (WHERE blocked) AS blocked
                  FROM true_pairs WHERE {where})
        SELECT (SELECT sum(n * (n - 1) / 2) FROM both_), (SELECT sum(n * (n - 1) / 2) FROM pred),
               (SELECT sum(n * (n - 1) / 2) FROM true_), (SELECT count(*) FROM j),
               (SELECT count(*) FROM true_), (SELECT count(*) FROM pred),
               (SELECT count(*) FROM exact), (SELECT n FROM pairs), (SELECT blocked FROM pairs)
        """,
        parameters * 2,
    ).fetchone()
    assert row is not None
    tp, predicted, actual, records, people, clusters, exact, pairs, blocked = (
        float(x or 0) for x in row
    )
    return {
        "records": int(records),
        "true_people": int(people),
        "predicted_people": int(clusters),
        "true_pairs": int(pairs),
        "blocking_recall": cut(blocked / pairs if pairs else None),
        **_scores(tp, predicted, actual),
        "people_resolved_exactly": cut(exact / people if people else None),
    }


def cut(value: float | None) -> float | None:
    """Four decimals, rounded down, so a figure just short of a target never reads as
    reaching it (0.98996 is 0.9899, not 0.99)."""
    if value is None:
        return None
    # rounded to six places first, so float noise (0.29 * 10,000 = 2899.9999...) is no cut
    return math.floor(round(value * 10_000, 6)) / 10_000
