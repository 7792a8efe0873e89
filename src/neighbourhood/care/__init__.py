"""Operations: the Django web application integrated neighbourhood teams use.

It reads analytics only through the published version (``neighbourhood publish``), never
the warehouse, and keeps its own records (teams, caseloads, the audit trail) in SQLite
(WAL mode) by default or PostgreSQL in production.
"""
