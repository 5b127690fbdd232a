"""Serve: the site settings of ``capic serve`` (``serve { }`` blocks, see capic.model.serve).

Block-level problems (a literal token, a bad origin) are reported once per block; the ones
that depend on what an environment ends up with (the cookie domain against the origins) are
judged on the merged settings of every checked environment and reported once per span.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping
from typing import ClassVar
from urllib.parse import urlsplit

from capic.diagnostics import Diagnostic, Severity, Span
from capic.lint.context import LintContext
from capic.lint.registry import Check, Option, register
from capic.model import ir
from capic.model.serve import effective_fields, parse_duration

_LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def _blocks(project: ir.Project) -> Iterator[ir.ServeBlock]:
    if project.serve is not None:
        yield project.serve
    for env in project.environments.values():
        if env.serve is not None:
            yield env.serve


def _items(field: ir.Field | None) -> tuple[ir.Expr, ...]:
    if field is None:
        return ()
    value = field.value
    return value.items if isinstance(value, ir.ListOf) else (value,)


def _origins(field: ir.Field | None) -> Iterator[tuple[str, Span]]:
    for item in _items(field):
        if isinstance(item, ir.Const) and isinstance(item.value, str):
            yield item.value, item.span


def _allowed_origins(project: ir.Project) -> Iterator[tuple[str, Span]]:
    """The literal ``allowed_origins`` of every ``serve { }`` block, each where it is written
    (block-level checks: reported once per block, not once per environment)."""
    for block in _blocks(project):
        yield from _origins(block.fields.get("allowed_origins"))


def origin_problem(origin: str) -> str | None:
    """Why ``origin`` is not what browsers send in ``Origin`` (None when it is)."""
    if origin == "*":
        return None  # W002 says why
    try:
        parts = urlsplit(origin)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return "it is not a URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "an origin is scheme://host, e.g. https://shop.example.com"
    if parts.path or parts.query or parts.fragment or parts.username:
        return "an origin has no path, query or trailing slash"
    if origin != origin.lower():
        return "browsers send origins in lowercase"
    return None


def _host(origin: str) -> str | None:
    try:
        return urlsplit(origin).hostname
    except ValueError:
        return None


def covers(cookie_domain: str, host: str) -> bool:
    """Whether a cookie set for ``cookie_domain`` is sent to (and readable on) ``host``."""
    domain = cookie_domain.strip().lstrip(".").lower()
    return host == domain or host.endswith("." + domain)


@register
class LiteralIngestToken(Check):
    code = "W001"
    name = "literal-ingest-token"
    group = "serve"
    severity = Severity.ERROR
    summary = "An ingest token of `serve { ingest_tokens = ... }` written as a string literal."
    why = (
        "The ingest token lets anyone who has it post events in the shop's name. Written in a "
        "rule file it ends up in version control and in every bundle's sources; capic never "
        "writes it into compiled modules, so the service would not have it either."
    )
    example = 'serve {\n  ingest_tokens = "s3cr3t-token"\n}'
    fix = 'Reference it: ingest_tokens = env("CAPIC_INGEST_TOKEN") or secret("ingest_token").'

    def finalize(self, ctx: LintContext) -> Iterable[Diagnostic]:
        for block in _blocks(ctx.project):
            for item in _items(block.fields.get("ingest_tokens")):
                if isinstance(item, ir.Const) and isinstance(item.value, str):
                    yield self.report(
                        "an ingest token is written inline",
                        item.span,
                        'use env("CAPIC_INGEST_TOKEN") or secret("NAME")',
                    )


@register
class WildcardOrigin(Check):
    code = "W002"
    name = "wildcard-origin"
    group = "serve"
    severity = Severity.ERROR
    summary = '`"*"` in `allowed_origins`.'
    why = (
        "/v1/collect sets first-party cookies, so browsers send it credentials; CORS forbids a "
        "wildcard with credentials, and allowing every origin would let any site post events "
        "(and read ids) in the shop's name."
    )
    example = 'serve {\n  allowed_origins = ["*"]\n}'
    fix = 'List the shop\'s origins: allowed_origins = ["https://shop.example.com"].'

    def finalize(self, ctx: LintContext) -> Iterable[Diagnostic]:
        for origin, span in _allowed_origins(ctx.project):
            if origin.strip() == "*":
                yield self.report(
                    "`*` allows every origin",
                    span,
                    "list the site's origins, e.g. https://shop.example.com",
                )


@register
class InvalidOrigin(Check):
    code = "W003"
    name = "invalid-origin"
    group = "serve"
    severity = Severity.ERROR
    summary = "An allowed origin that can never match a browser's `Origin` header."
    why = (
        "Browsers send `Origin: https://shop.example.com` (scheme, host, optional port, "
        "lowercase, no path or trailing slash); anything else never matches, and the site's "
        "requests fail their CORS check."
    )
    example = 'serve {\n  allowed_origins = ["https://shop.example.com/"]\n}'
    fix = 'Write scheme://host[:port]: "https://shop.example.com".'

    def finalize(self, ctx: LintContext) -> Iterable[Diagnostic]:
        for origin, span in _allowed_origins(ctx.project):
            problem = origin_problem(origin)
            if problem is not None:
                yield self.report(f"origin {origin!r} never matches: {problem}", span)


@register
class CookieDomainMismatch(Check):
    code = "W004"
    name = "cookie-domain-mismatch"
    group = "serve"
    severity = Severity.WARNING
    summary = "A cookie domain that does not cover every allowed origin."
    why = (
        "The Meta Pixel on a page reads `_fbp`/`_fbc` from that page's domain. Cookies the "
        "collector sets for another domain are invisible there, so browser and server send "
        "different ids and match quality drops; browsers also drop a cookie whose domain does "
        "not contain the collector's host."
    )
    example = (
        'serve {\n  allowed_origins = ["https://shop.example.com"]\n'
        '  cookie_domain   = "example.org"\n}'
    )
    fix = "Set cookie_domain to the registrable domain shared by the site and the collector."

    def finalize(self, ctx: LintContext) -> Iterable[Diagnostic]:
        seen: set[tuple[str, Span]] = set()
        for view in ctx.environments:
            fields = effective_fields(ctx.project, view.name)
            domain = fields.get("cookie_domain")
            if domain is None or not isinstance(domain.value, ir.Const):
                continue
            text = domain.value.value
            if not isinstance(text, str) or not text.strip():
                continue
            for origin, span in _origins(fields.get("allowed_origins")):
                host = _host(origin)
                if host is None or origin_problem(origin) or covers(text, host):
                    continue
                if (origin, span) in seen:
                    continue
                seen.add((origin, span))
                where = f" in environment `{view.name}`" if view.name else ""
                yield self.report(
                    f"cookie domain {text!r} does not cover origin {origin!r}{where}",
                    span,
                    f"use a cookie_domain that {host} ends with, or remove the origin",
                    environment=view.name,
                )


@register
class InsecureOrigin(Check):
    code = "W005"
    name = "insecure-origin"
    group = "serve"
    severity = Severity.WARNING
    summary = "An `http://` allowed origin other than localhost."
    why = (
        "The collector's cookies are `Secure`: browsers never store them for plain-HTTP pages, "
        "so visitors on that origin get new browser ids on every page. It is usually a leftover "
        "of a test set-up."
    )
    example = 'serve {\n  allowed_origins = ["http://shop.example.com"]\n}'
    fix = "Serve the site over HTTPS and allow the https:// origin."

    def finalize(self, ctx: LintContext) -> Iterable[Diagnostic]:
        for origin, span in _allowed_origins(ctx.project):
            if not origin.startswith("http://") or origin_problem(origin):
                continue
            host = _host(origin) or ""
            if host in _LOCAL_HOSTS or _is_loopback(host):
                continue
            yield self.report(
                f"origin {origin!r} is plain HTTP: its visitors never keep the cookies",
                span,
                "allow the https:// origin instead",
            )


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@register
class LongEnhancementTtl(Check):
    code = "W006"
    name = "long-enhancement-ttl"
    group = "serve"
    severity = Severity.WARNING
    options: ClassVar[Mapping[str, Option]] = {
        "max-days": Option("int", 30, "Longest enhancement TTL (days) not reported.")
    }
    summary = "Enhancement turned on with a TTL longer than `max-days` (default 30 days)."
    why = (
        "Enhancement adds the hashed customer information last seen for a browser to its later "
        "events. On a shared device the next person's events are then attributed to the "
        "previous one; the longer the TTL, the likelier that is."
    )
    example = 'serve {\n  enhancement     = true\n  enhancement_ttl = "365d"\n}'
    fix = 'Keep the TTL short (the default is "7d"), or raise max-days in the lint options.'

    def finalize(self, ctx: LintContext) -> Iterable[Diagnostic]:
        limit = int(self.settings["max-days"]) * 86400
        seen: set[Span] = set()
        for view in ctx.environments:
            fields = effective_fields(ctx.project, view.name)
            on = fields.get("enhancement")
            ttl = fields.get("enhancement_ttl")
            if on is None or ttl is None or ttl.value.span in seen:
                continue
            if not (isinstance(on.value, ir.Const) and on.value.value is True):
                continue
            seconds = parse_duration(ttl.value.value) if isinstance(ttl.value, ir.Const) else None
            if seconds is None or seconds <= limit:
                continue
            seen.add(ttl.value.span)
            yield self.report(
                f"enhancement keeps customer information for {seconds // 86400} days",
                ttl.value.span,
                f"shared devices mix people up; keep it at most {limit // 86400} days",
            )
