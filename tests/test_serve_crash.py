"""``kill -9`` under load: every event that got a 202 reaches Meta (the emulator), across three
crashes and restarts; duplicates only ever repeat an event_id. And canaries: customer
information and tokens never appear in output, logs, answers, metrics or files."""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.serve_harness import (
    ACCESS_TOKEN,
    INGEST_TOKEN,
    Service,
    build_bundle,
    emulator,
    purchase,
    service,
)

pytestmark = pytest.mark.slow

CONNECTIONS = 16
EVENTS_PER_REQUEST = 2
ACCEPTED_BEFORE_KILL = 1000
ROUNDS = 3


class Load:
    """``CONNECTIONS`` keep-alive clients posting numbered Purchase events until stopped."""

    def __init__(self, svc: Service, first: int) -> None:
        self.svc = svc
        self.next = first
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.sent: set[str] = set()
        self.accepted: set[str] = set()
        self.responses_202 = 0
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(CONNECTIONS)]

    def _take(self) -> list[int]:
        with self.lock:
            start = self.next
            self.next += EVENTS_PER_REQUEST
        return list(range(start, start + EVENTS_PER_REQUEST))

    def _run(self) -> None:
        headers = {"authorization": f"Bearer {INGEST_TOKEN}", "content-type": "application/json"}
        with httpx.Client(base_url=self.svc.url, headers=headers, timeout=10) as client:
            while not self.stop.is_set():
                numbers = self._take()
                ids = {f"p-{n}" for n in numbers}
                with self.lock:
                    self.sent |= ids
                try:
                    reply = client.post("/v1/events", json=[purchase(n) for n in numbers])
                except httpx.HTTPError:
                    time.sleep(0.01)
                    continue
                if reply.status_code == 202:
                    assert reply.json()["accepted"] == EVENTS_PER_REQUEST
                    with self.lock:
                        self.accepted |= ids
                        self.responses_202 += 1

    def start(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def finish(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(15)


def test_kill_9_under_load_loses_no_accepted_event(tmp_path: Path) -> None:
    bundle = build_bundle(tmp_path)
    rng = random.Random()
    sent: set[str] = set()
    accepted: set[str] = set()
    with emulator(tmp_path) as emu:
        args = [
            "--bundle", str(bundle), "--endpoint", emu.url, "--outbox", str(tmp_path / "o.sqlite"),
            "--max-age", "0.2", "--no-access-log",
        ]  # fmt: skip
        with service(tmp_path, args) as svc:
            first = 0
            for _ in range(ROUNDS):
                load = Load(svc, first).start()
                deadline = time.monotonic() + 60
                while load.responses_202 < ACCEPTED_BEFORE_KILL:
                    assert time.monotonic() < deadline, "the service stopped answering"
                    time.sleep(0.01)
                time.sleep(rng.uniform(0.0, 0.3))
                svc.kill()
                load.finish()
                sent |= load.sent
                accepted |= load.accepted
                first = load.next
                svc.start()
            deadline = time.monotonic() + 90
            while True:
                received = emu.received()
                ids = [r["event"]["event_id"] for r in received]
                if accepted <= set(ids) or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
    counts = Counter(ids)
    duplicates = sum(n - 1 for n in counts.values())
    print(
        f"\nkill -9 x{ROUNDS}: sent {len(sent)}, 202 {len(accepted)}, "
        f"delivered {len(counts)}, duplicates {duplicates}"
    )
    assert len(sent) >= 5000
    missing = accepted - set(ids)
    assert not missing, f"{len(missing)} accepted events never arrived, e.g. {sorted(missing)[:5]}"
    assert set(ids) <= sent  # nothing invented; a duplicate is the same event_id again
    by_id: dict[str, set[bytes]] = {}
    for r in received:
        event = dict(r["event"])
        by_id.setdefault(event["event_id"], set()).add(
            repr(sorted(event["user_data"].items())).encode()
        )
    assert all(len(bodies) == 1 for bodies in by_id.values())


# ----------------------------------------------------------------------------- canaries

RAW_EMAIL = "Canary.Person+serve@Example.COM"
NORMALIZED_EMAIL = "canary.person+serve@example.com"
RAW_PHONE = "+1 (650) 555-0199"
NORMALIZED_PHONE = "16505550199"
CANARIES = (RAW_EMAIL, NORMALIZED_EMAIL, RAW_PHONE, NORMALIZED_PHONE, INGEST_TOKEN, ACCESS_TOKEN)


def _canary_event(i: int) -> dict[str, Any]:
    envelope = purchase(5000 + i)
    envelope["event"]["user"] = {"email": RAW_EMAIL, "phone": RAW_PHONE}
    return envelope


def test_canaries_never_leave_the_process_unhashed(tmp_path: Path) -> None:
    bundle = build_bundle(tmp_path, "enhanced")
    outbox = tmp_path / "canary.sqlite"
    bodies: list[str] = []
    with emulator(tmp_path) as emu:
        args = [
            "--bundle", str(bundle), "--env", "enhanced", "--endpoint", emu.url,
            "--outbox", str(outbox), "--log-level", "debug", "--max-age", "0.05",
        ]  # fmt: skip
        with service(tmp_path, args) as svc:
            reply = svc.post("/v1/events", [_canary_event(i) for i in range(3)])
            bodies.append(reply.text)
            assert reply.json()["accepted"] == 3
            # A later anonymous event of the same browser is enhanced with the hashes.
            anonymous = purchase(5100)
            anonymous["event"]["user"] = {}
            bodies.append(svc.post("/v1/events", anonymous).text)
            wrong = svc.post(
                "/v1/events", _canary_event(9), headers={"authorization": "Bearer nope"}
            )
            bodies.append(wrong.text)
            collect = svc.post(
                "/v1/collect",
                {
                    "event": {
                        "name": "Purchase",
                        "id": "canary-c",
                        "value": 5,
                        "user": {"email": RAW_EMAIL, "phone": RAW_PHONE},
                    },
                    "url": "https://shop.example.com/?fbclid=IwARcanary",
                },
                headers={
                    "origin": "https://shop.example.com",
                    "user-agent": "UA/1",
                    "authorization": f"Bearer {INGEST_TOKEN}",
                },
            )
            assert collect.status_code == 204
            bodies.append(collect.text)
            deadline = time.monotonic() + 15
            while len({r["event"]["event_id"] for r in emu.received()}) < 5:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            metrics = svc.metrics()
            assert "capic_enhanced_events_total 1.0" in metrics
            # Another batch stays in the outbox file until the process is gone.
            received = emu.received()
        output = svc.output()
    enhanced = next(r["event"] for r in received if r["event"]["event_id"] == "p-5100")
    assert enhanced["user_data"]["em"] == hashlib.sha256(NORMALIZED_EMAIL.encode()).hexdigest()
    files = b"".join(p.read_bytes() for p in tmp_path.glob("*.sqlite*"))
    assert files, "no outbox or enhancement files to grep"
    where = {
        "output": output,
        "bodies": "".join(bodies),
        "metrics": metrics,
        "files": files.decode("latin-1"),
    }
    for canary in CANARIES:
        for name, text in where.items():
            assert canary not in text, f"{canary!r} found in {name}"
