"""The check registry: one class per check, each with a stable code, a kebab-case name, a group,
a default severity and its documentation (what, why, example, fix).

Checks register themselves with :func:`register` when their module is imported;
:func:`all_checks` imports :mod:`capic.lint.checks` (every check module) on first use. Besides
the checks, :func:`code_info` knows the front end's codes (:mod:`capic.codes`) and the
linter's own pseudo-rules (suppression comments, lint configuration), so ``capic rule CODE``,
SARIF and ``docs/rules.md`` describe every code capic can report.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from capic.codes import FRONTEND_CODES, CodeInfo
from capic.diagnostics import Diagnostic, Fix, Severity, Span

if TYPE_CHECKING:
    from capic.lint.context import EnvView, LintContext
    from capic.lint.schema import SchemaFinding
    from capic.model import ir

#: Order of the groups in listings and in docs/rules.md.
GROUPS: dict[str, str] = {
    "syntax": "Syntax errors (front end)",
    "references": "Names and references (front end)",
    "types": "Types of literal values (front end)",
    "config": "Project and lint configuration",
    "requirements": "Meta's requirements for server events",
    "schema": "Other JSON Schema failures",
    "literals": "Literal values Meta rejects",
    "dedup": "Deduplication with the browser pixel",
    "privacy": "Privacy and secrets",
    "quality": "Match quality",
    "hygiene": "Hygiene",
    "serve": "Site settings of capic serve",
    "suppressions": "Suppression comments",
}

#: Base of the documentation links (``url`` in JSON, ``helpUri`` in SARIF).
DOCS_URL = "https://github.com/capic-dev/capic/blob/main/docs/rules.md"


@dataclass(frozen=True, slots=True)
class Option:
    """A per-check option, set in ``[lint.options.<check-name>]``."""

    #: "bool" | "int" | "number" | "string" | "string-list"
    type: str
    default: Any
    description: str

    def accepts(self, value: Any) -> bool:
        if self.type == "bool":
            return isinstance(value, bool)
        if self.type == "int":
            return isinstance(value, int) and not isinstance(value, bool)
        if self.type == "number":
            return isinstance(value, int | float) and not isinstance(value, bool)
        if self.type == "string":
            return isinstance(value, str)
        if self.type == "string-list":
            return isinstance(value, list) and all(isinstance(v, str) for v in value)
        raise ValueError(f"unknown option type {self.type!r}")


class Check:
    """Base class of every check.

    Subclasses set the class attributes and override the hooks they need. Hooks yield
    :class:`Diagnostic` objects made with :meth:`report`. The engine calls, in order:
    :meth:`check_send` for every send of every rule, :meth:`check_rule` for every rule,
    :meth:`check_environment` once per checked environment, then :meth:`finalize` once per
    project (the cross-file pass). Checks with ``env_sensitive = True`` see every send once per
    checked environment (their findings are merged across environments); the others see it
    once, with ``env`` the project's base settings.

    Schema-backed checks claim failures of the JSON Schema validation of a send
    (:meth:`claims`) and word them (:meth:`describe`); the validation itself runs once.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    group: ClassVar[str]
    severity: ClassVar[Severity]
    summary: ClassVar[str]
    why: ClassVar[str]
    example: ClassVar[str]
    fix: ClassVar[str]
    #: Enabled unless a configuration deselects it.
    default_enabled: ClassVar[bool] = True
    env_sensitive: ClassVar[bool] = False
    options: ClassVar[Mapping[str, Option]] = {}

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        given = dict(options or {})
        self.settings: dict[str, Any] = {k: o.default for k, o in self.options.items()}
        self.settings.update({k: v for k, v in given.items() if k in self.options})

    # ------------------------------------------------------------------ documentation
    @classmethod
    def info(cls) -> CodeInfo:
        return CodeInfo(
            cls.code, cls.name, cls.group, cls.severity, cls.summary, cls.why, cls.example, cls.fix
        )

    # ------------------------------------------------------------------ reporting
    def report(
        self,
        message: str,
        span: Span | None,
        help: str | None = None,
        *,
        fix: Fix | None = None,
        **data: Any,
    ) -> Diagnostic:
        return Diagnostic(
            self.code, self.name, self.severity, message, span, help, dict(data), fix=fix
        )

    # ------------------------------------------------------------------ hooks
    def check_send(
        self, ctx: LintContext, rule: ir.Rule, send: ir.Send, env: EnvView
    ) -> Iterable[Diagnostic]:
        return ()

    def check_rule(self, ctx: LintContext, rule: ir.Rule) -> Iterable[Diagnostic]:
        return ()

    def check_environment(self, ctx: LintContext, env: EnvView) -> Iterable[Diagnostic]:
        return ()

    def finalize(self, ctx: LintContext) -> Iterable[Diagnostic]:
        return ()

    # ------------------------------------------------------------------ schema failures
    def claims(self, finding: SchemaFinding) -> bool:
        return False

    def describe(
        self, ctx: LintContext, send: ir.Send, finding: SchemaFinding
    ) -> Diagnostic | None:
        """The diagnostic for a claimed schema failure (None: not worth reporting)."""
        raise TypeError(f"{self.code} claims schema failures but cannot describe them")


