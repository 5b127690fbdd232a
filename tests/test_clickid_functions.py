"""The click-id functions of the standard library (fbclid, fbc_from_url, valid_fbc, valid_fbp):
wrappers of capic.runtime.clickids, in a rule that rebuilds a missing _fbc cookie from the
landing URL (capi-facts §10.2)."""

from __future__ import annotations

import pytest

from capic import api
from capic.runtime import clickids, stdlib
from capic.runtime.context import Context

URL = "https://shop.example.com/p?utm_source=fb&fbclid=IwAR2F4-dbP0l&x=1"


@pytest.mark.parametrize(
    ("time", "expected"),
    [
        (1554763741, "fb.1.1554763741000.IwAR2F4-dbP0l"),
        (1554763741205, "fb.1.1554763741205.IwAR2F4-dbP0l"),
        ("1554763741205", "fb.1.1554763741205.IwAR2F4-dbP0l"),
        ("2019-04-08T22:49:01Z", "fb.1.1554763741000.IwAR2F4-dbP0l"),
        ("not a time", None),
    ],
)
def test_fbc_from_url_reads_the_time_in_every_form(time: object, expected: str | None) -> None:
    assert stdlib.fbc_from_url(URL, time) == expected
    if expected is not None:
        assert stdlib.valid_fbc(expected)


def test_the_fbclid_is_copied_verbatim_and_shapes_are_checked() -> None:
    assert stdlib.fbclid(URL) == "IwAR2F4-dbP0l"  # case kept
    assert stdlib.fbclid("https://shop.example.com/") is None
    assert stdlib.fbc_from_url("https://shop.example.com/", 1) is None
    assert stdlib.valid_fbp("fb.1.1596403881668.1116446470")
    assert not stdlib.valid_fbp("fb.1.1596403881.1116446470")  # seconds, not milliseconds
    assert not stdlib.valid_fbc("IwAR2F4-dbP0l") and not stdlib.valid_fbc(None)
    # The stdlib only wraps the one home of click-id logic.
    assert stdlib.valid_fbc("fb.2.1554763741205.x") == clickids.is_valid_fbc("fb.2.1554763741205.x")


def test_a_rule_rebuilds_a_missing_fbc_at_the_clock_of_the_event() -> None:
    text = """
pixel shop {
  id           = "1234567890123456"
  access_token = env("META_CAPI_TOKEN")
}

element cookie = request.cookies["_fbc"]

rule "View" {
  send ViewContent to shop {
    event_time       = now()
    action_source    = "website"
    event_source_url = event.url
    user {
      client_user_agent = "Mozilla/5.0"
      fbc = if valid_fbc(cookie) then cookie else fbc_from_url(event.url)
      fbp = if valid_fbp(request.cookies["_fbp"]) then request.cookies["_fbp"] else null
    }
    custom { clicked = exists(fbclid(event.url)) }
  }
}
"""
    result = api.parse(text, "rules.capi")
    assert result.ok and result.project is not None, result.diagnostics
    module = api.load_compiled(api.compile_project(result.project))
    ctx = Context(now=lambda: 1767225600.25)
    request = {"cookies": {"_fbc": "fb.1.1554763741.old", "_fbp": "fb.1.1596403881668.42"}}
    [out] = module.process({"url": URL}, request, context=ctx)
    user = out.event["user_data"]
    assert user["fbc"] == "fb.1.1767225600250.IwAR2F4-dbP0l"  # the cookie was in seconds
    assert user["fbp"] == "fb.1.1596403881668.42"
    assert out.event["custom_data"]["clicked"] is True
