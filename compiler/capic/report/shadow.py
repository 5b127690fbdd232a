"""Shadow diff: two versions of the rules over the same events, compared event by event.

For every input event the server events of the baseline (old) and of the new version are
paired by rule, pixel and event name (in the order the rules made them). Per rule this counts

- server events *now sent* (the new version sends one the baseline did not send) and *no
  longer sent*, with the reason (rejected now, and why; the rule no longer matches; ...);
- per field (``user_data.em``, ``custom_data.value``, ``event_source_url``, ...) of the
  server events both send: *gained*, *lost*, or *changed* value. Values are compared in
  memory and shown only as keyed, shortened digests of their JSON (:mod:`capic.report.digest`). An event_id
  that capic generated (the rules gave none) is not a field of the rules: it is left out.

What changed in the sources comes from :mod:`capic.bundle.diff` (``capic diff``): rules
added, removed or changed, and what changed in them. A rule whose source changed but whose
output did not change for these events is listed apart, so that a reviewer sees both what
was edited and what that edit does to the recorded traffic.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from capic.bundle.diff import BundleDiff
from capic.report.digest import Digests
from capic.report.replay import Replayed, Send

__all__ = ["Shadow"]

_MISSING: Any = object()


def _fields(send: Send) -> dict[str, Any]:
    """The event's fields, one level into its sections (``user_data.em``)."""
    out: dict[str, Any] = {}
    for key, value in (send.event or {}).items():
        if key == "event_id" and send.generated_id:
            continue
        if isinstance(value, Mapping):
            for sub, inner in value.items():
                out[f"{key}.{sub}"] = inner
        else:
            out[key] = value
    return out


def _json(value: Any) -> bytes:
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # cannot happen for sent events (they were encoded); never fail on it
        return repr(type(value)).encode()


def _by_key(sends: Sequence[Send]) -> dict[tuple[str, str, str], list[Send]]:
    grouped: dict[tuple[str, str, str], list[Send]] = defaultdict(list)
    for send in sends:
        grouped[(send.rule, send.pixel, send.event_name)].append(send)
    return grouped


@dataclass
class _RuleChanges:
    now_sent: Counter[str] = field(default_factory=Counter)
    no_longer_sent: Counter[str] = field(default_factory=Counter)
    fields: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    examples: dict[str, dict[str, str]] = field(default_factory=dict)

    def any(self) -> bool:
        return bool(self.now_sent or self.no_longer_sent or self.fields)


