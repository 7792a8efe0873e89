"""Linking records: a deterministic tier on a valid NHS number with agreeing date of birth,
then Splink's probabilistic model, trained without labels, for everything else."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import ColumnExpression, Linker, SettingsCreator, block_on
from splink.clustering import cluster_pairwise_predictions_at_threshold
from splink.internals.comparison_creator import ComparisonCreator
from splink.internals.comparison_level_creator import ComparisonLevelCreator
from splink.internals.exceptions import EMTrainingException

from neighbourhood.errors import UserError
from neighbourhood.linkage.config import LinkageConfig
from neighbourhood.linkage.engines import DuckDBEngine, Engine

DETERMINISTIC = "nhs_number+date_of_birth"
MODEL = "splink"
CLERICAL = "clerical review"


@dataclass
class Linked:
    clusters: pa.Table  # unique_id, cluster_id
    edges: pa.Table  # unique_id_l, unique_id_r, match_probability, rule
    review: pa.Table  # pairs in the review band the model could not decide
    comparisons: int
    steps: dict[str, float] = field(default_factory=dict)  # seconds each step took


class Steps(dict[str, float]):
    """Seconds each step of a run took, so a slow engine says where it is slow."""

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            self[name] = round(self.get(name, 0.0) + time.perf_counter() - began, 2)
            logger.info("linkage step %s: %.1f s", name, self[name])


logger = logging.getLogger(__name__)


def settings(config: LinkageConfig, prior: float) -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        probability_two_random_records_match=prior,
        comparisons=list(comparisons()),
        blocking_rules_to_generate_predictions=[block_on(*rule) for rule in config.blocking],
        # Only the pair and its probability are read back: carrying both records' fields
        # through every prediction doubles what Spark shuffles and writes.
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def comparisons() -> list[ComparisonCreator]:
    """Every field partners send, each with the levels its real errors fall into (ADR 15)."""
    return [
        cl.ExactMatch("nhs_number"),
        _name("given", "family", nickname=True),
        _name("family", "given", nickname=False),
        _date_of_birth(),
        cl.ExactMatch("sex"),
        _postcode(),
        cl.ExactMatch("house_number"),
        _place("street"),
        _place("locality"),
    ]


def _name(column: str, other: str, *, nickname: bool) -> ComparisonCreator:
    """Exact (term-frequency adjusted), a familiar form, swapped with the other name, then
    one or two edits apart. Levenshtein distance rather than Jaro-Winkler or
    Damerau-Levenshtein: DuckDB and Spark compute those two differently (ADR 15)."""
    levels: list[ComparisonLevelCreator | dict[str, Any]] = [
        cll.NullLevel(column),
        cll.ExactMatchLevel(column, term_frequency_adjustments=True),
    ]
    if nickname:
        levels.append(
            cll.ArrayIntersectLevel("given_forms").configure(
                label_for_charts="Familiar form of the same name"
            )
        )
    levels += [
        cll.ColumnsReversedLevel(column, other, symmetrical=True).configure(
            label_for_charts="Given and family names swapped"
        ),
        cll.LevenshteinLevel(column, 1),
        cll.LevenshteinLevel(column, 2),
        cll.ElseLevel(),
    ]
    return cl.CustomComparison(levels, output_column_name=column)


def _date_of_birth() -> ComparisonCreator:
    """Exact; day and month swapped; one character mistyped (a year slip like 1956 and 1965
    among them); within a month; within a year."""
    as_text = ColumnExpression("dob").cast_to_string()
    return cl.CustomComparison(
        [
            cll.NullLevel("dob"),
            cll.ExactMatchLevel("dob"),
            cll.ExactMatchLevel("dob_key").configure(label_for_charts="Day and month swapped"),
            cll.LevenshteinLevel(as_text, 2).configure(
                label_for_charts="A character or two mistyped or transposed"
            ),
            cll.AbsoluteDateDifferenceLevel(
                "dob", input_is_string=False, threshold=1, metric="month"
            ),
            cll.AbsoluteDateDifferenceLevel(
                "dob", input_is_string=False, threshold=1, metric="year"
            ),
            cll.ElseLevel(),
        ],
        output_column_name="dob",
    )


def _postcode() -> ComparisonCreator:
    """Exact; one character different (any country's postcodes); then, for a UK postcode,
    the same sector and the same district."""
    return cl.CustomComparison(
        [
            cll.NullLevel("postcode"),
            cll.ExactMatchLevel("postcode"),
            cll.LevenshteinLevel("postcode", 1).configure(
                label_for_charts="One character mistyped"
            ),
            cll.ExactMatchLevel("postcode_sector").configure(label_for_charts="Same sector"),
            cll.ExactMatchLevel("postcode_district").configure(label_for_charts="Same district"),
            cll.LevenshteinLevel("postcode", 2).configure(
                label_for_charts="Two characters mistyped or transposed"
            ),
            cll.ElseLevel(),
        ],
        output_column_name="postcode",
    )


def _place(column: str) -> ComparisonCreator:
    """A street or locality: exact (term-frequency adjusted), then one or two characters
    apart. Levenshtein distance, not Jaro-Winkler or Damerau-Levenshtein: the engines compute
    those two differently, and the method must be the same on both (ADR 15)."""
    return cl.CustomComparison(
        [
            cll.NullLevel(column),
            cll.ExactMatchLevel(column, term_frequency_adjustments=True),
            cll.LevenshteinLevel(column, 1),
            cll.LevenshteinLevel(column, 2),
            cll.ElseLevel(),
        ],
        output_column_name=column,
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
    "SELECT CAST(NULL AS BIGINT) AS unique_id_l, CAST(NULL AS BIGINT) AS unique_id_r, "
    "CAST(NULL AS DOUBLE) AS match_probability"
)


def link(records: pa.Table, config: LinkageConfig, decisions: pa.Table, engine: Engine) -> Linked:
    """Cluster ``records`` into people; ``decisions`` (clerical) win over the model.

    The SQL here is the subset DuckDB and Spark share, so the method is the same on both.
    The engines see each record as its row number: millions of pairs are joined, shuffled
    and written as two integers, not two text ids; the ids come back on the way out."""
    n = records.num_rows
    ids = records.column("unique_id")
    if n > 1 and not pc.all(pc.less(ids.slice(0, n - 1), ids.slice(1))).as_py():
        records = records.sort_by("unique_id")  # row numbers keep the ids' order
        ids = records.column("unique_id")
    steps = Steps()
    with steps.timed("count pairs"):
        comparisons = comparisons_upper_bound(records, config)
    if n and comparisons / n > config.max_comparisons_per_record:
        raise UserError(
            f"the blocking rules would make {comparisons:,} comparisons, "
            f"{comparisons / n:.0f} a record (limit {config.max_comparisons_per_record:g}): "
            "make a rule more specific in linkage.toml"
        )
    numbered = _numbered(records)
    with ExitStack() as stack:
        with steps.timed("load"):
            local = stack.enter_context(engine.local(numbered))
            local.load("decisions", _numbered_pairs(decisions.cast(DECISIONS), ids))
        if n > 1:
            _predict(engine, local, numbered, config, steps)
        else:
            local.create("predictions", f"{NO_EDGES} WHERE 1 = 0")
        with steps.timed("edges"):
            _edges(local, config)
        with steps.timed("cluster"):
            clusters = _identified(_clusters(local), ids, ("unique_id", "cluster_id"))
        with steps.timed("collect"):
            review, edges = _collect(local, config)
            pair = ("unique_id_l", "unique_id_r")
            review, edges = _identified(review, ids, pair), _identified(edges, ids, pair)
    return Linked(clusters, edges.cast(EDGES), review, comparisons, steps)


def _numbered(records: pa.Table) -> pa.Table:
    """``records`` with each id replaced by its row number."""
    at = records.schema.get_field_index("unique_id")
    rows = pa.array(np.arange(records.num_rows, dtype=np.int64))
    return records.set_column(at, pa.field("unique_id", pa.int64()), rows)


def _numbered_pairs(pairs: pa.Table, ids: pa.ChunkedArray) -> pa.Table:
    """Decisions on pairs of ids as pairs of row numbers, the lower first; a decision on a
    record no longer in the warehouse is left out."""
    left = pc.index_in(pairs.column("unique_id_l"), value_set=ids)
    right = pc.index_in(pairs.column("unique_id_r"), value_set=ids)
    numbered = pa.table(
        {
            "unique_id_l": pc.min_element_wise(left, right),
            "unique_id_r": pc.max_element_wise(left, right),
            "decision": pairs.column("decision"),
        }
    )
    return numbered.filter(pc.and_(pc.is_valid(left), pc.is_valid(right)))


def _identified(table: pa.Table, ids: pa.ChunkedArray, columns: tuple[str, ...]) -> pa.Table:
    """Row numbers back to the records' ids."""
    for name in columns:
        at = table.schema.get_field_index(name)
        table = table.set_column(at, name, ids.take(table.column(name)))
    return table


def _edges(engine: DuckDBEngine, config: LinkageConfig) -> None:
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
               -- a reviewer's decision, then the NHS number, name the pair when the model
               -- is as sure (its probability can round to 1.0)
               max_by(rule, match_probability + CASE rule WHEN '{CLERICAL}' THEN 2
                      WHEN '{DETERMINISTIC}' THEN 1 ELSE 0 END) AS rule
        FROM candidates c
        WHERE NOT EXISTS (SELECT 1 FROM decisions d WHERE d.decision = 'different people'
                          AND d.unique_id_l = c.unique_id_l AND d.unique_id_r = c.unique_id_r)
        GROUP BY unique_id_l, unique_id_r
        """,
    )


def _clusters(engine: DuckDBEngine) -> pa.Table:
    clustered = cluster_pairwise_predictions_at_threshold(
        "records", "edges", engine.db_api, node_id_column_name="unique_id"
    )
    # Sorted here, not by the engine: Spark sorting millions of rows for its driver to
    # collect ran its Java heap out at ICS size.
    return engine.arrow(f"SELECT unique_id, cluster_id FROM {clustered.physical_name}").sort_by(
        "unique_id"
    )


def _collect(engine: DuckDBEngine, config: LinkageConfig) -> tuple[pa.Table, pa.Table]:
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
    return review, edges


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


MAX_PRIOR = 0.999


def prior(records: pa.Table, config: LinkageConfig) -> float:
    """How likely two records picked at random are to be one person (Splink's lambda):
    the pairs any prior rule finds, over the share of true pairs they are taken to find,
    over all pairs.

    Counted in DuckDB on the records in memory, whichever engine links them, so both
    engines start from the same figure. A feed without NHS numbers is counted by the rules
    on names, date of birth and address; an estimate of 0 or 1 never reaches Splink."""
    n = records.num_rows
    con = duckdb.connect()
    try:
        # Pairs are kept as row numbers, not ids: at ICS size there are millions of them.
        keyed = records.select(sorted(_rule_columns(config)))
        con.register("records", keyed.append_column("_i", pa.array(range(n), pa.int64())))
        pairs = " UNION ".join(
            "SELECT l._i AS l, r._i AS r FROM records l JOIN records r ON "
            + " AND ".join(f'l."{c}" = r."{c}"' for c in rule)
            + " AND l._i < r._i"
            for rule in config.prior_rules
        )
        found = con.execute(f"SELECT count(*) FROM ({pairs})").fetchone()
    finally:
        con.close()
    observed = int(found[0]) if found else 0
    total = n * (n - 1) / 2
    if observed == 0:
        raise UserError(
            f"no two of the {n:,} records agree on any prior rule "
            f"({_named(config.prior_rules)}), so how often "
            "records match cannot be estimated: set prior_rules in linkage.toml to columns "
            "your feeds fill in"
        )
    # A handful of records that are mostly one person can estimate 1 or more: Splink takes
    # the logarithm of 1 - lambda, so it is held just below.
    return float(min(observed / config.prior_recall / total, MAX_PRIOR))


def _named(rules: tuple[tuple[str, ...], ...]) -> str:
    return "; ".join("+".join(rule) for rule in rules)


def _rule_columns(config: LinkageConfig) -> set[str]:
    return {c for rule in config.prior_rules for c in rule}


def _trained(
    trainer: DuckDBEngine, n: int, config: LinkageConfig, lam: float, steps: Steps
) -> dict[str, Any]:
    """The model's m and u probabilities, learnt without labels from samples of pairs."""
    # Splink's training notes (levels not seen in a sample) are for its developers, not ours.
    linker = Linker(
        trainer.db_api.register("records"), settings(config, lam), log_level=logging.ERROR
    )
    sample = min(1.0, 300_000 / n)
    training = linker.training
    # One pass over the sampled pairs for each comparison: in chunks, Splink stops as soon
    # as every level has been seen 100 times, and each chunk is a query (a Spark job).
    with steps.timed("train u"):
        training.estimate_u_using_random_sampling(
            max_pairs=config.u_sample_pairs, seed=config.seed, num_chunks=1
        )
    # Each EM pass leaves out the fields it blocks on: dob trains names, sex and postcode;
    # names train dob, sex and postcode. (Postcode alone makes blocks far too large.) A
    # pass whose rule finds no pair (feeds without dates of birth) is left out.
    trained = []
    for rule in config.training_rules:
        try:
            with steps.timed("train m"):
                training.estimate_parameters_using_expectation_maximisation(
                    block_on(*rule), max_pairs=config.em_max_pairs, record_sample_proportion=sample
                )
        except EMTrainingException:
            continue
        trained.append(rule)
    if not trained:
        raise UserError(
            f"no two records agree on any training rule ({_named(config.training_rules)}), "
            "so the model cannot "
            "learn how often true matches agree: set training_rules in linkage.toml to "
            "columns your feeds fill in"
        )
    model: dict[str, Any] = linker.misc.save_model_to_json()
    return model


def scoring_settings(
    creator: SettingsCreator, model: dict[str, Any], dialect: str
) -> dict[str, Any]:
    """The settings in ``dialect``'s SQL with what the model learnt: the levels are the same,
    in the same order, whichever engine trained them; only their SQL differs. A comparison
    Splink left out in training (a field no record fills) is left out here too."""
    scoring: dict[str, Any] = creator.get_settings(dialect).as_dict()  # type: ignore[no-untyped-call]
    learnt = {c["output_column_name"]: c for c in model["comparisons"]}
    scoring["probability_two_random_records_match"] = model["probability_two_random_records_match"]
    scoring["comparisons"] = [
        c for c in scoring["comparisons"] if c["output_column_name"] in learnt
    ]
    for comparison in scoring["comparisons"]:
        trained_levels = learnt[comparison["output_column_name"]]["comparison_levels"]
        for level, trained in zip(comparison["comparison_levels"], trained_levels, strict=True):
            if level["label_for_charts"] != trained["label_for_charts"]:
                raise ValueError(f"trained level {trained['label_for_charts']!r} out of place")
            level.update(
                {k: trained[k] for k in ("m_probability", "u_probability") if k in trained}
            )
    return scoring


def _predict(
    engine: Engine, local: DuckDBEngine, records: pa.Table, config: LinkageConfig, steps: Steps
) -> None:
    n = records.num_rows
    with steps.timed("prior"):
        lam = prior(records, config)
    model = _trained(local, n, config, lam, steps)
    scoring = scoring_settings(
        settings(config, lam), model, engine.db_api.sql_dialect.sql_dialect_str
    )
    with steps.timed("predict"):
        local.load("predictions", engine.predict(records, scoring, config.review_from))
