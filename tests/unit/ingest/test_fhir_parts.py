"""FHIR files cut into parts: blocks of whole lines keep every line's number, and the
one stream of parts for all files of a run keeps each file whole or refused."""

from __future__ import annotations

import gc
import gzip
import json
from pathlib import Path

import pytest

from neighbourhood.ingest.files import FileRefused, blocks
from neighbourhood.ingest.run import WORKER_GC_THRESHOLD, _pool
from tests.support.fhir import ndjson, observation, patient, rows, run
from tests.support.handmade import fhir_source


def _lines_of(path: Path, size: int) -> list[tuple[int, bytes]]:
    """Every line of the file with its number, as a worker splits the blocks."""
    out = []
    for first, data in blocks(path, size):
        out += [(first + i, line) for i, line in enumerate(data.split(b"\n")) if line]
    return out


@pytest.mark.parametrize("size", [1, 3, 7, 64])
def test_blocks_hold_whole_lines_numbered_as_in_the_file(tmp_path: Path, size: int) -> None:
    path = tmp_path / "x.ndjson"
    path.write_bytes(b'{"a":1}\n\n{"bb":22}\r\n{"c":3}\n{"last":4}')  # no final newline
    assert _lines_of(path, size) == [
        (1, b'{"a":1}'),
        (3, b'{"bb":22}\r'),  # the worker strips the carriage return
        (4, b'{"c":3}'),
        (5, b'{"last":4}'),
    ]
    parts = list(blocks(path, size))
    assert all(data.endswith(b"\n") for _, data in parts[:-1])


def test_blocks_of_a_gzip_file_and_a_line_too_long(tmp_path: Path) -> None:
    path = tmp_path / "x.ndjson.gz"
    path.write_bytes(gzip.compress(b"one\ntwo\n"))
    assert _lines_of(path, 2) == [(1, b"one"), (2, b"two")]
    long = tmp_path / "long.ndjson"
    long.write_bytes(b"ok\n" + b"x" * (16 * 1024 * 1024 + 2))
    with pytest.raises(FileRefused, match="longer than 16 MB") as refused:
        list(blocks(long, 4 * 1024 * 1024))
    assert refused.value.line == 2


def test_a_line_far_past_the_first_block_keeps_its_number(tmp_path: Path) -> None:
    """About 2 MB of NDJSON, so two blocks at least; line 5,000 is cut short."""
    lines = [json.dumps(observation(f"o{i}")).encode() for i in range(1, 6001)]
    lines[4999] = lines[4999][:40]
    fhir_source(tmp_path, {"Patient.ndjson": ndjson(patient()), "Observation.ndjson": b""})
    (tmp_path / "feed" / "Observation.ndjson").write_bytes(b"\n".join(lines) + b"\n")
    assert (tmp_path / "feed" / "Observation.ndjson").stat().st_size > 1024 * 1024
    report = run(tmp_path, workers=0)
    assert report.totals()["records_in"] == 6001
    assert rows(tmp_path, "SELECT line, field FROM quarantine") == [(5000, "")]
    assert rows(tmp_path, "SELECT count(*), min(line), max(line) FROM events") == [(5999, 1, 6000)]


@pytest.mark.parametrize("workers", [0, 1])
def test_a_file_refused_part_way_loads_nothing_and_the_next_files_load(
    tmp_path: Path, workers: int
) -> None:
    """A gzip cut short after megabytes of good lines: its parts already sent to the
    workers are dropped, the file is refused, and the files around it load, a copy of
    one of them once."""
    many = ndjson(*[patient(f"t{i}", "9434765919") for i in range(12_000)])
    cut = gzip.compress(many)
    fhir_source(
        tmp_path,
        {
            "a.ndjson": ndjson(patient("a1")),
            "b.ndjson.gz": cut[: len(cut) * 9 // 10],
            "c.ndjson": ndjson(patient("c1")),
            "d.ndjson": ndjson(patient("a1")),  # the same content as a.ndjson
        },
    )
    assert len(many) > 2 * 1024 * 1024
    report = run(tmp_path, workers=workers)
    status = {Path(f.path).name: (f.status, f.records_in) for f in report.files}
    assert status == {
        "a.ndjson": ("ingested", 1),
        "b.ndjson.gz": ("refused", 0),
        "c.ndjson": ("ingested", 1),
        "d.ndjson": ("already ingested", 0),
    }
    assert "the gzip stream ends early" in next(f.message for f in report.refused)
    assert rows(tmp_path, "SELECT record_key FROM source_records ORDER BY 1") == [
        ("a1",),
        ("c1",),
    ]
    assert rows(tmp_path, "SELECT count(*) FROM ingest_files") == [(2,)]


def test_workers_collect_cycles_less_often_than_pythons_default() -> None:
    with _pool(2, True) as pool:
        assert pool is not None
        thresholds = {tuple(pool.apply(gc.get_threshold)) for _ in range(4)}
    assert thresholds == {WORKER_GC_THRESHOLD}
    assert WORKER_GC_THRESHOLD[0] > gc.get_threshold()[0]  # this process keeps its own
