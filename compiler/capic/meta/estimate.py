"""capic's match-quality estimate: its one home (capi-facts §7.2).

Meta's Event Match Quality (EMQ) is computed by Meta from what reaches it; its formula is not
published. capic estimates it ahead of time from the customer-information keys an event
carries, with the weights of ``schemas/user_data.schema.json`` (``x-capic-match-weights``:
em, ph, fbc 3; external_id, client_ip_address, fbp, fb_login_id, lead_id 2; client_user_agent
and fn+ln 1; db, ge, ct, st, zp, country 0.3). It is an estimate and says so everywhere it is
shown (:data:`LABEL`), with a range of ±:data:`SPREAD` around it.

Two callers, one formula:

- the linter's Q002 (static): the keys a send *can* write, every key assumed present;
- ``capic report`` (per event): the keys present after normalization in each server event.

This module reads only the schemas (:mod:`capic.meta.catalog`): the runtime side imports it
without the compiler front end.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from capic.meta import catalog

__all__ = [
    "LABEL",
    "SOURCE",
    "SPREAD",
    "Estimate",
    "estimate",
    "is_ipv4",
    "score_range",
    "weights",
]

#: Half-width of the range shown around an estimate (it is an estimate, not a measurement).
SPREAD = 1.5
#: How every output names the number.
LABEL = "capic's estimate, not Meta's EMQ"
#: Where the weights come from (for machine-readable outputs).
SOURCE = "capic's weights (schemas/user_data.schema.json x-capic-match-weights), not Meta's formula"


@dataclass(frozen=True, slots=True)
class Estimate:
    """The estimate (0-10) for one set of keys, and what each missing key (or group) would add,
    best first."""

    score: float
    gains: tuple[tuple[str, float], ...]

    @property
    def rounded(self) -> float:
        return round(self.score, 1)

    @property
    def range(self) -> tuple[float, float]:
        return score_range(self.score)


@functools.cache
def weights() -> tuple[tuple[str, float], ...]:
    """(key or ``+``-joined group, weight), in the schema's order."""
    return tuple(catalog.match_weights().items())


@functools.cache
def _total() -> float:
    return sum(w for _, w in weights())


@functools.cache
def _groups() -> tuple[tuple[str, float, tuple[str, ...]], ...]:
    """:func:`weights` with the keys of each group, split once (not per estimated event)."""
    return tuple((name, weight, tuple(name.split("+"))) for name, weight in weights())


@functools.cache
def _ipv4_factor() -> float:
    return catalog.match_ipv4_factor()


def score_range(score: float) -> tuple[float, float]:
    """The range shown around ``score``, clamped to 0-10, one decimal."""
    return round(max(0.0, score - SPREAD), 1), round(min(10.0, score + SPREAD), 1)


def is_ipv4(address: object) -> bool:
    """True for an IPv4 address (text without a colon): it earns only part of the IP weight."""
    return isinstance(address, str) and ":" not in address


def estimate(keys: Iterable[str], *, ipv4: bool = False) -> Estimate:
    """capic's estimate for an event carrying ``keys`` (``ipv4``: its client_ip_address is an
    IPv4 address)."""
    present = keys if isinstance(keys, set | frozenset) else set(keys)
    total = _total()
    score = 0.0
    gains: list[tuple[str, float]] = []
    for name, weight, parts in _groups():
        if all(part in present for part in parts):
            factor = _ipv4_factor() if ipv4 and name == "client_ip_address" else 1.0
            score += weight * factor
        else:
            gains.append((name, 10 * weight / total))
    gains.sort(key=lambda g: (-g[1], g[0]))
    return Estimate(min(10.0, 10 * score / total), tuple(gains))
