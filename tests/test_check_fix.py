"""`capic check --fix / --diff / --unsafe-fixes` and standard input (`capic check -`): which
findings carry fixes, how they are applied (rounds, no unparsable result, line endings kept),
and what each output format says about them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from capic.cli import cli
from capic.diagnostics import Applicability, Edit, Fix, Span
from capic.lint.fixes import apply_edits, choose, fix_text
from tests.test_check_cli import PIXEL, project

RULE = """rule "r" {
  send purchase to shop {
    event_id      = event.id
    event_time    = parse_time(event.time)
    action_source = "Email"   # noqa: H001, L011
    user { em = event.email  external_id = event.uid }
    custom {
      currency = "USD"
      value    = 1
    }
  }
  send AddToChart to shop {
    event_id      = event.id
    event_time    = parse_time(event.time)
    action_source = "emial"
    user { em = event.email  external_id = event.uid }
  }
}
"""
FIXED = """rule "r" {
  send Purchase to shop {
    event_id      = event.id
    event_time    = parse_time(event.time)
    action_source = "email"
    user { em = event.email  external_id = event.uid }
    custom {
      currency = "USD"
      value    = 1
    }
  }
  send AddToChart to shop {
    event_id      = event.id
    event_time    = parse_time(event.time)
    action_source = "email"
    user { em = event.email  external_id = event.uid }
  }
}
"""


def run(*args: str, stdin: str | None = None, cwd: Path | None = None) -> tuple[int, str, str]:
    previous = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli, ["check", "--no-cache", *args], input=stdin)
    finally:
        os.chdir(previous)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return project(tmp_path / "p", {"pixels.capi": PIXEL, "rules.capi": RULE})


def test_fixable_findings_are_marked_and_counted(root: Path) -> None:
    code, out, _ = run(str(root), "--output-format", "concise", cwd=root)
    assert code == 1
    lines = out.splitlines()
    assert (
        "rules.capi:2:8: L006 [*] error: `purchase` is not a standard event; did you mean `Purchase`?"
        in lines
    )
    assert any(line.startswith("rules.capi:5:21: L001 [*] error:") for line in lines)
    assert any(line.startswith("rules.capi:5:31: N002 [*] warning:") for line in lines)
    assert any(line.startswith("rules.capi:12:8: L006 error:") for line in lines)  # unsafe
    assert lines[-2:] == [
        "[*] 4 fixable with `capic check --fix`.",
        "1 more fixable with --unsafe-fixes.",
    ]
    _, out, _ = run(str(root), "--statistics", "--output-format", "json")
    rows = {r["code"]: r for r in json.loads(out)}
    assert rows["L001"]["fixable_count"] == 2 and rows["L006"]["fixable_count"] == 1
    _, out, _ = run(str(root), "--statistics")
    assert "\tL001\t[*] invalid-action-source (error)" in out


def test_fix_in_json_and_sarif(root: Path) -> None:
    _, out, _ = run(str(root), "--output-format", "json", cwd=root)
    items = {(d["code"], d["location"]["row"]): d for d in json.loads(out)}
    assert items[("L006", 2)]["fix"] == {
        "applicability": "safe",
        "message": "Write the standard event `Purchase`",
        "edits": [
            {
                "content": "Purchase",
                "location": {"row": 2, "column": 8},
                "end_location": {"row": 2, "column": 16},
            }
        ],
    }
    assert items[("L006", 12)]["fix"]["applicability"] == "unsafe"
    _, out, _ = run(str(root), "--output-format", "sarif", cwd=root)
    results = json.loads(out)["runs"][0]["results"]
    (l006,) = [r for r in results if r["ruleId"] == "L006" and "purchase" in r["message"]["text"]]
    (change,) = l006["fixes"][0]["artifactChanges"]
    assert change["artifactLocation"]["uri"] == "rules.capi"
    assert change["replacements"] == [
        {
            "deletedRegion": {"startLine": 2, "startColumn": 8, "endLine": 2, "endColumn": 16},
            "insertedContent": {"text": "Purchase"},
        }
    ]


def test_diff_prints_and_writes_nothing(root: Path) -> None:
    code, out, err = run(str(root), "--diff", cwd=root)
    assert code == 1
    assert out.startswith("--- a/rules.capi\n+++ b/rules.capi\n")
    assert '-    action_source = "Email"   # noqa: H001, L011\n' in out
    assert '+    action_source = "email"\n' in out
    assert "AddToCart" not in out  # unsafe
    assert err == "Would fix 4 diagnostics (1 file).\n"
    assert (root / "rules.capi").read_text() == RULE
    code, out, _ = run(str(root), "--diff", "--unsafe-fixes", cwd=root)
    assert "+  send AddToCart to shop {\n" in out


def test_fix_writes_and_reports_what_remains(root: Path) -> None:
    code, out, err = run(str(root), "--fix", "--output-format", "concise", cwd=root)
    assert (root / "rules.capi").read_text() == FIXED
    assert err == "Fixed 4 diagnostics (1 file).\n"
    assert code == 1 and "L006 error: `AddToChart`" in out and "L001" not in out
    code, out, _ = run(str(root), "--fix", "--unsafe-fixes", cwd=root)
    assert code == 0 and out == ""
    assert "send AddToCart to shop" in (root / "rules.capi").read_text()


def test_fixes_keep_line_endings_and_byte_order_mark(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {"pixels.capi": PIXEL})
    raw = ("\ufeff" + RULE).replace("\n", "\r\n").encode("utf-8")
    (root / "rules.capi").write_bytes(raw)
    run(str(root), "--fix")
    fixed = (root / "rules.capi").read_bytes()
    assert fixed == ("\ufeff" + FIXED).replace("\n", "\r\n").encode("utf-8")


# ----------------------------------------------------------------------------- the machinery


def span(line: int, column: int, end_line: int, end_column: int) -> Span:
    return Span("x.capi", line, column, end_line, end_column)


def test_apply_edits_and_choose() -> None:
    text = "ab\ncd\n"
    assert (
        apply_edits(text, [Edit(span(1, 1, 1, 2), "A"), Edit(span(2, 2, 2, 3), "D")]) == "Ab\ncD\n"
    )
    assert apply_edits(text, [Edit(span(1, 3, 2, 1), " ")]) == "ab cd\n"
    first = Fix("one", (Edit(span(1, 1, 1, 3), "x"),))
    overlapping = Fix("two", (Edit(span(1, 2, 2, 1), "y"),))
    apart = Fix("three", (Edit(span(2, 1, 2, 2), "z"),))
    assert choose(text, [apart, overlapping, first]) == [first, apart]


def test_a_fix_that_breaks_the_syntax_is_never_applied() -> None:
    text = 'element a = "x"\nelement b = "y"\n'
    good = Fix("good", (Edit(span(1, 13, 1, 16), '"z"'),))
    breaking = Fix("bad", (Edit(span(2, 13, 2, 16), '"y'),), Applicability.SAFE)
    fixed, applied = fix_text(text, [good, breaking])
    assert fixed == 'element a = "z"\nelement b = "y"\n' and applied == [good]
    assert fix_text(text, [breaking]) == (text, [])


# ----------------------------------------------------------------------------- stdin


def test_stdin_takes_its_place_in_the_project(root: Path) -> None:
    text = RULE.replace('"r"', '"s"')
    code, out, _ = run(
        "-",
        "--stdin-filename",
        "rules/new.capi",
        "--output-format",
        "concise",
        stdin=text,
        cwd=root,
    )
    # `shop` resolves against pixels.capi on disk; only the buffer's findings are reported.
    assert code == 1
    assert {line.split(":")[0] for line in out.splitlines() if ".capi:" in line} == {
        "rules/new.capi"
    }
    assert "R001" not in out
    # Without a file name it is a file of its own: `shop` is unknown there.
    code, out, _ = run("-", "--output-format", "concise", stdin=text, cwd=root)
    assert out.startswith("-:2:")
    assert "R001 error: unknown pixel `shop`" in out


def test_stdin_uses_the_configuration_of_its_place(root: Path) -> None:
    (root / "capic.toml").write_text('[project]\nname = "p"\n[lint]\nignore = ["L"]\n')
    _, out, _ = run(
        "-", "--stdin-filename", "x.capi", "--output-format", "json", stdin=RULE, cwd=root
    )
    assert not any(d["code"].startswith("L") for d in json.loads(out))


def test_stdin_fix_prints_the_fixed_text(root: Path) -> None:
    code, out, err = run(
        "-",
        "--stdin-filename",
        "rules.capi",
        "--fix",
        "--output-format",
        "concise",
        stdin=RULE,
        cwd=root,
    )
    assert out == FIXED
    assert "L006 error: `AddToChart`" in err and code == 1
    assert (root / "rules.capi").read_text() == RULE  # nothing written
    code, out, _ = run("-", "--stdin-filename", "rules.capi", "--diff", stdin=RULE, cwd=root)
    assert code == 1 and out.startswith("--- a/rules.capi\n")


def test_stdin_must_be_the_only_path(root: Path) -> None:
    code, _, err = run("-", "rules.capi", stdin=RULE, cwd=root)
    assert code == 2 and "only path" in err
