"""Every test here runs against the shared published ICS, on PostgreSQL."""

from tests.support.web import application  # noqa: F401  (an autouse fixture for this layer)
