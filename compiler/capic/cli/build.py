"""``capic build``: build a reproducible deployment bundle for one environment."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from capic.cli.options import today_option

if TYPE_CHECKING:
    from capic.bundle.build import BuildError


@click.command(name="build")
@click.argument("project", type=click.Path())
@click.option("--env", "environment", required=True, help="Environment to build for.")
@click.option(
    "-o",
    "--output-dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Directory to write the bundle into (created if needed).",
)
@click.option("--revision", help="Revision to record (default: SHA-256 of the inputs).")
@click.option(
    "--sign-key",
    type=click.Path(dir_okay=False),
    help="Ed25519 private key (PEM) to sign the manifest with.",
)
@click.option(
    "--metadata",
    multiple=True,
    metavar="KEY=VALUE",
    help="Free metadata for the manifest (repeatable).",
)
@today_option
def command(
    project: str,
    environment: str,
    output_dir: str,
    revision: str | None,
    sign_key: str | None,
    metadata: tuple[str, ...],
) -> None:
    """Build the bundle of PROJECT for one environment and print its path.

    The bundle is a .tar.gz named <project>-<env>-<revision>.tar.gz holding manifest.json,
    model.json, rules.py and the sources; the same inputs give byte-identical files
    (SOURCE_DATE_EPOCH sets the recorded time). Refuses to build when `capic check` reports
    errors for the environment, or when a production bundle would send a test event code.

    Create a signing key with: openssl genpkey -algorithm ed25519 -out signing.pem

    Exit status: 0 built, 1 refused (the reasons are printed), 2 usage errors.
    """
    from capic.bundle.build import BuildError, build_bundle

    try:
        result = build_bundle(
            project,
            environment,
            output_dir,
            revision=revision,
            sign_key=sign_key,
            metadata=list(metadata),
        )
    except BuildError as exc:
        _print_diagnostics(exc)
        click.echo(f"capic build: {exc}", err=True)
        sys.exit(exc.exit_code)
    click.echo(str(result.path))
    from capic.diagnostics import Severity

    n = sum(1 for d in result.diagnostics if d.severity >= Severity.WARNING)
    if n:
        click.echo(
            f"capic build: {n} warning{'s' if n != 1 else ''} "
            f"(see `capic check {project} --env {environment}`)",
            err=True,
        )


def _print_diagnostics(exc: BuildError) -> None:
    """The findings that stopped the build: rendered like ``capic check`` when it ran."""
    if exc.check is not None:
        import dataclasses

        from capic.diagnostics import Severity
        from capic.lint import render

        # What stopped the build; informational findings stay with `capic check`.
        threshold = min(Severity.WARNING, exc.check.fail_level)
        findings = [f for f in exc.check.findings if f.diagnostic.severity >= threshold]
        result = dataclasses.replace(exc.check, findings=findings)
        text = render.get("full").render(result, render.RenderOptions(colour=False))
        click.echo(text, err=True, nl=False)
        return
    load = exc.load
    for d in sorted(exc.diagnostics, key=lambda d: d.sort_key()):
        shown = load.display_path(d.span.file) if load is not None and d.span else None
        click.echo(d.one_line(shown, nowhere="capic: "), err=True)
