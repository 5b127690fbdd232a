"""``capic diff``: what changed between two bundles."""

from __future__ import annotations

import json
import sys

import click


@click.command(name="diff")
@click.argument("old", type=click.Path(dir_okay=False))
@click.argument("new", type=click.Path(dir_okay=False))
@click.option(
    "--output-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="How to print the differences.",
)
@click.option(
    "--exit-code",
    is_flag=True,
    help="Exit 1 when the bundles differ (like `git diff --exit-code`).",
)
def command(old: str, new: str, output_format: str, exit_code: bool) -> None:
    """Compare bundles OLD and NEW as a reviewer would: rules added, removed and changed
    (condition, sends, payload fields, data elements they use), pixel settings of the
    environment, data elements, bundle versions and metadata, and changed files.

    Both bundles are verified first. Exit status: 0 (with --exit-code: 0 identical,
    1 different), 2 when a bundle cannot be read or does not verify.
    """
    from capic.bundle.diff import DiffError, diff_bundles, render_diff_text

    try:
        diff = diff_bundles(old, new)
    except DiffError as exc:
        click.echo(f"capic diff: {exc}", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(2)
    if output_format == "json":
        click.echo(json.dumps(diff.to_json(), indent=2, sort_keys=True, ensure_ascii=False))
    else:
        click.echo(render_diff_text(diff), nl=False)
    if exit_code and diff.different:
        sys.exit(1)
