"""The pinned Graph API version against Meta's calendar (M030-M033), on a clock that builds can
fix: ``--today``, ``$CAPIC_TODAY``, ``$SOURCE_DATE_EPOCH``, the system clock. The calendar lives
in one place, ``schemas/graph_api_version.schema.json``."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from capic.cli import cli
from capic.meta import versions
from tests.conftest import REPO

PIXELS = """\
pixel shop {
  id           = "1234567890123456"
  access_token = env("META_CAPI_TOKEN")
  api_version  = "VERSION"
}
environment production {
}
"""


def _project(root: Path, version: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "capic.toml").write_text('[project]\nname = "p"\n', encoding="utf-8")
    (root / "pixels.capi").write_text(PIXELS.replace("VERSION", version), encoding="utf-8")
    return root


def _codes(root: Path, *args: str, env: dict[str, str | None] | None = None) -> list[str]:
    environ: dict[str, str | None] = {"SOURCE_DATE_EPOCH": None, "CAPIC_TODAY": None}
    environ.update(env or {})
    result = CliRunner().invoke(
        cli, ["check", str(root), "--output-format", "json", *args], env=environ
    )
    assert result.exit_code in (0, 1), result.output
    return [d["code"] for d in json.loads(result.stdout) if d["code"].startswith("M03")]


def _epoch(day: str) -> str:
    return str(int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp()))


def test_the_clock_decides_between_fine_expiring_and_expired(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", "v21.0")  # served until 2027-01-21
    assert _codes(root, "--today", "2026-06-01") == []
    assert _codes(root, "--today", "2027-01-01") == ["M030"]
    assert _codes(root, "--today", "2027-02-01") == ["M031"]
    assert _codes(root, env={"CAPIC_TODAY": "2027-01-01"}) == ["M030"]
    assert _codes(root, env={"SOURCE_DATE_EPOCH": _epoch("2027-02-01")}) == ["M031"]
    # --today wins over the environment, and does not outlive its command.
    assert (
        _codes(root, "--today", "2026-06-01", env={"SOURCE_DATE_EPOCH": _epoch("2027-02-01")}) == []
    )
    assert versions.TODAY.get() is None


@pytest.mark.parametrize(
    ("version", "code"),
    [("v12.0", "M031"), ("v99.0", "M033"), ("v25.3", "M033"), ("v27.0", "M032"), ("v25.0", None)],
)
def test_unknown_newer_and_ancient_versions(tmp_path: Path, version: str, code: str | None) -> None:
    root = _project(tmp_path / "p", version)
    assert _codes(root, "--today", "2026-12-01") == ([code] if code else [])


def test_an_expired_version_stops_the_build_on_the_build_date(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", "v21.0")
    runner = CliRunner()
    args = ["build", str(root), "--env", "production", "-o", str(tmp_path / "dist")]
    late = runner.invoke(cli, args, env={"SOURCE_DATE_EPOCH": _epoch("2027-03-01")})
    assert late.exit_code == 1 and "M031" in late.stderr
    early = runner.invoke(cli, args, env={"SOURCE_DATE_EPOCH": _epoch("2026-03-01")})
    assert early.exit_code == 0, early.output
    again = runner.invoke(cli, args, env={"SOURCE_DATE_EPOCH": _epoch("2026-03-01")})
    assert again.stdout == early.stdout  # the same verdict and the same bytes, on any day


def test_the_default_version_is_checked_where_a_pixel_relies_on_it(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", "v25.0")
    text = (root / "pixels.capi").read_text().replace('  api_version  = "v25.0"\n', "")
    (root / "pixels.capi").write_text(text)
    result = CliRunner().invoke(
        cli, ["check", str(root), "--output-format", "concise", "--today", "2028-06-01"]
    )
    assert "pixels.capi:1:7: M030" in result.output and "capic's default" in result.output


#: Meta's Graph API changelog as transcribed in the specification (capi-facts 1.2).
FACTS = {
    "v25.0": "2028-07-29",
    "v24.0": "2028-02-18",
    "v23.0": "2027-10-08",
    "v22.0": "2027-05-20",
    "v21.0": "2027-01-21",
    "v20.0": "2026-09-24",
}


def test_the_calendar_matches_the_changelog_and_lives_only_in_the_schema() -> None:
    table = {v.version: v for v in versions.known_versions()}
    for version, until in FACTS.items():
        assert table[version].available_until == date.fromisoformat(until)
    assert table["v26.0"].released == date(2026, 7, 29)  # the newest, end not announced
    assert not table["v26.0"].announced
    for path in (REPO / "compiler").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not [d for d in FACTS.values() if d in text], f"{path} repeats the calendar"
