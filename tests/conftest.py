"""Shared fixtures. Tests drive capic through its public interfaces: the CLI and capic.api."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
SHARED = REPO.parent / "shared"


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def samples() -> Path:
    return SAMPLES


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(autouse=True)
def _no_real_tokens(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests never see a real token and never use the developer's parse cache location."""
    monkeypatch.delenv("META_CAPI_TOKEN", raising=False)
    monkeypatch.setenv("CAPIC_NO_COLOR", "1")
    yield


def golden_update() -> bool:
    return os.environ.get("CAPIC_UPDATE_GOLDEN") == "1"


def assert_golden(path: Path, actual: str) -> None:
    """Compare with a golden file; CAPIC_UPDATE_GOLDEN=1 rewrites it."""
    if golden_update() or not path.exists():
        if not golden_update() and os.environ.get("CI"):
            raise AssertionError(f"golden file missing: {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"output differs from {path} (CAPIC_UPDATE_GOLDEN=1 to accept)"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def require_tool(name: str, why: str) -> str:
    """The path of a real component (redis-server, chromium, wrk, an npm tool) a test drives.

    Missing, the test is skipped with the reason on a developer machine, and fails under
    ``CI=true``: CI installs every component (scripts/setup-system.sh), so absence is a defect.
    """
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed; {why} (scripts/setup-system.sh installs it)"
        if in_ci():
            pytest.fail(f"{message}; CI=true requires it")
        pytest.skip(message)
    return path
