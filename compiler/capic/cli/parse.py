"""``capic parse``: print the rule model (IR)."""

from __future__ import annotations

import sys

import click
import orjson


@click.command(name="parse")
@click.argument("path", type=click.Path(exists=True))
@click.option(
    "--output-format",
    type=click.Choice(["json"]),
    default="json",
    show_default=True,
    help="Output format.",
)
def command(path: str, output_format: str) -> None:
    """Print the rule model (IR) of a project or file as JSON.

    Exits 1 (printing the diagnostics on stderr) when the project has errors.
    """
    from capic.api import load_project
    from capic.diagnostics import Severity

    try:
        result = load_project(path)
    except ValueError as exc:
        click.echo(f"capic parse: {exc}", err=True)
        sys.exit(2)
    errors = [d for d in result.diagnostics if d.severity >= Severity.ERROR]
    for d in errors:
        shown = result.display_path(d.span.file) if d.span else None
        click.echo(d.one_line(shown), err=True)
    if result.project is None or errors:
        sys.exit(1)
    data = result.project.to_json()
    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())
