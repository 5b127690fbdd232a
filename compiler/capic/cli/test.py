"""``capic test``: run the test blocks of a project (logic in :mod:`capic.testing`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from capic.diagnostics import Diagnostic, Severity

if TYPE_CHECKING:
    from capic.model.project import LoadResult


def _colour(stream_is_tty: bool) -> bool:
    return stream_is_tty and not os.environ.get("NO_COLOR") and not os.environ.get("CAPIC_NO_COLOR")


def _show_diagnostics(load: LoadResult, diagnostics: list[Diagnostic]) -> None:
    """Front-end errors, as `capic check` prints them (code frames, help), on stderr."""
    from capic.lint import render
    from capic.lint.engine import CheckResult, Finding

    findings = [Finding(d, load) for d in sorted(diagnostics, key=lambda d: d.sort_key())]
    result = CheckResult(findings, [load], Severity.ERROR, 2)
    options = render.RenderOptions(colour=_colour(sys.stderr.isatty()))
    click.echo(render.get("full").render(result, options), nl=False, err=True)


@click.command(name="test")
@click.argument("project", type=click.Path(path_type=Path), default=".")
@click.option(
    "--env",
    "environment",
    metavar="ENV",
    default=None,
    help="Environment of the tests that name none (default: the project's default_environment).",
)
@click.option(
    "--output-format",
    type=click.Choice(["text", "junit"]),
    default="text",
    show_default=True,
    help="text for people, junit (JUnit XML) for CI.",
)
@click.option(
    "-o",
    "--output-file",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the report to FILE (the summary line still goes to stderr).",
)
@click.option(
    "-k",
    "pattern",
    metavar="PATTERN",
    default=None,
    help="Run only tests whose name or file contains PATTERN (a glob if it has * ? [).",
)
@click.option("--no-cache", is_flag=True, help="Parse every file again (ignore .capic_cache/).")
def command(
    project: Path,
    environment: str | None,
    output_format: str,
    output: Path | None,
    pattern: str | None,
    no_cache: bool,
) -> None:
    """Run the test blocks of PROJECT (a directory with capic.toml; default: .).

    Given a .capi file of a project instead, it runs the tests written in that file.

    Each test sends its event through the compiled rules with a fixed clock and a fixed
    uuid(), and compares what the rules send with its expectations. Exit status: 0 when every
    test passes, 1 when one fails, 2 when the project has errors (shown as diagnostics) or on
    usage errors.
    """
    from capic.api import load_project
    from capic.testing import run
    from capic.testing.report import RENDERERS, RenderOptions, summary

    try:
        load = load_project(project, use_cache=not no_cache)
    except ValueError as exc:
        click.echo(f"capic test: {exc}", err=True)
        sys.exit(2)
    outcome = run(load, environment=environment, pattern=pattern)

    if not outcome.loaded:
        if outcome.diagnostics:
            _show_diagnostics(load, outcome.diagnostics)
        for problem in outcome.problems:
            click.echo(f"capic test: {problem}", err=True)
        if outcome.diagnostics:
            click.echo("capic test: the project has errors; no test ran", err=True)
        sys.exit(outcome.exit_code)
    if not outcome.results:
        click.echo("capic test: the project has no test blocks", err=True)
    renderer = RENDERERS[output_format]
    if output is not None:
        report = renderer(outcome, RenderOptions(load.display_path, colour=False))
        try:
            output.write_text(report, encoding="utf-8")
        except OSError as exc:
            click.echo(f"capic test: cannot write {output}: {exc.strerror}", err=True)
            sys.exit(2)
        click.echo(summary(outcome), err=True)
    else:
        colour = output_format == "text" and _colour(sys.stdout.isatty())
        click.echo(renderer(outcome, RenderOptions(load.display_path, colour=colour)), nl=False)
    sys.exit(outcome.exit_code)
