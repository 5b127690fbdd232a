"""What rules see as ``request`` for a browser hit: client IP, headers, cookies.

- **Client IP.** The socket peer, unless the peer is a configured trusted proxy: then the
  ``X-Forwarded-For`` (or, without it, ``Forwarded``) chain is walked from the right and the
  first hop that is not a trusted proxy is the client. Nobody else can choose the address
  rules see: a client that writes its own ``X-Forwarded-For`` only adds hops to the *left* of
  what the trusted proxy appended.
- **Headers**, names lowercased, without ``Authorization``, ``Proxy-Authorization`` and the
  raw ``Cookie`` header: credentials never reach rules (or logs through them).
- **Cookies**, parsed leniently (a malformed pair is skipped, the first of a repeated name
  wins, as browsers send the most specific first).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

__all__ = [
    "DROPPED_HEADERS",
    "TrustedProxies",
    "client_ip",
    "parse_cookies",
    "rule_headers",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Never shown to rules: credentials, and the raw cookie header (cookies come parsed).
DROPPED_HEADERS: Final = frozenset({"authorization", "proxy-authorization", "cookie"})
#: Bounds on what one request may make us parse.
MAX_COOKIES: Final = 64
MAX_HOPS: Final = 32


def parse_ip(text: str) -> IPAddress | None:
    """An address from a forwarding header hop: ``1.2.3.4``, ``1.2.3.4:80``, ``[::1]:80``,
    ``"[2001:db8::1]"``; IPv4-mapped IPv6 becomes IPv4. None for anything else."""
    value = text.strip().strip('"').strip()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        value = value[1:end]
    elif value.count(":") == 1:  # IPv4 with a port
        value = value.split(":", 1)[0]
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


@dataclass(frozen=True, slots=True)
class TrustedProxies:
    """The networks whose forwarding headers are believed (none by default)."""

    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, specs: Iterable[str]) -> TrustedProxies:
        """From CIDRs or addresses (``10.0.0.0/8``, ``127.0.0.1``); raises ValueError naming
        the first that is neither."""
        nets: list[IPNetwork] = []
        for spec in specs:
            for part in spec.split(","):
                text = part.strip()
                if not text:
                    continue
                try:
                    nets.append(ipaddress.ip_network(text, strict=False))
                except ValueError:
                    raise ValueError(f"trusted proxy {text!r} is not an address or CIDR") from None
        return cls(tuple(nets))

    def __contains__(self, addr: object) -> bool:
        if not isinstance(addr, ipaddress.IPv4Address | ipaddress.IPv6Address):
            return False
        return any(addr.version == net.version and addr in net for net in self.networks)

    def __bool__(self) -> bool:
        return bool(self.networks)


def _forwarded_for(values: Sequence[str]) -> list[str]:
    """The ``for=`` parameters of ``Forwarded`` headers (RFC 7239), in order."""
    hops: list[str] = []
    for value in values:
        for element in value.split(","):
            for pair in element.split(";"):
                name, _, val = pair.partition("=")
                if name.strip().lower() == "for":
                    hops.append(val)
    return hops


def client_ip(
    peer: str | None,
    trusted: TrustedProxies,
    *,
    x_forwarded_for: Sequence[str] = (),
    forwarded: Sequence[str] = (),
) -> str | None:
    """The client address rules see (see the module docstring)."""
    addr = parse_ip(peer) if peer else None
    if addr is None:
        return peer or None
    if addr not in trusted:
        return str(addr)
    if x_forwarded_for:
        hops = [h for v in x_forwarded_for for h in v.split(",")]
    else:
        hops = _forwarded_for(forwarded)
    client = addr
    for raw in reversed(hops[-MAX_HOPS:]):
        hop = parse_ip(raw)
        if hop is None:
            # A hop our proxy did not write (garbage or "unknown"): stop at the last address
            # a trusted proxy vouched for.
            break
        client = hop
        if hop not in trusted:
            break
    return str(client)


def rule_headers(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers for rules: lowercase names, repeated ones joined with ", ", credentials and the
    raw cookie header left out."""
    out: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        if key in DROPPED_HEADERS:
            continue
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def parse_cookies(header: str | None) -> dict[str, str]:
    """``name=value`` pairs of a ``Cookie`` header; quotes around a value are removed."""
    out: dict[str, str] = {}
    if not header:
        return out
    for part in header.split(";"):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or not name or name in out:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        out[name] = value
        if len(out) >= MAX_COOKIES:
            break
    return out
