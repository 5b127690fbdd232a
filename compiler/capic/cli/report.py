"""``capic report``: what the rules would send over recorded events, as one HTML page (or
JSON), and with ``--baseline`` what a change would change. Nothing is sent anywhere."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import click


class _Usage(Exception):
    """A usage or input problem: exit status 2, with its detail lines."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


def _fail(message: str, problems: list[str] | None = None) -> NoReturn:
    raise _Usage(message, problems)


def _parse_now(text: str | None) -> float | None:
    """``--now``: unix seconds or an ISO-8601 time (UTC when it names no zone)."""
    if text is None:
        return None
    value = text.strip()
    seconds: float | None = None
    with contextlib.suppress(ValueError, OverflowError):
        seconds = float(int(value))
    if seconds is None:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            _fail(f"--now {text!r}: give unix seconds or an ISO-8601 time (2026-03-03T17:44:53Z)")
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        seconds = parsed.timestamp()
    # The report prints the clock as a UTC date: it must be one (years 1 to 9999).
    try:
        datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, ValueError, OSError):
        _fail(f"--now {text!r}: not a time between the years 1 and 9999 (UTC)")
    return seconds


def _write(output: str, text: str) -> None:
    data = text.encode("utf-8")
    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    target = Path(output)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes it private; a report is not
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror or exc}")


@click.command(name="report")
@click.argument("project", required=False, type=click.Path(exists=True, file_okay=False))
@click.option(
    "--bundle",
    "bundle_path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Report on a bundle instead of PROJECT.",
)
@click.option("--env", "env_name", default=None, help="Environment (default: the project's).")
@click.option("--events", required=True, help="JSON Lines file of recorded events; - for stdin.")
@click.option(
    "-o",
    "--output",
    default="-",
    show_default=True,
    help="Where to write the report; - for standard output.",
)
@click.option(
    "--output-format",
    type=click.Choice(["html", "json"]),
    default="html",
    show_default=True,
    help="A self-contained HTML page, or the same numbers as JSON.",
)
@click.option(
    "--baseline",
    default=None,
    type=click.Path(exists=True),
    help="The version to compare with: a bundle file or a project directory (shadow diff).",
)
@click.option(
    "--fail-on",
    "fail_on",
    multiple=True,
    metavar="GATE",
    help="Exit 1 when GATE holds, e.g. 'change.coverage.em<-5' (repeatable; docs/report.md).",
)
@click.option(
    "--now",
    "now_text",
    default=None,
    metavar="TIME",
    help="Judge the events at TIME (unix seconds or ISO-8601; default: the newest event time).",
)
@click.option(
    "--timings", is_flag=True, help="Add how long it took (the output is then not reproducible)."
)
def command(
    project: str | None,
    bundle_path: str | None,
    env_name: str | None,
    events: str,
    output: str,
    output_format: str,
    baseline: str | None,
    fail_on: tuple[str, ...],
    now_text: str | None,
    timings: bool,
) -> None:
    """Run the rules of PROJECT (or --bundle) over recorded events, send nothing, and write
    what they would send: per pixel and rule events matched, sent and rejected by reason;
    customer-information coverage; capic's match-quality estimate (not Meta's EMQ); event_id
    coverage and duplicates within 48 hours; fbc/fbp presence and shape; consent outcomes.

    With --baseline OLD both versions run over the same events and the report shows, per rule
    and field, what changed (values compared by hash, never shown). The same input always
    gives the same bytes (unless --timings). No customer information or token is written.

    Exit status: 0 written; 1 a --fail-on gate holds; 2 usage errors, a project or bundle
    that cannot be run, or unreadable events.
    """
    try:
        code = _report(
            project,
            bundle_path,
            env_name,
            events,
            output,
            output_format,
            baseline,
            fail_on,
            now_text,
            timings,
        )
    except _Usage as exc:
        click.echo(f"capic report: {exc}", err=True)
        for line in exc.problems:
            click.echo(f"  {line}", err=True)
        code = 2
    sys.exit(code)


def _report(
    project: str | None,
    bundle_path: str | None,
    env_name: str | None,
    events: str,
    output: str,
    output_format: str,
    baseline: str | None,
    fail_on: tuple[str, ...],
    now_text: str | None,
    timings: bool,
) -> int:
    from capic.report.compose import ReportInputError, make_report
    from capic.report.gates import GateError, parse_gate
    from capic.report.replay import ReplayError
    from capic.report.subject import SubjectError, load_subject

    if (project is None) == (bundle_path is None):
        _fail("give either PROJECT or --bundle BUNDLE")
    try:
        gates = tuple(parse_gate(g, baseline=baseline is not None) for g in fail_on)
    except GateError as exc:
        _fail(str(exc))
    now = _parse_now(now_text)
    started = time.perf_counter()
    measured: dict[str, float] | None = {} if timings else None
    with tempfile.TemporaryDirectory(prefix="capic-report-") as scratch:
        try:
            subject = load_subject(project or str(bundle_path), env_name, Path(scratch) / "new")
            old = load_subject(baseline, env_name, Path(scratch) / "old") if baseline else None
        except SubjectError as exc:
            _fail(str(exc), exc.problems)
        if measured is not None:
            measured["load_seconds"] = round(time.perf_counter() - started, 3)
        try:
            report = make_report(
                subject, events, baseline=old, now=now, gates=gates, timings=measured
            )
        except (ReportInputError, ReplayError) as exc:
            _fail(str(exc))
    if output_format == "json":
        import json

        text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    else:
        from capic.report.html import render_html

        text = render_html(report)
    _write(output, text)
    if output != "-":
        click.echo(f"capic report: wrote {output}", err=True)
    failed = [g for g in report["gates"] if g["failed"]]
    for gate in failed:
        click.echo(f"capic report: gate failed: {gate['gate']} (value {gate['value']})", err=True)
    return 1 if failed else 0
