"""Code generation: a rule project and an environment become one plain Python module.

    source = generate(project, "production")

The module (laid out by ``templates/module.py.j2``) imports only ``capic.runtime`` and the
standard library and exposes ``process(event, request=None, *, context=None)`` plus the
metadata ``RULES``, ``PIXELS``, ``SERVE``, ``ENVIRONMENT``, ``SETTINGS``, ``SOURCES``, ``PROJECT`` and
``CAPIC_VERSION``/``DSL_VERSION``/``RUNTIME_API``. Its header names the capic version, the DSL
version and the sha256 of every source file. Generation is deterministic: the same project
and environment always give the same bytes.

Safety: every value that comes from a rule file reaches the module as a Python literal
(:func:`capic.codegen.literals.lit`) or a checked identifier; the Jinja environment refuses
any other string (``finalize``), so rule text can never become code. Secrets are written as
references (``env("X")``); a token written inline in a rule file is withheld.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from capic.codegen.compiler import CodegenError, compile_project_parts
from capic.codegen.environment import (
    EnvironmentConfigError,
    ResolvedEnvironment,
    ResolvedPixel,
    resolve_environment,
)
from capic.codegen.literals import Code, lit
from capic.model.serve import serve_constant
from capic.runtime.metapolicy import MetaPolicy

if TYPE_CHECKING:
    import jinja2

    from capic.model import ir

__all__ = [
    "CodegenError",
    "EnvironmentConfigError",
    "ResolvedEnvironment",
    "ResolvedPixel",
    "generate",
    "resolve_environment",
]

_SHA256 = re.compile(r"[0-9a-f]{64}")
_VERSION = re.compile(r"[0-9A-Za-z.+-]{1,40}")
#: Constants shorter than this are written on one line.
_ONE_LINE = 76


def _finalize(value: Any) -> Any:
    if isinstance(value, Code):
        return value
    if type(value) is int:
        return str(value)
    raise CodegenError(f"refusing to write a {type(value).__name__} into generated code")


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("capic.codegen", "templates"),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )


def pretty(value: Any, indent: int = 0) -> Code:
    """A literal for a JSON-like constant, broken over lines when long."""
    flat = lit(value)
    if len(flat) + 4 * indent <= _ONE_LINE or not isinstance(value, dict | list | tuple):
        return flat
    pad = "    " * indent
    if isinstance(value, dict):
        lines = ["{"]
        lines.extend(f"{pad}    {lit(k)}: {pretty(v, indent + 1)}," for k, v in value.items())
        lines.append(pad + "}")
    else:
        opener, closer = ("(", ")") if isinstance(value, tuple) else ("[", "]")
        lines = [opener]
        lines.extend(f"{pad}    {pretty(v, indent + 1)}," for v in value)
        lines.append(pad + closer)
    return Code("\n".join(lines))


def _version(text: str) -> Code:
    """A version for the header comment: bare when it looks like one, else a literal."""
    return Code(text) if _VERSION.fullmatch(text) else lit(text)


def _rules_metadata(project: ir.Project) -> tuple[dict[str, Any], ...]:
    out = []
    for rule in project.rules:
        out.append(
            {
                "name": rule.name,
                "events": [n for s in rule.sends for n in s.event_names or (s.event,)],
                "pixels": list(dict.fromkeys(s.pixel for s in rule.sends)),
                "file": rule.file,
                "line": rule.name_span.line,
            }
        )
    return tuple(out)


def _check(project: ir.Project, env: ResolvedEnvironment) -> None:
    for rule in project.rules:
        for send in rule.sends:
            if send.pixel not in env.pixels:
                raise CodegenError(f'rule "{rule.name}" sends to unknown pixel `{send.pixel}`')
    from capic.runtime.hashing import UserDataBuilder

    try:
        UserDataBuilder(default_country=env.default_country, dob_order=env.dob_order)
    except ValueError as exc:
        raise CodegenError(f"capic.toml: {exc}") from None


def generate(project: ir.Project, environment: str | None = None) -> str:
    """Python source of the rule module of ``project`` for ``environment`` (None: the
    project's default environment). Raises :class:`CodegenError` (a ValueError) when the
    project cannot be compiled; call it only on projects without front-end errors."""
    from capic import DSL_VERSION, RUNTIME_API_VERSION, __version__

    try:
        env = resolve_environment(project, environment)
    except EnvironmentConfigError as exc:
        raise CodegenError(str(exc)) from None
    _check(project, env)
    parts, _ = compile_project_parts(project, env.consent)
    files = sorted(project.files, key=lambda f: f.path)
    sources = [
        (lit(f.path), Code(f.sha256) if _SHA256.fullmatch(f.sha256) else lit(f.sha256))
        for f in files
    ]
    pixels = {name: pixel.to_json(redact=True) for name, pixel in env.pixels.items()}
    settings = {
        "default_country": env.default_country,
        "dob_order": env.dob_order,
        # [meta] of capic.toml with the schemas' defaults filled in: what the module enforces.
        "meta": MetaPolicy.from_settings(project.config.meta).to_settings(),
    }
    context = {
        "capic_version": _version(__version__),
        "dsl_version": _version(DSL_VERSION),
        "runtime_api": _version(RUNTIME_API_VERSION),
        "capic_version_lit": lit(__version__),
        "dsl_version_lit": lit(DSL_VERSION),
        "runtime_api_lit": lit(RUNTIME_API_VERSION),
        "project_lit": lit(project.name),
        "environment_lit": lit(env.name),
        "sources": sources,
        "sources_const": pretty({f.path: f.sha256 for f in files}),
        "settings": pretty(settings),
        "pixels": pretty(pixels),
        "rules": pretty(_rules_metadata(project)),
        "serve": pretty(serve_constant(project, env.name)),
        "consent": pretty(
            {
                "required": project.config.consent == "required",
                "pixels": {p: gate.otherwise for p, gate in env.consent.items()},
            }
        ),
        "consent_functions": parts.consent_functions,
        "rule_names": [(Code(f"_RULE_{i}"), lit(r.name)) for i, r in enumerate(project.rules)],
        "imports": parts.imports,
        "constants": parts.constants,
        "regexes": parts.regexes,
        "specs": parts.specs,
        "memo_attrs": parts.memo_attrs,
        "memo_functions": parts.memo_functions,
        "rule_functions": parts.rule_functions,
        "hashers": parts.hashers,
        "conversions": parts.conversions,
        "normalizers": parts.normalizers,
        "memos": parts.memos,
    }
    return _environment().get_template("module.py.j2").render(context)
