"""``capic check``: load, lint and report, in the format CI needs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from capic.cli.options import today_option
from capic.lint.render import FORMATS

_LEVELS = ["error", "warning", "info"]


def _codes(values: tuple[str, ...]) -> list[str]:
    """``--select D,P --select H001`` -> ["D", "P", "H001"]."""
    return [c.strip().upper() for v in values for c in v.split(",") if c.strip()]


def _colour(output_file: str | None, human: bool) -> bool:
    if output_file is not None or not human:
        return False
    if os.environ.get("NO_COLOR") or os.environ.get("CAPIC_NO_COLOR"):
        return False
    return sys.stdout.isatty()


@click.command(name="check")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--output-format",
    type=click.Choice(list(FORMATS)),
    default="full",
    show_default=True,
    envvar="CAPIC_OUTPUT_FORMAT",
    help="How to print diagnostics (also $CAPIC_OUTPUT_FORMAT).",
)
@click.option(
    "-o", "--output-file", type=click.Path(dir_okay=False), help="Write the output to FILE."
)
@click.option("--statistics", is_flag=True, help="Print how many diagnostics of each code instead.")
@click.option(
    "--exit-zero", is_flag=True, help="Exit 0 even with findings (not on configuration errors)."
)
@click.option(
    "--fail-level",
    type=click.Choice(_LEVELS),
    default=None,
    help="Lowest severity that makes the exit status 1 [default: error, or the configured one].",
)
@click.option(
    "--select",
    multiple=True,
    metavar="CODES",
    help="Codes or prefixes to enable instead of the configured ones (comma-separated).",
)
@click.option(
    "--ignore",
    multiple=True,
    metavar="CODES",
    help="Codes or prefixes to disable, in addition to the configured ones.",
)
@click.option(
    "--extend-select",
    multiple=True,
    metavar="CODES",
    help="Codes or prefixes to enable in addition.",
)
@click.option(
    "--env",
    "env",
    metavar="NAME",
    help="Check one environment (default: every declared environment).",
)
@click.option(
    "--no-cache", is_flag=True, help="Parse and lint every file again (ignore .capic_cache/)."
)
@today_option
def command(
    paths: tuple[str, ...],
    output_format: str,
    output_file: str | None,
    statistics: bool,
    exit_zero: bool,
    fail_level: str | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    extend_select: tuple[str, ...],
    env: str | None,
    no_cache: bool,
) -> None:
    """Check rule files or project directories (default: the current directory).

    A file inside a project is checked in the context of its whole project; only its own
    diagnostics are reported (what pre-commit needs). Configuration: [lint] in capic.toml or
    [tool.capic] in pyproject.toml, the closest one above the project.

    Exit status: 0 clean, 1 diagnostics at or above the fail level, 2 usage, configuration or
    internal errors.
    """
    try:
        code = _run(
            list(paths) or ["."],
            output_format,
            output_file,
            statistics,
            exit_zero,
            fail_level,
            select,
            ignore,
            extend_select,
            env,
            no_cache,
        )
    except click.ClickException:
        raise
    except Exception as exc:  # never a traceback: one line and exit 2
        click.echo(f"capic check: internal error: {type(exc).__name__}: {exc}", err=True)
        code = 2
    sys.exit(code)


def _run(
    paths: list[str],
    output_format: str,
    output_file: str | None,
    statistics: bool,
    exit_zero: bool,
    fail_level: str | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    extend_select: tuple[str, ...],
    env: str | None,
    no_cache: bool,
) -> int:
    from capic.lint import render
    from capic.lint.engine import ConfigError, check_paths

    try:
        result = check_paths(
            paths,
            env=env,
            select=_codes(select) if select else None,
            ignore=_codes(ignore),
            extend_select=_codes(extend_select),
            fail_level=fail_level,
            use_cache=not no_cache,
        )
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    renderer = (
        render.statistics_renderer(output_format) if statistics else render.get(output_format)
    )
    options = render.RenderOptions(colour=_colour(output_file, renderer.human))
    text = renderer.render(result, options)
    if output_file is not None:
        try:
            Path(output_file).write_text(text, encoding="utf-8")
        except OSError as exc:
            click.echo(f"capic check: cannot write {output_file}: {exc.strerror}", err=True)
            return 2
    else:
        click.echo(text, nl=False)
    if result.exit_code == 2:
        return 2
    return 0 if exit_zero else result.exit_code
