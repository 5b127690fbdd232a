"""The rule language's functions and operators (capic.runtime.stdlib)."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capic.model.stdlib import FUNCTIONS
from capic.runtime import stdlib as f


def test_every_expression_function_has_an_implementation() -> None:
    context_functions = {"now", "uuid"}
    for name, fn in FUNCTIONS.items():
        if fn.context != "expr" or name in context_functions:
            continue
        impl = f.IMPLEMENTATIONS[name]
        assert callable(getattr(f, impl)), name


# ----------------------------------------------------------------------------- comparisons


@pytest.mark.parametrize(
    "op", [f.eq, f.ne, f.lt, f.le, f.gt, f.ge, f.in_, f.not_in, f.contains, f.starts_with]
)
@pytest.mark.parametrize("other", [None, 0, "", "x", [None], {}])
def test_comparisons_with_null_are_false(op: Any, other: Any) -> None:
    assert op(None, other) is False
    assert op(other, None) is False


def test_equality_never_mixes_kinds() -> None:
    assert f.eq(1, 1.0)
    assert not f.eq(1, "1")
    assert not f.eq(True, 1)
    assert not f.eq(False, 0)
    assert not f.eq(0, "")
    assert f.eq([1, "a"], [1.0, "a"])
    assert not f.eq([True], [1])
    assert f.eq({"a": [1]}, {"a": [1]})
    assert not f.eq({"a": 1}, {"a": 1, "b": 2})
    assert f.ne(1, "1")
    assert f.ne("a", "b")
    assert not f.ne("a", "a")


def test_ordering() -> None:
    assert f.lt(1, 2) and f.le(2, 2.0) and f.gt(3, 2.5) and f.ge(3, 3)
    assert f.lt("a", "b")
    assert not f.lt(1, "2")
    assert not f.gt(True, 0)
    assert not f.lt([1], [2])


def test_membership() -> None:
    assert f.in_("a", ["a", "b"])
    assert not f.in_(1, [True])
    assert f.in_("ell", "hello")
    assert f.in_("k", {"k": 1})
    assert not f.in_(1, "123")
    assert f.not_in("c", ["a", "b"])
    assert not f.not_in("a", ["a"])
    assert not f.not_in(1, 5)  # a number contains nothing: false, like any bad comparison
    assert f.contains("hello", "ell")
    assert f.contains([1, 2], 2)
    assert not f.contains([1, 2], True)
    assert f.contains({"a": 1}, "a")
    assert not f.contains(12, 1)


def test_string_predicates() -> None:
    assert f.starts_with("club-gold", "club-")
    assert f.ends_with("a.pdf", ".pdf")
    assert not f.starts_with(12, "1")
    assert f.iequals("Straße", "STRASSE")
    assert f.icontains("Hello World", "WORLD")
    assert f.icontains(["A", "b"], "a")
    assert f.istarts_with("HELLO", "he")
    assert f.iends_with("HELLO", "LO")
    assert not f.iequals("a", None)


def test_matches_searches_strings_only() -> None:
    pattern = re.compile(r"\d{3}")
    assert f.matches(pattern, "ab123")
    assert not f.matches(pattern, 12345)
    assert not f.matches(pattern, None)


# ----------------------------------------------------------------------------- arithmetic


def test_arithmetic() -> None:
    assert f.add(1, 2) == 3
    assert f.sub(1.5, 0.5) == 1.0
    assert f.mul(2, 3) == 6
    assert f.div(20, 2) == 10.0
    assert f.div(1, 0) is None
    assert f.add("1", 2) is None
    assert f.add(True, 1) is None
    assert f.mul(1e308, 10) is None  # overflow to inf is not a number
    # number("9" * 400) is an int no float can hold: with a float it is no number, no error
    huge = f.number("9" * 400)
    assert f.add(huge, 0.5) is None
    assert f.sub(0.5, huge) is None
    assert f.add(huge, 1) == huge + 1
    assert f.neg(5) == -5
    assert f.neg("5") is None


def test_coalescing() -> None:
    assert f.coalesce2(None, 1) == 1
    assert f.coalesce2(0, 1) == 0
    assert f.coalesce2("", 1) == ""
    assert f.coalesce2(False, 1) is False
    assert f.coalesce(None, "", "x") == "x"
    assert f.coalesce(None, 0) == 0
    assert f.coalesce(None, "") is None


# ----------------------------------------------------------------------------- functions


def test_strings() -> None:
    assert f.lower("ABC") == "abc"
    assert f.upper("usd") == "USD"
    assert f.trim("  x ") == "x"
    assert f.lower(None) is None
    assert f.trim(12) == "12"
    assert f.upper([1]) is None
    assert f.string(12.0) == "12"
    assert f.string(12.5) == "12.5"
    assert f.string(True) == "true"
    assert f.string([1, "a"]) == '[1,"a"]'
    assert f.string(float("nan")) is None
    assert f.concat("a", None, 1, 2.0, True) == "a12true"
    assert f.concat(None) == ""
    assert f.replace("a-b-c", "-", "") == "abc"
    assert f.replace("abc", "", "x") == "abc"
    assert f.replace(None, "a", "b") is None
    assert f.split("a,b", ",") == ["a", "b"]
    assert f.split("ab", "") == ["a", "b"]
    assert f.split(None, ",") is None
    assert f.join(["a", None, 1], "-") == "a-1"
    assert f.join("ab", "-") is None
    assert f.sha256("x") == hashlib.sha256(b"x").hexdigest()
    assert f.sha256(None) is None


def test_collections() -> None:
    assert f.len_("abc") == 3
    assert f.len_([1, 2]) == 2
    assert f.len_(None) == 0
    assert f.len_(5) is None
    assert f.first([3, 4]) == 3
    assert f.first([]) is None
    assert f.first("ab") is None
    assert f.sum_([1, 2, "3", None, True]) == 3
    assert f.sum_([19.99, 5.01]) == 25.0
    assert f.sum_([]) == 0
    assert f.sum_(None) is None
    assert f.exists(0) and f.exists("") and not f.exists(None)
    assert f.iter_list([1]) == [1]
    assert f.iter_list({"a": 1}) == ()
    assert f.iter_list(None) == ()


def test_numbers() -> None:
    assert f.number("12.50") == 12.5
    assert f.number("12") == 12
    assert f.number(" 3 ") == 3
    assert f.number("1,299.00") == 1299.0
    assert f.number("abc") is None
    assert f.number("nan") is None
    assert f.number(True) is None
    assert f.number(None) is None
    assert f.to_int("12.9") == 12
    assert f.to_int(-3.7) == -3
    assert f.to_int("x") is None
    assert f.round_(2.675, 2) == 2.68
    assert f.round_("2.5") == 3
    assert f.round_(-2.5) == -3
    assert f.round_(1234, -2) == 1200
    assert f.round_(12, 2) == 12
    assert f.round_(1.5, "x") is None
    assert f.round_(None) is None


def test_urls() -> None:
    url = "https://Shop.Example.com/p?id=7&utm=a&utm=b&empty="
    assert f.url_host(url) == "shop.example.com"
    assert f.url_param(url, "utm") == "a"
    assert f.url_param(url, "empty") == ""
    assert f.url_param(url, "missing") is None
    assert f.url_host("not a url") is None
    assert f.url_host(None) is None
    assert f.url_host("http://[::1") is None  # invalid IPv6 literal


def test_parse_time() -> None:
    assert f.parse_time("2026-03-03T15:04:05Z") == 1772550245
    assert f.parse_time("2026-03-03T15:04:05.999+00:00") == 1772550245
    assert f.parse_time("2026-03-03T16:04:05+01:00") == 1772550245
    assert f.parse_time("2026-03-03T15:04:05") == 1772550245  # naive is UTC
    assert f.parse_time(1772550245) == 1772550245
    assert f.parse_time(1772550245123) == 1772550245  # milliseconds
    assert f.parse_time("1772550245") == 1772550245
    assert f.parse_time("03/03/2026 15:04", "%m/%d/%Y %H:%M") == 1772550240
    assert f.parse_time("garbage") is None
    assert f.parse_time("03/03/2026", "%Y") is None
    assert f.parse_time(None) is None
    assert f.parse_time(True) is None


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.decimals(allow_nan=True),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(st.lists(json_values, min_size=3, max_size=3))
def test_nothing_raises(args: list[Any]) -> None:
    a, b, c = args
    for name in [
        "eq",
        "ne",
        "lt",
        "le",
        "gt",
        "ge",
        "in_",
        "not_in",
        "contains",
        "starts_with",
        "ends_with",
        "iequals",
        "icontains",
        "istarts_with",
        "iends_with",
        "add",
        "sub",
        "mul",
        "div",
        "coalesce2",
        "split",
        "join",
        "replace",
        "url_param",
        "round_",
        "concat",
        "coalesce",
        "parse_time",
    ]:
        fn = getattr(f, name)
        if name == "replace":
            fn(a, b, c)
        else:
            fn(a, b)
    for name in [
        "lower",
        "upper",
        "trim",
        "number",
        "to_int",
        "string",
        "len_",
        "first",
        "sum_",
        "exists",
        "url_host",
        "sha256",
        "neg",
        "parse_time",
        "iter_list",
        "truthy",
    ]:
        getattr(f, name)(a)
