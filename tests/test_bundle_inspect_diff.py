"""capic inspect / capic diff: golden outputs on a small project with stable sources.

The generated files (rules.py, model.json) change whenever code generation or the IR changes;
their hashes and sizes are masked so that these goldens only follow the bundle format.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, assert_golden
from tests.test_bundle import (
    SHOP_FILES,
    build,
    invoke,
    members,
    repack,
    write_project,
)

GOLDEN = REPO / "tests" / "golden" / "bundle"
GENERATED = ("model.json", "rules.py")


def shop_v2() -> dict[str, str]:
    """SHOP_FILES with the kind of change a pull request makes."""
    files = dict(SHOP_FILES)
    files["elements.capi"] = files["elements.capi"].replace(
        "element email      = event.customer.email",
        "element email      = event.customer.email ?? event.email",
    )
    files["environments.capi"] = files["environments.capi"].replace(
        "environment production {\n",
        'environment production {\n  pixel web {\n    id = "5555555555555555"\n  }\n',
    )
    rules = files["rules/checkout.capi"]
    rules = rules.replace("number(order.total) > 0", "number(order.total) >= 1")
    rules = rules.replace(
        "      value        = number(order.total)\n",
        "      value        = round(number(order.total), 2)\n      order_id     = order.id\n",
    )
    rules = rules.replace('      content_type = "product"\n', "")
    lead = rules.index('rule "Lead"')
    rules = rules[:lead] + (
        'rule "Subscribe" {\n'
        '  when event_type == "subscribe"\n'
        "\n"
        "  send Subscribe to web {\n"
        "    event_id      = event.id\n"
        "    event_time    = event.time\n"
        '    action_source = "website"\n'
        "    event_source_url = event.url\n"
        "    user {\n"
        "      em                = email\n"
        "      client_ip_address = request.ip\n"
        '      client_user_agent = request.headers["user-agent"]\n'
        "    }\n"
        "    custom {\n"
        '      currency = "USD"\n'
        "      value    = 0\n"
        "    }\n"
        "  }\n"
        "}\n"
    )
    files["rules/checkout.capi"] = rules
    return files


@pytest.fixture
def v1(tmp_path: Path) -> Path:
    return build(write_project(tmp_path / "v1", SHOP_FILES), tmp_path / "dist1")


@pytest.fixture
def v2(tmp_path: Path) -> Path:
    return build(write_project(tmp_path / "v2", shop_v2()), tmp_path / "dist2")


def mask_text(text: str) -> str:
    for name in GENERATED:
        text = re.sub(
            rf"^  [0-9a-f]{{12}}  [ 0-9]{{9}}  {re.escape(name)}$",
            f"  <generated>   <size>     {name}",
            text,
            flags=re.MULTILINE,
        )
    return text


def mask_json(data: dict[str, Any]) -> dict[str, Any]:
    for entry in data.get("files", []):
        if entry["path"] in GENERATED:
            entry["sha256"] = entry["size"] = "<generated>"
    return data


def test_inspect_text(v1: Path) -> None:
    result = invoke(["inspect", str(v1)])
    assert result.exit_code == 0, result.output
    assert_golden(GOLDEN / "inspect.txt", mask_text(result.stdout))


def test_inspect_json(v1: Path) -> None:
    result = invoke(["inspect", str(v1), "--output-format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["verification"] == {"ok": True, "problems": [], "warnings": []}
    assert data["signature"] == {"state": "unsigned", "key_id": None}
    assert_golden(
        GOLDEN / "inspect.json", json.dumps(mask_json(data), indent=2, sort_keys=True) + "\n"
    )


def test_inspect_shows_signature_status(tmp_path: Path) -> None:
    from capic.bundle.sign import generate_keypair

    private, public = generate_keypair(tmp_path / "keys")
    project = write_project(tmp_path / "shop", SHOP_FILES)
    signed = build(project, tmp_path / "dist", "production", "--sign-key", str(private))
    unchecked = invoke(["inspect", str(signed)])
    assert unchecked.exit_code == 0
    assert "Signature     signed, signature not checked: pass --key (key " in unchecked.stdout
    checked = invoke(["inspect", str(signed), "--key", str(public), "--output-format", "json"])
    assert json.loads(checked.stdout)["signature"]["state"] == "valid"


def test_inspect_reports_a_tampered_bundle(v1: Path) -> None:
    files = members(v1)
    files["rules.py"] += b"# edited\n"
    bad = repack(files, v1.with_name("bad.tar.gz"))
    result = invoke(["inspect", str(bad)])
    assert result.exit_code == 1
    assert "Verification  FAILED (1 problem)" in result.stdout
    assert "  rules.py: changed" in result.stdout


def test_diff_text(v1: Path, v2: Path) -> None:
    result = invoke(["diff", str(v1), str(v2)])
    assert result.exit_code == 0, result.output
    assert_golden(GOLDEN / "diff.txt", result.stdout)


def test_diff_json(v1: Path, v2: Path) -> None:
    result = invoke(["diff", str(v1), str(v2), "--output-format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["identical"] is False
    assert data["rules"]["added"] == ["Subscribe"]
    assert data["rules"]["removed"] == ["Lead"]
    assert [c["rule"] for c in data["rules"]["changed"]] == ["Purchase"]
    assert data["pixels"]["changed"] == [
        {"pixel": "web", "setting": "id", "old": "1234567890123456", "new": "5555555555555555"}
    ]
    assert_golden(GOLDEN / "diff.json", json.dumps(data, indent=2, sort_keys=True) + "\n")


def test_diff_exit_code(v1: Path, v2: Path, tmp_path: Path) -> None:
    assert invoke(["diff", str(v1), str(v2), "--exit-code"]).exit_code == 1
    same = invoke(["diff", str(v1), str(v1), "--exit-code"])
    assert same.exit_code == 0
    assert "No differences." in same.stdout
    # A repacked copy has the same content: no differences either.
    copy = repack(members(v1), tmp_path / "copy.tar.gz", order=sorted(members(v1)))
    assert invoke(["diff", str(v1), str(copy), "--exit-code"]).exit_code == 0


def test_diff_between_environments(tmp_path: Path) -> None:
    project = write_project(tmp_path / "shop", SHOP_FILES)
    dev = build(project, tmp_path / "dev", "development")
    prod = build(project, tmp_path / "prod", "production")
    result = invoke(["diff", str(dev), str(prod), "--output-format", "json"])
    data = json.loads(result.stdout)
    keys = {c["key"] for c in data["bundle"]}
    assert {"environment", "revision"} <= keys
    settings = {(c["setting"], c["old"], c["new"]) for c in data["pixels"]["changed"]}
    assert settings == {
        ("id", "9876543210987654", "1234567890123456"),
        ("test_event_code", "TEST4242", None),
    }
    assert data["rules"] == {"added": [], "removed": [], "changed": []}


def test_diff_refuses_a_bundle_that_does_not_verify(v1: Path) -> None:
    files = members(v1)
    del files["model.json"]
    bad = repack(files, v1.with_name("bad.tar.gz"))
    result = invoke(["diff", str(v1), str(bad)])
    assert result.exit_code == 2
    assert "bad.tar.gz does not verify" in result.output
    assert "model.json: missing" in result.output
