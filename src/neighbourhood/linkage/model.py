"""Linking records: a deterministic tier on a valid NHS number with agreeing date of birth,
then Splink's probabilistic model, trained without labels, for everything else."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on
from splink.clustering import cluster_pairwise_predictions_at_threshold

from neighbourhood.errors import UserError
from neighbourhood.linkage.config import LinkageConfig
from neighbourhood.linkage.engines import Engine

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
        # Only the pair and its probability are read back: carrying both records' fields
        # through every prediction doubles what Spark shuffles and writes.
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def comparisons_upper_bound(records: pa.Table, config: LinkageConfig) -> int:
    """Pairs the blocking rules would generate, counted before any is compared.

    Counted in Arrow on the records already in memory, before they reach the engine, so a
    configuration that would blow up is refused at once and Spark runs no job for it
    (ADR 12)."""
    total = 0
    for rule in config.blocking:
        keys = list(rule)
        blocks = records.select(keys).drop_null().group_by(keys).aggregate([([], "count_all")])
        sizes = blocks.column("count_all")
        total += pc.sum(pc.divide(pc.multiply(sizes, pc.subtract(sizes, 1)), 2)).as_py() or 0
    return total


NO_EDGES = (
    "SELECT CAST(NULL AS STRING) AS unique_id_l, CAST(NULL AS STRING) AS unique_id_r, "
    "CAST(NULL AS DOUBLE) AS match_probability"
)


def link(records: pa.Table, config: LinkageConfig, decisions: pa.Table, engine: Engine) -> Linked:
    """Cluster ``records`` into people; ``decisions`` (clerical) win over the model.

    The SQL here is the subset DuckDB and Spark share, so the method is the same on both."""
    n = records.num_rows
    comparisons = comparisons_upper_bound(records, config)
    if n and comparisons / n > config.max_comparisons_per_record:
        raise UserError(
            f"the blocking rules would make {comparisons:,} comparisons, "
            f"{comparisons / n:.0f} a record (limit {config.max_comparisons_per_record:g}): "
            "make a rule more specific in linkage.toml"
        )
    engine.load("records", records)
    engine.load("decisions", decisions.cast(DECISIONS))
    if n > 1:
        _predict(engine, config, n)
    else:
        engine.create("predictions", f"{NO_EDGES} WHERE 1 = 0")
    engine.create(
        "edges",
        f"""
        WITH candidates AS (
            SELECT a.unique_id AS unique_id_l, b.unique_id AS unique_id_r,
                   CAST(1.0 AS DOUBLE) AS match_probability, '{DETERMINISTIC}' AS rule
            FROM records a JOIN records b
              ON a.nhs_number = b.nhs_number AND a.dob = b.dob AND a.unique_id < b.unique_id
            UNION ALL
            SELECT unique_id_l, unique_id_r, match_probability, '{MODEL}' AS rule
            FROM predictions WHERE match_probability >= {config.match_threshold}
            UNION ALL
            SELECT unique_id_l, unique_id_r, CAST(1.0 AS DOUBLE) AS match_probability, '{CLERICAL}' AS rule
            FROM decisions WHERE decision = 'same person'
        )
        SELECT unique_id_l, unique_id_r, max(match_probability) AS match_probability,
               max_by(rule, match_probability) AS rule
        FROM candidates c
        WHERE NOT EXISTS (SELECT 1 FROM decisions d WHERE d.decision = 'different people'
                          AND d.unique_id_l = c.unique_id_l AND d.unique_id_r = c.unique_id_r)
        GROUP BY unique_id_l, unique_id_r
        """,
    )
    clustered = cluster_pairwise_predictions_at_threshold(
        "records", "edges", engine.db_api, node_id_column_name="unique_id"
    )
    # Sorted here, not by the engine: Spark sorting millions of rows for its driver to
    # collect ran its Java heap out at ICS size.
    clusters = engine.arrow(f"SELECT unique_id, cluster_id FROM {clustered.physical_name}").sort_by(
        "unique_id"
    )
    review = engine.arrow(
        f"""
        SELECT p.unique_id_l, p.unique_id_r, p.match_probability FROM predictions p
        WHERE p.match_probability < {config.match_threshold}
          AND NOT EXISTS (SELECT 1 FROM edges e WHERE e.unique_id_l = p.unique_id_l
                          AND e.unique_id_r = p.unique_id_r)
          AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.unique_id_l = p.unique_id_l
                          AND d.unique_id_r = p.unique_id_r)
        ORDER BY p.match_probability DESC, p.unique_id_l, p.unique_id_r
        """
    )
    edges = engine.arrow("SELECT * FROM edges").sort_by(
        [("unique_id_l", "ascending"), ("unique_id_r", "ascending")]
    )
    return Linked(clusters, edges.cast(EDGES), review, comparisons)


DECISIONS = pa.schema(
    [("unique_id_l", pa.string()), ("unique_id_r", pa.string()), ("decision", pa.string())]
)
EDGES = pa.schema(
    [
        ("unique_id_l", pa.string()),
        ("unique_id_r", pa.string()),
        ("match_probability", pa.float64()),
        ("rule", pa.string()),
    ]
)


def _predict(engine: Engine, config: LinkageConfig, n: int) -> None:
    # Splink's training notes (levels not seen in a sample) are for its developers, not ours.
    linker = Linker(engine.db_api.register("records"), settings(config), log_level=logging.ERROR)
    sample = min(1.0, 300_000 / n)
    training = linker.training
    training.estimate_probability_two_random_records_match(
        [block_on("nhs_number", "dob")], recall=0.9
    )
    # One pass over the sampled pairs for each comparison: in chunks, Splink stops as soon
    # as every level has been seen 100 times, and each chunk is a query (a Spark job).
    training.estimate_u_using_random_sampling(
        max_pairs=config.u_sample_pairs, seed=config.seed, num_chunks=1
    )
    # Each EM pass leaves out the fields it blocks on: dob trains names, sex and postcode;
    # names train dob, sex and postcode. (Postcode alone makes blocks far too large.)
    for rule in (block_on("dob"), block_on("family", "given")):
        training.estimate_parameters_using_expectation_maximisation(
            rule, max_pairs=config.em_max_pairs, record_sample_proportion=sample
        )
    with engine.scoring():
        predictions = linker.inference.predict(threshold_match_probability=config.review_from)
    engine.create(
        "predictions",
        f"SELECT unique_id_l, unique_id_r, match_probability FROM {predictions.physical_name}",
    )