class Shadow:
    """Adds up the differences between the baseline's and the new version's events."""

    def __init__(self, digests: Digests) -> None:
        self._digests = digests
        self.rules: dict[str, _RuleChanges] = defaultdict(_RuleChanges)
        self.compared = 0
        self.changed = 0

    def add(self, old: Replayed, new: Replayed) -> None:
        self.compared += 1
        before, after = _by_key(old.sends), _by_key(new.sends)
        differs = False
        for key in sorted(before.keys() | after.keys()):
            olds = [s for s in before.get(key, ()) if s.status == "sent"]
            news = [s for s in after.get(key, ()) if s.status == "sent"]
            rule = self.rules[key[0]]
            for a, b in zip(olds, news, strict=False):
                differs |= self._compare(rule, a, b)
            for _ in news[len(olds) :]:
                rule.now_sent[self._why_now(key, before, old)] += 1
                differs = True
            for _ in olds[len(news) :]:
                rule.no_longer_sent[self._why_not(key, after, new)] += 1
                differs = True
        if differs:
            self.changed += 1

    @staticmethod
    def _why_now(key: tuple[str, str, str], before: Mapping[Any, list[Send]], old: Replayed) -> str:
        rejected = [s.reason for s in before.get(key, ()) if s.status == "rejected"]
        if rejected:
            return f"was rejected: {rejected[0]}"
        if key[0] not in old.matched:
            return "the rule matches now"
        return "newly made by the rule"

    @staticmethod
    def _why_not(key: tuple[str, str, str], after: Mapping[Any, list[Send]], new: Replayed) -> str:
        rejected = [s.reason for s in after.get(key, ()) if s.status == "rejected"]
        if rejected:
            return f"rejected now: {rejected[0]}"
        if key[0] not in new.matched:
            return "the rule no longer matches"
        return "no longer made by the rule"

    def _compare(self, rule: _RuleChanges, a: Send, b: Send) -> bool:
        left, right = _fields(a), _fields(b)
        differs = False
        for name in sorted(left.keys() | right.keys()):
            was, now = left.get(name, _MISSING), right.get(name, _MISSING)
            if was is _MISSING:
                rule.fields[name]["gained"] += 1
            elif now is _MISSING:
                rule.fields[name]["lost"] += 1
            elif was != now or type(was) is not type(now):
                rule.fields[name]["changed"] += 1
                if name not in rule.examples:
                    short = self._digests.short
                    rule.examples[name] = {"old": short(_json(was)), "new": short(_json(now))}
            else:
                continue
            differs = True
        return differs

    # -- results ----------------------------------------------------------------------------

    def to_json(self, static: BundleDiff | None, order: Sequence[str]) -> dict[str, Any]:
        edits = _source_changes(static)
        rank = {name: i for i, name in enumerate(order)}
        observed = sorted(
            (name for name, changes in self.rules.items() if changes.any()),
            key=lambda n: (rank.get(n, len(rank)), n),
        )
        rules = []
        for name in observed:
            changes = self.rules[name]
            fields = [
                {
                    "field": f,
                    "gained": counts.get("gained", 0),
                    "lost": counts.get("lost", 0),
                    "changed": counts.get("changed", 0),
                    **({"example": changes.examples[f]} if f in changes.examples else {}),
                }
                for f, counts in sorted(changes.fields.items())
            ]
            status, what = edits.get(name, ("unchanged", []))
            rules.append(
                {
                    "rule": name,
                    "source": status,
                    "source_changes": what,
                    "now_sent": sum(changes.now_sent.values()),
                    "now_sent_because": _counts(changes.now_sent),
                    "no_longer_sent": sum(changes.no_longer_sent.values()),
                    "no_longer_sent_because": _counts(changes.no_longer_sent),
                    "fields": fields,
                }
            )
        quiet = [
            {"rule": name, "source": status, "source_changes": what}
            for name, (status, what) in sorted(
                edits.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])
            )
            if name not in observed
        ]
        every = [self.rules[name] for name in observed]
        fields_total: Counter[str] = Counter()
        for changes in every:
            for counts in changes.fields.values():
                fields_total.update(counts)
        totals = {
            "events_compared": self.compared,
            "events_changed": self.changed,
            "rules_changed": len(rules),
            "now_sent": sum(sum(c.now_sent.values()) for c in every),
            "no_longer_sent": sum(sum(c.no_longer_sent.values()) for c in every),
            "fields_gained": fields_total.get("gained", 0),
            "fields_lost": fields_total.get("lost", 0),
            "values_changed": fields_total.get("changed", 0),
        }
        return {
            "totals": totals,
            "rules": rules,
            "source_only": quiet,
            "pixels": _pixel_changes(static),
        }


def _counts(counts: Counter[str]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _source_changes(static: BundleDiff | None) -> dict[str, tuple[str, list[str]]]:
    """rule -> (added | removed | changed, what changed) from ``capic diff``'s comparison.
    Only the names of what changed, never expressions (they may quote literals)."""
    if static is None:
        return {}
    rules = static.data["rules"]
    out: dict[str, tuple[str, list[str]]] = {}
    for name in rules["added"]:
        out[name] = ("added", [])
    for name in rules["removed"]:
        out[name] = ("removed", [])
    for entry in rules["changed"]:
        out[entry["rule"]] = ("changed", list(_whats(entry["changes"])))
    return out


def _whats(changes: Sequence[Mapping[str, Any]]) -> Iterator[str]:
    for change in changes:
        if change["what"] == "elements":
            yield f"uses changed elements: {change['new']}"
        else:
            yield f"{change['what']} ({change['change']})"


def _pixel_changes(static: BundleDiff | None) -> list[str]:
    if static is None:
        return []
    pixels = static.data["pixels"]
    out = [f"pixel {p['name']} added" for p in pixels["added"]]
    out += [f"pixel {p['name']} removed" for p in pixels["removed"]]
    out += [f"pixel {c['pixel']}: {c['setting']} changed" for c in pixels["changed"]]
    return out
