"""``capic init``: a new project that checks clean and whose tests pass, in one command.

:func:`validate` turns raw arguments into :class:`Options` (or raises :class:`ScaffoldError`
with a one-line message), :func:`render` gives the files to write (path -> text, nothing
touched on disk), :func:`write` writes them, refusing to overwrite unless forced. The
templates are Jinja2 files inside this package (``templates/``), so they ship in the wheel.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import jinja2

from capic.scaffold import literals, samples
from capic.scaffold.events import (
    BROWSER_KEYS,
    CLIENT_IP,
    CUSTOM_EXPRESSIONS,
    CUSTOMER_KEYS,
    FBC,
    FBP,
    STANDARD_EVENT_NAMES,
    STANDARD_EVENTS,
    USER_AGENT,
    StandardEvent,
)

__all__ = [
    "DEFAULT_DATA_LAYER_PATH",
    "DEFAULT_TOKEN_ENV",
    "PIXEL_NAME",
    "Options",
    "ScaffoldError",
    "existing",
    "render",
    "validate",
    "write",
]

DEFAULT_DATA_LAYER_PATH = "window.dataLayer.meta"
DEFAULT_TOKEN_ENV = "META_CAPI_TOKEN"
#: The name of the generated pixel declaration (`send Purchase to site`).
PIXEL_NAME = "site"

_TEMPLATES = Path(__file__).resolve().parent / "templates"
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_JS_PATH = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*")
_ENV_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PROJECT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class ScaffoldError(ValueError):
    """An argument or target ``capic init`` cannot use; the message is one line."""


@dataclass(frozen=True, slots=True)
class Options:
    target: Path
    domain: str
    pixel_id: str
    data_layer_path: str = DEFAULT_DATA_LAYER_PATH
    token_env: str = DEFAULT_TOKEN_ENV
    name: str = "capic-project"
    #: The collector's /v1/collect URL (``capic serve``); None: the snippet posts nowhere.
    collect_url: str | None = None


# ----------------------------------------------------------------------------- validation


def validate_domain(raw: str) -> str:
    """A host name, lowercased, without a trailing dot."""
    text = raw.strip()
    if "://" in text or "/" in text:
        host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text, flags=re.IGNORECASE).split("/")[0]
        raise ScaffoldError(
            f"--domain takes a host name, not a URL: write --domain {host or 'shop.example.com'}"
        )
    host = text.lower().removesuffix(".")
    if not host:
        raise ScaffoldError("--domain is empty: give the site's host name, e.g. shop.example.com")
    if ":" in host:
        raise ScaffoldError(f"--domain {raw!r} has a port; give the host name only")
    if not host.isascii():
        try:  # an internationalized name: the ASCII (punycode) form browsers report
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise ScaffoldError(f"--domain {raw!r} is not a valid host name") from None
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in host.split(".")):
        raise ScaffoldError(
            f"--domain {raw!r} is not a host name (letters, digits and hyphens in dot-separated "
            "labels, e.g. shop.example.com)"
        )
    if host.split(".")[-1].isdigit():
        raise ScaffoldError(f"--domain {raw!r} is an IP address; give the site's host name")
    return host


def validate_pixel_id(raw: str) -> str:
    if not raw.isascii() or not raw.isdigit():
        raise ScaffoldError(
            f"--pixel-id must be the dataset's numeric id (digits only, e.g. 1234567890123456), "
            f"got {raw!r}"
        )
    if len(raw) > 20:
        raise ScaffoldError(f"--pixel-id {raw} is too long for a Meta dataset id (max 20 digits)")
    return raw


def validate_data_layer_path(raw: str) -> str:
    if not _JS_PATH.fullmatch(raw):
        raise ScaffoldError(
            f"--data-layer-path must be a dotted JavaScript path such as "
            f"{DEFAULT_DATA_LAYER_PATH}, got {raw!r}"
        )
    return raw


def validate_token_env(raw: str) -> str:
    if not _ENV_VAR.fullmatch(raw):
        raise ScaffoldError(
            f"--token-env must be an environment variable name such as {DEFAULT_TOKEN_ENV}, "
            f"got {raw!r}"
        )
    return raw


_URL_UNSAFE = re.compile(r"[\s\"'\\<>`]")


def validate_collect_url(raw: str) -> str:
    """The collector's URL, written into the browser snippet: an absolute http(s) URL."""
    text = raw.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        raise ScaffoldError(f"--collect-url {raw!r} is not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ScaffoldError(
            "--collect-url must be an absolute URL such as "
            f"https://collect.example.com/v1/collect, got {raw!r}"
        )
    if _URL_UNSAFE.search(text) or parts.query or parts.fragment or parts.username:
        raise ScaffoldError(f"--collect-url {raw!r} must have no query, fragment or credentials")
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.scheme == "http" and not local:
        raise ScaffoldError(
            f"--collect-url {raw!r} is plain HTTP: browsers keep the collector's cookies only "
            "over HTTPS"
        )
    return text


def cookie_domain(domain: str, collect_url: str | None) -> str | None:
    """The cookie domain shared by the site and its collector: the longest common suffix of
    their host names with at least two labels (None when the collector is on another site,
    which makes its cookies third-party)."""
    host = urlsplit(collect_url).hostname if collect_url else None
    if not host:
        return None
    a, b = domain.split("."), host.lower().split(".")
    common: list[str] = []
    while a and b and a[-1] == b[-1]:
        common.insert(0, a.pop())
        b.pop()
    return ".".join(common) if len(common) >= 2 else None


