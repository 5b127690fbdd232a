"""Every check against its fixtures: ``tests/data/lint/checks/<CODE>.toml`` (see the README
there). Each case is a small project checked through ``capic.api.check``; the diagnostics of
the fixture's code in the case's file must start exactly at the expected positions."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from capic import api
from capic.lint.registry import PSEUDO_CODES, all_checks
from tests.conftest import REPO

DATA = REPO / "tests" / "data" / "lint"
FIXTURES = sorted((DATA / "checks").glob("*.toml"))


def _cases() -> list[tuple[str, int, dict[str, Any]]]:
    out = []
    for path in FIXTURES:
        for i, case in enumerate(tomllib.loads(path.read_text(encoding="utf-8"))["case"]):
            out.append((path.stem, i, case))
    return out


CASES = _cases()


def build(root: Path, case: dict[str, Any]) -> Path:
    root.mkdir()
    lint = case.get("lint", "")
    project = case.get("project", "")
    (root / "capic.toml").write_text(
        f'[project]\nname = "fixture"\n{project}\n{lint}', encoding="utf-8"
    )
    (root / "prelude.capi").write_text((DATA / "prelude.capi").read_text(), encoding="utf-8")
    (root / "main.capi").write_text(case["source"], encoding="utf-8")
    for name, text in case.get("files", {}).items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_every_code_has_fixtures() -> None:
    codes = {path.stem for path in FIXTURES}
    expected = set(all_checks()) | set(PSEUDO_CODES)
    assert expected <= codes, f"no fixtures for {sorted(expected - codes)}"
    assert codes <= expected, f"fixtures for unknown codes {sorted(codes - expected)}"


def test_every_check_has_a_passing_case_and_most_a_failing_one() -> None:
    by_code: dict[str, list[dict[str, Any]]] = {}
    for code, _, case in CASES:
        by_code.setdefault(code, []).append(case)
    no_failing = sorted(c for c, cases in by_code.items() if not any(k["expect"] for k in cases))
    # V001 and V008 catch what no other check explains: the current schemas leave them nothing.
    assert set(no_failing) <= {"V001", "V008"}, no_failing


@pytest.mark.parametrize(("code", "index", "case"), CASES, ids=[f"{c}-{i}" for c, i, _ in CASES])
def test_check_fixture(code: str, index: int, case: dict[str, Any], tmp_path: Path) -> None:
    root = build(tmp_path / "project", case)
    result = api.check([root], env=case.get("env"), use_cache=False, show_info=True)
    target = case.get("file", "main.capi")
    found = [
        d
        for d in result.diagnostics
        if d.code == code and d.span is not None and d.span.file == target
    ]
    positions = sorted([d.span.line, d.span.column] for d in found if d.span is not None)
    report = "\n".join(f"{d.span}: {d.code} {d.message} | {d.help}" for d in result.diagnostics)
    assert positions == sorted(case["expect"]), f"{case['name']}\n{report}"
    text = "\n".join(f"{d.message} {d.help or ''}" for d in found)
    for fragment in case.get("contains", []):
        assert fragment in text, f"{case['name']}: {fragment!r} not in\n{text}"
    for d in found:
        assert d.name == (
            all_checks()[code].name if code in all_checks() else PSEUDO_CODES[code].name
        )
