"""`capic check` in CI: info notes hidden by default, which files are checked (.gitignore,
exclude), broken configuration files, quiet and silent runs, SARIF paths in a repository,
shell completion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from capic.cli import cli
from tests.test_check_cli import BAD_RULE, GOOD_RULE, PIXEL, project


def run(*args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    if cwd is not None:
        previous = Path.cwd()
        os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli, ["check", "--no-cache", *args])
    finally:
        if cwd is not None:
            os.chdir(previous)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


# ----------------------------------------------------------------------------- info notes


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project exactly as `capic init` makes it (18 rules, each with a Q002 estimate)."""
    base = tmp_path_factory.mktemp("init")
    result = CliRunner().invoke(
        cli, ["init", str(base / "shop"), "--domain", "shop.example.com", "--pixel-id", "123456"]
    )
    assert result.exit_code == 0, result.output
    return base / "shop"


def test_a_fresh_init_project_prints_nothing_and_exits_0(fresh: Path) -> None:
    scaffold = "\n".join(p.read_text() for p in fresh.rglob("*.capi"))
    assert "noqa" not in scaffold and "capic:" not in scaffold
    assert "[lint]" not in (fresh / "capic.toml").read_text()
    for output_format in ("full", "concise", "github", "gitlab", "rdjson", "json", "sarif"):
        code, out, err = run(str(fresh), "--output-format", output_format)
        assert code == 0, (output_format, out, err)
        if output_format in ("full", "concise", "github"):
            assert out == "", output_format
        elif output_format == "sarif":
            assert json.loads(out)["runs"][0]["results"] == []
        elif output_format == "rdjson":
            assert json.loads(out)["diagnostics"] == []
        else:
            assert json.loads(out) == []


def test_info_notes_come_back_with_show_info_config_or_fail_level(fresh: Path) -> None:
    code, out, _ = run(str(fresh), "--show-info", "--output-format", "concise")
    assert code == 0 and out.count("Q002 info:") == 18
    assert out.splitlines()[-1] == "Found 18 diagnostics: 18 info."
    code, out, _ = run(str(fresh), "--fail-level", "info", "--output-format", "concise")
    assert code == 1 and out.count("Q002 info:") == 18  # what fails the run is shown
    # --statistics counts what is hidden.
    code, out, _ = run(str(fresh), "--statistics")
    assert code == 0 and out == "18\tQ002\testimated-match-quality (info)\n"
    _, out, _ = run(str(fresh), "--statistics", "--output-format", "json")
    assert json.loads(out)[0]["count"] == 18


def test_show_info_in_the_configuration(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {"a.capi": PIXEL + GOOD_RULE}, "[lint]\nshow-info = true\n")
    _, out, _ = run(str(root), "--output-format", "github")
    assert "::notice " in out and "Q002" in out
    root = project(tmp_path / "q", {"a.capi": PIXEL + GOOD_RULE})
    (tmp_path / "q" / "pyproject.toml").write_text("[tool.capic]\nshow-info = true\n")
    (tmp_path / "q" / "capic.toml").write_text('[project]\nname = "q"\n')
    assert "Q002" in run(str(root), "--output-format", "concise")[1]


# ----------------------------------------------------------------------------- which files


def repository(tmp_path: Path) -> Path:
    """A git repository (a .git directory is all discovery looks for) with a project in
    `shop/`, a generated folder that does not parse, and a .gitignore for it."""
    (tmp_path / ".git").mkdir()
    root = project(
        tmp_path / "shop",
        {
            "a.capi": PIXEL + GOOD_RULE,
            "generated/out.capi": "this is { not capic\n",
            "legacy/old.capi": 'element spare = "x"\n',
            "notes/keep.capi": "element _kept = event.x\n",
            "notes/skip.capi": "element also broken = \n",
        },
    )
    (tmp_path / ".gitignore").write_text("# build output\nshop/generated/\n")
    (root / "notes" / ".gitignore").write_text("*.capi\n!keep.capi\n")
    return root


def shown_files(root: Path, *args: str) -> list[str]:
    code, out, _ = run("--show-files", *args, cwd=root)
    assert code == 0
    return out.splitlines()


