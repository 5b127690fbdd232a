"""docs/meta-2026.md is real: its rule example checks clean and its tests pass, every check code
it links exists with that anchor in docs/rules.md, its own anchors resolve, the [meta] table it
shows is valid, and docs/index.md links to it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from capic.cli import cli
from capic.lint.registry import all_infos, doc_anchor
from capic.resources import load_schema
from tests.conftest import REPO
from tests.test_docs import blocks

PAGE = REPO / "docs" / "meta-2026.md"


def _anchor(heading: str) -> str:
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


@pytest.mark.parametrize(("line", "body"), blocks("meta-2026.md"))
def test_capi_examples_check_and_their_tests_pass(
    line: int, body: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "example.capi").write_text(body, encoding="utf-8")
    runner = CliRunner()
    checked = runner.invoke(cli, ["check", "example.capi"])
    assert checked.exit_code == 0, f"meta-2026.md:{line}\n{checked.stdout}"
    tested = runner.invoke(cli, ["test", "."])
    assert tested.exit_code == 0, f"meta-2026.md:{line}\n{tested.stdout}"
    assert tested.stdout.rstrip().endswith(" 0 failed")


def test_the_page_has_an_example_rule_for_append_attribution() -> None:
    examples = blocks("meta-2026.md")
    assert any("send AppendAttribution" in body for _, body in examples)


def test_links_to_checks_and_headings_resolve() -> None:
    text = PAGE.read_text(encoding="utf-8")
    rules = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    infos = all_infos()
    linked = re.findall(r"\]\(rules\.md#(([a-z]\d{3})-[a-z0-9-]+)\)", text)
    assert len(linked) >= 8
    for anchor, code in linked:
        info = infos[code.upper()]
        assert doc_anchor(info) == anchor, anchor
        assert f"### {info.code} {info.name}" in rules
    headings = {_anchor(h) for h in re.findall(r"^#+ (.+)$", text, re.MULTILINE)}
    for target in re.findall(r"\]\(#([a-z0-9-]+)\)", text):
        assert target in headings, target


def test_the_meta_table_shown_is_valid() -> None:
    (toml,) = blocks("meta-2026.md", "toml")
    data = tomllib.loads(toml[1])
    schema = load_schema("config")
    Draft202012Validator(schema).validate({"meta": data["meta"]})


def test_the_index_links_the_page_and_lists_capic_quality() -> None:
    index = (REPO / "docs" / "index.md").read_text(encoding="utf-8")
    assert "(meta-2026.md)" in index
    assert "`capic quality" in index
