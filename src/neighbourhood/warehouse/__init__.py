"""The analytical warehouse: a DuckDB file under the data directory, written through Ibis."""

from neighbourhood.warehouse.store import Warehouse, open_warehouse

__all__ = ["Warehouse", "open_warehouse"]
