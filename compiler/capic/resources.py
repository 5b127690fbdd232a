"""One place that finds the grammar and schemas, installed or in a checkout.

In a wheel they are packaged as ``capic/_data/{grammar,schemas}``; in an editable install or a
source checkout they are the top-level ``grammar/`` and ``schemas/`` directories.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

_PACKAGE_DIR = Path(__file__).resolve().parent


@functools.cache
def data_dir(kind: str) -> Path:
    """Directory holding ``kind`` ("grammar" or "schemas")."""
    packaged = _PACKAGE_DIR / "_data" / kind
    if packaged.is_dir():
        return packaged
    checkout = _PACKAGE_DIR.parent.parent / kind
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"capic data directory {kind!r} not found (broken installation)")


def read_text(kind: str, name: str) -> str:
    return (data_dir(kind) / name).read_text(encoding="utf-8")


def grammar_text() -> str:
    return read_text("grammar", "capic.lark")


def schema_names() -> list[str]:
    return sorted(
        p.name.removesuffix(".schema.json") for p in data_dir("schemas").glob("*.schema.json")
    )


@functools.cache
def load_schema(name: str) -> Any:
    """Load ``schemas/<name>.schema.json`` (parsed JSON, cached)."""
    return json.loads(read_text("schemas", f"{name}.schema.json"))
