"""``capic check``: the command-line options; :mod:`capic.lint.run` does the work."""

from __future__ import annotations

import sys

import click

from capic.cli.options import today_option
from capic.lint.render import FORMATS

_LEVELS = ["error", "warning", "info"]


def _codes(values: tuple[str, ...]) -> list[str]:
    """``--select D,P --select H001`` -> ["D", "P", "H001"]."""
    return [c.strip().upper() for v in values for c in v.split(",") if c.strip()]


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
@click.option(
    "--statistics",
    is_flag=True,
    help="Print how many diagnostics of each code instead (hidden info notes included).",
)
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
    "--show-info",
    is_flag=True,
    help="Show informational notes (match quality estimates); hidden by default.",
)
@click.option("--fix", is_flag=True, help="Apply the safe fixes and report what remains.")
@click.option(
    "--unsafe-fixes", is_flag=True, help="Apply (with --fix or --diff) the unsafe fixes too."
)
@click.option(
    "--diff",
    is_flag=True,
    help="Print the fixes as a unified diff instead of writing them (exit 1 if any).",
)
@click.option(
    "--stdin-filename",
    metavar="PATH",
    help="The file standard input stands for (`-`): its project, configuration and name.",
)
@click.option(
    "-w", "--watch", is_flag=True, help="Check again whenever a rule or configuration file changes."
)
@click.option("--show-files", is_flag=True, help="List the files that would be checked, and exit.")
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour the human formats: auto = on a terminal, or with FORCE_COLOR, not with NO_COLOR.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print the diagnostics only (no summary).")
@click.option(
    "-s", "--silent", is_flag=True, help="Print nothing; only the exit status tells the result."
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
    show_info: bool,
    fix: bool,
    unsafe_fixes: bool,
    diff: bool,
    stdin_filename: str | None,
    watch: bool,
    show_files: bool,
    color: str,
    quiet: bool,
    silent: bool,
    no_cache: bool,
) -> None:
    """Check rule files or project directories (default: the current directory); `-` reads
    standard input.

    A file inside a project is checked in the context of its whole project; only its own
    diagnostics are reported (what pre-commit needs). Configuration: [lint] in capic.toml or
    [tool.capic] in pyproject.toml, the closest one above the project. Files that .gitignore
    ignores and `exclude` patterns are skipped.

    Exit status: 0 clean, 1 diagnostics at or above the fail level, 2 usage, configuration or
    internal errors.
    """
    from capic.lint.run import CheckRequest, UsageError, execute

    reads_stdin = "-" in paths or (not paths and stdin_filename is not None)
    if reads_stdin and len(paths) > 1:
        raise click.UsageError("`-` (standard input) must be the only path")
    if reads_stdin and watch:
        raise click.UsageError("--watch cannot read standard input")
    request = CheckRequest(
        paths=tuple(p for p in paths if p != "-") or (".",),
        output_format=output_format,
        output_file=output_file,
        statistics=statistics,
        exit_zero=exit_zero,
        fail_level=fail_level,
        select=_codes(select) if select else None,
        ignore=_codes(ignore),
        extend_select=_codes(extend_select),
        env=env,
        use_cache=not no_cache,
        show_info=True if show_info else None,
        quiet=quiet or silent,
        silent=silent,
        color=color,
        show_files=show_files,
        fix=fix,
        diff=diff,
        unsafe_fixes=unsafe_fixes,
        stdin_text=sys.stdin.read() if reads_stdin else None,
        stdin_filename=stdin_filename,
    )
    try:
        if watch:
            from capic.lint.watch import watch_loop

            code = watch_loop(request)
        else:
            code = execute(request)
    except UsageError as exc:
        raise click.UsageError(str(exc)) from None
    except click.ClickException:
        raise
    except Exception as exc:  # never a traceback: one line and exit 2
        click.echo(f"capic check: internal error: {type(exc).__name__}: {exc}", err=True)
        code = 2
    sys.exit(code)
