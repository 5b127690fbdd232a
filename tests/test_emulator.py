"""The Graph API emulator: validation like Meta's, Meta-shaped answers, faults, query API, CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from capic.emulator import EmulatorHandle, FaultConfig, start
from tests.conftest_delivery import PIXEL, TOKEN, VERSION, event, sha

NOW = 1_750_000_000.0

#: One client for the module: creating one per request (httpx.post) costs an SSL context each.
HTTP = httpx.Client(timeout=5.0)


@pytest.fixture(scope="module", autouse=True)
def _close_client() -> Iterator[None]:
    yield
    HTTP.close()


@pytest.fixture
def emu() -> Iterator[EmulatorHandle]:
    with start(token=TOKEN, now=lambda: NOW) as handle:
        yield handle


def post(
    handle: EmulatorHandle,
    data: Any,
    *,
    token: str | None = TOKEN,
    pixel: str = PIXEL,
    extra: dict[str, Any] | None = None,
    timeout: float = 5.0,
) -> httpx.Response:
    body: dict[str, Any] = {"data": data}
    if token is not None:
        body["access_token"] = token
    body.update(extra or {})
    return HTTP.post(f"{handle.url}/{VERSION}/{pixel}/events", json=body, timeout=timeout)


def ev(i: int = 0, **overrides: Any) -> dict[str, Any]:
    return event(i, now=NOW, **overrides)


def user(**keys: Any) -> dict[str, Any]:
    return keys


def error_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code >= 400, response.text
    err = response.json()["error"]
    assert isinstance(err, dict)
    return err


def test_accepts_a_valid_batch(emu: EmulatorHandle) -> None:
    response = post(emu, [ev(1), ev(2)], extra={"test_event_code": "TEST42"})
    assert response.status_code == 200
    payload = response.json()
    assert payload["events_received"] == 2 and payload["messages"] == []
    assert payload["fbtrace_id"]
    received = emu.received()
    assert [r["event"]["event_id"] for r in received] == ["ev-1", "ev-2"]
    assert received[0]["pixel_id"] == PIXEL and received[0]["test_event_code"] == "TEST42"
    assert received[0]["api_version"] == VERSION
    assert received[0]["event"] == ev(1)


HASHED = sha("x")

REJECTIONS: list[tuple[str, dict[str, Any], int, int | None]] = [
    ("no-event-name", {"event_name": None}, 100, None),
    ("long-event-name", {"event_name": "x" * 51}, 100, None),
    ("time-as-string", {"event_time": "1750000000"}, 100, None),
    ("time-as-float", {"event_time": NOW + 0.5}, 100, None),
    ("time-as-bool", {"event_time": True}, 100, None),
    ("too-old", {"event_time": int(NOW) - 8 * 86400}, 100, 2804003),
    ("future", {"event_time": int(NOW) + 120}, 100, None),
    ("bad-action-source", {"action_source": "web"}, 100, None),
    ("no-action-source", {"action_source": None}, 100, None),
    ("no-user-data", {"user_data": None}, 100, 2804050),
    ("empty-user-data", {"user_data": {}}, 100, 2804050),
    (
        "too-broad-location",
        {"user_data": user(ct=HASHED, country=HASHED, zp=HASHED, client_user_agent="UA")},
        100,
        2804050,
    ),
    (
        "too-broad-fn-ge",
        {"action_source": "email", "user_data": user(fn=HASHED, ge=HASHED)},
        100,
        2804050,
    ),
    (
        "too-broad-ln-ge",
        {"action_source": "email", "user_data": user(ln=HASHED, ge=HASHED)},
        100,
        2804050,
    ),
    ("too-broad-db-ua", {"user_data": user(db=HASHED, client_user_agent="UA")}, 100, 2804050),
    ("raw-email", {"user_data": user(em="john@example.com", client_user_agent="UA")}, 100, 2804016),
    ("raw-city", {"user_data": user(em=HASHED, ct="Paris", client_user_agent="UA")}, 100, 2804016),
    (
        "raw-in-list",
        {"user_data": user(ph=[HASHED, "16505551212"], client_user_agent="UA")},
        100,
        2804016,
    ),
    (
        "raw-external-id",
        {"user_data": user(external_id="user-123", client_user_agent="UA")},
        100,
        2804016,
    ),
    ("short-hash", {"user_data": user(em=HASHED[:63], client_user_agent="UA")}, 100, 2804016),
    (
        "hash-with-space",
        {"user_data": user(em=HASHED[:62] + " a", client_user_agent="UA")},
        100,
        2804016,
    ),
    ("website-no-url", {"event_source_url": None}, 100, None),
    ("website-no-ua", {"user_data": user(em=HASHED)}, 100, None),
    ("custom-data-not-object", {"custom_data": [1]}, 100, None),
]


@pytest.mark.parametrize(
    ("changes", "code", "subcode"),
    [case[1:] for case in REJECTIONS],
    ids=[case[0] for case in REJECTIONS],
)
def test_rejections(
    emu: EmulatorHandle, changes: dict[str, Any], code: int, subcode: int | None
) -> None:
    bad = ev(9)
    for key, value in changes.items():
        if value is None:
            bad.pop(key, None)
        else:
            bad[key] = value
    # One bad event among good ones rejects the whole request.
    response = post(emu, [ev(1), bad, ev(2)])
    assert response.status_code == 400
    err = error_of(response)
    assert err["code"] == code
    assert err.get("error_subcode") == subcode
    assert err["type"] == "OAuthException"
    assert err["is_transient"] is False
    assert err["fbtrace_id"] and err["message"].startswith("(#100)")
    assert err["error_user_title"] and "data[1]" in err["error_user_msg"]
    assert emu.received() == []
    assert emu.stats()["errors"] == {f"{code}/{subcode}" if subcode else str(code): 1}


@pytest.mark.parametrize(
    "good",
    [
        {"action_source": "app", "user_data": {"madid": "abc", "anon_id": "x"}},
        {"action_source": "physical_store", "user_data": {"em": HASHED.upper()}},
        {"action_source": "email", "user_data": {"em": [HASHED, HASHED], "ge": HASHED}},
        {"action_source": "system_generated", "user_data": {"external_id": HASHED}},
        {"user_data": {"ct": HASHED, "fbc": "fb.1.1.abc", "client_user_agent": "UA"}},
        {"event_time": int(NOW) - 7 * 86400 + 5},
        {"event_time": int(NOW) + 59},
    ],
)
def test_accepts_valid_variants(emu: EmulatorHandle, good: dict[str, Any]) -> None:
    response = post(emu, [{**ev(1), **good}])
    assert response.status_code == 200, response.text


def test_data_required_and_limited(emu: EmulatorHandle) -> None:
    cases: list[Any] = [None, [], "", {"not": "a list"}]
    for data in cases:
        err = error_of(post(emu, data))
        assert err["code"] == 100
    err = error_of(post(emu, [ev(i) for i in range(1001)]))
    assert err["code"] == 100 and "1000" in err["error_user_msg"]
    assert post(emu, [ev(i) for i in range(1000)]).json()["events_received"] == 1000


@pytest.mark.parametrize(("token", "fragment"), [("wrong", "Invalid OAuth"), (None, "required")])
def test_token_checked(emu: EmulatorHandle, token: str | None, fragment: str) -> None:
    err = error_of(post(emu, [ev(1)], token=token))
    assert err["code"] == 190 and err["type"] == "OAuthException"
    assert fragment in err["message"]
    assert emu.received() == []


def test_any_token_when_none_configured() -> None:
    with start(now=lambda: NOW) as handle:
        assert post(handle, [ev(1)], token=None).status_code == 200


def test_unknown_pixel_and_path(emu: EmulatorHandle) -> None:
    err = error_of(post(emu, [ev(1)], pixel="not-a-pixel"))
    assert (err["code"], err["error_subcode"]) == (100, 33)
    response = HTTP.post(f"{emu.url}/v25.0/{PIXEL}/nothing", json={}, timeout=5)
    assert error_of(response)["code"] == 2500
    assert error_of(HTTP.get(f"{emu.url}/elsewhere", timeout=5))["code"] == 100


def test_form_encoded_and_query_token(emu: EmulatorHandle) -> None:
    url = f"{emu.url}/{VERSION}/{PIXEL}/events"
    # SDK style: data is a JSON list of JSON-encoded events.
    sdk_data = json.dumps([json.dumps(ev(1)), json.dumps(ev(2))])
    response = HTTP.post(
        url, data={"data": sdk_data, "access_token": TOKEN, "test_event_code": "T1"}, timeout=5
    )
    assert response.status_code == 200, response.text
    # curl -F style: data is a JSON array; token in the query string.
    response = HTTP.post(
        url, params={"access_token": TOKEN}, data={"data": json.dumps([ev(3)])}, timeout=5
    )
    assert response.status_code == 200, response.text
    ids = [(r["event"]["event_id"], r["test_event_code"]) for r in emu.received()]
    assert ids == [("ev-1", "T1"), ("ev-2", "T1"), ("ev-3", None)]
    bad = HTTP.post(url, content=b"{not json", timeout=5)
    assert error_of(bad)["code"] == 100


def test_query_api_and_reset(emu: EmulatorHandle) -> None:
    post(emu, [ev(1)])
    post(emu, [ev(2)], token="wrong")
    events = HTTP.get(f"{emu.url}/_emulator/events", timeout=5).json()
    assert [e["event"]["event_id"] for e in events] == ["ev-1"]
    stats = HTTP.get(f"{emu.url}/_emulator/stats", timeout=5).json()
    assert stats["requests"] == 2 and stats["accepted_requests"] == 1
    assert stats["events_received"] == 1 and stats["errors"] == {"190": 1}
    assert HTTP.post(f"{emu.url}/_emulator/reset", timeout=5).json() == {"success": True}
    assert emu.received() == [] and emu.stats()["requests"] == 0


def test_record_file(tmp_path: Path) -> None:
    record = tmp_path / "events.jsonl"
    with start(record=record, now=lambda: NOW) as handle:
        post(handle, [ev(1), ev(2)], extra={"test_event_code": "T"})
        post(handle, [ev(3)])
        lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert [line["event"]["event_id"] for line in lines] == ["ev-1", "ev-2", "ev-3"]
    assert lines[0]["pixel_id"] == PIXEL and lines[0]["test_event_code"] == "T"
    assert lines[2]["received_at"] == NOW


def test_keep_bounds_memory() -> None:
    with start(now=lambda: NOW, keep=2) as handle:
        post(handle, [ev(i) for i in range(5)])
        assert [r["event"]["event_id"] for r in handle.received()] == ["ev-3", "ev-4"]
        assert handle.stats()["events_received"] == 5


def test_fault_5xx() -> None:
    with start(faults=FaultConfig(rate_5xx=1.0), now=lambda: NOW) as handle:
        for _ in range(4):
            response = post(handle, [ev(1)])
            assert response.status_code in (500, 503)
            err = error_of(response)
            assert err["is_transient"] is True and err["code"] in (1, 2)
        assert handle.received() == [] and handle.stats()["faults"] == {"5xx": 4}


def test_fault_throttle() -> None:
    faults = FaultConfig(rate_throttle=1.0, retry_after=90)
    with start(faults=faults, now=lambda: NOW, seed=3) as handle:
        seen = set()
        for _ in range(12):
            response = post(handle, [ev(1)])
            err = error_of(response)
            seen.add((response.status_code, err["code"]))
            usage = json.loads(response.headers["x-business-use-case-usage"])
            entry = next(iter(usage.values()))[0]
            assert entry["estimated_time_to_regain_access"] == 2
            assert response.headers["retry-after"] == "90"
        assert handle.received() == []
    assert {code for _, code in seen} == {4, 17, 613}
    assert {status for status, _ in seen} == {400, 429}


def test_fault_timeout_may_accept() -> None:
    faults = FaultConfig(rate_timeout=1.0, stall=0.5)
    with start(faults=faults, now=lambda: NOW, seed=1) as handle:
        for i in range(4):
            with pytest.raises(httpx.ReadTimeout):
                post(handle, [ev(i)], timeout=0.1)
        assert handle.stats()["faults"] == {"timeout": 4}
        accepted = len(handle.received())
    assert 0 <= accepted <= 4


def test_fault_drop() -> None:
    with start(faults=FaultConfig(rate_drop=1.0), now=lambda: NOW) as handle:
        for i in range(3):
            with pytest.raises(httpx.RemoteProtocolError):
                post(handle, [ev(i)])
        assert handle.stats()["faults"] == {"drop": 3}


def test_faults_are_reproducible_with_a_seed() -> None:
    faults = FaultConfig(rate_5xx=0.3, rate_throttle=0.3)

    def run(seed: int) -> list[int]:
        with start(faults=faults, seed=seed, now=lambda: NOW) as handle:
            return [post(handle, [ev(1)]).status_code for _ in range(15)]

    assert run(5) == run(5)
    assert set(run(5)) > {200}


def test_fault_config_validation() -> None:
    with pytest.raises(ValueError):
        FaultConfig(rate_5xx=0.7, rate_drop=0.7)
    with pytest.raises(ValueError):
        FaultConfig(rate_timeout=-0.1)
    assert not FaultConfig().enabled


def test_stop_is_idempotent_and_frees_the_port() -> None:
    handle = start()
    port = handle.port
    assert repr(handle) == f"EmulatorHandle(url='http://127.0.0.1:{port}')"
    with httpx.Client() as client:  # a keep-alive connection left open
        client.get(f"{handle.url}/_emulator/stats")
        handle.stop()
        handle.stop()
    with start(port=port) as again:
        assert again.port == port


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_serves_until_signalled(tmp_path: Path, sig: signal.Signals) -> None:
    record = tmp_path / "rec.jsonl"
    env = {**os.environ, "CAPIC_EMULATOR_TOKEN": TOKEN}
    proc = subprocess.Popen(
        [sys.executable, "-m", "capic", "emulator", "--port", "0", "--record", str(record)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("capic emulator listening on http://127.0.0.1:")
        url = line.split()[-1]
        good = event(1)
        response = HTTP.post(
            f"{url}/{VERSION}/{PIXEL}/events",
            json={"data": [good], "access_token": TOKEN},
            timeout=5,
        )
        assert response.status_code == 200, response.text
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert "1 events accepted" in err
    assert json.loads(record.read_text())["event"]["event_id"] == "ev-1"


def test_cli_rejects_bad_fault_rates() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "capic", "emulator", "--fault-5xx", "0.8", "--fault-drop", "0.8"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert "add up to at most 1" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_port_in_use() -> None:
    with start() as handle:
        start_time = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "capic", "emulator", "--port", str(handle.port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert time.monotonic() - start_time < 30
    assert proc.returncode == 2
    assert "cannot listen" in proc.stderr and "Traceback" not in proc.stderr


def test_chunked_request_body(emu: EmulatorHandle) -> None:
    payload = json.dumps({"data": [ev(1)], "access_token": TOKEN}).encode()

    def chunks() -> Iterator[bytes]:
        yield payload[:100]
        yield payload[100:]

    response = HTTP.post(f"{emu.url}/{VERSION}/{PIXEL}/events", content=chunks())
    assert response.status_code == 200, response.text
    assert response.json()["events_received"] == 1


def test_appsecret_proof_is_checked_like_meta() -> None:
    import hashlib
    import hmac

    proof = hmac.new(b"app-secret", TOKEN.encode(), hashlib.sha256).hexdigest()
    with start(token=TOKEN, app_secret="app-secret", now=lambda: NOW) as handle:
        missing = post(handle, [ev(1)])
        wrong = post(handle, [ev(1)], extra={"appsecret_proof": "0" * 64})
        right = post(handle, [ev(1)], extra={"appsecret_proof": proof})
    assert missing.status_code == 400 and missing.json()["error"]["code"] == 100
    assert "require an appsecret_proof" in missing.json()["error"]["message"]
    assert wrong.status_code == 400
    assert (
        wrong.json()["error"]["message"] == "Invalid appsecret_proof provided in the API argument"
    )
    assert right.status_code == 200 and right.json()["events_received"] == 1


def test_cli_fixed_clock(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "capic",
            "emulator",
            "--token",
            TOKEN,
            "--now",
            "2025-06-15T15:06:40Z",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "compiler")},
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[-1]
        body = {"data": [ev(1)], "access_token": TOKEN}  # event_time 1750000000 = that moment
        response = HTTP.post(f"{url}/{VERSION}/{PIXEL}/events", json=body)
        assert response.status_code == 200, response.text
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    bad = subprocess.run(
        [sys.executable, "-m", "capic", "emulator", "--now", "yesterday"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "compiler")},
    )
    assert bad.returncode == 2 and "--now" in bad.stderr and "Traceback" not in bad.stderr
