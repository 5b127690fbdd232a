"""Bad input to any verb ends in a clear message and an exit code, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from capic.cli import cli
from tests.conftest import SAMPLES

STOREFRONT = str(SAMPLES / "storefront")


@pytest.fixture
def junk(tmp_path: Path) -> Path:
    (tmp_path / "junk.tar.gz").write_bytes(b"garbage, not a bundle\n")
    (tmp_path / "junk.sqlite").write_bytes(b"x")
    (tmp_path / "bad.jsonl").write_text("{bad\n", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["verify", "{d}/junk.tar.gz"], 1, "not a (compressed) tar archive"),
        (["inspect", "{d}/junk.tar.gz"], 1, "not a (compressed) tar archive"),
        (["diff", "{d}/junk.tar.gz", "{d}/junk.tar.gz"], 2, "not a (compressed) tar archive"),
        (
            ["run", "--bundle", "{d}/junk.tar.gz", "--events", "{d}/bad.jsonl", "--dry-run"],
            2,
            "not a (compressed) tar archive",
        ),
        (["outbox", "status", "{d}/junk.sqlite"], 2, "not a capic outbox"),
        (["compile", STOREFRONT, "--env", "nope", "-o", "-"], 2, "unknown environment"),
        (["build", STOREFRONT, "--env", "nope", "-o", "{d}/out"], 2, "unknown environment"),
        (["test", "{d}/missing"], 2, "no such file"),
        (["schema", "nope"], 2, "unknown schema"),
        (["rule", "XYZ"], 2, "unknown code"),
    ],
)
def test_bad_input_is_one_clear_error(junk: Path, args: list[str], code: int, says: str) -> None:
    argv = [a.replace("{d}", str(junk)) for a in args]
    result = CliRunner().invoke(cli, argv)
    out = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exit_code == code, out
    assert says in out
    assert "Traceback" not in out
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_malformed_event_line_is_counted_and_the_run_goes_on(junk: Path) -> None:
    events = junk / "mixed.jsonl"
    good = (SAMPLES / "storefront" / "events.jsonl").read_text(encoding="utf-8").splitlines()[0]
    events.write_text(f"{{bad\n{good}\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        [
            "run",
            STOREFRONT,
            "--env",
            "production",
            "--events",
            str(events),
            "--dry-run",
            "--rebase-time",
        ],
    )
    assert result.exit_code == 1
    assert "line 1" in result.stderr
    assert '"pixel_id"' in result.stdout  # the good line was still processed and printed