C = TypeVar("C", bound=type[Check])

_REGISTRY: dict[str, type[Check]] = {}
_NAMES: dict[str, str] = {}


def register(cls: C) -> C:
    """Class decorator: add a check to the registry (codes and names must be unique)."""
    for attr in ("code", "name", "group", "severity", "summary", "why", "example", "fix"):
        if not hasattr(cls, attr):
            raise TypeError(f"{cls.__name__} has no {attr}")
    if cls.code in _REGISTRY or cls.code in FRONTEND_CODES or cls.code in PSEUDO_CODES:
        raise ValueError(f"duplicate check code {cls.code}")
    if cls.name in _NAMES:
        raise ValueError(f"duplicate check name {cls.name} ({cls.code}, {_NAMES[cls.name]})")
    if cls.group not in GROUPS:
        raise ValueError(f"{cls.code}: unknown group {cls.group!r}")
    _REGISTRY[cls.code] = cls
    _NAMES[cls.name] = cls.code
    return cls


def all_checks() -> dict[str, type[Check]]:
    """Every registered check by code, in code order."""
    import capic.lint.checks  # noqa: F401  (registers the checks)

    return dict(sorted(_REGISTRY.items()))


_W = Severity.WARNING
_E = Severity.ERROR

#: The linter's pseudo-rules: problems with suppression comments and the lint configuration.
PSEUDO_CODES: dict[str, CodeInfo] = {
    c.code: c
    for c in [
        CodeInfo(
            "N001",
            "unknown-suppression-code",
            "suppressions",
            _W,
            "A suppression comment names a code or check name capic does not know, or one that "
            "cannot be suppressed.",
            "A misspelt code suppresses nothing, so the finding it was meant for still fails the "
            "build; front-end errors (S, R and C codes) mean the file cannot be compiled and are "
            "never suppressed.",
            'send Purchase to shop {  # noqa: D01\n  event_id = "order"\n}',
            "Write the exact code (`capic rules` lists them), e.g. `# noqa: D002`, or fix the "
            "front-end error.",
        ),
        CodeInfo(
            "N002",
            "unused-suppression",
            "suppressions",
            _W,
            "A suppression comment that suppresses nothing.",
            "Stale suppressions hide the next real finding on that line or range.",
            'currency = "USD"  # noqa: L002',
            "Remove the comment, or the codes in it that no longer apply.",
        ),
        CodeInfo(
            "N003",
            "malformed-suppression",
            "suppressions",
            _W,
            "A `# capic:` directive that capic cannot read, an `enable` without a matching "
            "`disable`, or a `disable` that is never enabled again.",
            "A directive that is not understood suppresses nothing; an unterminated range "
            "silently covers the rest of the file.",
            "# capic: disable[D002]\n...\n(no `# capic: enable[D002]` follows)",
            "Write `# capic: disable[CODE]` ... `# capic: enable[CODE]`, "
            "`# capic: file-ignore[CODE]` or `# noqa: CODE`.",
        ),
        CodeInfo(
            "C101",
            "invalid-lint-config",
            "config",
            _E,
            "The lint configuration ([lint] in capic.toml or [tool.capic] in pyproject.toml) does "
            "not match its schema: an unknown key, a wrong type or an unknown check option.",
            "A misspelt setting would be silently ignored and the check would run with defaults.",
            '[lint]\nselct = ["D"]',
            'Fix the key (`capic schema config` shows the schema), e.g. select = ["D"].',
        ),
        CodeInfo(
            "C102",
            "unknown-selector",
            "config",
            _E,
            "select, ignore, extend-select or per-file-ignores names a code or code prefix that "
            "matches no check.",
            "A selector that matches nothing selects or ignores nothing, which is never what was "
            "meant.",
            '[lint]\nignore = ["D009"]',
            "Use a code or prefix from `capic rules`, e.g. D or D002.",
        ),
    ]
}


