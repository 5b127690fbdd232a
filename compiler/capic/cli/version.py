from __future__ import annotations

import click

from capic import DSL_VERSION, RUNTIME_API_VERSION, __version__


@click.command(name="version")
def command() -> None:
    """Print capic's version, the DSL version and the runtime API version."""
    click.echo(f"capic {__version__} (dsl {DSL_VERSION}, runtime api {RUNTIME_API_VERSION})")
