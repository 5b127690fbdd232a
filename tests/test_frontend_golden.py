"""Front-end diagnostics of a corpus of broken files, through `capic check`.

Each file in ``tests/data/broken/`` states what it must produce in header comments::

    # expect: S011 at 8:28

The golden files ``tests/golden/frontend/<name>.txt`` hold the front-end diagnostics (codes
S*, R*, C*) of ``capic check`` on the file in the concise and in the full format; lint findings
and the summary line are left out, so that new checks do not churn them.
``CAPIC_UPDATE_GOLDEN=1`` regenerates them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from capic.cli import cli
from capic.codes import FRONTEND_CODES
from tests.conftest import REPO, assert_golden

BROKEN = REPO / "tests" / "data" / "broken"
GOLDEN = REPO / "tests" / "golden" / "frontend"
CORPUS = sorted(BROKEN.glob("*.capi"))

_EXPECT = re.compile(r"^# expect: ([SRC]\d{3}) at (\d+):(\d+)\b", re.MULTILINE)
_FRONTEND = r"[SRC]\d{3}"
_CONCISE_LINE = re.compile(rf"^\S+:\d+:\d+: {_FRONTEND} ")
_FULL_HEAD = re.compile(rf"^(error|warning|info)\[{_FRONTEND}\]: ")


def expectations(path: Path) -> list[tuple[str, int, int]]:
    return [(c, int(line), int(col)) for c, line, col in _EXPECT.findall(path.read_text())]


def run_check(path: Path, output_format: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.chdir(REPO)
    rel = path.relative_to(REPO).as_posix()
    result = CliRunner().invoke(cli, ["check", "--output-format", output_format, rel])
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result.exit_code, result.stdout


def frontend_concise(text: str) -> str:
    return "".join(line + "\n" for line in text.splitlines() if _CONCISE_LINE.match(line))


def frontend_full(text: str) -> str:
    blocks = re.split(r"\n\s*\n", text)
    kept = [b.strip("\n") for b in blocks if _FULL_HEAD.match(b.lstrip("\n"))]
    return "".join(b + "\n\n" for b in kept)


def test_the_corpus_covers_every_catalogued_syntax_mistake() -> None:
    covered = {code for path in CORPUS for code, _, _ in expectations(path)}
    catalogued = {c for c in FRONTEND_CODES if c.startswith("S") and "S010" <= c <= "S022"}
    assert len(catalogued) >= 10
    assert catalogued <= covered, f"no broken file for {sorted(catalogued - covered)}"
    resolver = {c for c in FRONTEND_CODES if c.startswith("R")}
    assert resolver <= covered, f"no broken file for {sorted(resolver - covered)}"


def test_every_corpus_file_states_its_expectations() -> None:
    assert len(CORPUS) >= 30
    for path in CORPUS:
        assert expectations(path), f"{path.name} has no '# expect: CODE at LINE:COL' header"


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_expected_codes_at_expected_positions(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = run_check(path, "concise", monkeypatch)
    assert code == 1, out
    rel = path.relative_to(REPO).as_posix()
    found = {
        (m.group(3), int(m.group(1)), int(m.group(2)))
        for m in re.finditer(rf"^{re.escape(rel)}:(\d+):(\d+): ({_FRONTEND}) ", out, re.MULTILINE)
    }
    expected = set(expectations(path))
    assert found == expected, f"{path.name}: got {sorted(found)}, expected {sorted(expected)}"


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_golden_output(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rel = path.relative_to(REPO).as_posix()
    code_c, concise = run_check(path, "concise", monkeypatch)
    code_f, full = run_check(path, "full", monkeypatch)
    assert code_c == code_f == 1
    assert "Traceback" not in concise + full
    text = (
        f"$ capic check --output-format concise {rel}\n"
        f"{frontend_concise(concise)}\n"
        f"$ capic check --output-format full {rel}\n"
        f"{frontend_full(full)}"
    )
    assert_golden(GOLDEN / f"{path.stem}.txt", text)


def test_full_format_has_a_pointer_a_code_frame_and_help(monkeypatch: pytest.MonkeyPatch) -> None:
    path = BROKEN / "s011_assignment_in_condition.capi"
    _, full = run_check(path, "full", monkeypatch)
    block = frontend_full(full)
    assert block.startswith("error[S011]: '=' where a comparison is expected\n")
    assert "  --> tests/data/broken/s011_assignment_in_condition.capi:8:28\n" in block
    assert ' 8 |   when event.xdm.eventType = "commerce.purchases"\n' in block
    assert "   |                            ^\n" in block
    assert "   = help: write == to compare\n" in block


def test_goldens_have_no_strays() -> None:
    """Every golden file belongs to a corpus file (renamed files leave none behind)."""
    names = {p.stem for p in CORPUS}
    strays = sorted(p.name for p in GOLDEN.glob("*.txt") if p.stem not in names)
    assert not strays, f"golden files without a corpus file: {strays}"