def test_gitignore_and_exclude_decide_the_files(tmp_path: Path) -> None:
    root = repository(tmp_path)
    assert shown_files(root) == ["a.capi", "legacy/old.capi", "notes/keep.capi"]
    assert run(str(root))[0] == 0
    (root / "capic.toml").write_text(
        '[project]\nname = "p"\n[lint]\nextend-exclude = ["legacy/"]\n'
    )
    assert shown_files(root) == ["a.capi", "notes/keep.capi"]
    (root / "capic.toml").write_text('[project]\nname = "p"\n[lint]\nrespect-gitignore = false\n')
    assert shown_files(root) == [
        "a.capi",
        "generated/out.capi",
        "legacy/old.capi",
        "notes/keep.capi",
        "notes/skip.capi",
    ]
    assert run(str(root))[0] == 1  # the generated file's syntax error is back


def test_exclude_replaces_the_default_list(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {"a.capi": PIXEL + GOOD_RULE, "build/b.capi": "element b = 1\n"})
    (root / ".hidden").mkdir()
    (root / ".hidden" / "c.capi").write_text("element c = 1\n")
    assert shown_files(root) == ["a.capi"]
    (root / "capic.toml").write_text('[project]\nname = "p"\n[lint]\nexclude = [".hidden/"]\n')
    assert shown_files(root) == ["a.capi", "build/b.capi"]


def test_a_file_named_on_the_command_line_is_checked_even_when_ignored(tmp_path: Path) -> None:
    root = repository(tmp_path)
    code, out, _ = run("generated/out.capi", "--output-format", "concise", cwd=root)
    assert code == 1 and out.startswith("generated/out.capi:1:")


# ----------------------------------------------------------------------------- broken config


@pytest.mark.parametrize("name", ["pyproject.toml", "capic.toml"])
def test_a_broken_configuration_file_is_c001_and_exit_2(tmp_path: Path, name: str) -> None:
    root = project(tmp_path / "p", {"a.capi": PIXEL + GOOD_RULE})
    broken = '[project]\nname = "p"\n[tool.capic\nselect = ["D"]\n'
    (root / name).write_text(broken)
    code, out, _ = run(str(root), "--output-format", "concise", "--exit-zero")
    assert code == 2
    assert f"{root / name}:3:" in out or f"{name}:3:" in out
    assert "C001 error:" in out and "not valid TOML" in out
    _, out, _ = run(str(root), "--output-format", "json")
    (item,) = [d for d in json.loads(out) if d["code"] == "C001"]
    assert item["filename"].endswith(name) and item["location"]["row"] == 3
    _, out, _ = run(str(root), "--output-format", "sarif")
    sarif = json.loads(out)["runs"][0]
    (result,) = sarif["results"]
    assert result["ruleId"] == "C001"
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(name)
    assert sarif["invocations"][0]["executionSuccessful"] is False


@pytest.mark.parametrize("name", ["pyproject.toml", "capic.toml"])
def test_a_configuration_nested_too_deeply_is_c001_not_an_internal_error(
    tmp_path: Path, name: str
) -> None:
    root = project(tmp_path / "p", {"a.capi": PIXEL + GOOD_RULE})
    (root / name).write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    code, out, err = run(str(root), "--output-format", "concise")
    assert code == 2 and "internal error" not in out + err
    assert "C001 error:" in out and "nested too deeply" in out


