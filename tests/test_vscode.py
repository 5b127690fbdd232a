"""editors/vscode: the TextMate grammar's assertion files (vscode-tmgrammar-test, one per
construct), a scope for every keyword and operator of grammar/capic.lark, the client script
(`node --check`) and a valid extension manifest. The npm tools come from the lockfile
(`make vscode`, part of `make test`); with CI=true a missing tool fails."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, in_ci, require_tool

EXTENSION = REPO / "editors" / "vscode"
TOOL = EXTENSION / "node_modules" / ".bin" / "vscode-tmgrammar-test"

pytestmark = pytest.mark.slow


def npm_tool(path: Path) -> Path:
    """A tool `make vscode` installs from the lockfile: fails under CI=true when missing."""
    if not path.exists():
        message = f"{path.name} is not installed; run `make vscode` (npm ci in editors/vscode)"
        if in_ci():
            pytest.fail(f"{message}; CI=true requires it")
        pytest.skip(message)
    return path


def test_grammar_assertion_files() -> None:
    require_tool("node", "the TextMate grammar tests run on node")
    tool = npm_tool(TOOL)
    files = sorted(EXTENSION.glob("tests/*.test.capi"))
    assert {f.name.removesuffix(".test.capi") for f in files} >= {
        "pixel", "element", "shared", "rule", "environment", "test", "expressions",
        "literals", "comments",
    }  # fmt: skip
    done = subprocess.run(
        [str(tool), "-g", "syntaxes/capi.tmLanguage.json", *[str(f) for f in files]],
        cwd=EXTENSION,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("run successfuly") == len(files)


def _literals() -> list[str]:
    """Every keyword and operator the grammar spells out ("pixel", "==", "...")."""
    text = (REPO / "grammar" / "capic.lark").read_text()
    text = "\n".join(line.split("//")[0] for line in text.splitlines())
    return sorted(set(re.findall(r'"([^"\s]+)"', text)))


def test_every_keyword_and_operator_has_a_scope() -> None:
    node = require_tool("node", "the grammar is run by vscode-textmate on node")
    npm_tool(EXTENSION / "node_modules" / "vscode-textmate")
    literals = _literals()
    assert {"pixel", "shared", "when", "if", "matches", "??", "...", "=="} <= set(literals)
    lines = [f"a {literal} b" for literal in literals]
    done = subprocess.run(
        [node, "scripts/scopes.js", *lines],
        cwd=EXTENSION,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    missing = []
    for literal, tokens in zip(literals, json.loads(done.stdout), strict=True):
        covering = [t for t in tokens if literal in t["text"] or t["text"] in literal.strip()]
        scoped = [t for t in covering if t["text"].strip() and len(t["scopes"]) > 1]
        names = {s for t in scoped for s in t["scopes"][1:]}
        if not scoped or names <= {"variable.other.capi"}:
            missing.append(literal)
    assert not missing, f"no scope in capi.tmLanguage.json for: {missing}"


def test_client_script_parses() -> None:
    node = require_tool("node", "`node --check` validates the client")
    subprocess.run([node, "--check", str(EXTENSION / "extension.js")], check=True, timeout=60)
    subprocess.run([node, "--check", str(EXTENSION / "scripts" / "scopes.js")], check=True)


MANIFEST_SCHEMA = {
    "type": "object",
    "required": ["name", "publisher", "version", "engines", "main", "contributes"],
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"},
        "publisher": {"type": "string", "minLength": 1},
        "version": {"type": "string", "pattern": r"^\d+\.\d+\.\d+$"},
        "engines": {
            "type": "object",
            "required": ["vscode"],
            "properties": {"vscode": {"type": "string", "pattern": r"^\^\d+\.\d+\.\d+$"}},
        },
        "main": {"type": "string"},
        "activationEvents": {"type": "array", "items": {"type": "string"}},
        "contributes": {
            "type": "object",
            "required": ["languages", "grammars", "configuration"],
            "properties": {
                "languages": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "extensions", "configuration"],
                    },
                },
                "grammars": {
                    "type": "array",
                    "items": {"type": "object", "required": ["language", "scopeName", "path"]},
                },
                "configuration": {"type": "object", "required": ["properties"]},
            },
        },
    },
}


def test_manifest_is_valid_and_its_files_exist() -> None:
    import jsonschema

    manifest = json.loads((EXTENSION / "package.json").read_text())
    jsonschema.validate(manifest, MANIFEST_SCHEMA)
    assert (EXTENSION / manifest["main"]).is_file()
    (language,) = manifest["contributes"]["languages"]
    assert language["extensions"] == [".capi"]
    config = json.loads((EXTENSION / language["configuration"]).read_text())
    assert config["comments"]["lineComment"] == "#"
    (grammar,) = manifest["contributes"]["grammars"]
    tm = json.loads((EXTENSION / grammar["path"]).read_text())
    assert tm["scopeName"] == grammar["scopeName"] == "source.capi"
    assert grammar["language"] == language["id"]
    settings = manifest["contributes"]["configuration"]["properties"]
    assert {"capic.interpreter", "capic.args", "capic.trace.server"} <= set(settings)
    lock = json.loads((EXTENSION / "package-lock.json").read_text())
    assert lock["lockfileVersion"] >= 2 and lock["packages"][""]["name"] == "capic"
