"""``capic diff``: what changed between two bundles, at the level a reviewer cares about.

Sections (each empty when nothing changed there):

- ``bundle``: project, environment, versions, revision and metadata of the manifests;
- ``pixels``: the environment's pixel settings (id, token reference, API version, browser
  pixel, test event code), pixels added or removed;
- ``rules``: rules added, removed and changed. A changed rule lists its changes: the condition,
  sends added or removed (``Purchase -> shop``), payload fields added, removed or changed
  (``custom_data.value``), the source file, and the data elements it uses (directly or
  through other elements) whose definition changed;
- ``elements``: data elements added, removed or changed;
- ``files``: bundle files added, removed or changed (sources included).

Expressions are compared without source positions, so moving a rule within a file or adding
a comment is not a change; they are shown in a one-line DSL-like form.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from capic.bundle.inspect import describe_value
from capic.bundle.manifest import Manifest
from capic.bundle.model import PIXEL_SETTINGS, render_expr, strip_spans
from capic.bundle.verify import VerifyReport, verify_bundle

__all__ = ["BundleDiff", "DiffError", "diff_bundles", "diff_reports", "render_diff_text"]

_MANIFEST_KEYS = (
    "project",
    "environment",
    "bundle_format_version",
    "capic_version",
    "dsl_version",
    "runtime_api_version",
    "revision",
    "created",
)


class DiffError(Exception):
    """A bundle cannot be compared (it does not verify); ``problems`` says why."""

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


@dataclass(frozen=True)
class BundleDiff:
    data: dict[str, Any]

    @property
    def different(self) -> bool:
        return not self.data["identical"]

    def to_json(self) -> dict[str, Any]:
        return self.data


def _change(what: str, old: Any, new: Any) -> dict[str, Any]:
    kind = "added" if old is None else "removed" if new is None else "changed"
    return {"what": what, "change": kind, "old": old, "new": new}


# ----------------------------------------------------------------------------- model access


def _fields(section: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, entry in section.get("entries", {}).items():
        path = f"{prefix}{key}"
        if entry.get("kind") == "Section":
            yield from _fields(entry, f"{path}.")
        else:
            yield path, entry.get("value")


def _sends(rule: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    out: dict[str, Mapping[str, Any]] = {}
    for send in rule.get("sends", []):
        base = f"{send['event']} -> {send['pixel']}"
        label, n = base, 1
        while label in out:
            n += 1
            label = f"{base} #{n}"
        out[label] = send
    return out


def _element_refs(data: Any) -> set[str]:
    found: set[str] = set()
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            if node.get("kind") == "ElementRef":
                found.add(str(node.get("name")))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _closure(names: set[str], elements: Mapping[str, Any]) -> set[str]:
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        element = elements.get(name)
        if isinstance(element, Mapping):
            todo.extend(str(d) for d in element.get("deps", []))
    return seen


def _show(expr: Any) -> str | None:
    return None if expr is None else render_expr(expr)


# ----------------------------------------------------------------------------- comparison


def _diff_rule(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    changed_elements: set[str],
    new_elements: Mapping[str, Any],
) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = []
    if old.get("file") != new.get("file"):
        changes.append(_change("file", old.get("file"), new.get("file")))
    if old.get("condition") != new.get("condition"):
        changes.append(
            _change(
                "condition",
                _show(old.get("condition")) or "(always)",
                _show(new.get("condition")) or "(always)",
            )
        )
    old_sends, new_sends = _sends(old), _sends(new)
    for label in old_sends.keys() - new_sends.keys():
        changes.append(_change(f"send {label}", label, None))
    for label in new_sends.keys() - old_sends.keys():
        changes.append(_change(f"send {label}", None, label))
    for label in old_sends.keys() & new_sends.keys():
        before = dict(_fields(old_sends[label]["body"]))
        after = dict(_fields(new_sends[label]["body"]))
        for key in sorted(before.keys() | after.keys()):
            if before.get(key) != after.get(key):
                changes.append(
                    _change(f"send {label}: {key}", _show(before.get(key)), _show(after.get(key)))
                )
    used = _closure(_element_refs(new), new_elements)
    via = sorted(used & changed_elements)
    if via:
        changes.append(
            {"what": "elements", "change": "changed", "old": None, "new": ", ".join(via)}
        )
    order = {"file": 0, "condition": 1, "elements": 3}
    changes.sort(key=lambda c: (order.get(c["what"], 2), c["what"]))
    return changes


def _diff_pixels(old: Manifest, new: Manifest) -> dict[str, Any]:
    before = {p["name"]: p for p in old.pixels}
    after = {p["name"]: p for p in new.pixels}
    changed = []
    for name in sorted(before.keys() & after.keys()):
        for key in PIXEL_SETTINGS:
            if before[name].get(key) != after[name].get(key):
                changed.append(
                    {
                        "pixel": name,
                        "setting": key,
                        "old": before[name].get(key),
                        "new": after[name].get(key),
                    }
                )
    return {
        "added": [after[n] for n in sorted(after.keys() - before.keys())],
        "removed": [before[n] for n in sorted(before.keys() - after.keys())],
        "changed": changed,
    }


def _diff_bundle_keys(old: Manifest, new: Manifest) -> list[dict[str, Any]]:
    out = []
    for key in _MANIFEST_KEYS:
        if old.data.get(key) != new.data.get(key):
            out.append({"key": key, "old": old.data.get(key), "new": new.data.get(key)})
    old_meta, new_meta = old.metadata, new.metadata
    for key in sorted(old_meta.keys() | new_meta.keys()):
        if old_meta.get(key) != new_meta.get(key):
            out.append(
                {"key": f"metadata.{key}", "old": old_meta.get(key), "new": new_meta.get(key)}
            )
    return out


def diff_reports(old: VerifyReport, new: VerifyReport) -> BundleDiff:
    """Compare two verified bundles."""
    for report in (old, new):
        if not report.ok or report.manifest is None or report.model is None:
            raise DiffError(f"{Path(report.source).name} does not verify", report.problems)
    assert old.manifest is not None and new.manifest is not None
    old_model = strip_spans(old.model)
    new_model = strip_spans(new.model)

    old_elements: dict[str, Any] = old_model.get("elements", {})
    new_elements: dict[str, Any] = new_model.get("elements", {})
    element_changes = []
    for name in sorted(old_elements.keys() | new_elements.keys()):
        a, b = old_elements.get(name), new_elements.get(name)
        if a is None or b is None or a.get("value") != b.get("value"):
            element_changes.append(
                _change(
                    name,
                    _show(a.get("value")) if a else None,
                    _show(b.get("value")) if b else None,
                )
            )
    changed_elements = {c["what"] for c in element_changes}

    old_rules = {r["name"]: r for r in old_model.get("rules", [])}
    new_rules = {r["name"]: r for r in new_model.get("rules", [])}
    rules_changed = []
    for name in [r for r in new_rules if r in old_rules]:
        changes = _diff_rule(old_rules[name], new_rules[name], changed_elements, new_elements)
        if changes:
            rules_changed.append({"rule": name, "changes": changes})
    rules = {
        "added": [n for n in new_rules if n not in old_rules],
        "removed": [n for n in old_rules if n not in new_rules],
        "changed": rules_changed,
    }

    old_files, new_files = old.manifest.files, new.manifest.files
    files = {
        "added": sorted(new_files.keys() - old_files.keys()),
        "removed": sorted(old_files.keys() - new_files.keys()),
        "changed": sorted(
            p for p in old_files.keys() & new_files.keys() if old_files[p] != new_files[p]
        ),
    }
    pixels = _diff_pixels(old.manifest, new.manifest)
    bundle = _diff_bundle_keys(old.manifest, new.manifest)
    sections = {
        "bundle": bundle,
        "pixels": pixels,
        "rules": rules,
        "elements": element_changes,
        "files": files,
    }
    identical = not bundle and not element_changes
    identical = identical and not any(any(v.values()) for v in (pixels, rules, files))
    data = {
        "old": _side(old),
        "new": _side(new),
        "identical": identical,
        **sections,
    }
    return BundleDiff(data)


def _side(report: VerifyReport) -> dict[str, Any]:
    assert report.manifest is not None
    m = report.manifest
    return {
        "bundle": Path(report.source).name,
        "project": m.project,
        "environment": m.environment,
        "revision": m.revision,
    }


def diff_bundles(old: str | Path, new: str | Path) -> BundleDiff:
    """Verify both bundles and compare them; :class:`DiffError` when one does not verify."""
    return diff_reports(verify_bundle(old), verify_bundle(new))


# ----------------------------------------------------------------------------- text


def _lines_for_change(change: dict[str, Any], indent: str) -> list[str]:
    mark = {"added": "+", "removed": "-", "changed": "~"}[change["change"]]
    what, old, new = change["what"], change["old"], change["new"]
    if what == "elements":
        return [f"{indent}~ uses changed elements: {new}"]
    if what.startswith("send ") and ": " not in what:
        return [f"{indent}{mark} {what}"]
    out = [f"{indent}{mark} {what}"]
    if old is not None:
        out.append(f"{indent}    - {old}")
    if new is not None:
        out.append(f"{indent}    + {new}")
    return out


def render_diff_text(diff: BundleDiff) -> str:
    data = diff.data
    old, new = data["old"], data["new"]
    head = (
        f"--- {old['bundle']}  ({old['project']} {old['environment']}, "
        f"revision {old['revision'][:12]})\n"
        f"+++ {new['bundle']}  ({new['project']} {new['environment']}, "
        f"revision {new['revision'][:12]})"
    )
    lines = [head]
    if data["identical"]:
        lines += ["", "No differences."]
        return "\n".join(lines) + "\n"
    if data["bundle"]:
        lines += ["", "Bundle"]
        for c in data["bundle"]:
            lines.append(
                f"  ~ {c['key']}: {describe_value(c['old'])} -> {describe_value(c['new'])}"
            )
    pixels = data["pixels"]
    if any(pixels.values()):
        lines += ["", "Pixels"]
        for p in pixels["added"]:
            lines.append(
                f"  + {p['name']} (id {describe_value(p['id'])}, "
                f"token {describe_value(p['token_ref'])})"
            )
        for p in pixels["removed"]:
            lines.append(f"  - {p['name']}")
        for c in pixels["changed"]:
            lines.append(
                f"  ~ {c['pixel']}.{c['setting']}: {describe_value(c['old'])} -> "
                f"{describe_value(c['new'])}"
            )
    rules = data["rules"]
    if any(rules.values()):
        lines += ["", "Rules"]
        lines += [f"  + {name}" for name in rules["added"]]
        lines += [f"  - {name}" for name in rules["removed"]]
        for entry in rules["changed"]:
            lines.append(f"  ~ {entry['rule']}")
            for change in entry["changes"]:
                lines += _lines_for_change(change, "      ")
    if data["elements"]:
        lines += ["", "Elements"]
        for change in data["elements"]:
            lines += _lines_for_change(change, "  ")
    files = data["files"]
    if any(files.values()):
        lines += ["", "Files"]
        lines += [f"  + {p}" for p in files["added"]]
        lines += [f"  - {p}" for p in files["removed"]]
        lines += [f"  ~ {p}" for p in files["changed"]]
    return "\n".join(lines) + "\n"
