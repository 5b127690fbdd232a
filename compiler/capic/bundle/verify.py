"""Verifying a bundle: what ``capic verify`` reports and what a runner checks before loading.

Verification is about content, never about archive bytes: the files are read from the tar
(whatever tool packed it, in whatever order, with whatever mtimes) and checked against the
manifest. Every problem names the file it concerns.

1. ``manifest.json`` exists, is JSON and matches ``schemas/bundle_manifest.schema.json``.
2. Every file the manifest lists is present with its size and SHA-256; the bundle holds no
   other file (besides ``manifest.json`` and ``signature.json``); ``model.json`` and
   ``rules.py`` are listed.
3. The manifest agrees with the rule model it ships: the project name, the environment, the
   rule list, the pixel names, and pixel settings that the sources could have produced. This
   catches a hand-edited manifest in an unsigned bundle; a signature catches any edit.
4. A production bundle carries no test event code.
5. Signatures (``signature.json``, Ed25519 over the canonical manifest):

   ========================  ===========================  ============================
   bundle                    without a key                with ``key``
   ========================  ===========================  ============================
   unsigned                  ok                           problem (a key asks for one)
   signed                    ok + warning ("unchecked");  checked: ok or problem
                             problem if required
   ========================  ===========================  ============================

   Even without a key a signed bundle whose manifest changed after signing is rejected
   (``signature.json`` records the manifest's SHA-256).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from capic.bundle.archive import ArchiveError, unpack
from capic.bundle.manifest import (
    MANIFEST_NAME,
    MODEL_NAME,
    REQUIRED_FILES,
    SIGNATURE_NAME,
    UNLISTED_FILES,
    Manifest,
    ManifestError,
    sha256_hex,
)
from capic.bundle.model import (
    PIXEL_SETTINGS,
    resolved_pixel_settings,
    rules_summary,
    send_test_event_codes,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = [
    "PRODUCTION_ENVIRONMENTS",
    "SignatureState",
    "SignatureStatus",
    "VerifyReport",
    "verify_bundle",
    "verify_files",
]

#: Environments whose bundles must never carry a test event code.
PRODUCTION_ENVIRONMENTS = frozenset({"production", "prod"})

SignatureState = Literal["unsigned", "unchecked", "valid", "invalid"]


@dataclass(frozen=True, slots=True)
class SignatureStatus:
    state: SignatureState
    key_id: str | None = None

    def describe(self) -> str:
        key = f" (key {self.key_id[:16]}…)" if self.key_id else ""
        return {
            "unsigned": "unsigned",
            "unchecked": f"signed{key}, signature not checked: pass --key",
            "valid": f"valid{key}",
            "invalid": f"INVALID{key}",
        }[self.state]

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "key_id": self.key_id}


@dataclass
class VerifyReport:
    """The outcome of verifying one bundle. ``ok`` when there are no problems."""

    source: str
    files: dict[str, bytes] = field(default_factory=dict)
    manifest: Manifest | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    signature: SignatureStatus = SignatureStatus("unsigned")

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def model(self) -> dict[str, Any] | None:
        raw = self.files.get(MODEL_NAME)
        if raw is None:
            return None
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None
        return data if isinstance(data, dict) else None


def verify_bundle(
    path: str | Path,
    *,
    key: Ed25519PublicKey | None = None,
    require_signature: bool = False,
) -> VerifyReport:
    """Verify the bundle file at ``path`` (see the module docstring)."""
    try:
        files = unpack(path)
    except ArchiveError as exc:
        return VerifyReport(str(path), problems=[f"{Path(path).name}: {exc}"])
    return verify_files(files, key=key, require_signature=require_signature, source=str(path))


def verify_files(
    files: Mapping[str, bytes],
    *,
    key: Ed25519PublicKey | None = None,
    require_signature: bool = False,
    source: str = "<bundle>",
) -> VerifyReport:
    """Verify a bundle's file set (path -> bytes)."""
    report = VerifyReport(source, dict(files))
    raw = files.get(MANIFEST_NAME)
    if raw is None:
        report.problems.append(f"{MANIFEST_NAME}: missing (every bundle has a manifest)")
        return report
    try:
        manifest = Manifest.parse(raw)
    except ManifestError as exc:
        report.problems.extend(exc.problems)
        return report
    report.manifest = manifest
    _check_files(manifest, files, report.problems)
    if report.ok:
        _check_consistency(manifest, report)
    _check_signature(manifest, files, key, require_signature, report)
    return report


