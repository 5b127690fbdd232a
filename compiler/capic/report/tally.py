"""The numbers of one version of the rules over the recorded events.

:class:`Tally` adds up :class:`~capic.report.replay.Replayed` events and gives the report's
numbers as plain JSON-able data (:meth:`Tally.to_json`); the HTML page and
``--output-format json`` both show exactly these. Nothing raw is kept: counts, key names,
reasons (which never quote a value), and event ids only as digests (:mod:`capic.report.digest`).

Definitions (docs/report.md):

- *matched*: events whose rule condition held; *sent*: server events that passed validation
  and would be queued; *rejected*: server events left out, by reason;
- *coverage* of a customer-information key: the share of sent server events whose
  ``user_data`` carries it after normalization (invalid values are dropped, and counted);
- the *estimate* of a sent event: :func:`capic.meta.estimate.estimate` of its keys;
- a *duplicate*: a sent event whose pixel, event_name and event_id repeat those of an earlier
  one within Meta's 48-hour deduplication window (Meta would keep only the first).
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from capic.meta import catalog, estimate
from capic.report.digest import Digests
from capic.report.replay import Replayed, Send
from capic.runtime import clickids

__all__ = ["DEDUP_WINDOW", "Tally"]

#: Meta's deduplication window for event_name + event_id (capi-facts §6.1).
DEDUP_WINDOW = 48 * 3600
#: Bins of the estimate histogram: [0, 1), [1, 2), ... [9, 10].
BINS = 10
#: Examples of duplicated event ids shown (by hash).
EXAMPLES = 5
#: Event names listed per rule (computed names can be many).
NAMES_SHOWN = 12


def share(part: int, whole: int) -> float:
    """``part / whole`` to 4 decimals (0 of nothing is 0)."""
    return round(part / whole, 4) if whole else 0.0


@dataclass
class _Rule:
    matched: int = 0
    sent: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    names: Counter[str] = field(default_factory=Counter)
    keys: Counter[str] = field(default_factory=Counter)
    score: float = 0.0
    ldu: int = 0


@dataclass
class _Pixel:
    matched: int = 0
    sent: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    refused: int = 0


class Tally:
    """Adds up replayed events (see the module docstring)."""

    def __init__(
        self,
        rules: Sequence[Mapping[str, Any]],
        pixels: Mapping[str, Any],
        gates: Mapping[str, str] | None = None,
        digests: Digests | None = None,
    ) -> None:
        self._digests = digests or Digests(b"")
        #: Pixel -> what its consent gate does without consent ("drop", "limited_data_use").
        self._gates = dict(gates or {})
        self._meta = {str(r["name"]): r for r in rules}
        self._pixel_ids = {
            name: spec.get("id") if isinstance(spec.get("id"), str) else None
            for name, spec in pixels.items()
        }
        self.lines = 0
        self.events = 0
        self.malformed = 0
        self.unmatched = 0
        self.failed = 0
        self.rules: dict[str, _Rule] = {name: _Rule() for name in self._meta}
        self.pixels: dict[str, _Pixel] = {}
        self.cells: dict[tuple[str, str], _Rule] = {}
        self.keys: Counter[str] = Counter()
        self.invalid: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        self.consent: Counter[str] = Counter()
        self.scores: Counter[float] = Counter()
        self.sent = 0
        self.rejected: Counter[str] = Counter()
        self.ids_from_rules = 0
        self.id_times: dict[tuple[str, str, bytes], list[int]] = defaultdict(list)
        self.clicks: dict[str, Counter[str]] = {"fbc": Counter(), "fbp": Counter()}

    # -- adding up --------------------------------------------------------------------------

    def blank(self) -> None:
        self.lines += 1

    def bad_line(self) -> None:
        self.lines += 1
        self.malformed += 1

    def add(self, r: Replayed) -> None:
        self.lines += 1
        self.events += 1
        self.consent.update(r.consent)
        self.invalid.update(r.invalid)
        self.skipped.update(r.skipped)
        if r.failed:
            self.failed += 1
            return
        if not r.matched:
            self.unmatched += 1
        touched: set[str] = set()
        for name in r.matched:
            self._rule(name).matched += 1
            touched.update(str(p) for p in self._meta.get(name, {}).get("pixels", ()))
        for pixel in touched:
            self._pixel(pixel).matched += 1
        for pixel in r.refused:
            self._pixel(pixel).refused += 1
        for send in r.sends:
            self._add_send(send)

    def _rule(self, name: str) -> _Rule:
        rule = self.rules.get(name)
        if rule is None:
            rule = self.rules[name] = _Rule()
        return rule

    def _pixel(self, name: str) -> _Pixel:
        pixel = self.pixels.get(name)
        if pixel is None:
            pixel = self.pixels[name] = _Pixel()
        return pixel

    def _add_send(self, send: Send) -> None:
        rule, pixel = self._rule(send.rule), self._pixel(send.pixel)
        cell = self.cells.setdefault((send.pixel, send.rule), _Rule())
        if send.status == "rejected" or send.event is None:
            reason = send.reason or "rejected"
            for counts in (rule.rejected, pixel.rejected, cell.rejected, self.rejected):
                counts[reason] += 1
            return
        ev = send.event
        self.sent += 1
        for target in (rule, pixel, cell):
            target.sent += 1
        rule.names[send.event_name] += 1
        user = ev.get("user_data")
        keys = sorted(user) if isinstance(user, Mapping) else []
        self.keys.update(keys)
        rule.keys.update(keys)
        ip = user.get("client_ip_address") if isinstance(user, Mapping) else None
        guess = estimate.estimate(keys, ipv4=ip is not None and estimate.is_ipv4(ip))
        self.scores[round(guess.score, 2)] += 1
        rule.score += guess.score
        options = ev.get("data_processing_options")
        if isinstance(options, list) and "LDU" in options:
            rule.ldu += 1
        for kind in ("fbc", "fbp"):
            value = user.get(kind) if isinstance(user, Mapping) else None
            if value is not None:
                self.clicks[kind][clickids.problem(value, kind) or ""] += 1
        event_id = ev.get("event_id")
        if not send.generated_id:
            self.ids_from_rules += 1
        if isinstance(event_id, str) and isinstance(ev.get("event_time"), int):
            digest = hashlib.sha256(event_id.encode("utf-8")).digest()[:16]
            self.id_times[(send.pixel, send.event_name, digest)].append(ev["event_time"])

    # -- results ----------------------------------------------------------------------------

    def _duplicates(self) -> dict[str, Any]:
        copies: list[tuple[int, str, str, str]] = []
        total = 0
        for (pixel, name, digest), times in self.id_times.items():
            if len(times) < 2:
                continue
            times.sort()
            anchor, dupes = times[0], 0
            for t in times[1:]:
                if t - anchor <= DEDUP_WINDOW:
                    dupes += 1
                else:
                    anchor = t
            if dupes:
                total += dupes
                copies.append((dupes + 1, pixel, name, self._digests.short(digest)))
        copies.sort(key=lambda c: (-c[0], c[1], c[2], c[3]))
        return {
            "window_hours": DEDUP_WINDOW // 3600,
            "duplicates": total,
            "ids": len(copies),
            "examples": [
                {"pixel": p, "event_name": n, "event_id_digest": h, "copies": c}
                for c, p, n, h in copies[:EXAMPLES]
            ],
        }

    def _score_summary(self) -> dict[str, Any]:
        n = sum(self.scores.values())
        histogram = [0] * BINS
        total = 0.0
        for score, count in sorted(self.scores.items()):
            histogram[min(BINS - 1, int(score))] += count
            total += score * count
        median = 0.0
        if n:
            seen, middle = 0, (n + 1) // 2
            for score, count in sorted(self.scores.items()):
                seen += count
                if seen >= middle:
                    median = score
                    break
        mean = total / n if n else 0.0
        return {
            "label": estimate.LABEL,
            "weights": estimate.SOURCE,
            "events": n,
            "mean": round(mean, 2),
            "median": round(median, 2),
            "range_of_mean": list(estimate.score_range(mean)) if n else [0.0, 0.0],
            "histogram": [
                {"from": i, "to": i + 1, "events": count} for i, count in enumerate(histogram)
            ],
        }

    def key_order(self) -> list[str]:
        """The weighted keys first (in the schema's order), then any other key seen."""
        weighted = [p for name, _ in estimate.weights() for p in name.split("+")]
        known = list(dict.fromkeys(weighted))
        rest = sorted(k for k in self.keys if k not in known)
        return known + rest

    def _coverage(self) -> list[dict[str, Any]]:
        hashed = catalog.hashed_keys()
        return [
            {
                "key": key,
                "present": self.keys.get(key, 0),
                "share": share(self.keys.get(key, 0), self.sent),
                "hashed": key in hashed,
                "dropped_invalid": self.invalid.get(key, 0),
            }
            for key in self.key_order()
        ]

    def _click_ids(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for kind, found in self.clicks.items():
            present = sum(found.values())
            out[kind] = {
                "present": present,
                "share": share(present, self.sent),
                "well_formed": found.get("", 0),
                "problems": dict(sorted((p, n) for p, n in found.items() if p)),
            }
        return out

    def _rules_json(self) -> list[dict[str, Any]]:
        out = []
        for name, rule in self.rules.items():
            meta = self._meta.get(name, {})
            names = sorted(rule.names.items(), key=lambda kv: (-kv[1], kv[0]))
            out.append(
                {
                    "rule": name,
                    "file": meta.get("file"),
                    "line": meta.get("line"),
                    "pixels": list(meta.get("pixels", ())),
                    "matched": rule.matched,
                    "sent": rule.sent,
                    "rejected": sum(rule.rejected.values()),
                    "rejected_by_reason": _sorted_counts(rule.rejected),
                    "event_names": dict(names[:NAMES_SHOWN]),
                    "event_names_not_shown": max(0, len(names) - NAMES_SHOWN),
                    "limited_data_use": rule.ldu,
                    "estimate_mean": round(rule.score / rule.sent, 2) if rule.sent else None,
                    "coverage": {
                        k: share(rule.keys.get(k, 0), rule.sent) for k in self.key_order()
                    },
                }
            )
        return out

    def _pixels_json(self) -> list[dict[str, Any]]:
        order = {name: i for i, name in enumerate(self.rules)}

        def rank(rule: str) -> tuple[int, str]:  # the rules' order, as in the module
            return order.get(rule, len(order)), rule

        out = []
        for name in sorted(self.pixels):
            pixel = self.pixels[name]
            rules = [
                {
                    "rule": rule,
                    "sent": cell.sent,
                    "rejected_by_reason": _sorted_counts(cell.rejected),
                }
                for (p, rule), cell in sorted(self.cells.items(), key=lambda kv: rank(kv[0][1]))
                if p == name
            ]
            out.append(
                {
                    "pixel": name,
                    "id": self._pixel_ids.get(name),
                    "matched": pixel.matched,
                    "sent": pixel.sent,
                    "rejected": sum(pixel.rejected.values()),
                    "rejected_by_reason": _sorted_counts(pixel.rejected),
                    "consent_refused": pixel.refused,
                    "rules": rules,
                }
            )
        return out

    def to_json(self) -> dict[str, Any]:
        dupes = self._duplicates()
        return {
            "totals": {
                "lines": self.lines,
                "events": self.events,
                "malformed": self.malformed,
                "matched": self.events - self.unmatched - self.failed,
                "unmatched": self.unmatched,
                "internal_errors": self.failed,
                "server_events": self.sent + sum(self.rejected.values()),
                "sent": self.sent,
                "rejected": sum(self.rejected.values()),
                "rejected_by_reason": _sorted_counts(self.rejected),
                "skipped_by_reason": _sorted_counts(self.skipped),
            },
            "pixels": self._pixels_json(),
            "rules": self._rules_json(),
            "coverage": self._coverage(),
            "estimate": self._score_summary(),
            "event_ids": {
                "sent": self.sent,
                "from_rules": self.ids_from_rules,
                "generated": self.sent - self.ids_from_rules,
                "share": share(self.ids_from_rules, self.sent),
                **dupes,
            },
            "click_ids": self._click_ids(),
            "consent": {
                "dropped": self.consent.get("dropped", 0),
                "limited_data_use": self.consent.get("limited_data_use", 0),
                "gates": [
                    {
                        "pixel": p,
                        "otherwise": otherwise,
                        "refused": self.pixels[p].refused if p in self.pixels else 0,
                    }
                    for p, otherwise in sorted(self._gates.items())
                ],
            },
            "invalid_values": _sorted_counts(self.invalid),
        }


def _sorted_counts(counts: Counter[str]) -> dict[str, int]:
    """Most first, then by name (the same order for the same counts)."""
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
