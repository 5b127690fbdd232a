"""Reading and validating a project's ``capic.toml`` into its :class:`ProjectConfig`."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capic.codes import code
from capic.diagnostics import Diagnostic, Span

if TYPE_CHECKING:
    from capic.model import ir

__all__ = ["key_span", "load_config", "read_toml"]

#: What :func:`read_toml` found: (data, text, error, (line, column) of the error).
TomlRead = tuple[dict[str, Any] | None, str, str | None, tuple[int, int]]

#: (path, mtime, size) -> what read_toml found: the project model, discovery and the lint
#: settings read the same files, and watch mode and the language server read them again only
#: when they change.
_READS: dict[tuple[str, int, int], TomlRead] = {}


def read_toml(path: Path) -> TomlRead:
    """(data, text, error, (line, column) of the error) of a TOML file, read once per version
    of the file; ``data`` is None when it cannot be read or parsed, and ``error`` says why."""
    try:
        st = path.stat()
    except OSError as exc:
        return None, "", f"cannot read {path.name}: {exc.strerror}", (1, 1)
    key = (str(path), st.st_mtime_ns, st.st_size)
    hit = _READS.get(key)
    if hit is None:
        hit = _READS[key] = _parse_toml(path)
    return hit


def _parse_toml(path: Path) -> TomlRead:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, "", f"cannot read {path.name}: {exc.strerror}", (1, 1)
    except UnicodeDecodeError as exc:
        return None, "", f"cannot read {path.name}: not valid UTF-8 (byte {exc.start})", (1, 1)
    try:
        return tomllib.loads(text), text, None, (1, 1)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+), column (\d+)", str(exc))
        where = (int(m.group(1)), int(m.group(2))) if m else (1, 1)
        return None, text, f"{path.name} is not valid TOML: {exc}", where
    except RecursionError:
        # tomllib recurses once per nested array or inline table.
        return None, text, f"{path.name} is not valid TOML: nested too deeply", (1, 1)


_PROJECT_KEYS = {
    "name",
    "default_environment",
    "default_country",
    "dob_order",
    "api_version",
    "secrets_dir",
}


def key_span(text: str, rel: str, key: str) -> Span:
    m = re.search(rf"^\s*{re.escape(key)}\s*=", text, re.MULTILINE) if key else None
    if m is None:
        return Span.point(rel, 1, 1)
    line = text.count("\n", 0, m.start()) + 1
    col = len(m.group(0)) - len(m.group(0).lstrip()) + 1
    return Span(rel, line, col, line, col + len(key))


def load_config(root: Path, config_path: Path | None) -> tuple[ir.ProjectConfig, list[Diagnostic]]:
    from capic.model import ir

    if config_path is None:
        return ir.ProjectConfig(name=root.name or "project"), []
    rel = config_path.name
    data, text, error, (line, column) = read_toml(config_path)
    if data is None:
        help_ = "fix the TOML syntax" if text else None
        return ir.ProjectConfig(name=root.name), [
            code("C001").diagnostic(error or rel, Span.point(rel, line, column), help_)
        ]
    diags = _validate_config(data, text, rel)
    project: dict[str, Any] = (
        data.get("project", {}) if isinstance(data.get("project"), dict) else {}
    )
    lint = data.get("lint", {}) if isinstance(data.get("lint"), dict) else {}
    meta = data.get("meta", {}) if isinstance(data.get("meta"), dict) and not diags else {}

    def opt_str(key: str) -> str | None:
        v = project.get(key)
        return v if isinstance(v, str) else None

    name = opt_str("name") or root.name
    country = opt_str("default_country")
    config = ir.ProjectConfig(
        name=name,
        default_environment=opt_str("default_environment"),
        default_country=country.lower() if country else None,
        dob_order=opt_str("dob_order") or "mdy",
        api_version=opt_str("api_version") or "v25.0",
        secrets_dir=opt_str("secrets_dir"),
        consent="required" if opt_str("consent") == "required" else "optional",
        lint=lint,
        meta=meta,
        path=rel,
    )
    return config, diags


def _validate_config(data: dict[str, Any], text: str, rel: str) -> list[Diagnostic]:
    """Validate capic.toml except its [lint] table, which the linter validates itself (with
    suggestions, as C101/C102): reporting it here too would say everything twice."""
    from capic.resources import load_schema

    if "lint" in data:
        if not isinstance(data["lint"], dict):
            return [
                code("C001").diagnostic(
                    f"{rel}: lint must be a table", key_span(text, rel, "lint"), "write [lint]"
                )
            ]
        data = {k: v for k, v in data.items() if k != "lint"}

    try:
        schema = load_schema("config")
    except FileNotFoundError:
        schema = None
    diags: list[Diagnostic] = []
    if schema is not None and _plainly_valid(data, schema):
        # The common case (a [project] table of plain strings): no need to import jsonschema
        # (~0.2 s) to learn that there is nothing to report.
        return diags
    if schema is not None:
        import jsonschema

        validator = jsonschema.Draft202012Validator(schema)
        for err in sorted(
            validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))
        ):
            path = [str(p) for p in err.absolute_path]
            key = path[-1] if path else ""
            if err.validator == "additionalProperties":
                extra = re.findall(r"'([^']+)'", err.message)
                key = extra[0] if extra else key
            where = ".".join(path) or "(top level)"
            message = err.message
            if (
                err.validator == "enum"
                and isinstance(err.validator_value, list)
                and len(err.validator_value) > 8
            ):
                message = f"{err.instance!r} is not an allowed value"
            diags.append(
                code("C001").diagnostic(
                    f"{rel}: {where}: {message}",
                    key_span(text, rel, key),
                    "see `capic schema config`",
                )
            )
        return diags
    project = data.get("project")
    if not isinstance(project, dict) or not isinstance(project.get("name"), str):
        diags.append(
            code("C001").diagnostic(
                f"{rel} needs a [project] table with a name",
                Span.point(rel, 1, 1),
                '[project]\nname = "shop"',
            )
        )
        return diags
    for key in project:
        if key not in _PROJECT_KEYS:
            diags.append(
                code("C001").diagnostic(
                    f"{rel}: unknown key project.{key}",
                    key_span(text, rel, key),
                    f"keys: {', '.join(sorted(_PROJECT_KEYS))}",
                )
            )
    return diags


#: The JSON Schema keywords _plainly_valid() evaluates (or may ignore) for a [project] key.
_SIMPLE_KEYWORDS = {"type", "pattern", "enum", "minLength", "default", "description", "examples"}


def _plainly_valid(data: dict[str, Any], schema: dict[str, Any]) -> bool:
    """True when ``data`` certainly passes the config schema: only a [project] table whose
    values are strings meeting their property's pattern, enum and minLength. Anything else
    (a [lint] table, another type, a keyword this does not know) answers False, and the caller
    runs the full JSON Schema validation, which gives the messages."""
    project_ref = schema.get("properties", {}).get("project", {}).get("$ref")
    definition = schema.get("$defs", {}).get("project")
    if (
        set(data) != {"project"}
        or schema.get("additionalProperties") is not False
        or project_ref != "#/$defs/project"
        or not isinstance(definition, dict)
        or definition.get("type") != "object"
        or definition.get("additionalProperties") is not False
        or set(definition.get("required", [])) != {"name"}
    ):
        return False
    project = data["project"]
    properties = definition.get("properties", {})
    if not isinstance(project, dict) or "name" not in project:
        return False
    for key, value in project.items():
        rules = properties.get(key)
        if not isinstance(rules, dict) or not isinstance(value, str):
            return False
        if set(rules) - _SIMPLE_KEYWORDS or rules.get("type", "string") != "string":
            return False
        if "pattern" in rules and re.search(rules["pattern"], value) is None:
            return False
        if "enum" in rules and value not in rules["enum"]:
            return False
        if len(value) < rules.get("minLength", 0):
            return False
    return True
