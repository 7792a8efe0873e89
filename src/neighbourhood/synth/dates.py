"""Dates as partners write them, formatted fast through lookup tables."""

from __future__ import annotations

import datetime as dt
from functools import cache

import numpy as np
import numpy.typing as npt

from neighbourhood.synth.population import EPOCH, IntArray

FIRST = dt.date(1880, 1, 1)
LAST = dt.date(2035, 12, 31)
_OFFSET = (FIRST - EPOCH).days


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@cache
def table(fmt: str) -> npt.NDArray[np.object_]:
    """Every day from 1880 to 2035 written with ``fmt`` (strftime's %Y %y %m %b %d only)."""
    days = np.arange((FIRST - EPOCH).days, (LAST - EPOCH).days + 1).astype("datetime64[D]")
    years = days.astype("datetime64[Y]").astype(np.int64) + 1970
    months = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    mday = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    pieces = {
        "Y": np.char.zfill(years.astype(str), 4),
        "y": np.char.zfill((years % 100).astype(str), 2),
        "m": np.char.zfill(months.astype(str), 2),
        "d": np.char.zfill(mday.astype(str), 2),
        "b": np.array(MONTHS)[months - 1],
    }
    out = np.full(len(days), "", dtype="<U16")
    i = 0
    while i < len(fmt):
        if fmt[i] == "%":
            out = np.char.add(out, pieces[fmt[i + 1]])
            i += 2
        else:
            out = np.char.add(out, fmt[i])
            i += 1
    return out.astype(object)


def format_days(days: IntArray, fmt: str) -> list[str]:
    return table(fmt)[days - _OFFSET].tolist()  # type: ignore[no-any-return]


def impossible_date(fmt: str, year: int) -> str:
    """A day that does not exist, written as a partner with format ``fmt`` would."""
    return (
        fmt.replace("%d", "31")
        .replace("%m", "02")
        .replace("%Y", f"{year:04d}")
        .replace("%y", f"{year % 100:02d}")
        .replace("%b", "Feb")
    )