def test_a_broken_pyproject_above_the_project_is_reported_too(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text("[tool.capic\n")
    root = project(tmp_path / "shop", {"a.capi": PIXEL + GOOD_RULE})
    code, out, _ = run("--output-format", "concise", cwd=root)
    # Outside the working directory: shown with its absolute path, like ruff.
    assert code == 2 and out.startswith(f"{tmp_path / 'pyproject.toml'}:1:12: C001 error: ")


def test_a_file_name_that_is_not_utf8_is_c003_not_an_internal_error(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {"a.capi": PIXEL + GOOD_RULE})
    try:
        (Path(os.fsdecode(os.fsencode(root) + b"/x\xff.capi"))).write_text("element b = 1\n")
    except (OSError, UnicodeError):
        pytest.skip("this file system takes UTF-8 file names only")
    for cached in ([], ["--no-cache"], []):  # the second run without it reads the result cache
        result = CliRunner().invoke(cli, ["check", *cached, str(root), "--output-format", "json"])
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert result.exit_code == 1, result.output
        (item,) = json.loads(result.stdout)
        assert item["code"] == "C003" and "file name is not valid UTF-8" in item["message"]
        assert item["filename"].endswith("x\ufffd.capi")


def test_standard_input_that_is_not_utf8_is_c003_not_an_internal_error(tmp_path: Path) -> None:
    # A subprocess: Python's standard input hands the bytes over as lone surrogates.
    command = [sys.executable, "-m", "capic", "check", "-", "--output-format", "concise"]
    done = subprocess.run(command, input=b"\xff\xfe\x00element a = 1\n", capture_output=True)
    assert done.returncode == 1, done.stderr
    assert done.stdout.decode().startswith("-:1:1: C003 error: -: not valid UTF-8 (byte 0)")
    assert b"internal error" not in done.stderr


def test_a_missing_path_stays_c002_exit_2(tmp_path: Path) -> None:
    code, out, _ = run(str(tmp_path / "nope.capi"), "--output-format", "json")
    assert code == 2 and [d["code"] for d in json.loads(out)] == ["C002"]


# ----------------------------------------------------------------------------- quiet, silent


def test_quiet_and_silent(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {"a.capi": PIXEL + BAD_RULE})
    code, out, _ = run(str(root), "--output-format", "concise")
    assert code == 1 and out.splitlines()[1:] == [
        "Found 1 diagnostic: 1 error.",
        "[*] 1 fixable with `capic check --fix`.",
    ]
    code, out, _ = run(str(root), "--output-format", "concise", "--quiet")
    assert code == 1 and len(out.splitlines()) == 1 and "L001" in out
    code, out, err = run(str(root), "-s")
    assert code == 1 and out == "" and err == ""
    code, out, err = run(str(root), "--silent", "--fix")
    assert code == 1 and out == err == ""


# ----------------------------------------------------------------------------- SARIF paths


def test_sarif_uris_are_relative_to_the_repository_root(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    root = project(tmp_path / "services" / "shop", {"rules/a.capi": PIXEL + BAD_RULE})
    _, out, _ = run("--output-format", "sarif", cwd=root)
    (result,) = [r for r in json.loads(out)["runs"][0]["results"] if r["ruleId"] == "L001"]
    location = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "services/shop/rules/a.capi", "uriBaseId": "SRCROOT"}
    assert str(tmp_path) not in out
    _, out, _ = run("--output-format", "gitlab", cwd=root)
    (issue,) = [i for i in json.loads(out) if i["check_name"] == "L001"]
    assert issue["location"]["path"] == "services/shop/rules/a.capi"
    _, out, _ = run("--output-format", "rdjson", cwd=root)
    (diag,) = [d for d in json.loads(out)["diagnostics"] if d["code"]["value"] == "L001"]
    assert diag["location"]["path"] == "rules/a.capi"  # as reviewdog runs: from here


def test_rdjson_columns_count_utf8_bytes(tmp_path: Path) -> None:
    rule = BAD_RULE.replace("event.uid", 'event["ünïcode"]')
    root = project(tmp_path / "p", {"a.capi": PIXEL + rule.replace('"web"', '"wëb"')})
    _, out, _ = run(str(root), "--output-format", "rdjson")
    (diag,) = [d for d in json.loads(out)["diagnostics"] if d["code"]["value"] == "L001"]
    start, end = diag["location"]["range"]["start"], diag["location"]["range"]["end"]
    assert (start["column"], end["column"]) == (21, 27)  # "wëb": 5 characters, 6 bytes


def test_the_ci_docs_pin_upload_sarif_v4(repo: Path) -> None:
    text = (repo / "docs" / "ci.md").read_text()
    assert "github/codeql-action/upload-sarif@v4" in text and "@v3" not in text
    assert "--output-format gitlab" in text and "--output-format rdjson" in text


# ----------------------------------------------------------------------------- completion


def test_shell_completion_is_click_s(repo: Path) -> None:
    env = {**os.environ, "_CAPIC_COMPLETE": "bash_source"}
    command = [sys.executable, "-m", "capic"]
    script = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    assert "_capic_completion" in script and "complete " in script
    env = {
        **os.environ,
        "_CAPIC_COMPLETE": "bash_complete",
        "COMP_WORDS": "capic ch",
        "COMP_CWORD": "1",
    }
    words = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    assert "plain,check" in words.splitlines()
    env.update(COMP_WORDS="capic check --output-format g", COMP_CWORD="3")
    words = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    assert {"plain,github", "plain,gitlab"} <= set(words.splitlines())
    assert "_CAPIC_COMPLETE=bash_source capic" in (repo / "docs" / "ci.md").read_text()
