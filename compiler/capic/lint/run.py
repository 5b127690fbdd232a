"""One ``capic check`` run, from its options to its output and exit status: reading stdin,
listing files, fixing, rendering. The click command (:mod:`capic.cli.check`) only gathers the
options; watch mode (:mod:`capic.lint.watch`) calls :func:`execute` again on every change."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from capic.lint import render
from capic.lint.engine import CheckResult, ConfigError, check_paths
from capic.model.project import STDIN_NAME


@dataclass(frozen=True)
class CheckRequest:
    paths: tuple[str, ...] = (".",)
    output_format: str = "full"
    output_file: str | None = None
    statistics: bool = False
    exit_zero: bool = False
    fail_level: str | None = None
    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    env: str | None = None
    use_cache: bool = True
    show_info: bool | None = None
    quiet: bool = False
    silent: bool = False
    color: str = "auto"
    show_files: bool = False
    fix: bool = False
    diff: bool = False
    unsafe_fixes: bool = False
    #: The text read from standard input (``-``), and the file it stands for.
    stdin_text: str | None = None
    stdin_filename: str | None = None


@dataclass
class Streams:
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))


class UsageError(Exception):
    """Options that cannot be honoured (exit status 2, with the message)."""


def stdin_path(request: CheckRequest) -> Path | None:
    """The absolute path standard input stands for (None when stdin is not read)."""
    if request.stdin_text is None:
        return None
    if request.stdin_filename:
        return Path(request.stdin_filename).resolve()
    return Path.cwd() / STDIN_NAME


def _paths(request: CheckRequest) -> list[str]:
    given = stdin_path(request)
    if given is None:
        return list(request.paths) or ["."]
    return [str(given)]


def run_check(request: CheckRequest, overlay: dict[Path, str]) -> CheckResult:
    try:
        return check_paths(
            _paths(request),
            env=request.env,
            select=request.select,
            ignore=request.ignore,
            extend_select=request.extend_select,
            fail_level=request.fail_level,
            use_cache=request.use_cache,
            show_info=request.show_info,
            overlay=overlay,
            result_cache=True,
        )
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def execute(request: CheckRequest, streams: Streams | None = None) -> int:
    """Run one check and print its output; returns the exit status."""
    io = streams or Streams()
    overlay: dict[Path, str] = {}
    given = stdin_path(request)
    if given is not None and request.stdin_text is not None:
        overlay[given] = request.stdin_text.removeprefix("\ufeff").replace("\r\n", "\n")
    if request.show_files:
        return _show_files(request, overlay, io)
    if request.fix or request.diff:
        return _fix(request, overlay, io)
    result = run_check(request, overlay)
    return _report(request, result, io)


def _show_files(request: CheckRequest, overlay: dict[Path, str], io: Streams) -> int:
    from capic.model.project import discover

    specs, problems = discover(_paths(request), overlay)
    shown = sorted({_shown(path) for spec in specs for path in spec.files})
    if not request.silent:
        io.out.write("".join(f"{path}\n" for path in shown))
    for problem in problems:
        io.err.write(f"capic check: {problem.code} {problem.message}\n")
    return 2 if problems else 0


def _shown(path: Path) -> str:
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)


def _fix(request: CheckRequest, overlay: dict[Path, str], io: Streams) -> int:
    from capic.lint.fixes import fix_rounds, unified_diff, write_source

    run = fix_rounds(lambda texts: run_check(request, texts), overlay, unsafe=request.unsafe_fixes)
    given = stdin_path(request)
    if request.diff:
        if not request.silent:
            for path, (before, after) in run.changed.items():
                shown = STDIN_NAME if path == given and not request.stdin_filename else _shown(path)
                io.out.write(unified_diff(shown, before, after))
        if not (request.quiet or request.silent):
            io.err.write(_count_line("Would fix", run.count, len(run.changed)))
        # Like ruff: 1 when there is something to fix (or a configuration problem: 2).
        return 2 if run.result.exit_code == 2 else (1 if run.count else 0)
    for path, (_, after) in run.changed.items():
        if path != given:
            write_source(path, after)
    if given is not None:
        # The fixed text goes to stdout (what editors and formatters-on-save expect); the
        # remaining findings go to stderr.
        text = run.changed[given][1] if given in run.changed else overlay[given]
        if not request.silent:
            io.out.write(text)
        code = _report(request, run.result, Streams(io.err, io.err, io.environ))
    else:
        code = _report(request, run.result, io)
    if run.count and not (request.quiet or request.silent):
        io.err.write(_count_line("Fixed", run.count, len(run.changed)))
    return code


def _count_line(verb: str, count: int, files: int) -> str:
    noun = "diagnostic" if count == 1 else "diagnostics"
    where = "file" if files == 1 else "files"
    return f"{verb} {count} {noun} ({files} {where}).\n"


def _report(request: CheckRequest, result: CheckResult, io: Streams) -> int:
    renderer = (
        render.statistics_renderer(request.output_format)
        if request.statistics
        else render.get(request.output_format)
    )
    to_terminal = request.output_file is None and _isatty(io.out)
    options = render.RenderOptions(
        colour=render.use_colour(
            request.color, human=renderer.human, to_terminal=to_terminal, environ=io.environ
        ),
        quiet=request.quiet,
        unsafe_fixes=request.unsafe_fixes,
    )
    text = renderer.render(result, options)
    if request.output_file is not None:
        try:
            Path(request.output_file).write_text(text, encoding="utf-8")
        except OSError as exc:
            io.err.write(f"capic check: cannot write {request.output_file}: {exc.strerror}\n")
            return 2
    elif not request.silent:
        io.out.write(text)
    if result.exit_code == 2:
        return 2
    return 0 if request.exit_zero else result.exit_code


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