def _check_files(manifest: Manifest, files: Mapping[str, bytes], problems: list[str]) -> None:
    listed = manifest.files
    for name in UNLISTED_FILES:
        if name in listed:
            problems.append(f"{name}: listed in {MANIFEST_NAME}, which must not list it")
    for name in REQUIRED_FILES:
        if name not in listed:
            problems.append(f"{name}: not listed in {MANIFEST_NAME} (every bundle has one)")
    for path in sorted(listed):
        if path in UNLISTED_FILES:
            continue
        entry = listed[path]
        data = files.get(path)
        if data is None:
            problems.append(f"{path}: missing (listed in {MANIFEST_NAME})")
            continue
        digest = sha256_hex(data)
        if digest != entry.sha256 or len(data) != entry.size:
            problems.append(
                f"{path}: changed (sha256 {digest[:12]}…, {len(data)} bytes; "
                f"{MANIFEST_NAME} says {entry.sha256[:12]}…, {entry.size} bytes)"
            )
    for path in sorted(set(files) - set(listed) - set(UNLISTED_FILES)):
        problems.append(f"{path}: extra file, not listed in {MANIFEST_NAME}")


def _check_consistency(manifest: Manifest, report: VerifyReport) -> None:
    problems = report.problems
    model = report.model
    if model is None:
        problems.append(f"{MODEL_NAME}: not a JSON object")
        return
    where = MANIFEST_NAME
    name = model.get("config", {}).get("name")
    if name != manifest.project:
        problems.append(f"{where}: project {manifest.project!r} but {MODEL_NAME} says {name!r}")
    environments = model.get("environments", {})
    if manifest.environment not in environments:
        problems.append(
            f"{where}: environment {manifest.environment!r} is not declared in {MODEL_NAME}"
        )
        return
    expected_rules = {r["name"]: r for r in rules_summary(model)}
    listed_rules = {r["name"]: r for r in manifest.rules}
    if manifest.rules != list(expected_rules.values()):
        differing = sorted(
            name
            for name in expected_rules.keys() | listed_rules.keys()
            if expected_rules.get(name) != listed_rules.get(name)
        )
        shown = ", ".join(differing) if differing else "their order"
        problems.append(f"{where}: the rule list does not match {MODEL_NAME} ({shown})")
    declared = set(model.get("pixels", {}))
    named = [p["name"] for p in manifest.pixels]
    if sorted(named) != sorted(declared):
        problems.append(
            f"{where}: pixels {sorted(named)} do not match the pixels of {MODEL_NAME} "
            f"{sorted(declared)}"
        )
        return
    for pixel in manifest.pixels:
        expected = resolved_pixel_settings(model, manifest.environment, pixel["name"])
        for key in PIXEL_SETTINGS:
            if pixel.get(key) != expected[key]:
                problems.append(
                    f"{where}: pixel {pixel['name']!r} has {key} {pixel.get(key)!r}, but the "
                    f"sources in {MODEL_NAME} give {expected[key]!r} in {manifest.environment!r}"
                )
    if manifest.environment in PRODUCTION_ENVIRONMENTS:
        for pixel in manifest.pixels:
            if pixel.get("test_event_code") is not None:
                problems.append(
                    f"{where}: production bundle sends pixel {pixel['name']!r} with a test "
                    "event code"
                )
        for send in send_test_event_codes(model):
            problems.append(f"{MODEL_NAME}: production bundle sets a test event code in {send}")


def _check_signature(
    manifest: Manifest,
    files: Mapping[str, bytes],
    key: Ed25519PublicKey | None,
    require_signature: bool,
    report: VerifyReport,
) -> None:
    raw = files.get(SIGNATURE_NAME)
    if raw is None:
        report.signature = SignatureStatus("unsigned")
        if key is not None:
            report.problems.append(
                f"{SIGNATURE_NAME}: missing: the bundle is not signed, but a key was given"
            )
        elif require_signature:
            report.problems.append(f"{SIGNATURE_NAME}: missing: a signature is required")
        return
    from capic.bundle.sign import SignatureError, parse_signature, verify_manifest_signature

    try:
        info = parse_signature(raw)
    except SignatureError as exc:
        report.signature = SignatureStatus("invalid")
        report.problems.append(str(exc))
        return
    canonical = manifest.to_bytes()
    if key is None:
        report.signature = SignatureStatus("unchecked", info.key_id)
        if info.manifest_sha256 != sha256_hex(canonical):
            report.signature = SignatureStatus("invalid", info.key_id)
            report.problems.append(
                f"{MANIFEST_NAME}: changed after signing (its SHA-256 differs from "
                f"{SIGNATURE_NAME})"
            )
        elif require_signature:
            report.problems.append(
                f"{SIGNATURE_NAME}: signature not checked: a signature is required, pass --key"
            )
        else:
            report.warnings.append(
                f"{SIGNATURE_NAME}: signed by key {info.key_id[:16]}…, signature not checked: "
                "pass --key"
            )
        return
    try:
        verify_manifest_signature(canonical, info, key)
    except SignatureError as exc:
        report.signature = SignatureStatus("invalid", info.key_id)
        report.problems.append(str(exc))
        return
    report.signature = SignatureStatus("valid", info.key_id)
