"""Secrets and test fixtures never leave the rule files.

* An access token or app secret written inline is an error (P003), and its value (a canary)
  appears in no output of any verb or format, and in nothing capic stores (parse and lint
  caches), also when the file does not parse and when P003 is ignored.
* Bundles never carry test blocks: their fixtures are sample customer data. Neither model.json
  nor the shipped sources hold a fixture's e-mail address, in any environment.
"""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from capic.cli import cli
from capic.lint.render import FORMATS
from tests.conftest import SAMPLES

CANARY = "EAAcanary7Hq2ZBtkqZC9xYVv0e1B3"
SECRET_CANARY = "canary-app-secret-5f2b9c"


def _storefront(tmp_path: Path) -> Path:
    target = tmp_path / "storefront"
    shutil.copytree(SAMPLES / "storefront", target, ignore=shutil.ignore_patterns(".capic_cache"))
    return target


def _with_inline_secrets(root: Path) -> Path:
    pixels = root / "pixels.capi"
    text = pixels.read_text(encoding="utf-8")
    text = text.replace('env("META_CAPI_TOKEN")', f'"{CANARY}"')
    text += f"# the token, for reference: {CANARY}\n"
    pixels.write_text(text, encoding="utf-8")
    envs = root / "environments.capi"
    envs.write_text(
        envs.read_text(encoding="utf-8").replace(
            '    id = "9876543210987654"\n',
            f'    id = "9876543210987654"\n    "app_secret" = "{SECRET_CANARY}"\n',
            1,
        ),
        encoding="utf-8",
    )
    return root


def _everything_said(root: Path, tmp_path: Path) -> dict[str, str]:
    """The output of every verb that reads the project, by command line."""
    runner = CliRunner()
    runs: list[list[str]] = []
    for fmt in FORMATS:
        runs.append(["check", str(root), "--output-format", fmt])
        runs.append(["check", str(root), "--output-format", fmt, "--no-cache"])
    runs += [
        ["check", str(root), "--statistics"],
        ["check", str(root), "--output-format", "sarif", "-o", str(tmp_path / "out.sarif")],
        ["parse", str(root)],
        ["compile", str(root), "--env", "production"],
        ["build", str(root), "--env", "production", "-o", str(tmp_path / "dist")],
        ["build", str(root), "--env", "development", "-o", str(tmp_path / "dist")],
        ["test", str(root)],
    ]
    out = {}
    for args in runs:
        result = runner.invoke(cli, args)
        assert not isinstance(result.exception, Exception) or isinstance(
            result.exception, SystemExit
        ), result.exception
        out[" ".join(args)] = result.stdout + result.stderr
    out["out.sarif"] = (tmp_path / "out.sarif").read_text(encoding="utf-8")
    return out


def _stored(root: Path, tmp_path: Path) -> dict[str, bytes]:
    found = {str(p): p.read_bytes() for p in (root / ".capic_cache").rglob("*") if p.is_file()}
    for bundle in (tmp_path / "dist").glob("*.tar.gz") if (tmp_path / "dist").exists() else []:
        with tarfile.open(bundle) as tar:
            for m in tar.getmembers():
                handle = tar.extractfile(m)
                found[f"{bundle.name}/{m.name}"] = handle.read() if handle else b""
    return found


def test_an_inline_token_is_an_error_and_never_shown_or_stored(tmp_path: Path) -> None:
    root = _with_inline_secrets(_storefront(tmp_path))
    said = _everything_said(root, tmp_path)
    check = said[f"check {root} --output-format concise"]
    assert "P003" in check and "pixels.capi:5:" in check
    assert "P003" in said[f"check {root} --output-format json"]
    for command, text in said.items():
        assert CANARY not in text, command
        assert SECRET_CANARY not in text, command
    # The frame still shows where the token is, masked to the same length.
    assert f'"{"*" * len(CANARY)}"' in said[f"check {root} --output-format full"]
    stored = _stored(root, tmp_path)
    assert any("parse" in name for name in stored)
    for name, data in stored.items():
        assert CANARY.encode() not in data, name
        assert SECRET_CANARY.encode() not in data, name
    assert not list((tmp_path / "dist").glob("*.tar.gz"))  # build refused


def test_an_inline_token_in_a_file_that_does_not_parse_is_masked(tmp_path: Path) -> None:
    root = _storefront(tmp_path)
    pixels = root / "pixels.capi"
    text = pixels.read_text(encoding="utf-8").replace('env("META_CAPI_TOKEN")', f'"{CANARY}')
    pixels.write_text(text, encoding="utf-8")  # unterminated string: a syntax error
    for fmt in FORMATS:
        result = CliRunner().invoke(cli, ["check", str(root), "--output-format", fmt])
        assert result.exit_code == 1
        assert CANARY not in result.output, fmt
    for path in (root / ".capic_cache").rglob("*"):
        assert not path.is_file() or CANARY.encode() not in path.read_bytes()


