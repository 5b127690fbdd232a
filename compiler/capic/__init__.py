"""capic: a declarative rules compiler and linter for the Meta Conversions API.

The documented Python API lives in :mod:`capic.api`; the names re-exported here are the
stable entry points (imported lazily so that ``import capic`` stays cheap for the CLI).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
#: Version of the rule language; bumped when the meaning of a valid program changes.
DSL_VERSION = "1"
#: Version of the contract between generated modules and :mod:`capic.runtime`.
RUNTIME_API_VERSION = "1"

__all__ = [
    "DSL_VERSION",
    "RUNTIME_API_VERSION",
    "__version__",
    "check",
    "compile_project",
    "load_compiled",
    "load_project",
]


def __getattr__(name: str) -> Any:
    if name in {"load_project", "check", "compile_project", "load_compiled"}:
        from capic import api

        return getattr(api, name)
    raise AttributeError(name)
