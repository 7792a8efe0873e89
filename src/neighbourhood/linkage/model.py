"""Linking records: a deterministic tier on a valid NHS number with agreeing date of birth,
then Splink's probabilistic model, trained without labels, for everything else."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink.clustering import cluster_pairwise_predictions_at_threshold

from neighbourhood.errors import UserError
from neighbourhood.linkage.config import LinkageConfig

DETERMINISTIC = "nhs_number+date_of_birth"
MODEL = "splink"
CLERICAL = "clerical review"


@dataclass
class Linked:
    clusters: pa.Table  # unique_id, cluster_id
    edges: pa.Table  # unique_id_l, unique_id_r, match_probability, rule
    review: pa.Table  # pairs in the review band the model could not decide
    comparisons: int


def settings(config: LinkageConfig) -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            cl.ExactMatch("nhs_number"),
            cl.NameComparison("given").configure(term_frequency_adjustments=True),
            cl.NameComparison("family").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=False),
            cl.ExactMatch("sex"),
            cl.PostcodeComparison("postcode"),
        ],
        blocking_rules_to_generate_predictions=[block_on(*rule) for rule in config.blocking],
        retain_intermediate_calculation_columns=False,
    )


def comparisons_upper_bound(con: duckdb.DuckDBPyConnection, config: LinkageConfig) -> int:
    """Pairs the blocking rules would generate, counted before any is compared."""
    total = 0
    for rule in config.blocking:
        keys = ", ".join(rule)
        present = " AND ".join(f"{c} IS NOT NULL" for c in rule)
        row = con.execute(
            f"SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM "
            f"(SELECT count(*) AS n FROM records WHERE {present} GROUP BY {keys})"
        ).fetchone()
        total += int(row[0]) if row else 0
    return total


def link(records: pa.Table, config: LinkageConfig, decisions: pa.Table) -> Linked:
    """Cluster ``records`` into people; ``decisions`` (clerical) win over the model."""
    con = duckdb.connect()
    con.register("incoming", records)
    con.execute("CREATE TABLE records AS SELECT * FROM incoming")
    n = records.num_rows
    comparisons = comparisons_upper_bound(con, config)
    if n and comparisons / n > config.max_comparisons_per_record:
        raise UserError(
            f"the blocking rules would make {comparisons:,} comparisons, "
            f"{comparisons / n:.0f} a record (limit {config.max_comparisons_per_record:g}): "
            "make a rule more specific in linkage.toml"
        )
    predictions = _predict(con, config, n) if n > 1 else None
    con.register("decisions", decisions)
    splink_edges = (
        f"SELECT unique_id_l, unique_id_r, match_probability, '{MODEL}' AS rule FROM predictions "
        f"WHERE match_probability >= {config.match_threshold}"
        if predictions
        else "SELECT NULL::VARCHAR AS unique_id_l, NULL::VARCHAR AS unique_id_r, "
        "NULL::DOUBLE AS match_probability, NULL::VARCHAR AS rule WHERE false"
    )
    con.execute(f"""
        CREATE TABLE edges AS
        WITH candidates AS (
            SELECT a.unique_id AS unique_id_l, b.unique_id AS unique_id_r,
                   1.0 AS match_probability, '{DETERMINISTIC}' AS rule
            FROM records a JOIN records b
              ON a.nhs_number = b.nhs_number AND a.dob = b.dob AND a.unique_id < b.unique_id
            UNION ALL {splink_edges}
            UNION ALL SELECT unique_id_l, unique_id_r, 1.0, '{CLERICAL}' FROM decisions
                      WHERE decision = 'same person'
        )
        SELECT unique_id_l, unique_id_r, max(match_probability) AS match_probability,
               arg_max(rule, match_probability) AS rule
        FROM candidates c
        WHERE NOT EXISTS (SELECT 1 FROM decisions d WHERE d.decision = 'different people'
                          AND d.unique_id_l = c.unique_id_l AND d.unique_id_r = c.unique_id_r)
        GROUP BY unique_id_l, unique_id_r
    """)
    db_api = DuckDBAPI(connection=con)
    clusters = (
        cluster_pairwise_predictions_at_threshold(
            "records", "edges", db_api, node_id_column_name="unique_id"
        )
        .as_duckdbpyrelation()
        .select("unique_id, cluster_id")
        .to_arrow_table()
    )
    review = con.execute(
        f"SELECT p.unique_id_l, p.unique_id_r, p.match_probability FROM predictions p "
        f"WHERE p.match_probability < {config.match_threshold} AND NOT EXISTS ("
        "SELECT 1 FROM edges e WHERE e.unique_id_l = p.unique_id_l AND e.unique_id_r = p.unique_id_r)"
        " AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.unique_id_l = p.unique_id_l "
        "AND d.unique_id_r = p.unique_id_r) ORDER BY p.match_probability DESC"
        if predictions
        else "SELECT NULL::VARCHAR unique_id_l, NULL::VARCHAR unique_id_r, "
        "NULL::DOUBLE match_probability WHERE false"
    ).to_arrow_table()
    edges = con.execute("SELECT * FROM edges").to_arrow_table()
    con.close()
    return Linked(clusters, edges, review, comparisons)


def _predict(con: duckdb.DuckDBPyConnection, config: LinkageConfig, n: int) -> bool:
    db_api = DuckDBAPI(connection=con)
    linker = Linker(db_api.register("records"), settings(config), log_level=logging.WARNING)
    sample = min(1.0, 300_000 / n)
    training = linker.training
    training.estimate_probability_two_random_records_match(
        [block_on("nhs_number", "dob")], recall=0.9
    )
    training.estimate_u_using_random_sampling(max_pairs=2e6, seed=config.seed)
    for rule in (block_on("dob"), block_on("postcode")):
        training.estimate_parameters_using_expectation_maximisation(
            rule, record_sample_proportion=sample
        )
    predictions = linker.inference.predict(threshold_match_probability=config.review_from)
    con.execute(
        "CREATE TABLE predictions AS SELECT unique_id_l, unique_id_r, match_probability "
        f"FROM {predictions.physical_name}"
    )
    return True
