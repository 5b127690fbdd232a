"""`capic fmt`: the canonical layout (golden), every shipped sample and scaffold already in it,
the command line (--check, --diff, stdin, syntax errors), and a property test: comments
inserted at random token boundaries of real rule files survive, with every token, and a
second pass changes nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capic.cli import cli
from capic.fmt import FormatError, format_text
from capic.fmt.tree import parse
from tests.conftest import REPO, SAMPLES, assert_golden

MESSY = REPO / "tests" / "data" / "fmt" / "messy.capi"
CORPUS = sorted(
    [
        *SAMPLES.rglob("*.capi"),
        MESSY,
        *(REPO / "tests" / "data" / "lint").rglob("*.capi"),
    ]
)


def run(*args: str, stdin: str | None = None, cwd: Path | None = None) -> tuple[int, str, str]:
    previous = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli, ["fmt", *args], input=stdin)
    finally:
        os.chdir(previous)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_the_canonical_layout() -> None:
    out = format_text(MESSY.read_text()).text
    assert_golden(REPO / "tests" / "golden" / "fmt" / "messy.capi", out)
    assert format_text(out).changed is False


def test_every_sample_is_formatted() -> None:
    code, out, _ = run("--check", str(SAMPLES))
    assert code == 0, out
    assert "0 files would be reformatted" in out


def test_a_fresh_scaffold_is_formatted(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["init", str(tmp_path / "shop"), "--domain", "a.example", "--pixel-id", "1234"]
    )
    assert result.exit_code == 0, result.output
    code, out, _ = run("--check", str(tmp_path / "shop"))
    assert code == 0, out


def test_check_diff_and_write(tmp_path: Path) -> None:
    (tmp_path / "capic.toml").write_text('[project]\nname = "p"\n')
    messy = tmp_path / "a.capi"
    messy.write_text(MESSY.read_text())
    (tmp_path / "b.capi").write_text("element b = 1\n")
    code, out, _ = run("--check", cwd=tmp_path)
    assert code == 1 and out.splitlines() == [
        "Would reformat: a.capi",
        "1 file would be reformatted, 1 file already formatted",
    ]
    code, out, _ = run("--diff", cwd=tmp_path)
    assert code == 1 and out.startswith("--- a/a.capi\n+++ b/a.capi\n")
    assert messy.read_text() == MESSY.read_text()
    code, out, _ = run(cwd=tmp_path)
    assert code == 0 and out == "1 file reformatted, 1 file already formatted\n"
    assert messy.read_text() == format_text(MESSY.read_text()).text
    assert run("--check", cwd=tmp_path)[0] == 0


def test_only_the_files_asked_for_are_formatted(tmp_path: Path) -> None:
    """A file or folder inside a project formats that, not the whole project."""
    (tmp_path / "capic.toml").write_text('[project]\nname = "p"\n')
    (tmp_path / "rules").mkdir()
    messy = [tmp_path / "a.capi", tmp_path / "rules" / "b.capi", tmp_path / "rules" / "c.capi"]
    for path in messy:
        path.write_text("element   x=1\n")
    code, out, _ = run(str(messy[1]))
    assert code == 0 and out == "1 file reformatted, 0 files already formatted\n"
    assert [p.read_text() for p in messy] == [
        "element   x=1\n",
        "element x = 1\n",
        "element   x=1\n",
    ]
    code, out, _ = run("--check", "rules", cwd=tmp_path)
    assert code == 1 and out.splitlines()[0] == "Would reformat: rules/c.capi"
    assert run(cwd=tmp_path / "rules")[0] == 0
    assert messy[0].read_text() == "element   x=1\n"


def test_syntax_errors_are_refused_and_nothing_is_written(tmp_path: Path) -> None:
    broken = tmp_path / "broken.capi"
    broken.write_text("element a = [1 2]\n")
    code, _, err = run(str(broken))
    assert code == 2 and "syntax errors" in err and "S019" in err
    assert broken.read_text() == "element a = [1 2]\n"
    with pytest.raises(FormatError):
        format_text("rule {")


def test_stdin(tmp_path: Path) -> None:
    code, out, _ = run("-", stdin="element   a=1\n")
    assert code == 0 and out == "element a = 1\n"
    code, out, _ = run("-", "--check", stdin="element   a=1\n")
    assert code == 1 and out == ""
    code, out, _ = run("-", "--diff", "--stdin-filename", "x.capi", stdin="element   a=1\n")
    assert code == 1 and "+++ b/x.capi" in out
    code, _, err = run("-", stdin="element a = \n")
    assert code == 2 and "S0" in err


def test_line_endings_and_byte_order_mark_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "a.capi"
    path.write_bytes("\ufeffelement   a=1\r\n".encode())
    run(str(path))
    assert path.read_bytes() == "\ufeffelement a = 1\r\n".encode()


# ----------------------------------------------------------------------------- property


@st.composite
def commented(draw: st.DrawFn) -> str:
    """A corpus file with comments inserted after random tokens: at the end of the line or on
    a line of their own."""
    path = draw(st.sampled_from(CORPUS))
    text = path.read_text(encoding="utf-8")
    tokens = parse(text).tokens()
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    chosen = draw(st.lists(st.integers(0, len(tokens) - 1), min_size=1, max_size=6, unique=True))
    edits = []
    for n, k in enumerate(chosen):
        token = tokens[k]
        offset = starts[(token.end_line or 1) - 1] + (token.end_column or 1) - 1
        words = draw(st.sampled_from(["note", "noqa: H001", "ünïcode ✓", "", "# twice"]))
        own_line = draw(st.booleans())
        comment = f"# c{n} {words}".rstrip()
        edits.append((offset, f"\n{comment}\n" if own_line else f"  {comment}\n"))
    for offset, insert in sorted(edits, reverse=True):
        text = text[:offset] + insert + text[offset:]
    return text


@settings(
    max_examples=int(os.environ.get("CAPIC_FMT_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(text=commented())
def test_formatting_keeps_tokens_and_comments_and_is_idempotent(text: str) -> None:
    before = parse(text)
    out = format_text(text).text
    after = parse(out)
    assert [(t.type, t.value) for t in after.tokens()] == [
        (t.type, t.value) for t in before.tokens()
    ]
    assert [c.text for c in after.comments] == [c.text.rstrip() for c in before.comments]
    assert format_text(out).text == out
