"""``sarif``: SARIF 2.1.0 for GitHub code scanning.

Each result names its file relative to its project's root (the directory of capic.toml)
through ``uriBaseId``; ``originalUriBaseIds`` says where each project root is, relative to
``SRCROOT`` (the repository: the closest directory above with ``.git``, else the working
directory). No path is ever absolute. ``partialFingerprints.primaryLocationLineHash`` hashes the
code, file, source line text and message, so alerts survive unrelated edits above them.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from capic import __version__
from capic.diagnostics import Severity
from capic.lint.engine import CheckResult, Finding
from capic.lint.registry import code_info, doc_markdown, doc_text, doc_url
from capic.lint.render import Renderer, RenderOptions

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/capic-dev/capic"
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_PROBLEM = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "recommendation"}


def source_root(start: Path) -> Path:
    """The repository root above ``start`` (a directory with .git), else the working directory."""
    for directory in [start, *start.parents]:
        if (directory / ".git").exists():
            return directory
    return Path.cwd()


def _relative_uri(path: Path, base: Path) -> str:
    rel = Path(os.path.relpath(path, base)).as_posix()
    return quote(rel, safe="/")


def _rule(code: str) -> dict[str, Any]:
    info = code_info(code)
    if info is None:
        return {
            "id": code,
            "shortDescription": {"text": code},
            "fullDescription": {"text": code},
            "help": {"text": code},
        }
    return {
        "id": info.code,
        "name": info.name,
        "shortDescription": {"text": info.summary},
        "fullDescription": {"text": f"{info.summary} {info.why}"},
        "help": {"text": doc_text(info), "markdown": doc_markdown(info, heading="##")},
        "helpUri": doc_url(info.code),
        "defaultConfiguration": {"level": _LEVELS[info.severity]},
        "properties": {
            "tags": [info.group],
            "precision": "very-high",
            "problem.severity": _PROBLEM[info.severity],
        },
    }


class SarifRenderer(Renderer):
    def render(self, result: CheckResult, options: RenderOptions) -> str:
        roots = sorted(
            {f.root for f in result.findings if f.root is not None}
            | {r.root for r in result.results}
        )
        base_ids = {
            root: "PROJECTROOT" if len(roots) == 1 else f"PROJECTROOT{i + 1}"
            for i, root in enumerate(roots)
        }
        original: dict[str, Any] = {
            "SRCROOT": {
                "description": {
                    "text": "The repository root: the closest directory with .git above the "
                    "project, else the directory capic ran in."
                }
            }
        }
        for root, base_id in base_ids.items():
            rel = _relative_uri(root, source_root(root))
            original[base_id] = {
                "uri": "./" if rel == "." else rel.rstrip("/") + "/",
                "uriBaseId": "SRCROOT",
                "description": {"text": "The project root (the directory of capic.toml)."},
            }
        located = [
            f for f in result.findings if f.diagnostic.span is not None and f.root is not None
        ]
        located_ids = {id(f) for f in located}
        codes = sorted({f.diagnostic.code for f in located})
        index = {code: i for i, code in enumerate(codes)}
        seen: dict[str, int] = {}
        results = []
        for f in located:
            results.append(self._result(result, f, base_ids, index, seen))
        notifications = [
            {
                "level": _LEVELS[f.diagnostic.severity],
                "message": {"text": f.diagnostic.message},
                "descriptor": {"id": f.diagnostic.code},
            }
            for f in result.findings
            if id(f) not in located_ids
        ]
        run: dict[str, Any] = {
            "tool": {
                "driver": {
                    "name": "capic",
                    "version": __version__,
                    "semanticVersion": __version__,
                    "informationUri": INFORMATION_URI,
                    "rules": [_rule(code) for code in codes],
                }
            },
            "automationDetails": {"id": "capic/"},
            "originalUriBaseIds": original,
            "invocations": [
                {
                    "executionSuccessful": result.exit_code != 2,
                    "toolExecutionNotifications": notifications,
                }
            ],
            "results": results,
            "columnKind": "unicodeCodePoints",
        }
        log = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
        return json.dumps(log, indent=2, ensure_ascii=False) + "\n"

    @staticmethod
    def _result(
        result: CheckResult,
        f: Finding,
        base_ids: dict[Path, str],
        index: dict[str, int],
        seen: dict[str, int],
    ) -> dict[str, Any]:
        d = f.diagnostic
        assert d.span is not None and f.root is not None
        uri = quote(d.span.file, safe="/")
        text = result.source_text(f) or ""
        lines = text.split("\n")
        line_text = lines[d.span.line - 1].strip() if 0 < d.span.line <= len(lines) else ""
        digest = hashlib.sha256(f"{d.code}\0{uri}\0{line_text}\0{d.message}".encode()).hexdigest()[
            :16
        ]
        seen[digest] = seen.get(digest, 0) + 1
        out: dict[str, Any] = {
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": _LEVELS[d.severity],
            "message": {"text": d.message + (f" (help: {d.help})" if d.help else "")},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri, "uriBaseId": base_ids[f.root]},
                        "region": {
                            "startLine": d.span.line,
                            "startColumn": d.span.column,
                            "endLine": d.span.end_line,
                            "endColumn": d.span.end_column,
                        },
                    }
                }
            ],
            "partialFingerprints": {"primaryLocationLineHash": f"{digest}:{seen[digest]}"},
        }
        if d.related:
            out["relatedLocations"] = [
                {
                    "id": i,
                    "message": {"text": r.message},
                    "physicalLocation": {
                        "artifactLocation": {
                            "uri": quote(r.span.file, safe="/"),
                            "uriBaseId": base_ids[f.root],
                        },
                        "region": {
                            "startLine": r.span.line,
                            "startColumn": r.span.column,
                            "endLine": r.span.end_line,
                            "endColumn": r.span.end_column,
                        },
                    },
                }
                for i, r in enumerate(d.related)
            ]
        if d.data:
            out["properties"] = {"data": d.data}
        return out
