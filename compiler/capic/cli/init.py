"""``capic init``: scaffold a project (logic in :mod:`capic.scaffold`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click


def _fail(message: str) -> None:
    click.echo(f"capic init: error: {message}", err=True)
    sys.exit(2)


@click.command(name="init")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option(
    "--domain", metavar="HOST", help="The site's host name, e.g. shop.example.com (required)."
)
@click.option("--pixel-id", metavar="ID", help="The Meta dataset (pixel) id: digits (required).")
@click.option(
    "--data-layer-path",
    metavar="PATH",
    default="window.dataLayer.meta",
    show_default=True,
    help="Where the page keeps the event for Meta (read by the browser snippet).",
)
@click.option(
    "--token-env",
    metavar="VAR",
    default="META_CAPI_TOKEN",
    show_default=True,
    help="Environment variable holding the Conversions API access token.",
)
@click.option(
    "--collect-url",
    metavar="URL",
    default=None,
    help="capic serve's /v1/collect URL, e.g. https://collect.shop.example.com/v1/collect: "
    "the snippet posts every event there, and serve.capi holds the collector's settings.",
)
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
def command(
    directory: Path,
    domain: str | None,
    pixel_id: str | None,
    data_layer_path: str,
    token_env: str,
    collect_url: str | None,
    force: bool,
) -> None:
    """Create a capic project in DIRECTORY for one website and one Meta dataset.

    It writes one MetaConversion_* rule per Meta standard event with a test each, the
    elements reading the site's data layer, development/staging/production environments,
    sample events (events.jsonl) and the Meta Pixel snippet that shares event ids with the
    server, so browser and server events deduplicate. The result passes `capic check` and
    `capic test`. Exit status: 0 on success, 2 on bad arguments or files in the way.
    """
    from capic.scaffold import ScaffoldError, render, validate, write

    if not domain:
        _fail("--domain is required: the site's host name, e.g. --domain shop.example.com")
    if not pixel_id:
        _fail("--pixel-id is required: the Meta dataset id, e.g. --pixel-id 1234567890123456")
    assert domain is not None and pixel_id is not None
    try:
        options = validate(
            directory,
            domain=domain,
            pixel_id=pixel_id,
            data_layer_path=data_layer_path,
            token_env=token_env,
            collect_url=collect_url,
        )
        files = render(options)
        written = write(directory, files, force=force)
    except ScaffoldError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot write {exc.filename or directory}: {exc.strerror or exc}")
    shown = os.path.relpath(directory) if not directory.is_absolute() else str(directory)
    if len(options.pixel_id) not in (15, 16):
        click.echo(
            f"note: pixel id {options.pixel_id} has {len(options.pixel_id)} digits; "
            "Meta dataset ids usually have 15 or 16",
            err=True,
        )
    click.echo(
        f"Created {len(written)} files in {shown} for {options.domain} "
        f"(pixel {options.pixel_id}, token from ${options.token_env})."
    )
    arg = shown if " " not in shown else f'"{shown}"'
    click.echo(
        "\nNext steps:\n"
        f"  capic check {arg}      lint the rules\n"
        f"  capic test {arg}       run the test of every rule\n"
        f"  then read {os.path.join(arg, 'README.md')}: the data layer shape and where to paste\n"
        f"  {os.path.join(arg, 'site', 'meta-pixel-snippet.html')} on {options.domain}"
    )
