"""The bundle manifest (``manifest.json``): canonical JSON, schema validation, typed access.

The manifest is mandatory. It names the project, environment and revision, the versions a
runner must agree with, the pixels (ids and token *references*), the rules, and every other
file of the bundle with its SHA-256 and size. A detached ``signature.json`` signs the
manifest's canonical bytes, and through its hashes every other file.

Canonical JSON: keys sorted, compact separators, UTF-8 (no ``\\u`` escapes for non-ASCII), no
NaN/Infinity, one trailing newline. The same data always gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BUNDLE_FORMAT_VERSION",
    "MANIFEST_NAME",
    "MODEL_NAME",
    "MODULE_NAME",
    "SIGNATURE_NAME",
    "SOURCES_DIR",
    "FileEntry",
    "Manifest",
    "ManifestError",
    "canonical_json",
    "sha256_hex",
    "validate_manifest",
]

BUNDLE_FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "signature.json"
MODEL_NAME = "model.json"
MODULE_NAME = "rules.py"
SOURCES_DIR = "sources"
#: Files every bundle lists in its manifest (besides the sources).
REQUIRED_FILES = (MODEL_NAME, MODULE_NAME)
#: Files that are part of a bundle without being listed in ``files``.
UNLISTED_FILES = (MANIFEST_NAME, SIGNATURE_NAME)


class ManifestError(Exception):
    """The manifest is missing, not JSON, or does not match its schema."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


def canonical_json(data: Any) -> bytes:
    """Canonical JSON bytes of ``data`` (see the module docstring)."""
    text = json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8") + b"\n"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def validate_manifest(data: Any) -> list[str]:
    """Schema problems of a parsed manifest, as ``"<json path>: <message>"`` lines (sorted)."""
    import jsonschema

    from capic.resources import load_schema

    validator = jsonschema.Draft202012Validator(load_schema("bundle_manifest"))
    problems = []
    for err in validator.iter_errors(data):
        where = "/".join(str(p) for p in err.absolute_path) or "(top level)"
        problems.append(f"{where}: {err.message}")
    return sorted(problems)


@dataclass(frozen=True, slots=True)
class FileEntry:
    path: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class Manifest:
    """A schema-valid manifest. Build it with :meth:`parse` or :meth:`from_data`."""

    data: Mapping[str, Any]

    @classmethod
    def parse(cls, raw: bytes) -> Manifest:
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise ManifestError(f"{MANIFEST_NAME} is not UTF-8") from None
        except json.JSONDecodeError as exc:
            raise ManifestError(f"{MANIFEST_NAME} is not valid JSON: {exc}") from None
        return cls.from_data(data)

    @classmethod
    def from_data(cls, data: Any) -> Manifest:
        problems = validate_manifest(data)
        if problems:
            raise ManifestError(
                f"{MANIFEST_NAME} does not match the bundle manifest schema",
                [f"{MANIFEST_NAME}: {p}" for p in problems],
            )
        return cls(data)

    def to_bytes(self) -> bytes:
        return canonical_json(self.data)

    @property
    def project(self) -> str:
        return str(self.data["project"])

    @property
    def environment(self) -> str:
        return str(self.data["environment"])

    @property
    def revision(self) -> str:
        return str(self.data["revision"])

    @property
    def capic_version(self) -> str:
        return str(self.data["capic_version"])

    @property
    def runtime_api_version(self) -> str:
        return str(self.data["runtime_api_version"])

    @property
    def files(self) -> dict[str, FileEntry]:
        return {
            path: FileEntry(path, str(entry["sha256"]), int(entry["size"]))
            for path, entry in self.data["files"].items()
        }

    @property
    def pixels(self) -> list[dict[str, Any]]:
        return [dict(p) for p in self.data["pixels"]]

    @property
    def rules(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.data["rules"]]

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self.data.get("metadata", {}))
