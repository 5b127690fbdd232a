"""Completion contexts of the language server (the pure function behind the handler; the
end-to-end path is in test_lsp.py)."""

from __future__ import annotations

import pytest

from capic import api
from capic.lsp.complete import completions
from tests.conftest import SAMPLES


@pytest.fixture(scope="module")
def project() -> api.LoadResult:
    return api.load_project(SAMPLES / "storefront")


@pytest.mark.parametrize(
    ("before", "expected"),
    [
        ("", {"pixel", "element", "shared", "rule", "environment", "test", "serve"}),
        ('rule "x" {\n  ', {"when", "send"}),
        ('rule "x" {\n  send Pur', {"Purchase"}),
        ('rule "x" {\n  send Purchase to ', {"shop"}),
        ('rule "x" {\n  send Purchase to shop {\n    user {\n      ex', {"external_id"}),
        ('rule "x" {\n  send Lead to shop {\n    custom {\n      cur', {"currency"}),
        (
            'rule "x" {\n  send Lead to shop {\n    app {\n      extinfo {\n        os_',
            {"os_version"},
        ),
        ('rule "x" {\n  send Lead to shop {\n    event_id = up', {"upper"}),
        ('rule "x" {\n  when ord', {"order"}),
        ("element a = [for p in products : p.x if exi", {"exists"}),
        ("shared user customer {\n  ex", {"external_id"}),
        ("shared send base {\n  act", {"action_source"}),
        ("pixel p {\n  acc", {"access_token"}),
        ("environment prod {\n  ", {"test_event_code", "pixel"}),
        ('test "t" {\n  expect "r" sends Pur', {"Purchase"}),
        (
            "# a comment with send ",
            {"pixel", "element", "shared", "rule", "environment", "test", "serve"},
        ),
    ],
)
def test_completion_contexts(project: api.LoadResult, before: str, expected: set[str]) -> None:
    assert project.project is not None
    labels = {item.label for item in completions(before, project.project)}
    assert labels == expected


def test_function_completions_carry_signatures(project: api.LoadResult) -> None:
    items = {i.label: i for i in completions("element a = parse_", project.project)}
    assert items["parse_time"].detail == "parse_time(arg1, arg2?) -> number"
    assert items["parse_time"].documentation
