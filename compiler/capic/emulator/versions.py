"""Graph API version signals the emulator can be told to give (capi-facts §15):

- a request to a *deprecated* version fails with error ``(#2635)`` ("You are calling a
  deprecated version of the Ads API"), as Meta answers once a version is past its end;
- a request to a version Meta *auto-upgrades* succeeds with an ``X-Ad-Api-Version-Warning``
  header (Meta's blog, 2024-04-16). The header's wording is the emulator's [D]: Meta's is not
  documented.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from capic.emulator.validation import GraphError
from capic.resources import load_schema

__all__ = ["WARNING_HEADER", "VersionSignals", "latest_version"]

WARNING_HEADER = "X-Ad-Api-Version-Warning"
DEPRECATED_CODE = 2635


def latest_version() -> str:
    """The version capic delivers to by default (the config schema's), named in the answers."""
    project = load_schema("config")["$defs"]["project"]["properties"]
    return str(project["api_version"]["default"])


@dataclass(frozen=True, slots=True)
class VersionSignals:
    deprecated: frozenset[str] = frozenset()
    upgraded: frozenset[str] = frozenset()
    latest: str = field(default_factory=latest_version)

    @classmethod
    def of(cls, deprecated: Iterable[str] = (), upgraded: Iterable[str] = ()) -> VersionSignals:
        return cls(frozenset(deprecated), frozenset(upgraded))

    def error(self, version: str) -> GraphError | None:
        if version not in self.deprecated:
            return None
        return GraphError(
            400,
            DEPRECATED_CODE,
            f"(#{DEPRECATED_CODE}) You are calling a deprecated version of the Ads API. "
            f"Please update to the latest version: {self.latest}.",
        )

    def headers(self, version: str) -> tuple[tuple[str, str], ...]:
        if version not in self.upgraded:
            return ()
        text = f"Graph API {version} is deprecated; this call was upgraded to {self.latest}"
        return ((WARNING_HEADER, text),)
