"""Near-miss suggestions for unknown names: the "did you mean" of the resolver's diagnostics.

(``capic.meta.catalog.suggest`` is another rule on purpose: it matches Meta's names ignoring
case and separators.)"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["did_you_mean", "suggest"]


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    pool = list(candidates)
    if not pool or len(name) > 2 * max(map(len, pool)) + 8:
        return None  # no near miss, and difflib's cost grows with the product of the lengths
    lowered = {c.lower(): c for c in pool}
    if name.lower() in lowered and lowered[name.lower()] != name:
        return lowered[name.lower()]
    match = difflib.get_close_matches(name, pool, n=1, cutoff=0.7)
    return match[0] if match else None


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    s = suggest(name, candidates)
    return f"did you mean `{s}`?" if s else None
