"""Path access into events never raises: missing, out of range or wrong type -> None."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capic.runtime.paths import get1, get_keys, get_path, step

EVENT: dict[str, Any] = {
    "xdm": {
        "identityMap": {"Email": [{"id": "a@example.com"}, {"id": "b@example.com"}]},
        "count": 0,
        "flag": False,
        "empty": "",
        "nothing": None,
    },
    "list": [1, 2, 3],
}


class Headers(Mapping[str, Any]):
    """A framework-style mapping (not a dict)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def test_fields_and_indexes() -> None:
    assert get_keys(EVENT, ("xdm", "count")) == 0
    assert get_keys(EVENT, ("xdm", "flag")) is False
    assert get_keys(EVENT, ("xdm", "empty")) == ""
    assert get_path(EVENT, ("xdm", "identityMap", "Email", 0, "id")) == "a@example.com"
    assert get_path(EVENT, ("xdm", "identityMap", "Email", -1, "id")) == "b@example.com"
    assert get1(EVENT, "list") == [1, 2, 3]


@pytest.mark.parametrize(
    "segments",
    [
        ("missing",),
        ("xdm", "missing", "deeper"),
        ("xdm", "identityMap", "Email", 5, "id"),  # out of range
        ("xdm", "identityMap", "Email", -3),  # out of range from the end
        ("xdm", "identityMap", "Email", "id"),  # a field of a list
        ("list", "0"),  # a string key into a list
        ("xdm", 0),  # an index into an object
        ("xdm", "empty", 0),  # into a string
        ("xdm", "count", "x"),  # into a number
        ("xdm", "nothing", "x"),  # through null
        ("list", True),  # a bool is not an index
        ("list", None),
        ("list", 1.5),
        ("list", [0]),
    ],
)
def test_impossible_steps_give_none(segments: tuple[Any, ...]) -> None:
    assert get_path(EVENT, segments) is None


def test_integral_float_index() -> None:
    assert get_path(EVENT, ("list", 1.0)) == 2


def test_roots_of_any_type() -> None:
    for root in (None, 1, "text", [1], True, 1.5):
        assert get1(root, "a") is None
        assert get_keys(root, ("a", "b")) is None
    assert step(None, 0) is None


def test_foreign_mappings() -> None:
    request = {"headers": Headers({"user-agent": "UA"})}
    assert get_keys(request, ("headers", "user-agent")) == "UA"
    assert get_keys(request, ("headers", "missing")) is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=10,
)
segments = st.lists(
    st.one_of(st.text(max_size=3), st.integers(-5, 5), st.none(), st.booleans(), st.floats()),
    max_size=5,
)


@settings(max_examples=150, deadline=None)
@given(json_values, segments)
def test_never_raises(value: Any, path: list[Any]) -> None:
    get_path(value, tuple(path))


@pytest.mark.parametrize(
    "root",
    [
        {"a": {"b": {"c": 1}}},
        {"a": {"b": {"c": None}}},
        {"a": {"b": 5}},
        {"a": {"b": Headers({"c": "x"})}},
        {"a": Headers({"b": "y"})},
        {"a": None},
        {"a": [1]},
        Headers({"a": {"b": {"c": 2}}}),
        None,
        [1, 2],
        "abc",
    ],
)
def test_unrolled_paths_agree_with_the_loop(root: Any) -> None:
    from capic.runtime.paths import get2, get3

    assert get2(root, "a", "b") == get_keys(root, ("a", "b"))
    assert get3(root, "a", "b", "c") == get_keys(root, ("a", "b", "c"))
