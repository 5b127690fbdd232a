"""The documentation's examples are real: every ```capi block of docs/*.md is a complete file
that `capic check` accepts without errors (and whose tests `capic test` passes), the language
reference covers every function, operator and section, and the links between pages resolve.

Blocks marked ```capi-fragment are excerpts and are not checked.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from capic.cli import cli
from capic.model.resolve import EXTINFO_FIELDS, SEND_SECTIONS
from capic.model.stdlib import FUNCTIONS
from tests.conftest import REPO

DOCS = REPO / "docs"
#: Every page of docs/: each link in it must resolve, index.md must link it, and each of its
#: ```capi blocks must check clean (and its tests pass).
ALL_PAGES = tuple(sorted(p.name for p in DOCS.glob("*.md")))
_FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)


def blocks(page: str, language: str = "capi") -> list[tuple[int, str]]:
    text = (DOCS / page).read_text(encoding="utf-8")
    out = []
    for m in _FENCE.finditer(text):
        if m.group(1) == language:
            out.append((text.count("\n", 0, m.start()) + 1, m.group(2)))
    return out


def _cases() -> list[tuple[str, int, str]]:
    return [(page, line, body) for page in ALL_PAGES for line, body in blocks(page)]


CASES = _cases()


@pytest.mark.parametrize(("page", "line", "body"), CASES, ids=[f"{p}:{n}" for p, n, _ in CASES])
def test_capi_block_checks_and_its_tests_pass(
    page: str, line: int, body: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "example.capi").write_text(body, encoding="utf-8")
    runner = CliRunner()
    checked = runner.invoke(cli, ["check", "example.capi"])
    assert checked.exit_code == 0, f"{page}:{line}\n{checked.stdout}{checked.stderr}"
    if re.search(r'^test "', body, re.MULTILINE):
        tested = runner.invoke(cli, ["test", "."])
        assert tested.exit_code == 0, f"{page}:{line}\n{tested.stdout}{tested.stderr}"
        assert tested.stdout.rstrip().endswith(" 0 failed")


def test_language_reference_has_examples() -> None:
    assert len(blocks("language.md")) >= 15


def _all_capi(page: str) -> str:
    return "\n".join(body for _, body in blocks(page))


def test_every_function_is_documented_with_an_example() -> None:
    text = (DOCS / "language.md").read_text(encoding="utf-8")
    examples = _all_capi("language.md")
    for name in FUNCTIONS:
        assert f"`{name}(" in text, f"{name} is not in the function table"
        assert re.search(rf"\b{name}\(", examples), f"no example calls {name}()"


def test_every_operator_has_an_example() -> None:
    grammar = (REPO / "grammar" / "capic.lark").read_text(encoding="utf-8")
    operators = set(re.findall(r'coalesce "([a-z_]+|[=!<>]=?)"', grammar))
    operators |= {"??", "+", "-", "*", "/", "and", "or", "not", "not in", "matches"}
    examples = _all_capi("language.md")
    assert len(operators) >= 20
    for op in operators:
        pattern = (
            rf"\s{re.escape(op)}\s" if op.isalpha() or " " in op else rf"\s{re.escape(op)}[\s(/-]"
        )
        assert re.search(pattern, examples), f"no example uses {op!r}"


def test_every_section_and_extinfo_field_is_documented() -> None:
    examples = _all_capi("language.md")
    text = (DOCS / "language.md").read_text(encoding="utf-8")
    for section in SEND_SECTIONS:
        assert re.search(rf"^\s+{section} {{", examples, re.MULTILINE), section
    for name in EXTINFO_FIELDS:
        assert f"`{name}`" in text, name
    for construct in ("pixel ", "element ", "rule ", "environment ", "test ", "expect nothing"):
        assert construct in examples, construct
    for marker in ("# noqa: ", "# capic: disable[", "# capic: enable[", "# capic: file-ignore["):
        assert marker in text, marker


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    return {_slug(h) for h in re.findall(r"^#{1,6} (.+)$", text, re.MULTILINE)}


def _links(page: Path) -> list[str]:
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    return [m for m in re.findall(r"\]\(([^)\s]+)\)", text) if "://" not in m]


@pytest.mark.parametrize("page", ALL_PAGES)
def test_links_resolve(page: str) -> None:
    path = DOCS / page
    for link in _links(path):
        target, _, anchor = link.partition("#")
        target_path = (path.parent / target) if target else path
        assert target_path.exists(), f"{page}: broken link {link}"
        if anchor and target_path.suffix == ".md":
            assert anchor in _anchors(target_path), f"{page}: no anchor #{anchor} in {target}"


def test_index_links_every_page() -> None:
    links = {link.partition("#")[0] for link in _links(DOCS / "index.md")}
    for page in ALL_PAGES:
        if page != "index.md":
            assert page in links, page
