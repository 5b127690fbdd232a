"""``capic serve`` and the project's consent gates: first-party cookies and enhancement only
for events the gates let through (a real service process over HTTP, a real emulator)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from tests.serve_harness import SHOP, build_bundle, emulator, purchase, service

pytestmark = pytest.mark.slow

GATE = """  consent {
    granted   = event.consent == "yes"
    otherwise = "limited_data_use"
  }
"""


def _consenting_shop(tmp: Path) -> Path:
    project = tmp / "shop"
    shutil.copytree(SHOP, project)
    text = (project / "shop.capi").read_text()
    marker = '  api_version   = "v25.0"\n'
    (project / "shop.capi").write_text(text.replace(marker, marker + GATE, 1))
    return project


def _delivered(emu: Any, event_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        for item in emu.received():
            if item["event"]["event_id"] == event_id:
                return dict(item["event"])
        time.sleep(0.05)
    raise AssertionError(f"{event_id} never arrived")


def test_cookies_and_enhancement_follow_the_consent_gates(tmp_path: Path) -> None:
    bundle = build_bundle(tmp_path, "enhanced", project=_consenting_shop(tmp_path))
    with emulator(tmp_path) as emu:
        args = [
            "--bundle", str(bundle), "--env", "enhanced", "--endpoint", emu.url,
            "--outbox", str(tmp_path / "o.sqlite"), "--max-age", "0.05",
        ]  # fmt: skip
        with service(tmp_path, args) as svc:
            headers = {"origin": "https://shop.example.com", "user-agent": "UA/1"}
            url = "https://shop.example.com/?fbclid=IwARconsent"
            yes = {"event": {"name": "PageView", "id": "c-yes", "consent": "yes"}, "url": url}
            granted = svc.post("/v1/collect", yes, headers=headers)
            assert granted.status_code == 204
            assert {c.split("=", 1)[0] for c in granted.headers.get_list("set-cookie")} == {
                "_fbp",
                "_fbc",
            }
            no = {"event": {"name": "PageView", "id": "c-no", "consent": "no"}, "url": url}
            refused = svc.post("/v1/collect", no, headers=headers)
            assert refused.status_code == 204
            assert refused.headers.get_list("set-cookie") == []
            assert "fbc" not in _delivered(emu, "c-no")["user_data"]

            # Enhancement: remembered from a consenting event, added only to consenting ones.
            known = purchase(1, consent="yes")
            assert svc.post("/v1/events", known).json()["accepted"] == 1
            for name, consent in (("anon-yes", "yes"), ("anon-no", "no")):
                event = purchase(2, consent=consent)
                event["event"]["id"] = name
                event["event"]["user"] = {}
                assert svc.post("/v1/events", event).json()["accepted"] == 1
            assert "em" in _delivered(emu, "anon-yes")["user_data"]
            held_back = _delivered(emu, "anon-no")
            assert "em" not in held_back["user_data"]
            assert held_back.get("data_processing_options") == ["LDU"]
            metrics = svc.metrics()
            assert 'capic_consent_refusals_total{use="cookies"} 1.0' in metrics
            # the collector hit without consent and the anonymous event without it
            assert 'capic_consent_refusals_total{use="enhancement"} 2.0' in metrics
