"""Lint configuration: discovery (closest wins), selection by code prefix, per-file ignores,
per-check options, validation of the table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from capic import api
from capic.lint.config import (
    ConfigError,
    Overrides,
    default_codes,
    find_config,
    load_settings,
    selection,
)

PIXEL = 'pixel shop {\n  id = "1"\n  access_token = env("T")\n}\n'
RULE = """rule "r" {
  send Lead to shop {
    event_id      = "constant"
    event_time    = parse_time(event.time)
    action_source = "web"
    user { em = event.email }
  }
}
"""


def codes(root: Path, **options: Any) -> set[str]:
    return {d.code for d in api.check([root], use_cache=False, **options).diagnostics}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository (so discovery stops here) holding one project in a subdirectory."""
    (tmp_path / ".git").mkdir()
    write(tmp_path / "shop" / "capic.toml", '[project]\nname = "shop"\n')
    write(tmp_path / "shop" / "a.capi", PIXEL + RULE)
    write(tmp_path / "shop" / "legacy" / "old.capi", "element spare = event.x\n")
    return tmp_path / "shop"


def test_selection_by_prefix_and_specificity() -> None:
    defaults = default_codes()
    assert selection(None, [], [], defaults) == frozenset(defaults)
    assert selection(["D"], [], [], defaults) == {"D001", "D002", "D003", "D070", "D071"}
    assert selection(["D00"], [], [], defaults) == {"D001", "D002", "D003"}
    assert selection(["D"], [], ["D002"], defaults) == {"D001", "D003", "D070", "D071"}
    assert selection(None, ["D002"], ["D"], defaults) >= {"D002"}
    assert "D001" not in selection(None, ["D002"], ["D"], defaults)
    assert selection(["ALL"], [], ["ALL"], defaults) == frozenset()
    assert selection(["D002"], [], ["ALL"], defaults) == {"D002"}


def test_pyproject_tool_capic_applies_when_capic_toml_has_no_lint_table(repo: Path) -> None:
    assert {"L001", "D002"} <= codes(repo)
    write(repo.parent / "pyproject.toml", '[project]\nname = "x"\n\n[tool.capic]\nselect = ["D"]\n')
    assert codes(repo) == {"D002"}
    source = find_config(repo)
    assert source is not None and source.section == "[tool.capic]"


def test_closest_configuration_wins_without_merging(repo: Path) -> None:
    write(repo.parent / "pyproject.toml", '[tool.capic]\nselect = ["D"]\n')
    write(repo / "capic.toml", '[project]\nname = "shop"\n\n[lint]\nignore = ["Q", "M"]\n')
    found = codes(repo)
    assert "L001" in found and "D002" in found and "Q002" not in found
    # In one directory capic.toml comes first; without a [lint] table it is skipped.
    write(repo / "pyproject.toml", '[tool.capic]\nselect = ["L"]\n')
    assert codes(repo) >= {"L001", "D002"}
    write(repo / "capic.toml", '[project]\nname = "shop"\n')
    assert codes(repo) == {"L001"}


def test_discovery_stops_at_the_repository_root(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.capic]\nselect = ["D"]\n')
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    shop = write(tmp_path / "repo" / "shop" / "capic.toml", '[project]\nname = "shop"\n').parent
    assert find_config(shop) is None
    assert find_config(tmp_path) is not None


def test_per_file_ignores(repo: Path) -> None:
    assert "H001" in codes(repo)
    write(
        repo / "capic.toml",
        '[project]\nname = "shop"\n\n[lint.per-file-ignores]\n"legacy/*.capi" = ["H"]\n',
    )
    assert "H001" not in codes(repo)
    write(
        repo / "capic.toml",
        '[project]\nname = "shop"\n\n[lint.per-file-ignores]\n"old.capi" = ["H001"]\n',
    )
    assert "H001" not in codes(repo)
    write(
        repo / "capic.toml",
        '[project]\nname = "shop"\n\n[lint.per-file-ignores]\n"a.capi" = ["H001"]\n',
    )
    assert "H001" in codes(repo)


def test_check_options(repo: Path) -> None:
    write(
        repo / "capic.toml",
        '[project]\nname = "shop"\n\n[lint.options.unused-element]\nignore-names = ["spare"]\n',
    )
    assert "H001" not in codes(repo)


def test_invalid_tables_are_reported_with_suggestions(repo: Path) -> None:
    write(
        repo / "capic.toml",
        '[project]\nname = "shop"\n\n[lint]\nextend_select = ["D"]\nfail-level = 3\n'
        'ignore = ["D9"]\n\n[lint.options.unused-elemnt]\nx = 1\n',
    )
    result = api.check([repo], use_cache=False)
    problems = {
        (d.code, d.span.line if d.span else 0): d
        for d in result.diagnostics
        if d.code.startswith("C1")
    }
    assert problems[("C101", 5)].help == "did you mean `extend-select`?"
    assert "fail-level" in problems[("C101", 6)].message
    assert problems[("C102", 7)].code == "C102"
    assert problems[("C101", 9)].help == "did you mean `unused-element`?"
    assert result.exit_code == 2
    assert not [d for d in result.diagnostics if d.code == "C001"], (
        "the loader's C001 is not doubled"
    )


def test_invalid_pyproject_table_is_reported(repo: Path) -> None:
    write(repo.parent / "pyproject.toml", '[tool.capic]\nselcet = ["D"]\n')
    result = api.check([repo], use_cache=False)
    (problem,) = [d for d in result.diagnostics if d.code == "C101"]
    assert problem.span is not None and problem.span.file == "../pyproject.toml"
    assert problem.span.line == 2 and problem.help == "did you mean `select`?"


def test_unknown_command_line_selectors_are_usage_errors(repo: Path) -> None:
    with pytest.raises(ConfigError, match="did you mean"):
        load_settings(repo, Overrides(select=["D0002"]))
    with pytest.raises(ConfigError):
        api.check([repo], fail_level="fatal")


def test_frontend_codes_cannot_be_deselected(repo: Path) -> None:
    write(repo / "b.capi", "element e = unknown_name\n")
    assert "R002" in codes(repo, select=["H"])
    assert "R002" in codes(repo, ignore=["R"])
