"""Builders shared by every layer of tests: tiny hand-written warehouses, synthetic ICSs,
and a factory per operational model."""
