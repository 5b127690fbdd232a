"""Retry classification per Graph API code (capi-facts §1.5) and backoff delays."""

from __future__ import annotations

import email.utils
import random
from typing import Any

import pytest

from capic.runtime.delivery import NetworkError, RetryPolicy, retry_hint


def err(code: int, subcode: int | None = None, transient: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"message": "m", "type": "OAuthException", "code": code}
    if subcode is not None:
        body["error_subcode"] = subcode
    body["is_transient"] = transient
    return {"error": body}


RETRY_CODES = [1, 2, 4, 17, 32, 341, 613, *range(80000, 80015)]

CASES: list[tuple[str, int | None, Any, bool, str]] = [
    # (id, status, json, network error?, verdict for a multi-event batch)
    ("ok", 200, {"events_received": 3, "messages": [], "fbtrace_id": "A"}, False, "ok"),
    ("ok-empty-body", 200, None, False, "ok"),
    ("network", None, None, True, "retry"),
    ("500-no-body", 500, None, False, "retry"),
    ("502-html", 502, None, False, "retry"),
    ("503-code-2", 503, err(2, transient=True), False, "retry"),
    ("429-no-body", 429, None, False, "retry"),
    ("408", 408, None, False, "retry"),
    ("transient-flag", 400, err(9999, transient=True), False, "retry"),
    ("5xx-with-code-100", 500, err(100), False, "retry"),
    ("17-subcode", 400, err(17, 2446079), False, "retry"),
    ("613-429", 429, err(613, 1487742), False, "retry"),
    ("80015-not-a-throttle", 400, err(80015), False, "bisect"),
    ("190", 400, err(190), False, "fatal_token"),
    ("190-463", 401, err(190, 463), False, "fatal_token"),
    ("190-even-as-500", 500, err(190, 460), False, "fatal_token"),
    ("100", 400, err(100), False, "bisect"),
    ("100-not-hashed", 400, err(100, 2804016), False, "bisect"),
    ("100-too-old", 400, err(100, 2804003), False, "bisect"),
    ("100-too-broad", 400, err(100, 2804050), False, "bisect"),
    ("100-33-no-object", 400, err(100, 33), False, "reject"),
    ("10-permission", 403, err(10), False, "reject"),
    ("200-permission", 403, err(200), False, "reject"),
    ("294", 400, err(294), False, "reject"),
    ("368-policy-block", 400, err(368), False, "reject"),
    ("400-no-json", 400, None, False, "bisect"),
    ("404-no-json", 404, None, False, "bisect"),
]


@pytest.mark.parametrize(
    ("status", "body", "network", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_classification_table(status: int | None, body: Any, network: bool, expected: str) -> None:
    policy = RetryPolicy()
    exc = NetworkError("ReadTimeout: timed out") if network else None
    assert policy.classify(status, body, exc) == expected
    assert policy.classify(status, body, exc, batch_size=10) == expected
    single = "reject" if expected == "bisect" else expected
    assert policy.classify(status, body, exc, batch_size=1) == single


@pytest.mark.parametrize("code", RETRY_CODES)
def test_every_retry_code_is_retried(code: int) -> None:
    assert RetryPolicy().classify(400, err(code), None) == "retry"
    assert RetryPolicy().classify(400, err(code), None, batch_size=1) == "retry"


def test_exponential_backoff_without_jitter() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=10.0, jitter=0.0)
    assert [policy.delay(n) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert policy.delay(10_000) == 10.0  # no overflow


def test_jitter_is_bounded_and_reproducible() -> None:
    a = RetryPolicy(base_delay=2.0, max_delay=100.0, jitter=0.5, rng=random.Random(7))
    b = RetryPolicy(base_delay=2.0, max_delay=100.0, jitter=0.5, rng=random.Random(7))
    delays = [a.delay(n) for n in range(1, 6)]
    assert delays == [b.delay(n) for n in range(1, 6)]
    for n, d in enumerate(delays, start=1):
        full = 2.0 * 2 ** (n - 1)
        assert full * 0.5 <= d <= full


def test_server_hint_wins_but_is_capped() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=10.0, jitter=0.0, max_hint=120.0)
    assert policy.delay(1, hint=30.0) == 30.0
    assert policy.delay(1, hint=3600.0) == 120.0
    assert policy.delay(4, hint=0.5) == 8.0  # backoff larger than the hint


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"base_delay": -1}, {"jitter": 1.5}, {"max_delay": -2}],
)
def test_policy_validates_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)


def test_retry_hint_retry_after_seconds_and_date() -> None:
    assert retry_hint({"retry-after": "7"}) == 7.0
    when = email.utils.formatdate(1_000_030.0, usegmt=True)
    assert retry_hint({"retry-after": when}, now=lambda: 1_000_000.0) == pytest.approx(30.0)
    assert retry_hint({"retry-after": "soon"}) is None
    assert retry_hint({}) is None


def test_retry_hint_business_use_case_usage() -> None:
    usage = (
        '{"123": [{"type": "ads_management", "call_count": 98, "total_cputime": 20,'
        ' "total_time": 30, "estimated_time_to_regain_access": 2}],'
        ' "456": [{"type": "custom_audience", "estimated_time_to_regain_access": 0}]}'
    )
    assert retry_hint({"x-business-use-case-usage": usage}) == 120.0
    both = {"x-business-use-case-usage": usage, "retry-after": "600"}
    assert retry_hint(both) == 600.0
    assert retry_hint({"x-business-use-case-usage": "not json"}) is None
    assert retry_hint({"x-business-use-case-usage": '{"1": "x"}'}) is None


def test_a_rejected_appsecret_proof_stops_like_a_rejected_token() -> None:
    body = {
        "error": {
            "message": "Invalid appsecret_proof provided in the API argument",
            "type": "GraphMethodException",
            "code": 100,
        }
    }
    policy = RetryPolicy()
    assert policy.classify(400, body, None, batch_size=1000) == "fatal_token"
    assert policy.classify(400, body, None, batch_size=1) == "fatal_token"
