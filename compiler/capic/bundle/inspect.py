"""``capic inspect``: what a bundle holds, as text for people or JSON for tools.

The report is built from the verified content (manifest, model, signature status); the
verification outcome is part of it, so a tampered bundle is never shown as if it were good.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from capic.bundle.verify import VerifyReport, verify_bundle

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = ["describe_value", "inspect_bundle", "render_inspect_text"]


def inspect_bundle(path: str | Path, *, key: Ed25519PublicKey | None = None) -> dict[str, Any]:
    """The inspection report of the bundle at ``path`` (JSON-able)."""
    report = verify_bundle(path, key=key)
    return inspection(report, Path(path).name)


def inspection(report: VerifyReport, name: str) -> dict[str, Any]:
    out: dict[str, Any] = {"bundle": name}
    manifest = report.manifest
    if manifest is not None:
        data = manifest.data
        out.update(
            {
                "project": manifest.project,
                "environment": manifest.environment,
                "revision": manifest.revision,
                "bundle_format_version": data["bundle_format_version"],
                "capic_version": data["capic_version"],
                "dsl_version": data["dsl_version"],
                "runtime_api_version": data["runtime_api_version"],
                "created": data.get("created"),
                "metadata": manifest.metadata,
                "pixels": manifest.pixels,
                "rules": manifest.rules,
                "files": [
                    {"path": f.path, "sha256": f.sha256, "size": f.size}
                    for f in sorted(manifest.files.values(), key=lambda f: f.path)
                ],
            }
        )
    out["signature"] = report.signature.to_json()
    out["verification"] = {
        "ok": report.ok,
        "problems": list(report.problems),
        "warnings": list(report.warnings),
    }
    return out


def describe_value(value: Any) -> str:
    """A setting as rule authors write it: refs as ``env("X")``, strings quoted, null as none."""
    if value is None:
        return "none"
    if isinstance(value, dict) and set(value) == {"kind", "name"}:
        return f'{value["kind"]}("{value["name"]}")'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return str(value)


def _table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        (indent + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True))).rstrip()
        for r in rows
    ]


def render_inspect_text(data: dict[str, Any]) -> str:
    lines = [f"Bundle        {data['bundle']}"]
    if "project" in data:
        lines += [
            f"Project       {data['project']}",
            f"Environment   {data['environment']}",
            f"Revision      {data['revision']}",
            f"Built by      capic {data['capic_version']} (bundle format "
            f"{data['bundle_format_version']}, DSL {data['dsl_version']}, runtime API "
            f"{data['runtime_api_version']})",
            f"Created       {data['created'] or 'not recorded (SOURCE_DATE_EPOCH unset)'}",
        ]
    signature = data["signature"]
    key = f" (key {signature['key_id']})" if signature["key_id"] else ""
    state = {
        "unsigned": "unsigned",
        "unchecked": "signed, signature not checked: pass --key",
        "valid": "signed, valid",
        "invalid": "signed, INVALID",
    }[signature["state"]]
    lines.append(f"Signature     {state}{key}")
    verification = data["verification"]
    if verification["ok"]:
        lines.append(f"Verification  ok ({len(data.get('files', []))} files + manifest)")
    else:
        count = len(verification["problems"])
        lines.append(f"Verification  FAILED ({count} problem{'' if count == 1 else 's'})")
        lines += [f"  {p}" for p in verification["problems"]]
    if "project" not in data:
        return "\n".join(lines) + "\n"
    metadata = data["metadata"]
    lines += ["", f"Metadata ({len(metadata)})"]
    lines += _table([[k, describe_value(metadata[k])] for k in sorted(metadata)]) or ["  none"]
    lines += ["", f"Pixels ({len(data['pixels'])})"]
    lines += _table(
        [
            [
                p["name"],
                f"id {describe_value(p['id'])}",
                f"token {describe_value(p['token_ref'])}",
                p["api_version"],
                f"browser pixel {describe_value(p['browser_pixel'])}",
                f"test event code {describe_value(p['test_event_code'])}",
            ]
            for p in data["pixels"]
        ]
    )
    lines += ["", f"Rules ({len(data['rules'])})"]
    lines += _table(
        [
            [
                r["name"],
                ", ".join(r["events"]) + " -> " + ", ".join(r["pixels"]),
                r["file"],
            ]
            for r in data["rules"]
        ]
    )
    lines += ["", f"Files ({len(data['files'])})"]
    lines += [f"  {f['sha256'][:12]}  {f['size']:>9}  {f['path']}" for f in data["files"]]
    return "\n".join(lines) + "\n"
