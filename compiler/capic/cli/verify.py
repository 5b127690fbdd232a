"""``capic verify``: check a bundle's manifest, hashes, file set and signature."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command(name="verify")
@click.argument("bundle", type=click.Path(dir_okay=False))
@click.option(
    "--key",
    type=click.Path(dir_okay=False),
    help="Ed25519 public key (PEM): the bundle must be signed by it.",
)
@click.option(
    "--require-signature",
    is_flag=True,
    help="Fail unless the signature is present and checked (implies --key).",
)
def command(bundle: str, key: str | None, require_signature: bool) -> None:
    """Verify BUNDLE: the manifest matches its schema, every file matches its SHA-256 and
    size, the file set is exactly what the manifest lists, and the manifest agrees with the
    rule model. Problems name the file concerned.

    Signatures: with --key the bundle must carry a valid signature by that key. A signed
    bundle verified without --key passes with a warning ("signature not checked") unless
    --require-signature is given; an unsigned bundle verified with --key fails.

    Exit status: 0 verified, 1 verification failed, 2 usage errors (e.g. an unreadable key).
    """
    from capic.bundle.verify import verify_bundle

    public_key = None
    if key is not None:
        from capic.bundle.sign import SignatureError, load_public_key

        try:
            public_key = load_public_key(key)
        except SignatureError as exc:
            click.echo(f"capic verify: {exc}", err=True)
            sys.exit(2)
    report = verify_bundle(bundle, key=public_key, require_signature=require_signature)
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
