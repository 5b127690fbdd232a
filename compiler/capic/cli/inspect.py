"""``capic inspect``: show what a bundle contains."""

from __future__ import annotations

import json
import sys

import click


@click.command(name="inspect")
@click.argument("bundle", type=click.Path(dir_okay=False))
@click.option(
    "--output-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="How to print the report.",
)
@click.option(
    "--key",
    type=click.Path(dir_okay=False),
    help="Ed25519 public key (PEM) to check the signature with.",
)
def command(bundle: str, output_format: str, key: str | None) -> None:
    """Show BUNDLE's project, environment, revision, versions, metadata, pixels (ids and
    token references), rules, files and signature status, with the verification outcome.

    Exit status: 0 when the bundle verifies, 1 when it does not, 2 usage errors.
    """
    from capic.bundle.inspect import inspect_bundle, render_inspect_text

    public_key = None
    if key is not None:
        from capic.bundle.sign import SignatureError, load_public_key

        try:
            public_key = load_public_key(key)
        except SignatureError as exc:
            click.echo(f"capic inspect: {exc}", err=True)
            sys.exit(2)
    data = inspect_bundle(bundle, key=public_key)
    if output_format == "json":
        click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))
    else:
        click.echo(render_inspect_text(data), nl=False)
    if not data["verification"]["ok"]:
        sys.exit(1)
