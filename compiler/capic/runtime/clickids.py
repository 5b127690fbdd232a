"""Meta's click id (``fbc``) and browser id (``fbp``): their one home in capic.

Both are ``fb.{subdomain_index}.{creation_time_ms}.{payload}``, optionally followed by the
Parameter Builder's appendix (``.`` + 2 or 8 base64url characters), per capi-facts §10:

- ``fbc``: the payload is the ``fbclid`` query value of the landing URL, copied verbatim
  (case-sensitive; never lowercased);
- ``fbp``: the payload is a random integer (0..2147483647 in Meta's own builder).

Everything in capic that reads, checks or creates them goes through this module: the
runtime's pass-through cleaning of ``fbc``/``fbp``, the standard-library helpers of the rule
language, the first-party cookies of ``capic serve``, and the checks and reports that judge
their shape. Nothing here is hashed: Meta wants both in clear text.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "COOKIE_MAX_AGE",
    "FBC_COOKIE",
    "FBP_COOKIE",
    "ClickId",
    "build_fbc",
    "clean",
    "fbc_from_url",
    "fbclid_from_url",
    "is_valid_fbc",
    "is_valid_fbp",
    "new_fbp",
    "parse",
    "problem",
    "refresh_fbc",
    "subdomain_index",
]

#: Cookie names the Meta Pixel reads and writes.
FBC_COOKIE: Final = "_fbc"
FBP_COOKIE: Final = "_fbp"
#: 90 days, in seconds: the expiry Meta asks for (and the Parameter Builder's default).
COOKIE_MAX_AGE: Final = 90 * 24 * 3600
#: Largest random part of an ``fbp`` created here (Meta's builder: 0..2**31-1).
FBP_RANDOM_MAX: Final = 2_147_483_647

Kind = Literal["fbc", "fbp"]

# fb.<index>.<13-digit ms>.<payload>[.<appendix>]; the payload has no dots.
_SHAPE: Final = re.compile(
    r"fb\.(?P<index>[0-9])\.(?P<ms>[0-9]+)\.(?P<payload>[^.\s]+)"
    r"(?:\.(?P<appendix>[A-Za-z0-9_-]{2}|[A-Za-z0-9_-]{8}))?"
)
_FBP_PAYLOAD: Final = re.compile(r"[0-9]{1,10}")
_FBCLID: Final = re.compile(r"[A-Za-z0-9_-]+")
#: 2001-09-09 .. 2286-11-20 in milliseconds: exactly 13 digits.
_MS_DIGITS: Final = 13


@dataclass(frozen=True, slots=True)
class ClickId:
    """A parsed ``fbc`` or ``fbp`` value."""

    subdomain_index: int
    creation_ms: int
    payload: str
    appendix: str | None = None

    def __str__(self) -> str:
        tail = f".{self.appendix}" if self.appendix else ""
        return f"fb.{self.subdomain_index}.{self.creation_ms}.{self.payload}{tail}"


def clean(value: Any) -> str | None:
    """A pass-through identifier as it should be sent: text trimmed, blank or non-text gone.

    Used for ``fbc``, ``fbp`` and ``client_ip_address`` (values Meta wants verbatim, so
    nothing but surrounding whitespace is removed).
    """
    if isinstance(value, str):
        text = value.strip()
        return text or None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    return None


def parse(value: Any) -> ClickId | None:
    """The parts of an ``fbc``/``fbp`` value (surrounding whitespace ignored), else None."""
    text = clean(value)
    if text is None:
        return None
    match = _SHAPE.fullmatch(text)
    if match is None:
        return None
    return ClickId(
        int(match["index"]), int(match["ms"]), match["payload"], match["appendix"] or None
    )


def problem(value: Any, kind: Kind) -> str | None:
    """Why ``value`` is not a well-formed ``fbc``/``fbp`` (None when it is)."""
    text = clean(value)
    if text is None:
        return "empty"
    parts = parse(text)
    if parts is None:
        return f"not of the form fb.<index>.<milliseconds>.<{_payload_name(kind)}>"
    digits = len(str(parts.creation_ms))
    if digits == 10:
        return "the creation time is in seconds; Meta expects milliseconds (13 digits)"
    if digits != _MS_DIGITS:
        return f"the creation time has {digits} digits; Meta expects milliseconds (13 digits)"
    if parts.subdomain_index > 2:
        return f"subdomain index {parts.subdomain_index}; Meta uses 0, 1 or 2"
    if kind == "fbp" and not _FBP_PAYLOAD.fullmatch(parts.payload):
        return "the random part of an fbp is a decimal number"
    return None


def is_valid_fbc(value: Any) -> bool:
    return problem(value, "fbc") is None


def is_valid_fbp(value: Any) -> bool:
    return problem(value, "fbp") is None


def _payload_name(kind: Kind) -> str:
    return "fbclid" if kind == "fbc" else "random"


def fbclid_from_url(url: Any) -> str | None:
    """The ``fbclid`` query value of ``url``, verbatim (no case change), or None.

    A value with characters an fbclid never has (Meta issues base64url text) is ignored
    rather than built into a malformed ``fbc``.
    """
    if not isinstance(url, str) or "fbclid=" not in url:
        return None
    try:
        query = urlsplit(url.strip()).query
    except ValueError:
        return None
    for name, val in parse_qsl(query, keep_blank_values=False):
        if name == "fbclid":
            val = val.strip()
            return val if _FBCLID.fullmatch(val) else None
    return None


def build_fbc(fbclid: str, creation_ms: int, subdomain_index: int = 1) -> str:
    """``fb.{index}.{creation_ms}.{fbclid}``; index 1 when no cookie domain is known."""
    return str(ClickId(subdomain_index, int(creation_ms), fbclid))


def fbc_from_url(url: Any, creation_ms: int, subdomain_index: int = 1) -> str | None:
    """The ``fbc`` of the ``fbclid`` in ``url`` created at ``creation_ms`` (None when the URL
    carries no usable fbclid): what the Meta Pixel would store in ``_fbc`` for that visit."""
    fbclid = fbclid_from_url(url)
    if fbclid is None:
        return None
    return build_fbc(fbclid, creation_ms, subdomain_index)


def new_fbp(creation_ms: int, subdomain_index: int = 1, random_part: int | None = None) -> str:
    """A new browser id, as the Meta Pixel would create it."""
    rand = secrets.randbelow(FBP_RANDOM_MAX + 1) if random_part is None else random_part
    return str(ClickId(subdomain_index, int(creation_ms), str(rand)))


def refresh_fbc(
    existing: Any, url: Any, now_ms: int, subdomain_index: int = 1
) -> tuple[str | None, bool]:
    """The ``fbc`` to use for a hit on ``url`` given the ``_fbc`` cookie ``existing``.

    Returns ``(value, changed)``. A URL without ``fbclid`` keeps the cookie as it is; the same
    fbclid again keeps the cookie (and its original creation time); a new fbclid replaces it
    with one created now (capi-facts §10.2).
    """
    current = clean(existing)
    fbclid = fbclid_from_url(url)
    if fbclid is None:
        return current, False
    parts = parse(current) if current is not None else None
    if parts is not None and parts.payload == fbclid:
        return current, False
    return build_fbc(fbclid, now_ms, subdomain_index), True


def subdomain_index(cookie_domain: str | None) -> int:
    """Meta's subdomain index of the domain a cookie is set on: ``com`` 0, ``example.com`` 1,
    ``www.example.com`` 2 (deeper domains count as 2). No domain (a host-only cookie): 1."""
    if not cookie_domain:
        return 1
    labels = [label for label in cookie_domain.strip().strip(".").split(".") if label]
    return max(0, min(2, len(labels) - 1))
