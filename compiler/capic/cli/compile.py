"""``capic compile``: a project and an environment -> one Python rule module."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click

from capic.cli.options import today_option


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"capic compile: {message}", err=True)
    sys.exit(code)


@click.command(name="compile")
@click.argument("project", type=click.Path(exists=True))
@click.option(
    "--env",
    "env_name",
    default=None,
    help="Environment to compile for (default: the project's default_environment).",
)
@click.option(
    "-o",
    "--output",
    default="-",
    show_default=True,
    help="Where to write the module; - for standard output.",
)
@today_option
def command(project: str, env_name: str | None, output: str) -> None:
    """Compile a rule project to a Python module for one environment.

    The module imports only capic.runtime and the standard library and exposes
    process(event, request=None, *, context=None) plus RULES, PIXELS, ENVIRONMENT, SETTINGS
    and SOURCES. The same project and environment always give the same bytes.

    It refuses a project for which `capic check` (with the same --env) reports an error,
    from the front end or the linter; warnings do not stop it.

    Exit status: 0 compiled, 1 the project has errors (printed on stderr), 2 usage or
    configuration errors.
    """
    from capic.api import check
    from capic.codegen import CodegenError, generate
    from capic.diagnostics import Severity
    from capic.lint.engine import ConfigError

    try:
        checked = check([project], env=env_name)
    except ConfigError as exc:  # the only setting compile passes to check is the environment
        _fail(f"unknown environment {env_name!r}: {exc}" if env_name else str(exc))
        return
    if len(checked.results) != 1:
        _fail(f"expected one project, found {len(checked.results)}")
        return
    result = checked.results[0]
    errors = [f for f in checked.findings if f.diagnostic.severity >= Severity.ERROR]
    for finding in errors:
        click.echo(finding.diagnostic.one_line(finding.display_path), err=True)
    if checked.exit_code == 2:
        _fail("not compiled: the configuration has errors (see `capic check`)")
        return
    if result.project is None or errors:
        n = len(errors)
        _fail(f"not compiled: {n} error{'s' if n != 1 else ''} (see `capic check`)", 1)
        return
    try:
        source = generate(result.project, env_name)
    except CodegenError as exc:
        _fail(str(exc))
        return
    if output == "-":
        sys.stdout.write(source)
        sys.stdout.flush()
        return
    target = Path(output)
    tmp: str | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(source)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        _fail(f"cannot write {output}: {exc.strerror or exc}")
        return
    click.echo(f"capic compile: wrote {output}", err=True)
