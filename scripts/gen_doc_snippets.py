#!/usr/bin/env python3
"""The command output shown in README.md and docs/tutorial.md, produced by running capic.

    python scripts/gen_doc_snippets.py            # rewrite the snippets in place
    python scripts/gen_doc_snippets.py --check    # exit 1 if a page shows stale output

A snippet is a ```text block right after a marker line ``<!-- capic-output: NAME -->``; NAME is
a recipe below: it creates the tutorial's project with ``capic init`` in a temporary directory,
makes the edits the page describes, runs the command the page shows (in the project, as the
reader would) and keeps the part of the output the page quotes. The test suite runs the
recipes and compares (``tests/test_doc_snippets.py``), so a page never shows a position or a
count that capic does not print.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", REPO / "docs" / "tutorial.md"]
MARKER = re.compile(r"^<!-- capic-output: ([\w-]+) -->\n```text\n(.*?)^```$", re.M | re.S)

DOMAIN = "shop.example.com"
PIXEL_ID = "1234567890123456"


def _capic(*args: str) -> str:
    """Run the CLI in this process, in the current directory; stdout and stderr together."""
    from click.testing import CliRunner

    from capic.cli import cli

    result = CliRunner().invoke(cli, list(args), env={"NO_COLOR": "1", "SOURCE_DATE_EPOCH": None})
    return result.stdout + (result.stderr if result.stderr_bytes is not None else "")


@contextmanager
def _project(name: str = "shop") -> Iterator[Path]:
    """A fresh `capic init` project; the working directory is the project while it is used."""
    here = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="capic-docs-") as tmp:
        os.chdir(tmp)
        try:
            _capic("init", name, "--domain", DOMAIN, "--pixel-id", PIXEL_ID)
            os.chdir(Path(tmp) / name)
            yield Path(tmp) / name
        finally:
            os.chdir(here)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    if old not in text:
        raise SystemExit(f"gen_doc_snippets: {path.name} no longer contains {old!r}")
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _block(output: str, head: str) -> str:
    """The diagnostic block of the full format that starts with ``head``."""
    for block in output.split("\n\n"):
        if block.startswith(head):
            return block.rstrip("\n")
    raise SystemExit(f"gen_doc_snippets: no {head!r} in:\n{output}")


def _summary(output: str) -> str:
    return output.rstrip("\n").splitlines()[-1]


# ----------------------------------------------------------------------------- recipes


def tutorial_init() -> str:
    here = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="capic-docs-") as tmp:
        os.chdir(tmp)
        try:
            out = _capic("init", "shop", "--domain", DOMAIN, "--pixel-id", PIXEL_ID)
        finally:
            os.chdir(here)
    return out.splitlines()[0]


def _without_currency(project: Path) -> str:
    _edit(project / "rules" / "purchase.capi", "      currency     = currency\n", "")
    return _capic("check", ".")


def readme_check() -> str:
    """README, Tutorial 2-3: forward orders above 10, then delete the currency line."""
    with _project("my-shop") as project:
        purchase = project / "rules" / "purchase.capi"
        _edit(
            purchase,
            'when event_name == "Purchase"\n',
            'when event_name == "Purchase" and value > 10\n',
        )
        return _block(_without_currency(project), "error[M005]")


def tutorial_check() -> str:
    with _project() as project:
        output = _without_currency(project)
        return f"{_block(output, 'error[M005]')}\n\n{_summary(output)}"


def tutorial_test() -> str:
    with _project():
        lines = _capic("test", ".").rstrip("\n").splitlines()
        passes = [line for line in lines if line.startswith("PASS")]
        return "\n".join([*passes[:2], "...", passes[-1], "", lines[-1]])


FREE_SAMPLE = """
test "a free sample is not a purchase" {
  event = {"eventName": "Purchase", "conversionData": {"eventId": "ord-1", "currency": "USD", "value": 0}}

  expect "MetaConversion_Purchase" sends nothing
}
"""


def _step_5(project: Path, bound: str) -> None:
    purchase = project / "rules" / "purchase.capi"
    _edit(
        purchase,
        'when event_name == "Purchase"\n',
        f'when event_name == "Purchase" and value > {bound}\n',
    )
    purchase.write_text(purchase.read_text(encoding="utf-8") + FREE_SAMPLE, encoding="utf-8")


def tutorial_test_passes() -> str:
    with _project() as project:
        _step_5(project, "0")
        return _summary(_capic("test", "."))


def tutorial_test_fail() -> str:
    with _project() as project:
        _step_5(project, "200")
        lines = _capic("test", ".").rstrip("\n").splitlines()
        first = next(i for i, line in enumerate(lines) if line.startswith("FAIL"))
        return "\n".join([*lines[first : first + 3], "...", lines[-1]])


def tutorial_field_diff() -> str:
    """A wrong expected value in the Purchase test: the field, expected and actual."""
    with _project() as project:
        _edit(
            project / "rules" / "purchase.capi", "value     = 114.95\n", "value     = 114.9\n"
        )
        lines = _capic("test", ".").splitlines()
        at = next(i for i, line in enumerate(lines) if line.strip() == "custom_data.value")
        return "\n".join(lines[at : at + 3])


RECIPES: dict[str, Callable[[], str]] = {
    "readme-check": readme_check,
    "tutorial-init": tutorial_init,
    "tutorial-check": tutorial_check,
    "tutorial-test": tutorial_test,
    "tutorial-test-passes": tutorial_test_passes,
    "tutorial-test-fail": tutorial_test_fail,
    "tutorial-field-diff": tutorial_field_diff,
}


def snippets(page: Path) -> list[tuple[str, str]]:
    """(recipe name, the text the page shows) of every marked block."""
    return [(m.group(1), m.group(2)) for m in MARKER.finditer(page.read_text(encoding="utf-8"))]


def render(page: Path, cache: dict[str, str]) -> str:
    def replace(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in RECIPES:
            raise SystemExit(f"gen_doc_snippets: {page.name}: unknown recipe {name!r}")
        if name not in cache:
            cache[name] = RECIPES[name]()
        return f"<!-- capic-output: {name} -->\n```text\n{cache[name]}\n```"

    return MARKER.sub(replace, page.read_text(encoding="utf-8"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a page is out of date")
    args = parser.parse_args()
    cache: dict[str, str] = {}
    stale = []
    for page in PAGES:
        text = render(page, cache)
        if text != page.read_text(encoding="utf-8"):
            stale.append(page.relative_to(REPO).as_posix())
            if not args.check:
                page.write_text(text, encoding="utf-8")
    if args.check and stale:
        print(f"out of date: {', '.join(stale)} (run python scripts/gen_doc_snippets.py)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
