"""``capic compile`` refuses exactly what ``capic check`` reports as an error (front end and
linter alike), and compiles what only has warnings."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from capic import api
from capic.cli import cli
from capic.diagnostics import Severity
from tests.conftest import REPO, SAMPLES

LINT = REPO / "tests" / "data" / "lint"


def _project(root: Path, source: str, lint: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "capic.toml").write_text(f'[project]\nname = "p"\n\n{lint}', encoding="utf-8")
    (root / "prelude.capi").write_text((LINT / "prelude.capi").read_text(), encoding="utf-8")
    (root / "main.capi").write_text(source, encoding="utf-8")
    return root


def _compile(root: Path, *args: str, out: Path | None = None) -> tuple[int, str, Path]:
    target = (out or root / "out") / "rules.py"
    result = CliRunner().invoke(cli, ["compile", str(root), "-o", str(target), *args])
    return result.exit_code, result.stderr, target


PURCHASE = """\
rule "r" {
  send Purchase to shop {
    event_id = event.id
    event_time = parse_time(event.time)
    action_source = "website"
    event_source_url = url
    user {
      client_ip_address = ip
      client_user_agent = ua
    }
    custom {
      value = 1
    }
  }
}
"""


def test_a_lint_error_stops_compile_like_check(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", PURCHASE)  # Purchase without currency: M005
    check = CliRunner().invoke(cli, ["check", str(root), "--output-format", "concise"])
    assert check.exit_code == 1 and "M005" in check.output
    code, stderr, target = _compile(root)
    assert code == 1
    assert "main.capi:11:5: M005" in stderr and "not compiled: 1 error" in stderr
    assert not target.exists()


def test_a_suppressed_error_and_warnings_do_not_stop_compile(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", PURCHASE, lint='[lint]\nignore = ["M005"]\n')
    code, stderr, target = _compile(root)
    assert code == 0, stderr
    assert target.read_text(encoding="utf-8").startswith("#")


def test_compile_checks_the_environment_it_compiles(tmp_path: Path) -> None:
    code, stderr, target = _compile(SAMPLES / "storefront", "--env", "production", out=tmp_path)
    assert code == 0, stderr
    assert target.is_file()


def _first_error_cases() -> list[tuple[str, dict[str, Any]]]:
    """One failing fixture case per check code (the linter's own fixtures)."""
    out = []
    for path in sorted((LINT / "checks").glob("*.toml")):
        cases = tomllib.loads(path.read_text(encoding="utf-8"))["case"]
        failing = next((c for c in cases if c["expect"]), None)
        if failing is not None:
            out.append((path.stem, failing))
    return out


@pytest.mark.parametrize(("code", "case"), _first_error_cases(), ids=lambda v: str(v)[:8])
def test_compile_fails_exactly_when_check_reports_an_error(
    tmp_path: Path, code: str, case: dict[str, Any]
) -> None:
    root = _project(tmp_path / "p", case["source"], case.get("lint", ""))
    for name, text in case.get("files", {}).items():
        (root / name).write_text(text, encoding="utf-8")
    env = case.get("env")
    checked = api.check([root], env=env)
    errors = [d for d in checked.diagnostics if d.severity >= Severity.ERROR]
    status, stderr, target = _compile(root, *(["--env", env] if env else []))
    if checked.exit_code == 2:
        assert status == 2
    elif errors:
        assert status == 1, stderr
        assert not target.exists()
    else:
        assert status == 0, stderr
