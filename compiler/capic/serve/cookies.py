"""First-party ``_fbp``/``_fbc`` cookies of ``/v1/collect`` (capi-facts §10.2).

On every browser hit: ``_fbp`` is created when the browser has none (or an unusable one);
``_fbc`` is built from the page URL's ``fbclid`` (kept with its original creation time while
the same fbclid comes back, replaced when a new one arrives); both are sent back with a fresh
90-day expiry, so a visitor who keeps coming keeps their ids. Rules see these values in
``request.cookies``. The shapes come from :mod:`capic.runtime.clickids`, capic's one home of
click-id logic.

Attributes: ``Domain`` (the site's ``cookie_domain``, when the collector's host is inside it;
host-only otherwise), ``Path=/``, ``SameSite=Lax``, ``Secure``, and *not* ``HttpOnly``: the
Meta Pixel in the page reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import formatdate

from capic.runtime import clickids

__all__ = ["CookieJar", "FirstPartyCookies"]


@dataclass(slots=True)
class CookieJar:
    """The cookies rules see after a hit, and the ``Set-Cookie`` values of the response."""

    cookies: dict[str, str]
    set_cookie: list[str] = field(default_factory=list)
    created_fbp: bool = False
    new_fbc: bool = False


def _covers(domain: str, host: str) -> bool:
    return host == domain or host.endswith("." + domain)


class FirstPartyCookies:
    __slots__ = ("domain", "max_age", "secure")

    def __init__(
        self,
        domain: str | None,
        *,
        max_age: int = clickids.COOKIE_MAX_AGE,
        secure: bool = True,
    ) -> None:
        self.domain = domain.strip().lstrip(".").lower() if domain else None
        self.max_age = max_age
        self.secure = secure

    def _header(self, name: str, value: str, domain: str | None, now_ms: int) -> str:
        expires = formatdate(now_ms / 1000 + self.max_age, usegmt=True)
        parts = [f"{name}={value}"]
        if domain:
            parts.append(f"Domain={domain}")
        parts += ["Path=/", f"Max-Age={self.max_age}", f"Expires={expires}", "SameSite=Lax"]
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts)

    def apply(
        self, cookies: Mapping[str, str], page_url: str | None, host: str | None, now_ms: int
    ) -> CookieJar:
        """The cookies after a hit on ``page_url`` received on ``host``."""
        hostname = (host or "").rsplit(":", 1)[0].strip("[]").lower() if host else ""
        domain = self.domain if self.domain and _covers(self.domain, hostname) else None
        index = clickids.subdomain_index(domain or hostname or None)
        jar = CookieJar(dict(cookies))

        fbp = cookies.get(clickids.FBP_COOKIE)
        if not clickids.is_valid_fbp(fbp):
            fbp = clickids.new_fbp(now_ms, index)
            jar.created_fbp = True
        else:
            fbp = clickids.clean(fbp)
        assert fbp is not None
        jar.cookies[clickids.FBP_COOKIE] = fbp
        jar.set_cookie.append(self._header(clickids.FBP_COOKIE, fbp, domain, now_ms))

        fbc, changed = clickids.refresh_fbc(
            cookies.get(clickids.FBC_COOKIE), page_url, now_ms, index
        )
        if fbc is not None and (changed or clickids.is_valid_fbc(fbc)):
            jar.cookies[clickids.FBC_COOKIE] = fbc
            jar.new_fbc = changed
            jar.set_cookie.append(self._header(clickids.FBC_COOKIE, fbc, domain, now_ms))
        return jar
