"""``neighbourhood link --evaluate``: linkage measured against synth's ground truth, overall
and by ethnic group, deprivation quintile, age band and sex, so bias is visible."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import duckdb

from neighbourhood.errors import UserError
from neighbourhood.warehouse import open_warehouse

GROUPS = {
    "ethnic_group": "ethnic_group",
    "deprivation_quintile": "CAST((CAST(imd_decile AS INTEGER) + 1) // 2 AS VARCHAR)",
    "age_band": "CASE WHEN CAST(age AS INTEGER) < 18 THEN '0-17' WHEN CAST(age AS INTEGER) < 45 "
    "THEN '18-44' WHEN CAST(age AS INTEGER) < 65 THEN '45-64' WHEN CAST(age AS "
    "INTEGER) < 80 THEN '65-79' ELSE '80+' END",
    "sex": "sex",
}


def evaluate(data_dir: Path, truth_dir: Path) -> dict[str, Any]:
    for name in ("records.csv.gz", "persons.csv.gz"):
        if not (truth_dir / name).exists():
            raise UserError(
                f"no ground truth at {truth_dir / name}: evaluation needs synth's truth "
                "(--truth DIR)"
            )
    wh = open_warehouse(data_dir, read_only=True)
    try:
        index = wh.table("person_index").select("unique_id", "person_id").to_pyarrow()
    finally:
        wh.close()
    if index.num_rows == 0:
        raise UserError("nothing is linked yet: run 'neighbourhood link' first")
    con = duckdb.connect()
    con.register("predicted", index)
    for name in ("records", "persons"):
        path = str(truth_dir / f"{name}.csv.gz")
        with gzip.open(path):  # a corrupt truth file says so here, not inside DuckDB
            pass
        con.execute(
            f"CREATE TABLE truth_{name} AS SELECT * FROM read_csv(?, all_varchar=true, "
            "header=true)",
            [path],
        )
    groups = ", ".join(f"{expr} AS {name}" for name, expr in GROUPS.items())
    con.execute(f"""
        CREATE TABLE joined AS
        SELECT p.unique_id, p.person_id AS predicted, t.person_id AS truth, {groups}
        FROM predicted p
        JOIN truth_records t ON p.unique_id = t.feed || '|' || t.record_id
        JOIN truth_persons tp ON tp.person_id = t.person_id
    """)
    result: dict[str, Any] = {"overall": _metrics(con, "true")}
    result["by_group"] = {
        name: {
            value: _metrics(con, f"{name} = '{value}'")
            for (value,) in con.execute(f"SELECT DISTINCT {name} FROM joined ORDER BY 1").fetchall()
        }
        for name in GROUPS
    }
    f1s = [
        m["f1"]
        for groups_ in result["by_group"].values()
        for m in groups_.values()
        if m["f1"] is not None
    ]
    result["lowest_group_f1"] = min(f1s) if f1s else None
    con.close()
    return result


def _metrics(con: duckdb.DuckDBPyConnection, where: str) -> dict[str, Any]:
    row = con.execute(f"""
        WITH j AS (SELECT * FROM joined WHERE {where}),
        both_ AS (SELECT count(*) AS n FROM j GROUP BY predicted, truth),
        pred AS (SELECT count(*) AS n FROM j GROUP BY predicted),
        true_ AS (SELECT count(*) AS n FROM j GROUP BY truth),
        exact AS (SELECT truth FROM j GROUP BY truth
                  HAVING count(DISTINCT predicted) = 1
                     AND max(predicted) IN (SELECT predicted FROM joined GROUP BY predicted
                                            HAVING count(DISTINCT truth) = 1))
        SELECT (SELECT sum(n * (n - 1) / 2) FROM both_), (SELECT sum(n * (n - 1) / 2) FROM pred),
               (SELECT sum(n * (n - 1) / 2) FROM true_), (SELECT count(*) FROM j),
               (SELECT count(*) FROM true_), (SELECT count(*) FROM pred),
               (SELECT count(*) FROM exact)
    """).fetchone()
    assert row is not None
    tp, predicted, actual, records, people, clusters, exact = (float(x or 0) for x in row)
    precision = tp / predicted if predicted else None
    recall = tp / actual if actual else None
    f1 = (
        2 * precision * recall / (precision + recall)
        if precision is not None and recall is not None and precision + recall
        else None
    )
    return {
        "records": int(records),
        "true_people": int(people),
        "predicted_people": int(clusters),
        "pairwise_precision": _round(precision),
        "pairwise_recall": _round(recall),
        "f1": _round(f1),
        "people_resolved_exactly": _round(exact / people if people else None),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
