"""The pure parts of ``capic serve`` that the HTTP tests cannot vary cheaply: client IP
selection through proxies, cookie parsing, JSON depth, bearer tokens, the rate limiter, the
first-party cookies and the enhancement store."""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson
import pytest

from capic.runtime.secrets import Secret
from capic.serve.auth import BearerAuth
from capic.serve.body import BodyError, TooManyEvents, parse_collect, parse_events
from capic.serve.context import TrustedProxies, client_ip, parse_cookies, rule_headers
from capic.serve.cookies import FirstPartyCookies
from capic.serve.enhance import Enhancer, SqliteEnhancementStore
from capic.serve.limits import RateLimiter, deeper_than, json_depth

TRUSTED = TrustedProxies.parse(["10.0.0.0/8", "127.0.0.1", "2001:db8::/32"])


@pytest.mark.parametrize(
    ("peer", "xff", "forwarded", "expected"),
    [
        ("198.51.100.1", ["6.6.6.6"], [], "198.51.100.1"),  # untrusted peer: headers ignored
        ("127.0.0.1", ["203.0.113.9"], [], "203.0.113.9"),
        ("127.0.0.1", ["6.6.6.6, 203.0.113.9, 10.1.2.3"], [], "203.0.113.9"),
        ("127.0.0.1", ["6.6.6.6", "203.0.113.9"], [], "203.0.113.9"),  # two header lines
        ("127.0.0.1", ["10.0.0.2, 10.0.0.1"], [], "10.0.0.2"),  # all trusted: the left-most
        ("127.0.0.1", ["garbage, 203.0.113.9"], [], "203.0.113.9"),
        ("127.0.0.1", ["203.0.113.9, unknown"], [], "127.0.0.1"),  # our proxy wrote nonsense
        ("127.0.0.1", ["203.0.113.9:5555"], [], "203.0.113.9"),
        ("127.0.0.1", [], ['for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https'], "6.6.6.6"),
        ("127.0.0.1", [], ['for="[2001:db9::1]:80"'], "2001:db9::1"),
        ("::ffff:127.0.0.1", ["203.0.113.9"], [], "203.0.113.9"),  # mapped IPv4 peer
        ("127.0.0.1", [], [], "127.0.0.1"),
    ],
)
def test_client_ip(peer: str, xff: list[str], forwarded: list[str], expected: str) -> None:
    assert client_ip(peer, TRUSTED, x_forwarded_for=xff, forwarded=forwarded) == expected


def test_trusted_proxies_refuse_what_is_not_an_address() -> None:
    with pytest.raises(ValueError, match="'nope' is not an address"):
        TrustedProxies.parse(["10.0.0.0/8,nope"])


def test_rules_never_see_credentials_or_the_raw_cookie_header() -> None:
    headers = rule_headers(
        [("User-Agent", "UA"), ("Authorization", "Bearer x"), ("Cookie", "a=1"),
         ("Proxy-Authorization", "y"), ("Accept", "a"), ("accept", "b")]
    )  # fmt: skip
    assert headers == {"user-agent": "UA", "accept": "a, b"}


def test_cookie_parsing_is_lenient() -> None:
    assert parse_cookies('_fbp=fb.1.2.3; bad; =x; _fbc="fb.1.2.abc"; _fbp=second') == {
        "_fbp": "fb.1.2.3",
        "_fbc": "fb.1.2.abc",
    }
    assert parse_cookies(None) == {}


def test_json_depth_of_parsed_values() -> None:
    value = orjson.loads(b'{"a": [1, {"b": "[[\\"[[{"}]}')
    assert json_depth(value) == 3
    assert not deeper_than(value, 3) and deeper_than(value, 2)
    assert json_depth(17) == 0
    deep = orjson.loads(b"[" * 40 + b"]" * 40)
    assert json_depth(deep) == 40 and deeper_than(deep, 39)


