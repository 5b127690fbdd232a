"""``capic check``: load, lint and report."""

from __future__ import annotations

import sys

import click

from capic.diagnostics import Diagnostic, Severity


@click.command(name="check")
@click.argument("paths", nargs=-1, type=click.Path(), required=True)
@click.option(
    "--output-format",
    type=click.Choice(["full", "concise"]),
    default="full",
    show_default=True,
    help="How to print diagnostics.",
)
@click.option("--no-cache", is_flag=True, help="Parse every file again (ignore .capic_cache/).")
def command(paths: tuple[str, ...], output_format: str, no_cache: bool) -> None:
    """Check rule files or project directories and print diagnostics.

    Exit status: 0 when there are no errors, 1 when there are, 2 on usage or internal errors.
    """
    from capic.lint.render_text import render_concise, render_full
    from capic.model.project import load

    results, problems = load(list(paths), use_cache=not no_cache)
    diagnostics: list[Diagnostic] = list(problems)
    display: dict[str, str] = {}
    sources: dict[str, str] = {}
    for result in results:
        for d in result.diagnostics:
            if result.focus is not None and d.span is not None and d.span.file not in result.focus:
                continue
            diagnostics.append(d)
        if result.project is not None:
            for f in result.project.files:
                shown = result.display_path(f.path)
                display[f.path] = shown
                sources[shown] = f.text
        else:
            for rel in result.files:
                shown = result.display_path(rel)
                display[rel] = shown
                try:
                    sources[shown] = (result.root / rel).read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    pass
    diagnostics.sort(key=lambda d: d.sort_key())
    renderer = render_full if output_format == "full" else render_concise
    colour = sys.stdout.isatty()
    text = renderer(
        diagnostics,
        lambda rel: display.get(rel, rel),
        lambda rel: sources.get(display.get(rel, rel)),
        colour,
    )
    click.echo(text, nl=False)
    errors = sum(1 for d in diagnostics if d.severity >= Severity.ERROR)
    if errors:
        click.echo(f"Found {errors} error{'s' if errors != 1 else ''}.", err=True)
        sys.exit(1)
