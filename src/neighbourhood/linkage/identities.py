"""Stable person ids: a person keeps their id across runs; merges and splits are recorded."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field


@dataclass
class Identities:
    person_of: dict[str, str] = field(default_factory=dict)  # unique_id -> person_id
    # (change, person_id, other_person_id, records): "merge" (other absorbed into person)
    # or "split" (records of person now with other).
    changes: list[tuple[str, str, str, int]] = field(default_factory=list)


def format_person_id(number: int) -> str:
    return f"N{number:09d}"


def assign(
    clusters: dict[str, list[str]], previous: dict[str, str], next_number: int
) -> Identities:
    """Give each cluster (id -> its records) a person id, keeping last run's where it can.

    The largest clusters choose first; each keeps the previous id most of its records
    had, if no larger cluster has taken it.
    """
    out = Identities()
    claimed: set[str] = set()
    for records in sorted(clusters.values(), key=lambda rs: (-len(rs), min(rs))):
        before = Counter(previous[r] for r in records if r in previous)
        ranked = sorted(before, key=lambda pid: (-before[pid], pid))
        keep = next((pid for pid in ranked if pid not in claimed), None)
        if keep is None:
            keep = format_person_id(next_number)
            next_number += 1
        claimed.add(keep)
        out.person_of.update(dict.fromkeys(records, keep))
    now_of_old: dict[str, Counter[str]] = defaultdict(Counter)
    for record, old in previous.items():
        if record in out.person_of:
            now_of_old[old][out.person_of[record]] += 1
    for old, now in sorted(now_of_old.items()):
        moved = sorted((new, n) for new, n in now.items() if new != old)
        kind = "split" if old in claimed else "merge"  # a person still here lost records
        out.changes += [
            (kind, old, new, n) if kind == "split" else (kind, new, old, n) for new, n in moved
        ]
    return out
