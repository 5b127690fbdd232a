"""The result cache of `capic check`: a run that finds its key prints exactly what a full run
prints, and anything a result depends on (a file, the configuration, the options, the files
asked for) makes a new key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from capic import api
from capic.cli import cli
from tests.test_check_cli import BAD_RULE, GOOD_RULE, PIXEL, project

FORMATS = ("full", "concise", "json", "sarif", "gitlab", "rdjson", "github", "junit")


def run(root: Path, *args: str, cache: bool = True) -> tuple[int, str]:
    previous = Path.cwd()
    os.chdir(root)
    try:
        extra = [] if cache else ["--no-cache"]
        result = CliRunner().invoke(cli, ["check", *extra, *args])
    finally:
        os.chdir(previous)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout


def entries(root: Path) -> set[str]:
    directory = root / ".capic_cache" / "results"
    return {p.name for p in directory.iterdir()} if directory.is_dir() else set()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return project(
        tmp_path / "p",
        {
            "pixels.capi": PIXEL + "element spare = event.x\n",
            "rules/a.capi": BAD_RULE,
            "rules/b.capi": GOOD_RULE.replace('"r"', '"r2"'),
        },
    )


@pytest.mark.parametrize("output_format", FORMATS)
def test_a_cached_result_prints_what_a_full_run_prints(root: Path, output_format: str) -> None:
    args = ("--output-format", output_format, "--show-info")
    fresh = run(root, *args, cache=False)
    first = run(root, *args)
    assert len(entries(root)) == 1
    again = run(root, *args)
    assert fresh == first == again
    assert fresh[0] == 1


def test_a_file_asked_for_has_its_own_entry(root: Path) -> None:
    whole = run(root, "--output-format", "concise")
    one = run(root, "rules/b.capi", "--output-format", "concise")
    assert len(entries(root)) == 2
    assert run(root, "rules/b.capi", "--output-format", "concise") == one
    assert one[0] == 0 and whole[0] == 1


def test_what_a_result_depends_on_changes_the_key(root: Path) -> None:
    base = run(root, "--output-format", "concise")
    # A rule file.
    (root / "rules" / "a.capi").write_text(GOOD_RULE)
    assert run(root, "--output-format", "concise") == run(
        root, "--output-format", "concise", cache=False
    )
    assert run(root, "--output-format", "concise")[0] == 0
    (root / "rules" / "a.capi").write_text(BAD_RULE)
    assert run(root, "--output-format", "concise") == base
    # The configuration.
    (root / "capic.toml").write_text('[project]\nname = "p"\n[lint]\nignore = ["L001"]\n')
    _, out = run(root, "--output-format", "concise")
    assert "L001" not in out
    (root / "capic.toml").write_text('[project]\nname = "p"\n')
    # A pyproject.toml that starts to apply (no capic.toml [lint] table).
    (root / "pyproject.toml").write_text('[tool.capic]\nignore = ["H001"]\n')
    assert "H001" not in run(root, "--output-format", "concise")[1]
    (root / "pyproject.toml").unlink()
    # The options.
    assert "H001" not in run(root, "--output-format", "concise", "--ignore", "H")[1]
    assert run(root, "--output-format", "concise", "--fail-level", "warning")[0] == 1
    assert "Q002" in run(root, "--output-format", "concise", "--show-info")[1]
    # A new file.
    (root / "rules" / "c.capi").write_text("element broken = \n")
    assert "rules/c.capi:2:1: S023" in run(root, "--output-format", "concise")[1]


def test_the_api_and_stdin_do_not_use_it(root: Path) -> None:
    result = api.check([root])
    assert result.results and result.results[0].project is not None  # the rule model is there
    assert entries(root) == set()
    run(root, "-", "--stdin-filename", "rules/a.capi")
    assert entries(root) == set()


def test_the_cache_keeps_a_bounded_number_of_entries(root: Path) -> None:
    from capic.lint.result_cache import KEEP

    for n in range(KEEP + 3):
        (root / "rules" / "b.capi").write_text(GOOD_RULE.replace('"r"', f'"r{n + 10}"'))
        run(root, "--output-format", "concise")
    assert len(entries(root)) == KEEP


def test_a_long_lived_process_keeps_parsed_trees_in_memory(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The language server and watch mode check the same project again and again: trees of
    unchanged files come from memory, not from the parse cache on disk."""
    from capic.syntax import parser, serialize

    first = api.load_project(root)
    calls: list[str] = []
    real_load, real_parse = serialize.load, parser.parse_text
    monkeypatch.setattr(serialize, "load", lambda data: calls.append("load") or real_load(data))
    monkeypatch.setattr(
        parser, "parse_text", lambda text, path: calls.append(path) or real_parse(text, path)
    )
    second = api.load_project(root)
    assert calls == []
    assert second.project is not None and first.project is not None
    assert second.project.to_json() == first.project.to_json()
    (root / "rules" / "a.capi").write_text(GOOD_RULE)
    api.load_project(root)
    assert calls == ["rules/a.capi"]  # only the changed file


def test_a_change_to_capics_code_is_a_new_parse(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parse cache keys on capic's code, not only its grammar: the parser's code and the
    front end's limits decide a parse too (a development checkout changes without a version
    bump)."""
    from capic.lint import result_cache
    from capic.model import parsing

    def parses() -> set[str]:
        return {p.name for p in (root / ".capic_cache" / "parse").rglob("*") if p.is_file()}

    def check_with(code: str) -> set[str]:
        monkeypatch.setattr(parsing, "code_fingerprint", lambda: code)
        monkeypatch.setattr(result_cache, "code_fingerprint", lambda: code)
        parsing._TREES.clear()  # as a new process
        run(root, "--output-format", "concise")
        return parses()

    before = check_with("before")
    after = check_with("after")
    assert before and after > before and len(after) == 2 * len(before)
