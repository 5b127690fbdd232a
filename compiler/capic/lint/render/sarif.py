"""``sarif``: SARIF 2.1.0 for GitHub code scanning.

Each result names its file relative to the repository's top level (the closest directory
above the project with ``.git``; without one, the project's root) through the base id
``SRCROOT``: GitHub resolves relative URIs against the repository root, so findings land on
the right lines wherever the project sits in the repository. No path is ever absolute.
``partialFingerprints.primaryLocationLineHash`` hashes the code, file, source line text and
message, so alerts survive unrelated edits above them. Fixes are ``fixes[].artifactChanges``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from capic import __version__
from capic.diagnostics import Severity
from capic.lint.engine import CheckResult, Finding
from capic.lint.registry import code_info, doc_markdown, doc_text, doc_url
from capic.lint.render import Renderer, RenderOptions
from capic.lint.render._common import fingerprint, repo_path, repo_relative

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/capic-dev/capic"
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_PROBLEM = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "recommendation"}
BASE_ID = "SRCROOT"


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
        located = [(f, repo_path(f)) for f in result.findings]
        results_for = [(f, path) for f, path in located if path is not None]
        located_ids = {id(f) for f, _ in results_for}
        codes = sorted({f.diagnostic.code for f, _ in results_for})
        index = {code: i for i, code in enumerate(codes)}
        seen: dict[str, int] = {}
        results = [self._result(result, f, path, index, seen) for f, path in results_for]
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
            "originalUriBaseIds": {
                BASE_ID: {
                    "description": {
                        "text": "The repository root: the closest directory with .git above "
                        "the project, else the project's root."
                    }
                }
            },
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
        path: str,
        index: dict[str, int],
        seen: dict[str, int],
    ) -> dict[str, Any]:
        d = f.diagnostic
        assert d.span is not None
        uri = quote(path, safe="/")
        out: dict[str, Any] = {
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": _LEVELS[d.severity],
            "message": {"text": d.message + (f" (help: {d.help})" if d.help else "")},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri, "uriBaseId": BASE_ID},
                        "region": _region(d.span),
                    }
                }
            ],
            "partialFingerprints": {"primaryLocationLineHash": fingerprint(result, f, uri, seen)},
        }
        if d.fix is not None and f.root is not None:
            out["fixes"] = [
                {
                    "description": {"text": d.fix.message},
                    "artifactChanges": [
                        {
                            "artifactLocation": {
                                "uri": quote(repo_relative(f.root, file), safe="/"),
                                "uriBaseId": BASE_ID,
                            },
                            "replacements": [
                                {
                                    "deletedRegion": _region(e.span),
                                    "insertedContent": {"text": e.content},
                                }
                                for e in d.fix.edits
                                if e.span.file == file
                            ],
                        }
                        for file in dict.fromkeys(e.span.file for e in d.fix.edits)
                    ],
                    "properties": {"applicability": d.fix.applicability.value},
                }
            ]
        if d.related:
            assert f.root is not None
            root = f.root
            out["relatedLocations"] = [
                {
                    "id": i,
                    "message": {"text": r.message},
                    "physicalLocation": {
                        "artifactLocation": {
                            "uri": quote(repo_relative(root, r.span.file), safe="/"),
                            "uriBaseId": BASE_ID,
                        },
                        "region": _region(r.span),
                    },
                }
                for i, r in enumerate(d.related)
            ]
        if d.data:
            out["properties"] = {"data": d.data}
        return out


def _region(span: Any) -> dict[str, int]:
    return {
        "startLine": span.line,
        "startColumn": span.column,
        "endLine": span.end_line,
        "endColumn": span.end_column,
    }
