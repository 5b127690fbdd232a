"""Renderers of a :class:`~capic.testing.runner.TestRun`: ``text`` for people, ``junit`` for CI.

One function per format, registered in :data:`RENDERERS`. Paths are shown through a
``display`` function (relative to the working directory, as ``capic check`` shows them).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

import click

from capic.testing.runner import ERROR, FAILED, PASSED, TestResult, TestRun


@dataclass(frozen=True, slots=True)
class RenderOptions:
    display: Callable[[str], str]
    colour: bool = False


Renderer = Callable[[TestRun, RenderOptions], str]

_STATUS = {PASSED: ("PASS", "green"), FAILED: ("FAIL", "red"), ERROR: ("ERROR", "red")}


def summary(run: TestRun) -> str:
    """``N passed, M failed`` (failed counts tests that errored too)."""
    return f"{run.passed} passed, {run.failed} failed"


def _failure_lines(result: TestResult, opts: RenderOptions, indent: int = 6) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if result.error is not None:
        lines.append(f"{pad}{result.error}")
    for failure in result.failures:
        span = failure.span
        where = f"{opts.display(span.file)}:{span.line}:{span.column}"
        lines.append(f"{pad}{where}: {failure.expectation}")
        if failure.message:
            lines.append(f"{pad}  {failure.message}")
        for m in failure.mismatches:
            lines.append(f"{pad}  {m.path}")
            lines.append(f"{pad}    expected: {m.expected}")
            lines.append(f"{pad}    actual:   {m.actual}")
            if m.note:
                lines.append(f"{pad}    ({m.note})")
    return lines


def render_text(run: TestRun, opts: RenderOptions) -> str:
    out: list[str] = []
    width = max((len(_STATUS[r.status][0]) for r in run.results), default=4)
    for result in run.results:
        label, colour = _STATUS[result.status]
        shown = label.ljust(width)
        if opts.colour:
            shown = click.style(shown, fg=colour, bold=True)
        where = f"{opts.display(result.file)}:{result.line}"
        env = (
            f" [{result.environment}]"
            if result.environment != run.default_environment and result.environment
            else ""
        )
        out.append(f"{shown}  {where}  {result.name}{env}")
        if result.status != PASSED:
            out.extend(_failure_lines(result, opts))
    if out:
        out.append("")
    line = summary(run)
    if opts.colour:
        line = click.style(line, fg="red" if run.failed else "green", bold=True)
    out.append(line)
    return "\n".join(out) + "\n"


def _plain(result: TestResult, opts: RenderOptions) -> str:
    lines = _failure_lines(result, opts, indent=0)
    if result.sent:
        lines.append("sent:")
        lines.extend(f"  {s}" for s in result.sent)
    return "\n".join(lines) + "\n"


def render_junit(run: TestRun, opts: RenderOptions) -> str:
    """JUnit XML: one ``testsuite`` per rule file, one ``testcase`` per test."""
    root = ET.Element(
        "testsuites",
        name=f"capic test {run.project}",
        tests=str(len(run.results)),
        failures=str(run.failed - run.errors),
        errors=str(run.errors),
        time=f"{run.duration:.3f}",
    )
    by_file: dict[str, list[TestResult]] = {}
    for result in run.results:
        by_file.setdefault(result.file, []).append(result)
    for file, results in by_file.items():
        suite = ET.SubElement(
            root,
            "testsuite",
            name=file,
            tests=str(len(results)),
            failures=str(sum(1 for r in results if r.status == FAILED)),
            errors=str(sum(1 for r in results if r.status == ERROR)),
            skipped="0",
            time=f"{sum(r.duration for r in results):.3f}",
        )
        for result in results:
            case = ET.SubElement(
                suite,
                "testcase",
                name=result.name,
                classname=file.removesuffix(".capi").replace("/", "."),
                file=opts.display(file),
                line=str(result.line),
                time=f"{result.duration:.3f}",
            )
            if result.status == FAILED:
                first = result.failures[0]
                count = len(result.failures)
                message = f"{first.expectation}" + (
                    f" (and {count - 1} more expectation{'s' if count > 2 else ''})"
                    if count > 1
                    else ""
                )
                node = ET.SubElement(case, "failure", message=message, type="ExpectationFailed")
                node.text = _plain(result, opts)
            elif result.status == ERROR:
                node = ET.SubElement(case, "error", message=result.error or "", type="RuleError")
                node.text = _plain(result, opts)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


RENDERERS: dict[str, Renderer] = {"text": render_text, "junit": render_junit}
