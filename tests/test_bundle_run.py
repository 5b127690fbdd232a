"""Running from a bundle: no compiler front end, keep-last-good switching, same output as
running from source."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from capic.bundle.load import BundleError, BundleSlot, load_bundle
from tests.conftest import REPO
from tests.test_bundle import (
    SHOP_FILES,
    build,
    copy_storefront,
    invoke,
    members,
    repack,
    write_project,
)

FRONT_END = ("lark", "jinja2", "capic.syntax", "capic.lint", "capic.codegen")


def test_loading_a_bundle_does_not_import_the_front_end(tmp_path: Path) -> None:
    bundle = build(copy_storefront(tmp_path), tmp_path / "dist")
    script = (
        "import json, sys\n"
        "from capic.bundle.load import load_bundle\n"
        "loaded = load_bundle(sys.argv[1])\n"
        f"front_end = {FRONT_END!r}\n"
        "bad = sorted(m for m in sys.modules if m.startswith(front_end))\n"
        "print(json.dumps({'bad': bad, 'revision': loaded.revision,\n"
        "                  'has_process': callable(loaded.module.process)}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(bundle)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["bad"] == []
    assert report["has_process"] is True
    assert bundle.name.split("-")[-1].startswith(report["revision"][:12])


def test_load_bundle_refuses_what_does_not_verify(tmp_path: Path) -> None:
    bundle = build(write_project(tmp_path / "shop", SHOP_FILES), tmp_path / "dist")
    files = members(bundle)
    files["rules.py"] += b"\nimport os\n"
    bad = repack(files, tmp_path / "bad.tar.gz")
    with pytest.raises(BundleError) as info:
        load_bundle(bad)
    assert any(p.startswith("rules.py: changed") for p in info.value.problems)


def test_slot_keeps_the_last_good_bundle(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    project = write_project(tmp_path / "shop", SHOP_FILES)
    good = build(project, tmp_path / "good")
    dev = build(project, tmp_path / "dev", "development")
    files = members(good)
    files["sources/extra.capi"] = b"# not in the manifest\n"
    bad = repack(files, tmp_path / "bad.tar.gz")

    slot = BundleSlot()
    first = slot.switch(good)
    assert first.switched and first.active is not None
    assert slot.active is first.active
    module = slot.module

    with caplog.at_level(logging.WARNING, logger="capic.bundle"):
        refused = slot.switch(bad)
    assert not refused.switched
    assert refused.active is first.active
    assert slot.module is module
    assert refused.reason is not None
    assert "bad.tar.gz rejected" in refused.reason
    assert "keeping shop production revision" in refused.reason
    assert refused.problems == ("sources/extra.capi: extra file, not listed in manifest.json",)
    assert "sources/extra.capi: extra file" in caplog.text

    missing = slot.switch(tmp_path / "nowhere.tar.gz")
    assert not missing.switched and slot.active is first.active
    assert "no such file" in (missing.reason or "")

    second = slot.switch(dev)
    assert second.switched
    assert slot.active is not None and slot.active.environment == "development"


def test_slot_with_a_key_requires_signed_bundles(tmp_path: Path) -> None:
    from capic.bundle.sign import generate_keypair

    private, public = generate_keypair(tmp_path / "keys")
    project = write_project(tmp_path / "shop", SHOP_FILES)
    signed = build(project, tmp_path / "signed", "production", "--sign-key", str(private))
    unsigned = build(project, tmp_path / "unsigned")
    slot = BundleSlot(key=public)
    assert slot.switch(signed).switched
    refused = slot.switch(unsigned)
    assert not refused.switched
    assert refused.problems == (
        "signature.json: missing: the bundle is not signed, but a key was given",
    )
    assert slot.active is not None and slot.active.signature.state == "valid"


def test_empty_slot_has_no_module(tmp_path: Path) -> None:
    slot = BundleSlot()
    with pytest.raises(BundleError):
        _ = slot.module
    result = slot.switch(tmp_path / "missing.tar.gz")
    assert not result.switched and result.active is None
    assert "no bundle is active" in (result.reason or "")
    assert REPO.is_dir()


# ----------------------------------------------------------------------------- capic run


def storefront_events(project: Path) -> Path:
    """The sample's events, or (until the sample has them) a few generated ones."""
    path = project / "events.jsonl"
    if path.is_file():
        return path
    request = {
        "ip": "203.0.113.7",
        "headers": {"user-agent": "Mozilla/5.0 (X11; Linux x86_64)"},
        "cookies": {"_fbp": "fb.1.1700000000000.1234567890"},
    }
    lines = []
    for i, kind in enumerate(["web.webpagedetails.pageViews", "commerce.purchases"] * 3):
        xdm: dict[str, Any] = {
            "eventType": kind,
            "timestamp": f"2026-03-0{i + 1}T12:00:00Z",
            "web": {"webPageDetails": {"URL": f"https://shop.example.com/p/{i}"}},
            "identityMap": {"Email": [{"id": f"Shopper{i}@Example.com "}]},
        }
        if kind == "commerce.purchases":
            xdm["commerce"] = {
                "order": {"priceTotal": 10 + i, "currencyCode": "usd", "purchaseID": f"o{i}"}
            }
        event = {"xdm": xdm, "data": {"meta": {"conversionData": {"eventId": f"e{i}"}}}}
        lines.append(json.dumps({"event": event, "request": request}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _relative_times(stdout: str) -> list[Any]:
    """Dry-run requests with event times made relative to the newest one (--rebase-time
    anchors them at the current second, which differs between two runs)."""
    requests = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    times = [e["event_time"] for r in requests for e in r["body"]["data"] if "event_time" in e]
    newest = max(times, default=0)
    for r in requests:
        for e in r["body"]["data"]:
            if "event_time" in e:
                e["event_time"] -= newest
    return requests


def _summary(stderr: str) -> str:
    return re.sub(r"(?m)^  (event times shifted by|took) .*$\n?", "", stderr)


def test_run_bundle_equals_run_project(tmp_path: Path) -> None:
    project = copy_storefront(tmp_path)
    events = storefront_events(project)
    bundle = build(project, tmp_path / "dist", "production")

    # Batches also flush by age: a long --max-age keeps the request boundaries independent
    # of how fast the machine is.
    plain_args = ["--events", str(events), "--dry-run", "--max-age", "3600"]
    from_source = invoke(["run", str(project), "--env", "production", *plain_args])
    from_bundle = invoke(["run", "--bundle", str(bundle), *plain_args])
    assert from_source.stdout == from_bundle.stdout
    assert _summary(from_source.stderr) == _summary(from_bundle.stderr)
    assert from_source.exit_code == from_bundle.exit_code

    rebased = [*plain_args, "--rebase-time"]
    from_source = invoke(["run", str(project), "--env", "production", *rebased])
    from_bundle = invoke(["run", "--bundle", str(bundle), *rebased])
    assert from_source.exit_code == from_bundle.exit_code
    assert from_bundle.exit_code in (0, 1), from_bundle.output
    requests = _relative_times(from_bundle.stdout)
    assert requests, from_bundle.output
    assert requests == _relative_times(from_source.stdout)
    assert _summary(from_source.stderr) == _summary(from_bundle.stderr)
    assert "events read" in from_bundle.stderr


def test_run_bundle_refuses_a_tampered_bundle(tmp_path: Path) -> None:
    project = copy_storefront(tmp_path)
    events = storefront_events(project)
    bundle = build(project, tmp_path / "dist", "production")
    files = members(bundle)
    files["rules.py"] = files["rules.py"].replace(b"1234567890123456", b"6666666666666666")
    bad = repack(files, tmp_path / "bad.tar.gz")
    result = invoke(["run", "--bundle", str(bad), "--events", str(events), "--dry-run"])
    assert result.exit_code == 2
    assert "rules.py: changed" in result.output
    assert result.stdout == ""


def test_loading_a_signed_bundle_without_key_is_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from capic.bundle.sign import generate_keypair

    private, public = generate_keypair(tmp_path / "keys")
    project = write_project(tmp_path / "shop", SHOP_FILES)
    signed = build(project, tmp_path / "signed", "production", "--sign-key", str(private))
    with caplog.at_level(logging.WARNING, logger="capic.bundle"):
        loaded = load_bundle(signed)
    assert loaded.signature.state == "unchecked"
    assert "signature not checked: no verification key was given" in caplog.text
    assert load_bundle(signed, key=public).signature.state == "valid"
    with pytest.raises(BundleError):
        load_bundle(signed, require_signature=True)
