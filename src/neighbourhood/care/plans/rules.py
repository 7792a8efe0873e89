"""The review intervals' configuration, read by the settings (so it imports no model)."""

from __future__ import annotations

from neighbourhood.errors import UserError

DEFAULT_MONTHS = {"palliative": 3, "severe_frailty": 6, "complex_needs": 6, "default": 12}


def parse_months(text: str) -> dict[str, int]:
    """``palliative=3,severe_frailty=6`` as a mapping; a clear error for anything else."""
    found: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, number = (s.strip() for s in part.partition("="))
        if name not in DEFAULT_MONTHS or not number.isdigit() or int(number) < 1:
            raise UserError(
                f"NEIGHBOURHOOD_REVIEW_MONTHS: '{part}' is not one of "
                + ", ".join(f"{k}=<months, 1 or more>" for k in DEFAULT_MONTHS)
            )
        found[name] = int(number)
    return found
