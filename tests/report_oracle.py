"""What `capic report` must say, computed from `capic run --dry-run` of the same events.

The report's numbers are checked against this oracle, never against the report's own
aggregation: the dry run prints every request it would send (stdout) and its summary (stderr,
``--summary-format json``); everything below is counted from those alone, plus the rule
metadata of the compiled module (which rule may send which event name) and the input
itself (which event ids the rules could have taken from it).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from click.testing import CliRunner

from capic.cli import cli
from capic.meta import estimate

#: capi-facts §10.2's suggested shape of fbc/fbp (13-digit milliseconds).
CLICK_ID = re.compile(r"fb\.[0-2]\.\d{13}\.[^.\s]+(\.[A-Za-z0-9_-]{2}|\.[A-Za-z0-9_-]{8})?")
FBP_RANDOM = re.compile(r"\d{1,10}")
REJECTED_LINE = re.compile(r"line \d+: (.+) from rule '(.+)' to pixel `(.+)` rejected: (.+)$")
DEDUP_WINDOW = 48 * 3600


@dataclass
class Oracle:
    summary: dict[str, Any]
    #: (pixel id, server event) of every event the dry run would send.
    events: list[tuple[str, dict[str, Any]]]
    #: (rule, pixel name, reason) of every rejection the dry run named.
    rejections: list[tuple[str, str, str]] = field(default_factory=list)

    def sent_by_rule(self, rule_of: Mapping[str, str]) -> Counter[str]:
        return Counter(rule_of[e["event_name"]] for _, e in self.events)

    def coverage(self) -> Counter[str]:
        return Counter(k for _, e in self.events for k in e.get("user_data", {}))

    def histogram(self) -> list[int]:
        bins = [0] * 10
        for _, e in self.events:
            user = e.get("user_data", {})
            ip = user.get("client_ip_address")
            score = estimate.estimate(user, ipv4=ip is not None and ":" not in ip).score
            bins[min(9, int(round(score, 2)))] += 1
        return bins

    def ids_from(self, candidates: set[str]) -> int:
        return sum(1 for _, e in self.events if e.get("event_id") in candidates)

    def duplicates(self) -> int:
        times: dict[tuple[str, str, str], list[int]] = defaultdict(list)
        for pixel, e in self.events:
            times[(pixel, e["event_name"], e["event_id"])].append(e["event_time"])
        dupes = 0
        for found in times.values():
            found.sort()
            first = found[0]
            for t in found[1:]:
                if t - first <= DEDUP_WINDOW:
                    dupes += 1
                else:
                    first = t
        return dupes

    def click_ids(self, kind: str) -> tuple[int, int]:
        """(present, well formed) of fbc or fbp."""
        values = [e["user_data"][kind] for _, e in self.events if kind in e.get("user_data", {})]
        good = [v for v in values if CLICK_ID.fullmatch(v)]
        if kind == "fbp":
            good = [v for v in good if FBP_RANDOM.fullmatch(v.split(".")[3])]
        return len(values), len(good)

    def ldu(self) -> int:
        return sum(1 for _, e in self.events if "LDU" in e.get("data_processing_options", []))


def dry_run(args: Iterable[str]) -> Oracle:
    """``capic run ARGS --dry-run --rebase-time --summary-format json``."""
    result = CliRunner().invoke(
        cli,
        ["run", *args, "--dry-run", "--rebase-time", "--summary-format", "json"],
        catch_exceptions=False,
    )
    assert result.exit_code in (0, 1), result.stderr
    lines = result.stderr.strip().splitlines()
    summary = orjson.loads(lines[-1])
    events = [
        (request["pixel_id"], event)
        for line in result.stdout.splitlines()
        if line.strip()
        for request in [orjson.loads(line)]
        for event in request["body"]["data"]
    ]
    rejections = [
        (m.group(2), m.group(3), m.group(4)) for line in lines if (m := REJECTED_LINE.search(line))
    ]
    return Oracle(summary, events, rejections)