def test_ignoring_p003_does_not_let_a_token_into_a_bundle(tmp_path: Path) -> None:
    root = _storefront(tmp_path)
    pixels = root / "pixels.capi"
    text = pixels.read_text(encoding="utf-8")
    pixels.write_text(
        text.replace("  browser_pixel", f'  app_secret = "{SECRET_CANARY}"\n  browser_pixel')
    )
    config = root / "capic.toml"
    config.write_text(config.read_text() + '\n[lint]\nignore = ["P003"]\n', encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["build", str(root), "--env", "production", "-o", str(tmp_path / "dist")]
    )
    assert result.exit_code == 1
    assert "pixels.capi:6:16 (app_secret)" in result.stderr
    assert "never token values" in result.stderr
    assert SECRET_CANARY not in result.output
    assert not (tmp_path / "dist").exists() or not list((tmp_path / "dist").iterdir())


def test_a_token_sent_as_a_field_is_p003_too(tmp_path: Path) -> None:
    root = _storefront(tmp_path)
    purchase = root / "rules" / "purchase.capi"
    text = purchase.read_text(encoding="utf-8")
    text = text.replace("    custom {\n", f'    custom {{\n      access_token = "{CANARY}"\n', 1)
    purchase.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", str(root), "--output-format", "concise"])
    assert "P003" in result.output
    assert "`custom_data.access_token` of send `Purchase` is a secret" in result.output
    assert CANARY not in result.output


# ----------------------------------------------------------------------------- test fixtures


def _fixture_emails(root: Path) -> set[str]:
    import re

    emails: set[str] = set()
    for path in root.rglob("*.capi"):
        text = path.read_text(encoding="utf-8")
        for test in re.finditer(r"(?ms)^test \".*?^\}", text):
            emails |= {
                e.strip().lower() for e in re.findall(r"[\w.+-]+@[\w-]+\.[\w.]+", test.group(0))
            }
    return emails


@pytest.mark.parametrize("environment", ["production", "staging", "development"])
def test_bundles_never_carry_test_fixtures(tmp_path: Path, environment: str) -> None:
    root = _storefront(tmp_path)
    emails = _fixture_emails(root)
    assert len(emails) >= 3
    result = CliRunner().invoke(
        cli,
        ["build", str(root), "--env", environment, "-o", str(tmp_path / "dist")],
        env={"CAPI_TEST_EVENT_CODE": "TEST1"},
    )
    assert result.exit_code == 0, result.output
    stored = _stored(root, tmp_path)
    shipped = {k: v.decode("utf-8").lower() for k, v in stored.items() if ".tar.gz/" in k}
    assert any(k.endswith("model.json") for k in shipped)
    for name, text in shipped.items():
        for email in emails:
            assert email not in text, f"{email} in {name}"
    model = next(v for k, v in shipped.items() if k.endswith("model.json"))
    assert '"tests":[]' in model
    verified = CliRunner().invoke(cli, ["verify", result.stdout.strip()])
    assert verified.exit_code == 0, verified.output


def test_tests_next_to_their_rules_are_left_out_and_the_rules_kept(tmp_path: Path) -> None:
    """`capic init` writes each rule's test into the rule's file."""
    runner = CliRunner()
    root = tmp_path / "shop"
    done = runner.invoke(
        cli, ["init", str(root), "--domain", "shop.example.com", "--pixel-id", "1234567890123456"]
    )
    assert done.exit_code == 0, done.output
    purchase = (root / "rules" / "purchase.capi").read_text(encoding="utf-8")
    assert "\ntest " in purchase and "\nrule " in "\n" + purchase
    built = runner.invoke(
        cli, ["build", str(root), "--env", "production", "-o", str(tmp_path / "d")]
    )
    assert built.exit_code == 0, built.output
    with tarfile.open(built.stdout.strip()) as tar:
        handle = tar.extractfile("sources/rules/purchase.capi")
        assert handle is not None
        shipped = handle.read().decode("utf-8")
    assert shipped.count("\n") == purchase.count("\n")
    assert "\ntest " not in "\n" + shipped and "rule " in shipped
    rule_lines = [line for line in purchase.splitlines() if line.startswith("rule ")]
    assert all(line in shipped.splitlines() for line in rule_lines)
