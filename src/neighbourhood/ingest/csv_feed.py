"""CSV extracts into source records and events, validated in DuckDB through Ibis.

DuckDB reads the file once into a temporary table, before the file's transaction opens
(rows it cannot split into the declared columns become its *rejects*, quarantined with
their line and raw text: ``csv_read``). Then, inside the transaction, one INSERT takes
the usable rows and one the unusable, each an Ibis expression over the whole file
(``csv_rows``): NHS numbers checked (Modulus 11), dates parsed (each feed's declared
format), SNOMED CT codes checked (Verhoeff, once per distinct code). The counts come
from the INSERTs.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from neighbourhood.ingest.csv_read import CsvRead, quarantine_rejects
from neighbourhood.ingest.csv_rows import count_flagged, load_events, load_people
from neighbourhood.warehouse import Warehouse

logger = logging.getLogger(__name__)


@dataclass
class CsvAccount:
    records_in: int
    accepted: int
    quarantined: int
    flagged: int


def ingest_csv(wh: Warehouse, read: CsvRead, file_id: int) -> CsvAccount:
    """One file read: one INSERT of the usable rows and one of the unusable.

    The counts come from the INSERTs themselves, and are checked against the file's own
    line count, taken independently of DuckDB.
    """
    began = time.perf_counter()
    source, path, spec = read.source, read.path, read.source.csv
    assert spec is not None
    load = load_people if read.kind == "people" else load_events
    accepted, quarantined = load(wh, source, spec, read.rows, file_id, path)
    quarantined += quarantine_rejects(wh, source, path, file_id, read.rejects)
    flagged = count_flagged(wh, "source_records" if read.kind == "people" else "events", file_id)
    logger.debug("%s: validated and loaded in %.2f s", path.name, time.perf_counter() - began)
    if accepted + quarantined != read.lines_in:
        raise RuntimeError(
            f"{path}: {read.lines_in} rows in but {accepted} accepted and {quarantined} "
            "quarantined: a bug in ingest, please report it"
        )
    return CsvAccount(read.lines_in, accepted, quarantined, flagged)