def test_events_bodies() -> None:
    one = parse_events(
        b'{"event": {"a": 1}, "request": {"ip": "1.2.3.4"}}', max_depth=8, max_events=5
    )
    assert one[0].event == {"a": 1} and one[0].request == {"ip": "1.2.3.4"}
    bare = parse_events(
        b'[{"a": 1}, {"event": 3}, {"event": {}, "request": 4}]', max_depth=8, max_events=5
    )
    assert [i.problem for i in bare] == [
        None,
        'the envelope\'s "event" is not an object',
        'the envelope\'s "request" is not an object',
    ]
    with pytest.raises(TooManyEvents):
        parse_events(b"{}\n{}\n{}", max_depth=8, max_events=2)
    with pytest.raises(BodyError, match="nested"):
        parse_events(b"[[[[1]]]]", max_depth=3, max_events=2)
    with pytest.raises(BodyError):
        parse_events(b'"a string"', max_depth=3, max_events=2)
    with pytest.raises(BodyError):
        parse_collect(b'{"event": {}, "url": 5}', max_depth=3)


def test_bearer_tokens_several_and_none() -> None:
    auth = BearerAuth([Secret("old-token"), Secret("new-token")])
    assert auth.allows("Bearer new-token") and auth.allows("bearer old-token")
    assert (
        not auth.allows("Bearer other") and not auth.allows(None) and not auth.allows("new-token")
    )
    assert not BearerAuth([]).allows("Bearer x")
    assert BearerAuth([], open=True).allows(None)
    assert "token" not in repr(auth).replace("tokens=", "")


def test_rate_limiter_refills() -> None:
    now = [0.0]
    limiter = RateLimiter(2.0, 2, max_clients=2, clock=lambda: now[0])
    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 0.5]
    now[0] += 0.5
    assert limiter.acquire("a") == 0.0
    limiter.acquire("b")
    limiter.acquire("c")  # "a" is forgotten: at most two clients are remembered
    assert len(limiter._buckets) == 2


def test_first_party_cookies() -> None:
    jar = FirstPartyCookies("example.com").apply(
        {}, "https://www.example.com/?fbclid=AbC_1", "collect.example.com:443", 1767225600123
    )
    assert jar.created_fbp and jar.new_fbc
    assert jar.cookies["_fbp"].startswith("fb.1.1767225600123.")
    assert jar.cookies["_fbc"] == "fb.1.1767225600123.AbC_1"
    assert all("Domain=example.com" in c for c in jar.set_cookie)
    # A collector outside the cookie domain sets host-only cookies (browsers would drop others).
    other = FirstPartyCookies("example.com").apply({}, None, "127.0.0.1:8080", 1767225600123)
    assert other.set_cookie and "Domain=" not in other.set_cookie[0]
    assert "_fbc" not in other.cookies
    # An unusable _fbp is replaced; a malformed _fbc without a new fbclid is left alone.
    again = FirstPartyCookies(None).apply(
        {"_fbp": "junk", "_fbc": "junk"}, None, "h", 1767225600123
    )
    assert again.cookies["_fbp"] != "junk" and again.cookies["_fbc"] == "junk"
    assert len(again.set_cookie) == 1


def test_enhancement_stores_hashes_only_and_expires(tmp_path: Path) -> None:
    now = [1000.0]
    store = SqliteEnhancementStore(tmp_path / "e.sqlite", clock=lambda: now[0])
    enhancer = Enhancer(store, ttl=60)
    em = hashlib.sha256(b"a@example.com").hexdigest()
    first = {
        "event_name": "Lead",
        "user_data": {"fbp": "fb.1.1.2", "em": em, "fn": "raw-not-a-hash"},
    }
    assert enhancer.apply(orjson.dumps(first)) is None
    later = {"event_name": "PageView", "user_data": {"fbp": "fb.1.1.2"}}
    enhanced = enhancer.apply(orjson.dumps(later))
    assert enhanced is not None and orjson.loads(enhanced)["user_data"] == {
        "fbp": "fb.1.1.2",
        "em": em,
    }
    stranger = {"event_name": "PageView", "user_data": {"fbp": "fb.1.1.3"}}
    assert enhancer.apply(orjson.dumps(stranger)) is None
    now[0] += 61
    assert enhancer.apply(orjson.dumps(later)) is None
    store.close()
    raw = (tmp_path / "e.sqlite").read_bytes()
    assert b"raw-not-a-hash" not in raw and b"fb.1.1.2" not in raw


def test_a_body_past_the_parsers_own_depth_limit_is_refused_as_too_deep() -> None:
    with pytest.raises(BodyError, match="nested deeper"):
        parse_events(b"[" * 2000 + b"]" * 2000, max_depth=32, max_events=10)
