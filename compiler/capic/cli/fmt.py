"""``capic fmt``: rewrite rule files in the canonical layout (:mod:`capic.fmt`)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from capic.diagnostics import Diagnostic


def _files(paths: list[str]) -> tuple[list[Path], list[str]]:
    """The rule files the paths name (directories: as `capic check` finds them). Discovery
    gives whole projects; only their files at or below a path asked for are formatted."""
    from capic.model.project import discover

    specs, problems = discover(paths)
    asked = [Path(p).resolve() for p in paths]
    files = sorted(
        {
            f
            for spec in specs
            for f in spec.files
            if any(f == a or f.is_relative_to(a) for a in asked)
        }
    )
    return files, [p.message for p in problems]


def _shown(path: Path) -> str:
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)


def _error(message: str, diagnostics: Sequence[Diagnostic], shown: str) -> None:
    click.echo(f"capic fmt: {message}", err=True)
    for d in diagnostics:
        click.echo(f"  {d.one_line(shown, nowhere=f'{shown}: ')}", err=True)


@click.command(name="fmt")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if a file would change.")
@click.option("--diff", is_flag=True, help="Print the changes as a unified diff; write nothing.")
@click.option("--stdin-filename", metavar="PATH", help="The name to show for standard input (`-`).")
def command(paths: tuple[str, ...], check: bool, diff: bool, stdin_filename: str | None) -> None:
    """Format rule files (default: the current directory); `-` formats standard input to
    standard output.

    Every run checks its own result (it parses, keeps every token and comment, and formatting
    it again changes nothing) and writes nothing when a check fails. Files with syntax errors
    are left alone. Exit status: 0 done (or nothing to change), 1 with --check or --diff when
    a file would change, 2 when a file could not be formatted.
    """
    from capic.fmt import FormatError, format_text
    from capic.lint.fixes import unified_diff, write_source

    if "-" in paths or (not paths and stdin_filename is not None):
        if len(paths) > 1:
            raise click.UsageError("`-` (standard input) must be the only path")
        shown = stdin_filename or "-"
        text = sys.stdin.read()
        try:
            result = format_text(text, shown)
        except FormatError as exc:
            _error(str(exc), list(exc.diagnostics), shown)
            sys.exit(2)
        if diff:
            click.echo(unified_diff(shown, text.replace("\r\n", "\n"), result.text), nl=False)
        elif not check:
            click.echo(result.text, nl=False)
        sys.exit(1 if (check or diff) and result.changed else 0)

    files, problems = _files(list(paths) or ["."])
    for problem in problems:
        click.echo(f"capic fmt: {problem}", err=True)
    changed = unchanged = failed = 0
    for path in files:
        shown = _shown(path)
        try:
            text = path.read_bytes().decode("utf-8-sig")
            result = format_text(text, shown)
        except (OSError, UnicodeDecodeError) as exc:
            _error(f"{shown}: cannot read: {exc}", [], shown)
            failed += 1
            continue
        except FormatError as exc:
            _error(str(exc), list(exc.diagnostics), shown)
            failed += 1
            continue
        if not result.changed:
            unchanged += 1
            continue
        changed += 1
        if diff:
            click.echo(unified_diff(shown, text.replace("\r\n", "\n"), result.text), nl=False)
        elif check:
            click.echo(f"Would reformat: {shown}")
        else:
            write_source(path, result.text)
    verb = "would be reformatted" if check or diff else "reformatted"
    noun = "file" if changed == 1 else "files"
    left = "file" if unchanged == 1 else "files"
    summary = f"{changed} {noun} {verb}, {unchanged} {left} already formatted"
    if failed:
        summary += f", {failed} not formatted"
    click.echo(summary, err=bool(diff))
    if failed or problems:
        sys.exit(2)
    sys.exit(1 if (check or diff) and changed else 0)
