"""``capic lsp``: the language server, over standard input and output."""

from __future__ import annotations

import sys

import click


@click.command(name="lsp")
@click.option(
    "--debounce",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="Wait this long after a change before checking [default: 0.25; also the "
    "`debounce` initialization option].",
)
def command(debounce: float | None) -> None:
    """Serve the Language Server Protocol on stdin/stdout: diagnostics as you type, hover,
    completion, go to definition, references, code actions (fixes, noqa) and formatting.

    Needs the `lsp` extra: pip install 'capic[lsp]'.
    """
    try:
        from capic.lsp.server import DEFAULT_DEBOUNCE, build
    except ImportError as exc:
        click.echo(
            f"capic lsp: the language server needs pygls ({exc.name} is missing): "
            "pip install 'capic[lsp]'",
            err=True,
        )
        sys.exit(2)
    build(DEFAULT_DEBOUNCE if debounce is None else debounce).start_io()
