"""``capic serve`` over real HTTP: a real service process on a bundle, delivering to a real
emulator process. Statuses of /v1/events, the collector's CORS, cookies, client IP through
trusted proxies, rate limits, and the admin port."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.serve_harness import (
    INGEST_TOKEN,
    Emulator,
    Service,
    build_bundle,
    emulator,
    purchase,
    service,
)

pytestmark = pytest.mark.slow

UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15"
ORIGIN = "https://shop.example.com"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, Emulator]]:
    tmp = tmp_path_factory.mktemp("serve-http")
    bundle = build_bundle(tmp)
    with emulator(tmp) as emu:
        args = [
            "--bundle", str(bundle), "--env", "production", "--endpoint", emu.url,
            "--outbox", str(tmp / "outbox.sqlite"), "--trusted-proxy", "127.0.0.1",
            "--max-body", "65536", "--max-depth", "16", "--max-events", "100",
            "--rate-limit", "0.5", "--rate-burst", "3", "--max-age", "0.05",
            "--log-level", "debug",
        ]  # fmt: skip
        with service(tmp, args) as svc:
            yield svc, emu


def delivered(emu: Emulator, event_id: str, timeout: float = 15.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for item in emu.received():
            if item["event"].get("event_id") == event_id:
                event = item["event"]
                assert isinstance(event, dict)
                return event
        time.sleep(0.05)
    raise AssertionError(f"{event_id} never reached the emulator")


def collect(
    svc: Service,
    event: dict[str, Any],
    *,
    url: str | None = "https://shop.example.com/product/1",
    client: str = "198.51.100.1",
    cookie: str | None = None,
    origin: str | None = ORIGIN,
    host: str | None = None,
    body: bytes | None = None,
) -> httpx.Response:
    headers = {"user-agent": UA, "content-type": "text/plain;charset=UTF-8"}
    headers["x-forwarded-for"] = client
    if origin is not None:
        headers["origin"] = origin
    if cookie is not None:
        headers["cookie"] = cookie
    if host is not None:
        headers["host"] = host
    payload: Any = body if body is not None else {"event": event, "url": url, "referrer": None}
    return svc.post("/v1/collect", payload, headers=headers)


# ----------------------------------------------------------------------------- /v1/events


def test_202_counts_every_input_and_says_why_one_was_rejected(
    shop: tuple[Service, Emulator],
) -> None:
    svc, emu = shop
    old = purchase(2, time=int(time.time()) - 30 * 86400)
    body = [purchase(1), {"event": {"name": "Other"}}, 5, old, purchase(3)]
    reply = svc.post("/v1/events", body)
    assert reply.status_code == 202, reply.text
    answer = reply.json()
    assert answer["accepted"] == 2
    assert answer["unmatched"] == 1
    assert answer["rejected"] == 2
    assert answer["server_events"] == 2
    reasons = {r["index"]: r["reason"] for r in answer["rejections"]}
    assert reasons[2] == "not a JSON object"
    assert "older than 7 days" in reasons[3]
    # 202 means durable; delivery follows within --max-age.
    event = delivered(emu, "p-1")
    assert event["user_data"]["client_ip_address"] == "203.0.113.7"  # the envelope's, not ours
    assert event["custom_data"]["value"] == 11


def test_a_request_whose_events_are_all_rejected_still_gets_202(
    shop: tuple[Service, Emulator],
) -> None:
    svc, _ = shop
    reply = svc.post("/v1/events", b'[1, "two"]\n')
    assert reply.status_code == 202
    assert reply.json()["rejected"] == 2


def test_json_lines_and_a_single_object(shop: tuple[Service, Emulator]) -> None:
    svc, emu = shop
    lines = b"\n".join(__import__("orjson").dumps(purchase(i)) for i in (10, 11)) + b"\nnot json\n"
    reply = svc.post("/v1/events", lines)
    assert reply.status_code == 202, reply.text
    assert reply.json()["accepted"] == 2
    assert reply.json()["rejections"] == [{"index": 2, "reason": "not valid JSON"}]
    single = svc.post("/v1/events", purchase(12))
    assert single.status_code == 202 and single.json()["accepted"] == 1
    delivered(emu, "p-12")


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "not JSON"),
        (b"", 400, "empty"),
        (b"[" * 20 + b"]" * 20, 400, "nested 20 levels deep"),
        (b'{"event": {"a": "' + b"x" * 70000 + b'"}}', 413, "larger than 65536"),
        (b"[" + b",".join([b"{}"] * 101) + b"]", 413, "101 events"),
    ],
)
def test_unreadable_deep_and_large_bodies(
    shop: tuple[Service, Emulator], body: bytes, status: int, message: str
) -> None:
    svc, _ = shop
    reply = svc.post("/v1/events", body)
    assert reply.status_code == status
    assert message in reply.json()["error"]


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-token", f"Basic {INGEST_TOKEN}", "Bearer"]
)
def test_401_without_the_right_bearer_token(
    shop: tuple[Service, Emulator], authorization: str | None
) -> None:
    svc, _ = shop
    headers = {"authorization": authorization} if authorization else {}
    reply = svc.post("/v1/events", purchase(20), headers=headers, token=authorization is not None)
    assert reply.status_code == 401
    assert reply.headers["www-authenticate"] == "Bearer"
    assert INGEST_TOKEN not in reply.text


# ----------------------------------------------------------------------------- /v1/collect


def test_preflight_answers_listed_origins_only(shop: tuple[Service, Emulator]) -> None:
    svc, _ = shop
    asked = {
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
    }
    ok = httpx.options(f"{svc.url}/v1/collect", headers={"origin": ORIGIN, **asked})
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == ORIGIN
    assert ok.headers["access-control-allow-credentials"] == "true"
    assert "POST" in ok.headers["access-control-allow-methods"]
    evil = httpx.options(
        f"{svc.url}/v1/collect", headers={"origin": "https://evil.example", **asked}
    )
    assert evil.status_code == 403
    assert "access-control-allow-origin" not in evil.headers
    refused = collect(svc, {"name": "PageView", "id": "evil-1"}, origin="https://evil.example")
    assert refused.status_code == 403


def test_collect_creates_fbp_builds_fbc_and_rules_see_the_fresh_values(
    shop: tuple[Service, Emulator],
) -> None:
    svc, emu = shop
    url = "https://shop.example.com/landing?utm_source=fb&fbclid=IwAR2F4-dbP0lAbC"
    stale = {"name": "PageView", "id": "c-1", "fbp": "fb.1.1600000000000.1", "fbc": "stale"}
    reply = collect(svc, stale, url=url, client="198.51.100.2", host="collect.shop.example.com")
    assert reply.status_code == 204, reply.text
    assert reply.headers["access-control-allow-origin"] == ORIGIN
    cookies = {c.split("=", 1)[0]: c for c in reply.headers.get_list("set-cookie")}
    fbp_header, fbc_header = cookies["_fbp"], cookies["_fbc"]
    for header in (fbp_header, fbc_header):
        assert "Domain=shop.example.com" in header
        assert "Path=/" in header and "SameSite=Lax" in header and "Secure" in header
        assert "Max-Age=7776000" in header
        assert "HttpOnly" not in header
    fbp = fbp_header.split(";", 1)[0].split("=", 1)[1]
    fbc = fbc_header.split(";", 1)[0].split("=", 1)[1]
    assert fbc.startswith("fb.2.") and fbc.endswith(".IwAR2F4-dbP0lAbC")
    event = delivered(emu, "c-1")
    # The fresh cookies win over the stale copies in the event body.
    assert event["user_data"]["fbp"] == fbp
    assert event["user_data"]["fbc"] == fbc
    assert event["user_data"]["client_ip_address"] == "198.51.100.2"
    assert event["user_data"]["client_user_agent"] == UA
    assert event["event_source_url"] == url


def test_cookies_are_refreshed_and_fbc_keeps_its_creation_time(
    shop: tuple[Service, Emulator],
) -> None:
    svc, emu = shop
    fbp = "fb.1.1767225600123.1098765432"
    fbc = "fb.1.1767225600999.IwARsameClick"
    cookie = f"_fbp={fbp}; _fbc={fbc}; other=1"
    same = "https://shop.example.com/?fbclid=IwARsameClick"
    reply = collect(
        svc, {"name": "PageView", "id": "c-2"}, url=same, client="198.51.100.3", cookie=cookie
    )
    assert reply.status_code == 204
    sets = {
        c.split("=", 1)[0]: c.split(";", 1)[0].split("=", 1)[1]
        for c in reply.headers.get_list("set-cookie")
    }
    assert sets == {"_fbp": fbp, "_fbc": fbc}  # same values, expiry refreshed
    assert delivered(emu, "c-2")["user_data"]["fbc"] == fbc
    new = "https://shop.example.com/?fbclid=IwARnewClick"
    again = collect(
        svc, {"name": "PageView", "id": "c-3"}, url=new, client="198.51.100.3", cookie=cookie
    )
    fresh = {
        c.split("=", 1)[0]: c.split(";", 1)[0].split("=", 1)[1]
        for c in again.headers.get_list("set-cookie")
    }
    assert fresh["_fbp"] == fbp
    assert fresh["_fbc"].endswith(".IwARnewClick") and fresh["_fbc"] != fbc
    assert int(fresh["_fbc"].split(".")[2]) > 1767225600999


def test_collect_ignores_a_request_key_and_bad_bodies_are_400(
    shop: tuple[Service, Emulator],
) -> None:
    svc, emu = shop
    body = {
        "event": {"name": "PageView", "id": "c-4"},
        "url": "https://shop.example.com/",
        "request": {"ip": "6.6.6.6", "cookies": {"_fbp": "fb.1.1600000000000.666"}},
    }
    reply = collect(svc, {}, body=__import__("orjson").dumps(body), client="198.51.100.4")
    assert reply.status_code == 204
    event = delivered(emu, "c-4")
    assert event["user_data"]["client_ip_address"] == "198.51.100.4"
    assert event["user_data"]["fbp"] != "fb.1.1600000000000.666"
    bad = collect(svc, {}, body=b'{"no": "event"}', client="198.51.100.5")
    assert bad.status_code == 400


def test_trusted_proxy_right_most_untrusted_hop(shop: tuple[Service, Emulator]) -> None:
    svc, emu = shop
    # A visitor wrote a fake hop; the proxy (127.0.0.1, trusted) appended the real peer.
    reply = collect(svc, {"name": "PageView", "id": "c-5"}, client="6.6.6.6, 198.51.100.6")
    assert reply.status_code == 204
    assert delivered(emu, "c-5")["user_data"]["client_ip_address"] == "198.51.100.6"


def test_untrusted_peer_forwarding_headers_are_ignored(
    shop: tuple[Service, Emulator], tmp_path: Path
) -> None:
    _, emu = shop
    bundle = build_bundle(tmp_path)
    args = ["--bundle", str(bundle), "--endpoint", emu.url, "--outbox", str(tmp_path / "o.sqlite")]
    with service(tmp_path, [*args, "--max-age", "0.05"]) as plain:
        reply = collect(plain, {"name": "PageView", "id": "c-6"}, client="198.51.100.7")
        assert reply.status_code == 204
        assert delivered(emu, "c-6")["user_data"]["client_ip_address"] == "127.0.0.1"


def test_per_client_rate_limit(shop: tuple[Service, Emulator]) -> None:
    svc, _ = shop
    codes = [collect(svc, {"name": "Other"}, client="198.51.100.99").status_code for _ in range(5)]
    assert codes[:3] == [204, 204, 204]
    assert codes[3] == 429
    limited = collect(svc, {"name": "Other"}, client="198.51.100.99")
    assert int(limited.headers["retry-after"]) >= 1
    assert collect(svc, {"name": "Other"}, client="198.51.100.98").status_code == 204


# ----------------------------------------------------------------------------- admin


def test_admin_port_health_readiness_and_metrics(shop: tuple[Service, Emulator]) -> None:
    svc, _ = shop
    assert httpx.get(f"{svc.admin}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{svc.admin}/readyz").status_code == 200
    svc.post("/v1/events", [purchase(30)])
    delivered(shop[1], "p-30")
    text = svc.metrics()
    for needle in (
        'capic_http_requests_total{route="/v1/events",status="202"}',
        'capic_events_total{outcome="accepted"}',
        'capic_rule_matches_total{rule="Purchase"}',
        'capic_delivered_events_total{pixel="1234567890123456"}',
        "capic_outbox_depth",
        "capic_http_request_duration_seconds_bucket",
        "capic_delivery_duration_seconds_bucket",
        'capic_bundle_info{environment="production"',
    ):
        assert needle in text, needle
    # The public port does not serve the admin routes.
    assert httpx.get(f"{svc.url}/metrics").status_code == 404


def test_access_log_is_json_without_query_strings_or_cookies(
    shop: tuple[Service, Emulator],
) -> None:
    svc, _ = shop
    collect(
        svc,
        {"name": "PageView", "id": "c-7"},
        client="198.51.100.8",
        cookie="_fbp=fb.1.1767225600123.42",
    )
    httpx.post(
        f"{svc.url}/v1/events?secret=query-canary",
        content=b"{}",
        headers={"authorization": "Bearer x"},
    )
    time.sleep(0.2)
    lines = [line for line in svc.stdout.read_text().splitlines() if line.startswith("{")]
    entries = [__import__("orjson").loads(line) for line in lines]
    assert any(e["path"] == "/v1/collect" and e["status"] == 204 for e in entries)
    assert any(e["path"] == "/v1/events" and e["status"] == 401 for e in entries)
    text = svc.stdout.read_text()
    assert "query-canary" not in text
    assert "fb.1.1767225600123.42" not in text
