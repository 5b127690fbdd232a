"""``capic verify``: check a bundle's manifest, hashes, file set and signature."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from capic.cli.options import bundle_trust, bundle_trust_options


@click.command(name="verify")
@click.argument("bundle", type=click.Path(dir_okay=False))
@bundle_trust_options
def command(bundle: str) -> None:
    """Verify BUNDLE: the manifest matches its schema, every file matches its SHA-256 and
    size, the file set is exactly what the manifest lists, and the manifest agrees with the
    rule model. Problems name the file concerned.

    Signatures: with --key (or $CAPIC_BUNDLE_KEY) the bundle must carry a valid signature by
    that key. A signed bundle verified without a key passes with a warning ("signature not
    checked") unless --require-signature (or $CAPIC_REQUIRE_SIGNED_BUNDLES=1) is given; an
    unsigned bundle verified with a key fails.

    Exit status: 0 verified, 1 verification failed, 2 usage errors (e.g. an unreadable key).
    """
    from capic.bundle.verify import verify_bundle

    trust = bundle_trust()
    report = verify_bundle(bundle, key=trust.key, require_signature=trust.require_signature)
    name = Path(bundle).name
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    if not report.ok or report.manifest is None:
        n = len(report.problems)
        click.echo(f"{name}: verification FAILED ({n} problem{'s' if n != 1 else ''})", err=True)
        for problem in report.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    m = report.manifest
    click.echo(
        f"{name}: ok ({m.project} {m.environment}, revision {m.revision[:12]}, "
        f"{len(m.files)} files + manifest, signature {report.signature.describe()})"
    )
