"""capic.runtime.clickids: the one home of fbc/fbp shapes (capi-facts §10)."""

from __future__ import annotations

import pytest

from capic.runtime import clickids


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  fb.1.1554763741205.AbCdEf  ", "fb.1.1554763741205.AbCdEf"),
        ("", None),
        ("   ", None),
        (None, None),
        (True, None),
        (12, "12"),
        (1.5, None),
    ],
)
def test_clean_trims_and_drops_blanks(value: object, expected: str | None) -> None:
    assert clickids.clean(value) == expected


def test_parse_keeps_the_fbclid_verbatim_and_reads_the_appendix() -> None:
    parts = clickids.parse("fb.1.1554763741205.IwAR2F4-dbP0l.AQIAAQEC")
    assert parts == clickids.ClickId(1, 1554763741205, "IwAR2F4-dbP0l", "AQIAAQEC")
    assert str(parts) == "fb.1.1554763741205.IwAR2F4-dbP0l.AQIAAQEC"
    assert clickids.parse("fb.1.1554763741205.AbCdEf").payload == "AbCdEf"  # type: ignore[union-attr]
    assert clickids.parse("fb.1.155.x.y.z") is None
    assert clickids.parse("gb.1.1554763741205.AbCdEf") is None


@pytest.mark.parametrize(
    ("value", "kind", "fragment"),
    [
        ("fb.1.1554763741205.AbCdEf", "fbc", None),
        ("fb.1.1596403881668.1116446470", "fbp", None),
        ("fb.1.1596403881668.1116446470.Ag", "fbp", None),
        ("fb.1.1554763741.AbCdEf", "fbc", "seconds"),
        ("fb.1.15547637412050.AbCdEf", "fbc", "14 digits"),
        ("fb.7.1554763741205.AbCdEf", "fbc", "subdomain index 7"),
        ("fb.1.1596403881668.abc", "fbp", "decimal"),
        ("AbCdEf", "fbc", "fb.<index>.<milliseconds>.<fbclid>"),
        ("  ", "fbp", "empty"),
    ],
)
def test_problem_names_what_is_wrong(value: str, kind: str, fragment: str | None) -> None:
    reason = clickids.problem(value, kind)  # type: ignore[arg-type]
    if fragment is None:
        assert reason is None
        assert (clickids.is_valid_fbc if kind == "fbc" else clickids.is_valid_fbp)(value)
    else:
        assert reason is not None and fragment in reason


@pytest.mark.parametrize(
    ("url", "fbclid"),
    [
        ("https://shop.example.com/p?fbclid=IwAR2F4-dbP0l&x=1", "IwAR2F4-dbP0l"),
        ("https://shop.example.com/p?x=1&fbclid=AbCdEf", "AbCdEf"),
        ("https://shop.example.com/p?FBCLID=AbCdEf", None),
        ("https://shop.example.com/p?fbclid=", None),
        ("https://shop.example.com/p?fbclid=a%20b", None),
        ("https://shop.example.com/p", None),
        (None, None),
    ],
)
def test_fbclid_from_url_is_verbatim(url: str | None, fbclid: str | None) -> None:
    assert clickids.fbclid_from_url(url) == fbclid


def test_refresh_fbc_keeps_the_creation_time_of_the_same_fbclid() -> None:
    url = "https://shop.example.com/?fbclid=AbCdEf"
    created, changed = clickids.refresh_fbc(None, url, 1700000000000)
    assert (created, changed) == ("fb.1.1700000000000.AbCdEf", True)
    again, changed = clickids.refresh_fbc(created, url, 1700000099999)
    assert (again, changed) == (created, False)
    new, changed = clickids.refresh_fbc(created, url.replace("AbCdEf", "XyZ"), 1700000099999)
    assert (new, changed) == ("fb.1.1700000099999.XyZ", True)
    kept, changed = clickids.refresh_fbc(" fb.1.1700000000000.AbCdEf ", "https://x/", 1)
    assert (kept, changed) == ("fb.1.1700000000000.AbCdEf", False)


def test_new_fbp_and_subdomain_index() -> None:
    assert clickids.new_fbp(1596403881668, random_part=1116446470) == (
        "fb.1.1596403881668.1116446470"
    )
    assert clickids.is_valid_fbp(clickids.new_fbp(1596403881668, 2))
    assert clickids.subdomain_index("com") == 0
    assert clickids.subdomain_index(".example.com") == 1
    assert clickids.subdomain_index("www.example.com") == 2
    assert clickids.subdomain_index("a.b.example.com") == 2
    assert clickids.subdomain_index(None) == 1
