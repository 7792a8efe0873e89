"""Benchmarks: each times one command at neighbourhood and ICS size, in its own process
(so its peak memory is its own), beside a bare engine doing the same job in the same run,
and judges the figures against the targets its issue set. ``neighbourhood bench`` is
their command line.

- ``synth``: people per second, beside Synthea's published rate;
- ``ingest``: CSV beside DuckDB's read_csv, FHIR beside a bare orjson parse, every feed;
- ``link``: records per second, accuracy against synth's truth, DuckDB beside Spark;
- ``refresh``: measures, training and scoring, DuckDB beside Spark;
- ``web``: latency and lost updates under load (``load``: the users and their plan),
  on a throwaway PostgreSQL (``postgres``).
"""
