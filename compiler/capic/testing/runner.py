"""Running the ``test`` blocks of a project through its compiled rules.

Each environment the selected tests use is compiled once (:func:`capic.api.compile_project`)
and imported (:func:`capic.api.load_compiled`). Each test then feeds its event (and request) to
``process`` with a :class:`capic.runtime.Context` whose clock is the test's ``now`` and whose
``uuid()`` is :data:`TEST_UUID`, and checks every expectation against what came back. Events
the runtime's validation rejects are not sent; the failure output names the reason.
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from capic.diagnostics import Diagnostic, Severity, Span
from capic.model import ir
from capic.model.project import LoadResult
from capic.runtime.context import Context, Emitted, Rejection
from capic.testing.compare import Mismatch, compare_object
from capic.testing.spec import ExpectationSpec, SpecBuilder, TestSpec

#: What ``uuid()`` returns inside a test: a fixed, valid UUID4 in the runtime's format
#: (32 lowercase hex digits), so that expectations on ids made with uuid() can be exact.
TEST_UUID = "00000000000040008000000000000001"

PASSED, FAILED, ERROR = "passed", "failed", "error"


@dataclass(frozen=True, slots=True)
class ExpectationFailure:
    expectation: str
    span: Span
    #: Why nothing could be compared (the rule sent nothing, or something else), if so.
    message: str | None = None
    mismatches: tuple[Mismatch, ...] = ()


@dataclass(frozen=True, slots=True)
class TestResult:
    name: str
    file: str
    line: int
    environment: str | None
    status: str  # passed | failed | error
    duration: float
    failures: tuple[ExpectationFailure, ...] = ()
    #: For status "error": what went wrong while running the rules (one line).
    error: str | None = None
    #: What the rules sent, one line each (shown with failures).
    sent: tuple[str, ...] = ()


@dataclass
class TestRun:
    """The outcome of ``capic test``: results, or the problems that kept tests from running."""

    project: str
    root: Path
    default_environment: str | None
    results: list[TestResult] = field(default_factory=list)
    #: Front-end errors and problems with test blocks: nothing ran when there are any.
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: Problems without a source position (an environment that does not compile ...).
    problems: list[str] = field(default_factory=list)
    #: Tests in the project, and how many the pattern selected.
    total: int = 0
    duration: float = 0.0

    @property
    def passed(self) -> int:
        return sum(1 for r in self.results if r.status == PASSED)

    @property
    def failed(self) -> int:
        return sum(1 for r in self.results if r.status != PASSED)

    @property
    def errors(self) -> int:
        return sum(1 for r in self.results if r.status == ERROR)

    @property
    def loaded(self) -> bool:
        return not self.problems and not any(d.severity >= Severity.ERROR for d in self.diagnostics)

    @property
    def exit_code(self) -> int:
        if not self.loaded:
            return 2
        return 1 if self.failed else 0


def select(tests: Sequence[ir.Test], pattern: str | None) -> list[ir.Test]:
    """Tests whose name (or file) matches ``pattern``, ignoring case: a substring, or a glob
    (found anywhere in the name) when it holds ``*``, ``?`` or ``[``."""
    if not pattern:
        return list(tests)
    needle = pattern.lower()
    if any(ch in pattern for ch in "*?["):
        glob = f"*{needle}*"
        return [
            t
            for t in tests
            if fnmatch.fnmatchcase(t.name.lower(), glob)
            or fnmatch.fnmatchcase(t.file.lower(), glob)
        ]
    return [t for t in tests if needle in t.name.lower() or needle in t.file.lower()]


def _uuid_source() -> Callable[[], str]:
    count = 0

    def next_id() -> str:
        nonlocal count
        count += 1
        return f"{TEST_UUID[:-12]}{count:012x}"

    return next_id


def _describe(e: Emitted) -> str:
    return f'"{e.rule}" sent {e.event.get("event_name")} to {e.pixel}'


def _describe_rejection(r: Rejection) -> str:
    return f'"{r.rule}" made {r.event_name} for {r.pixel}, rejected: {r.reason}'


class Runner:
    """Compiles the rules once per environment and runs single tests through them."""

    def __init__(self, load: LoadResult) -> None:
        assert load.project is not None
        self.project: ir.Project = load.project
        self.modules: dict[str | None, ModuleType | None] = {}
        self.problems: list[str] = []

    def module(self, environment: str | None) -> ModuleType | None:
        if environment in self.modules:
            return self.modules[environment]
        from capic.api import compile_project, load_compiled

        module: ModuleType | None = None
        try:
            module = load_compiled(compile_project(self.project, environment))
        except Exception as exc:  # any failure to build the rules stops the run, as one line
            where = f"environment {environment!r}" if environment else "the rules"
            self.problems.append(f"cannot compile {where}: {type(exc).__name__}: {exc}")
        self.modules[environment] = module
        return module

    def run_one(self, spec: TestSpec, module: ModuleType) -> TestResult:
        rejections: list[Rejection] = []
        context = Context(now=lambda: spec.now, uuid=_uuid_source(), on_reject=rejections.append)
        start = time.perf_counter()
        try:
            emitted: list[Emitted] = list(module.process(spec.event, spec.request, context=context))
        except Exception as exc:  # a bug in generated code or the runtime: report, go on
            return TestResult(
                spec.name,
                spec.file,
                spec.line,
                spec.environment,
                ERROR,
                time.perf_counter() - start,
                error=f"the rules raised {type(exc).__name__}: {exc}",
            )
        failures = [
            failure
            for exp in spec.expectations
            if (failure := check_expectation(exp, emitted, rejections)) is not None
        ]
        sent = tuple(_describe(e) for e in emitted) + tuple(
            _describe_rejection(r) for r in rejections
        )
        return TestResult(
            spec.name,
            spec.file,
            spec.line,
            spec.environment,
            FAILED if failures else PASSED,
            time.perf_counter() - start,
            tuple(failures),
            sent=sent,
        )


def check_expectation(
    exp: ExpectationSpec, emitted: Sequence[Emitted], rejections: Sequence[Rejection]
) -> ExpectationFailure | None:
    span = exp.source.span
    what = exp.describe()
    if exp.kind == "nothing":
        if not emitted:
            return None
        return ExpectationFailure(
            what, span, "the rules sent: " + "; ".join(map(_describe, emitted))
        )
    by_rule = [e for e in emitted if e.rule == exp.rule]
    if exp.kind == "rule_nothing":
        if not by_rule:
            return None
        return ExpectationFailure(what, span, "it sent: " + "; ".join(map(_describe, by_rule)))
    targets = [
        e for e in by_rule if e.event.get("event_name") == exp.event and e.pixel == exp.pixel
    ]
    if not targets:
        rejected = [r for r in rejections if r.rule == exp.rule]
        if rejected:
            reasons = "; ".join(f"{r.event_name} to {r.pixel}: {r.reason}" for r in rejected)
            message = f"the rule's event was rejected by validation ({reasons})"
        elif by_rule:
            message = "it sent something else: " + "; ".join(map(_describe, by_rule))
        else:
            message = "the rule sent nothing (its condition was false for this event)"
        return ExpectationFailure(what, span, message)
    assert exp.body is not None
    best: list[Mismatch] | None = None
    for e in targets:
        mismatches = compare_object(exp.body, e.event, "")
        if not mismatches:
            return None
        if best is None or len(mismatches) < len(best):
            best = mismatches
    return ExpectationFailure(what, span, None, tuple(best or ()))


def run(
    load: LoadResult,
    *,
    environment: str | None = None,
    pattern: str | None = None,
) -> TestRun:
    """Run the tests of a loaded project. ``environment`` replaces the project's
    default_environment for tests that name none; ``pattern`` selects tests (:func:`select`)."""
    started = time.perf_counter()
    config = load.config
    outcome = TestRun(
        project=config.name,
        root=load.root,
        default_environment=environment or config.default_environment,
    )
    outcome.diagnostics = [d for d in load.diagnostics if d.severity >= Severity.ERROR]
    if load.project is None or outcome.diagnostics:
        return outcome
    project = load.project
    if environment is not None and environment not in project.environments:
        known = ", ".join(sorted(project.environments)) or "none declared"
        outcome.problems.append(f"unknown environment {environment!r} (environments: {known})")
        return outcome
    outcome.total = len(project.tests)
    # Files given instead of the project directory: their tests only (pre-commit passes files).
    in_scope = [t for t in project.tests if load.focus is None or t.file in load.focus]
    chosen = select(in_scope, pattern)
    if pattern and not chosen:
        outcome.problems.append(f"no test matches {pattern!r} ({outcome.total} tests)")
        return outcome
    builder = SpecBuilder(project.config)
    specs = [builder.test(t, outcome.default_environment) for t in chosen]
    outcome.diagnostics.extend(builder.diagnostics)
    if outcome.diagnostics:
        return outcome
    runner = Runner(load)
    modules = {env: runner.module(env) for env in dict.fromkeys(s.environment for s in specs)}
    if runner.problems:
        outcome.problems.extend(runner.problems)
        return outcome
    for spec in specs:
        module = modules[spec.environment]
        assert module is not None
        outcome.results.append(runner.run_one(spec, module))
    outcome.duration = time.perf_counter() - started
    return outcome
