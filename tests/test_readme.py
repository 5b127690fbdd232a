"""The README's example and commands are real: the example checks clean, the demo is wired."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from capic.cli import cli
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands() -> None:
    head = README[: README.index("## Tutorial")]
    assert "make demo" in head and "make test" in head


def test_readme_example_checks_without_errors(tmp_path: Path) -> None:
    blocks = re.findall(r"```capi\n(.*?)```", README, re.S)
    assert blocks, "the README shows a capic example"
    source = tmp_path / "example.capi"
    source.write_text(blocks[0], encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", str(source), "--output-format", "json"])
    assert result.exit_code == 0, result.output
    assert '"severity": "error"' not in result.output
    assert '"severity": "warning"' not in result.output


@pytest.mark.slow
def test_demo_script_runs_end_to_end(tmp_path: Path) -> None:
    """What `make demo` runs: check, test, build, report, emulator, run through the bundle."""
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "CAPIC_DEMO_REPORT": str(tmp_path / "report.html"),
    }
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "demo.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout + done.stderr
    assert "exited with" not in out  # deliberate rejections are not reported as a failure
    assert "\x1b[" not in out  # piped: no terminal escape codes
    # The check findings are printed once, not once per environment.
    check = done.stdout.split("==> capic check", 1)[1].split("==> capic test", 1)[0]
    lines = [line for line in check.splitlines()[1:] if line.strip()]
    assert len(lines) == len(set(lines)), check
    # capic serve took the same events over HTTP and set first-party cookies.
    assert re.search(r"202 Accepted: \d+ accepted \(durable in the outbox\)", out)
    assert "Set-Cookie: _fbp=fb." in out and "Set-Cookie: _fbc=fb." in out
    total = re.search(r"total\s+(\d+)", out)
    # Every valid sample event twice (capic run, then capic serve), plus the collector's hit.
    assert total is not None and int(total.group(1)) == 2 * 434 + 1
    assert "Traceback" not in out
    # The report of the production bundle stays, and its path was printed.
    page = re.search(r"open it in a browser: (\S+)", out)
    assert page is not None and page.group(1) == str(tmp_path / "report.html")
    assert (tmp_path / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def _python_example() -> str:
    section = README[README.index("## Python API") :]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert blocks, "the README's Python API section shows an example"
    return str(blocks[0])


def _run_python(source: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", source],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_readme_python_example_runs_as_written() -> None:
    lines = _run_python(_python_example())
    assert lines[0].startswith("MetaConversion_PageView shop {'event_name': 'PageView'")
    assert "'client_ip_address': '203.0.113.7'" in lines[0]
    assert lines[-1] == "{}"


def test_readme_explains_the_seven_day_window_as_it_behaves() -> None:
    example = _python_example()
    week_old = example.replace("datetime.now(UTC).isoformat()", '"2020-01-01T00:00:00Z"')
    assert week_old != example
    lines = _run_python(week_old)
    claimed = re.search(r"here `(\{'event_time older than 7 days': 1\})`", README)
    assert claimed is not None and "7 days" in README
    assert lines == [claimed.group(1)]


def test_the_license_is_the_one_pyproject_declares() -> None:
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "Apache-2.0" and project["license-files"] == ["LICENSE"]
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
