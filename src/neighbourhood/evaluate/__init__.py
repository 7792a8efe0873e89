"""Evaluation of the model of care: did it work, and for whom (ADR 27)."""
