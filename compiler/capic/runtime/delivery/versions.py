"""Graph API version drift, noticed in Meta's answers (capi-facts §15).

- Error ``(#2635)`` ("You are calling a deprecated version of the Ads API"): the pixel's
  ``api_version`` is past its end. No request to it can succeed, so its events are never
  retried nor bisected: the batch is dead-lettered at once (``retry.CONFIG_CODES``) with Meta's
  message, which names the latest version.
- An ``X-Ad-Api-Version-Warning`` header on an answer: Meta upgraded the call to a newer
  version (its auto-upgrade, Meta's blog 2024-04-16). The events were accepted; the version
  will stop working.

Either signal is counted per pixel, version and kind in the engine's stats (the run summary
shows them, ``capic serve``'s metrics count them) and logged once, naming the pixel: Meta's own
tag kept sending to an expired version for months; a forwarder must say so loudly, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from capic.runtime.delivery.retry import error_fields

__all__ = [
    "DEPRECATED_CODE",
    "WARNING_HEADER",
    "VersionSignal",
    "describe_signal",
    "version_signal",
]

DEPRECATED_CODE = 2635
#: Lowercase, as the transport keeps response headers.
WARNING_HEADER = "x-ad-api-version-warning"
_LONGEST = 300

SignalKind = Literal["deprecated", "upgraded"]


@dataclass(frozen=True, slots=True)
class VersionSignal:
    kind: SignalKind
    #: Meta's words (the error message or the header), shortened.
    message: str


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _LONGEST else text[: _LONGEST - 3] + "..."


def version_signal(status: int | None, json: Any, headers: dict[str, str]) -> VersionSignal | None:
    """The version signal of one Graph API answer, if it carries one."""
    err = error_fields(json)
    if err is not None and err.get("code") == DEPRECATED_CODE:
        return VersionSignal("deprecated", _short(str(err.get("message") or "(#2635)")))
    warning = headers.get(WARNING_HEADER)
    if warning:
        return VersionSignal("upgraded", _short(warning))
    return None


def describe_signal(pixel_id: str, api_version: str, signal: VersionSignal) -> str:
    """The one log line for a signal, naming the pixel."""
    if signal.kind == "deprecated":
        return (
            f"pixel {pixel_id}: Graph API {api_version} is deprecated ({signal.message}); its "
            "events are dead-lettered, not retried: set api_version to a current version and "
            "requeue them"
        )
    return (
        f"pixel {pixel_id}: Meta upgraded calls to Graph API {api_version} "
        f"({signal.message}); set api_version to a current version before {api_version} stops "
        "working"
    )