def check_infos() -> dict[str, CodeInfo]:
    return {code: cls.info() for code, cls in all_checks().items()}


def all_infos() -> dict[str, CodeInfo]:
    """Documentation of every code capic can report: front end, pseudo-rules and checks."""
    out = {**FRONTEND_CODES, **PSEUDO_CODES, **check_infos()}
    return dict(sorted(out.items(), key=lambda kv: (list(GROUPS).index(kv[1].group), kv[0])))


def code_info(code: str) -> CodeInfo | None:
    found = FRONTEND_CODES.get(code) or PSEUDO_CODES.get(code)
    if found is not None:
        return found
    cls = all_checks().get(code)
    return cls.info() if cls is not None else None


def by_name(name: str) -> str | None:
    """The code of a check or pseudo-rule given its kebab-case name."""
    all_checks()
    if name in _NAMES:
        return _NAMES[name]
    for table in (PSEUDO_CODES, FRONTEND_CODES):
        for info in table.values():
            if info.name == name:
                return info.code
    return None


def is_frontend(code: str) -> bool:
    return code in FRONTEND_CODES


def doc_anchor(info: CodeInfo) -> str:
    """The GitHub heading anchor of a code in docs/rules.md (``### D001 missing-event-id``)."""
    return f"{info.code.lower()}-{info.name}"


def doc_url(code: str) -> str | None:
    info = code_info(code)
    return f"{DOCS_URL}#{doc_anchor(info)}" if info is not None else None


def doc_text(info: CodeInfo) -> str:
    """Plain-text documentation of one code (``capic rule CODE``, SARIF help)."""
    lines = [
        f"{info.code} {info.name}",
        "",
        f"Group: {info.group}. Default severity: {info.severity.label}.",
        "",
        "What it does",
        f"  {info.summary}",
        "",
        "Why it matters",
        f"  {info.why}",
        "",
        "Example",
        *(f"    {line}" for line in info.example.splitlines()),
        "",
        "Fix",
        f"  {info.fix}",
    ]
    return "\n".join(lines) + "\n"


def doc_markdown(info: CodeInfo, heading: str = "###") -> str:
    """Markdown documentation of one code (docs/rules.md, SARIF help.markdown)."""
    example = "\n".join(info.example.splitlines())
    return (
        f"{heading} {info.code} {info.name}\n\n"
        f"Group: `{info.group}`. Default severity: **{info.severity.label}**.\n\n"
        f"**What it does.** {info.summary}\n\n"
        f"**Why it matters.** {info.why}\n\n"
        f"**Example.**\n\n```\n{example}\n```\n\n"
        f"**Fix.** {info.fix}\n"
    )
