"""The command output README.md and docs/tutorial.md show is what capic prints: every marked
```text block is produced again by running its recipe (``scripts/gen_doc_snippets.py``, which
also rewrites them)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO


def _generator() -> ModuleType:
    path = REPO / "scripts" / "gen_doc_snippets.py"
    spec = importlib.util.spec_from_file_location("gen_doc_snippets", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_doc_snippets"] = module
    spec.loader.exec_module(module)
    return module


GEN = _generator()
CASES = [(page, name, shown) for page in GEN.PAGES for name, shown in GEN.snippets(page)]


def test_the_pages_mark_their_output() -> None:
    names = {name for _, name, _ in CASES}
    assert {"readme-check", "tutorial-check", "tutorial-test", "tutorial-test-fail"} <= names
    assert names <= set(GEN.RECIPES)


@pytest.mark.parametrize(
    ("page", "name", "shown"), CASES, ids=[f"{Path(p).name}:{n}" for p, n, _ in CASES]
)
def test_shown_output_is_what_capic_prints(
    page: Path, name: str, shown: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    actual = GEN.RECIPES[name]()
    assert shown.rstrip("\n") == actual, (
        f"{page.name} shows stale output for {name}: run python scripts/gen_doc_snippets.py"
    )
