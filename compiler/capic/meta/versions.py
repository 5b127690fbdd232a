"""Graph API versions: Meta's calendar (from ``schemas/graph_api_version.schema.json``, the one
source) and the clock the checks compare it with.

"Today" is, in order: the ``--today`` option of the running command (or ``$CAPIC_TODAY``),
``$SOURCE_DATE_EPOCH`` (so that a reproducible build reaches the same verdict on any day), and
the system clock (UTC).
"""

from __future__ import annotations

import contextvars
import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from capic.meta.catalog import schema

__all__ = [
    "EXPIRY_WARNING_DAYS",
    "GraphVersion",
    "VersionStatus",
    "known_versions",
    "parse_today",
    "status",
    "today",
]

#: A pinned version expiring within this many days is a warning.
EXPIRY_WARNING_DAYS = 90
#: Meta serves every version at least this long after its release (capi-facts 1.2).
_MINIMUM_LIFETIME = timedelta(days=2 * 365)
#: Meta releases a version every few months: a newer version than the table is plausible
#: (a warning) when there has been time to release it since the newest one in the table.
_RELEASE_INTERVAL_DAYS = 120
_VERSION = re.compile(r"v(\d+)\.(\d+)")

#: Set by ``--today`` for the duration of one command (see :mod:`capic.cli.options`).
TODAY: contextvars.ContextVar[date | None] = contextvars.ContextVar("capic_today", default=None)


@dataclass(frozen=True, slots=True)
class GraphVersion:
    version: str
    major: int
    released: date | None
    #: The announced end of service, else the release date plus two years (Meta's minimum).
    available_until: date | None
    announced: bool


@dataclass(frozen=True, slots=True)
class VersionStatus:
    """``kind``: "ok", "expiring" (M030), "expired" (M031), "newer" (M032), "unknown" (M033)."""

    kind: str
    message: str


@functools.cache
def known_versions() -> tuple[GraphVersion, ...]:
    """The versions of the schema's calendar, newest first."""
    out = []
    for entry in schema("graph_api_version")["x-capic-versions"]:
        released = date.fromisoformat(entry["released"]) if entry.get("released") else None
        until = entry.get("available_until")
        end = date.fromisoformat(until) if until else None
        if end is None and released is not None:
            end = released + _MINIMUM_LIFETIME
        m = _VERSION.fullmatch(entry["version"])
        assert m is not None, entry
        out.append(GraphVersion(entry["version"], int(m.group(1)), released, end, bool(until)))
    return tuple(sorted(out, key=lambda v: v.major, reverse=True))


def parse_today(text: str) -> date:
    """A ``YYYY-MM-DD`` date; ValueError otherwise."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a date (write YYYY-MM-DD)") from None


def today(environ: Mapping[str, str] | None = None) -> date:
    env = os.environ if environ is None else environ
    chosen = TODAY.get()
    if chosen is not None:
        return chosen
    pinned = env.get("CAPIC_TODAY", "").strip()
    if pinned:
        try:
            return parse_today(pinned)
        except ValueError:
            pass  # the CLI option validates it; a bad variable falls back to the clock
    epoch = env.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC).date()
    return datetime.now(UTC).date()


def status(version: str, on: date, warn_days: int = EXPIRY_WARNING_DAYS) -> VersionStatus:
    """What a pinned ``version`` means on the day ``on``."""
    known = known_versions()
    by_name = {v.version: v for v in known}
    m = _VERSION.fullmatch(version)
    found = by_name.get(version)
    if found is not None:
        end = found.available_until
        if end is None:
            return VersionStatus("ok", "")
        if end < on:
            return VersionStatus(
                "expired",
                f"Graph API {version} expired on {end.isoformat()}; Meta no longer serves it",
            )
        if (end - on).days <= warn_days:
            when = "announced" if found.announced else "at the earliest"
            return VersionStatus(
                "expiring",
                f"Graph API {version} expires on {end.isoformat()} ({when}), "
                f"in {(end - on).days} days",
            )
        return VersionStatus("ok", "")
    newest, oldest = known[0], known[-1]
    if m is not None and int(m.group(1)) < oldest.major:
        return VersionStatus(
            "expired",
            f"Graph API {version} is older than {oldest.version}, the oldest version Meta "
            "still serves",
        )
    if m is not None and int(m.group(2)) == 0 and int(m.group(1)) > newest.major:
        since = (on - newest.released).days if newest.released else 0
        plausible = newest.major + 1 + max(0, since) // _RELEASE_INTERVAL_DAYS
        if int(m.group(1)) <= plausible:
            return VersionStatus(
                "newer",
                f"Graph API {version} is newer than the versions capic knows "
                f"(up to {newest.version})",
            )
    return VersionStatus(
        "unknown",
        f"{version!r} is not a Graph API version Meta released "
        f"(capic knows {oldest.version} to {newest.version})",
    )
