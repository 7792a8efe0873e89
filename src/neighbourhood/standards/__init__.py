"""Identifiers and code systems of the NHS in England: NHS numbers, SNOMED CT, ethnicity."""