def project_name(target: Path, domain: str) -> str:
    """The project name for capic.toml: the directory's name, else the domain, made valid."""
    for candidate in (target.resolve().name, domain):
        name = re.sub(r"[^A-Za-z0-9._-]+", "-", candidate).strip("-._")
        if name and _PROJECT_NAME.fullmatch(name):
            return name
    return "capic-project"


def validate(
    target: str | Path,
    *,
    domain: str,
    pixel_id: str,
    data_layer_path: str = DEFAULT_DATA_LAYER_PATH,
    token_env: str = DEFAULT_TOKEN_ENV,
    collect_url: str | None = None,
) -> Options:
    path = Path(target)
    if path.exists() and not path.is_dir():
        raise ScaffoldError(f"{target} exists and is not a directory")
    host = validate_domain(domain)
    return Options(
        target=path,
        domain=host,
        pixel_id=validate_pixel_id(pixel_id),
        data_layer_path=validate_data_layer_path(data_layer_path),
        token_env=validate_token_env(token_env),
        name=project_name(path, host),
        collect_url=validate_collect_url(collect_url) if collect_url is not None else None,
    )


# ----------------------------------------------------------------------------- rendering


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # every value is validated above; the outputs are not all HTML
    )


def _rule_context(ev: StandardEvent, options: Options) -> dict[str, object]:
    user_fields = [(key, element) for key, element, _ in CUSTOMER_KEYS] + list(BROWSER_KEYS)
    custom_fields = [(key, CUSTOM_EXPRESSIONS[key]) for key in ev.custom]
    expected = samples.expected(ev, options.domain)
    return {
        "ev": ev,
        "user_fields": user_fields,
        "custom_fields": custom_fields,
        "custom_width": max((len(k) for k, _ in custom_fields), default=0),
        "now": samples.clock(ev),
        "event_literal": literals.json_block(samples.event_of(ev, options.domain), 2),
        "request_literal": literals.json_block(samples.request_of(), 2),
        "expected": expected,
        "expected_user_width": max(len(k) for k, _ in expected.user),
        "expected_custom_width": max((len(k) for k, _ in expected.custom), default=0),
    }


def render(options: Options) -> dict[str, str]:
    """Every file of the new project: relative posix path -> text."""
    env = _environment()
    common: dict[str, object] = {
        "name": options.name,
        "domain": options.domain,
        "pixel_id": options.pixel_id,
        "pixel": PIXEL_NAME,
        "token_env": options.token_env,
        "data_layer_path": options.data_layer_path,
        "customer_keys": CUSTOMER_KEYS,
        "standard_events": STANDARD_EVENT_NAMES,
        "client_ip": CLIENT_IP,
        "user_agent": USER_AGENT,
        "fbp": FBP,
        "fbc": FBC,
        "collect_url": options.collect_url or "",
        "cookie_domain": cookie_domain(options.domain, options.collect_url),
    }

    def page(template: str, **extra: object) -> str:
        return env.get_template(template).render({**common, **extra})

    files: dict[str, str] = {
        "capic.toml": page("capic.toml.j2"),
        "README.md": page("README.md.j2"),
        ".gitignore": page("gitignore.j2"),
        "pixels.capi": page("pixels.capi.j2"),
        "elements.capi": page("elements.capi.j2"),
        "environments.capi": page("environments.capi.j2"),
    }
    for ev in STANDARD_EVENTS:
        files[f"rules/{ev.file}.capi"] = page("rule.capi.j2", **_rule_context(ev, options))
    files["tests/data_layer.capi"] = page("data_layer_tests.capi.j2")
    files["events.jsonl"] = "".join(
        json.dumps(samples.envelope(ev, options.domain), ensure_ascii=False) + "\n"
        for ev in STANDARD_EVENTS
    )
    files["site/meta-pixel-snippet.html"] = page("meta-pixel-snippet.html.j2")
    if options.collect_url:
        files["serve.capi"] = page("serve.capi.j2")
    # Rule files in `capic fmt`'s layout, whatever widths the templates rendered.
    from capic.fmt import format_text

    return {
        rel: format_text(text, rel).text if rel.endswith(".capi") else text
        for rel, text in files.items()
    }


# ----------------------------------------------------------------------------- writing


def existing(target: Path, files: dict[str, str]) -> list[str]:
    """The files of ``files`` that already exist below ``target``."""
    return [rel for rel in files if (target / rel).exists()]


def write(target: Path, files: dict[str, str], *, force: bool = False) -> list[Path]:
    """Write ``files`` below ``target``. Without ``force``, nothing is written if any exists."""
    clashes = existing(target, files)
    if clashes and not force:
        more = f" and {len(clashes) - 1} more" if len(clashes) > 1 else ""
        raise ScaffoldError(
            f"{target / clashes[0]}{more} already exist{'s' if not more else ''}; "
            "pass --force to overwrite"
        )
    for rel in files:
        parent = (target / rel).parent
        if parent.exists() and not parent.is_dir():
            raise ScaffoldError(f"{parent} exists and is not a directory")
    written: list[Path] = []
    for rel, text in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    return written
