"""Stable person ids: a person keeps their id across runs; merges and splits are recorded.

A new person's id is random (60 bits in Crockford's base 32 after a ``P``), not the next
number: it appears in the web application's addresses, and a sequential id would let
anyone who can see one person's page guess the next (ADR 21). Ids from earlier versions
(``N`` and nine digits) are kept as they are.
"""

from __future__ import annotations

import secrets
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O or U to misread
ID_CHARACTERS = 12


@dataclass
class Identities:
    person_of: dict[str, str] = field(default_factory=dict)  # unique_id -> person_id
    # (change, person_id, other_person_id, records): "merge" (other absorbed into person)
    # or "split" (records of person now with other).
    changes: list[tuple[str, str, str, int]] = field(default_factory=list)


def random_person_ids() -> Iterator[str]:
    while True:
        yield "P" + "".join(secrets.choice(ALPHABET) for _ in range(ID_CHARACTERS))


def assign(
    clusters: dict[str, list[str]],
    previous: dict[str, str],
    new_ids: Callable[[], Iterator[str]] = random_person_ids,
) -> Identities:
    """Give each cluster (id -> its records) a person id, keeping last run's where it can.

    The largest clusters choose first; each keeps the previous id most of its records
    had, if no larger cluster has taken it; a cluster with none gets a new id from
    ``new_ids``, never one used before.
    """
    out = Identities()
    claimed: set[str] = set()
    used = set(previous.values())
    fresh = new_ids()
    for records in sorted(clusters.values(), key=lambda rs: (-len(rs), min(rs))):
        before = Counter(previous[r] for r in records if r in previous)
        ranked = sorted(before, key=lambda pid: (-before[pid], pid))
        keep = next((pid for pid in ranked if pid not in claimed), None)
        if keep is None:
            keep = next(pid for pid in fresh if pid not in used)
            used.add(keep)
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
