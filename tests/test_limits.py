"""The front end's limits (S030-S033, R030): a diagnostic with file, line, column and code for
input beyond them, and every later stage (parse cache, resolver, linter, code generator,
Python's compiler) safe for input within them.

The inputs are the ones that crashed capic before the limits existed: nested calls and lists
(the parse cache), 1,000 `not`s (resolver, linter, code generator), 200 nested `not`s or a flat
sum of 200 terms (checked clean, then refused by Python when the bundle ran), numbers beyond
what JSON encoders take, and long chains of elements.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from capic import api, limits
from capic.cli import cli

PIXEL = 'pixel shop {\n  id = "1234567890123456"\n  access_token = env("T")\n}\n'
ENVS = "environment production {}\n"


def rule(cond: str, field: str = '"https://shop.example.com/"') -> str:
    return (
        'rule "r" {\n'
        f"  when {cond}\n"
        "  send Lead to shop {\n"
        "    event_time = parse_time(event.time)\n"
        '    action_source = "website"\n'
        f"    event_source_url = {field}\n"
        "    user {\n      client_ip_address = request.ip\n      client_user_agent = event.ua\n    }\n"
        "  }\n"
        "}\n"
    )


def project(root: Path, body: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "capic.toml").write_text('[project]\nname = "p"\n', encoding="utf-8")
    (root / "pixels.capi").write_text(PIXEL + ENVS, encoding="utf-8")
    (root / "r.capi").write_text(body, encoding="utf-8")
    return root


def check_json(root: Path, *extra: str) -> tuple[int, list[dict[str, object]]]:
    result = CliRunner().invoke(cli, ["check", str(root), "--output-format", "json", *extra])
    assert "Traceback" not in result.output and "internal error" not in result.output
    return result.exit_code, json.loads(result.stdout)


def codes(root: Path) -> list[tuple[str, int, int]]:
    """(code, row, column) of the errors, checked twice: the second run reads the parse cache."""
    first = check_json(root)
    second = check_json(root)
    assert first == second
    return [
        (str(d["code"]), d["location"]["row"], d["location"]["column"])  # type: ignore[index]
        for d in first[1]
        if d["severity"] == "error"
    ]


def nested(opening: str, inner: str, closing: str, n: int) -> str:
    return opening * n + inner + closing * n


# ----------------------------------------------------------------------------- beyond the limits


@pytest.mark.parametrize(
    ("name", "body", "where"),
    [
        ("calls", "element e = " + nested("lower(", "event.a", ")", 90) + "\n", (1, 13)),
        ("lists", "element e = " + nested("[", "1", "]", 90) + "\n", (1, 13)),
        ("not1000", "element e = " + "not " * 1000 + "event.a\n", (1, 13)),
        ("not200", rule("not " * 200 + "event.a"), (2, 8)),
        ("sum200", rule(" + ".join(["event.n"] * 200) + " > 1"), (2, 8)),
        ("objects", "element e = " + nested('{"k": ', "1", "}", 40) + "\n", (1, 13)),
        ("parens", "element e = " + nested("(", "event.a", ")", 3000) + "\n", (1, 13)),
    ],
)
def test_deep_nesting_is_s030_at_its_position(
    tmp_path: Path, name: str, body: str, where: tuple[int, int]
) -> None:
    root = project(tmp_path / name, body)
    found = codes(root)
    assert len(found) == 1
    code, row, column = found[0]
    assert code == "S030"
    # The node at the first level beyond the limit: on the declaration's line, at or after
    # the start of the expression.
    assert row == where[0] and column >= where[1]


def test_s030_names_file_line_and_column_in_the_text_output(tmp_path: Path) -> None:
    root = project(tmp_path / "p", "# comment\n\nelement e = " + "not " * 100 + "event.a\n")
    result = CliRunner().invoke(cli, ["check", str(root), "--output-format", "concise"])
    assert result.exit_code == 1
    line = next(x for x in result.output.splitlines() if "S030" in x)
    assert line.split(": ")[0].endswith("r.capi:3:" + line.split(":")[2])
    assert int(line.split(":")[2]) > 12  # inside the expression, past `element e = `


def test_deep_parentheses_are_s030_for_fmt_too(tmp_path: Path) -> None:
    # Parentheses leave no node in the syntax tree; the formatter's tree recursed on them.
    root = project(tmp_path / "p", rule(nested("(", "event.a", ")", 3000) + ' == "a"'))
    result = CliRunner().invoke(cli, ["fmt", "--check", str(root / "r.capi")])
    assert result.exit_code == 2 and not isinstance(result.exception, RecursionError)
    assert "r.capi:2:" in result.output and "S030 nested more than 64 levels deep" in result.output
    within = rule(nested("(", "event.a", ")", 64) + ' == "a"')
    result = CliRunner().invoke(cli, ["fmt", "-"], input=within)
    assert result.exit_code == 0 and "((event.a))" in result.stdout, result.output


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("element x = 1" + "0" * 5000, "S032"),  # int() refuses more than 4,300 digits
        ("element x = 123456789012345678901234567890", "S032"),
        ("element x = 9223372036854775808", "S032"),
        ("element x = 1e999", "S032"),
        ('element x = "' + "x" * 200_000 + '"', "S031"),
        ("element x = event.a matches /" + "a" * 20_000 + "/", "S031"),
        ("element " + "n" * 20_000 + " = 1", "S031"),
    ],
)
def test_literals_beyond_the_limits(tmp_path: Path, text: str, code: str) -> None:
    root = project(tmp_path / "p", text + "\n")
    assert [c for c, _, _ in codes(root)] == [code]


def test_numbers_at_the_edges_of_the_range_are_fine(tmp_path: Path) -> None:
    body = (
        "element big = 9223372036854775807\nelement small = -9223372036854775808\n"
        "element f = 1.7e308\n"
    )
    root = project(tmp_path / "p", body)
    assert codes(root) == []


def test_a_huge_declaration_is_s033(tmp_path: Path) -> None:
    items = ", ".join(["1"] * (limits.MAX_NODES + 10))
    root = project(tmp_path / "p", f"element e = [{items}]\n")
    assert [c for c, _, _ in codes(root)] == ["S033"]


def test_a_long_chain_of_elements_is_r030_and_never_a_recursion_error(tmp_path: Path) -> None:
    chain = "element e0 = event.a\n" + "".join(
        f"element e{i} = e{i - 1}.x\n" for i in range(1, 5000)
    )
    root = project(tmp_path / "p", chain + rule("e4999 == 1"))
    found = codes(root)
    assert found and {c for c, _, _ in found} == {"R030"}


def test_r030_points_at_the_element_reference(tmp_path: Path) -> None:
    chain = "element e0 = event.a\n" + "".join(
        f"element e{i} = not e{i - 1}\n" for i in range(1, 40)
    )
    root = project(tmp_path / "p", chain)
    found = codes(root)
    # e_i is 2 + 2i levels deep once expanded: e32 is the first beyond 64.
    assert found[0][:2] == ("R030", 33)  # e32 is on line 33
    assert found[0][2] == len("element e32 = not ") + 1


# ----------------------------------------------------------------------------- within the limits


def _build_and_run(root: Path, event: dict[str, object]) -> list[object]:
    result = api.load_project(root)
    assert result.ok, [d.message for d in result.diagnostics]
    assert result.project is not None
    source = api.compile_project(result.project, "production")
    compile(source, "rules.py", "exec")
    module = api.load_compiled(source)
    return list(module.process(event, {"ip": "203.0.113.7"}))


@pytest.mark.parametrize(
    "condition",
    [
        "not " * 55 + "event.flag",  # the most `not`s a rule condition can hold
        " + ".join(["event.n"] * 55) + " > 1",
        nested("lower(", "event.s", ")", 55) + ' == "x"',
        "(" + " ?? ".join(["event.s"] * 55) + ') == "x"',
        nested("[", "event.s", "]", 54) + " == []",
    ],
)
def test_the_deepest_accepted_conditions_compile_and_run(tmp_path: Path, condition: str) -> None:
    root = project(tmp_path / "p", rule(condition))
    assert codes(root) == []
    _build_and_run(root, {"flag": False, "n": 1, "s": "X", "time": 1, "ua": "u"})


def test_the_deepest_accepted_chain_of_elements_compiles(tmp_path: Path) -> None:
    # e_i is 2 + 2i levels deep once expanded, so e31 (64 levels) is the last accepted.
    chain = "element e0 = event.flag\n" + "".join(
        f"element e{i} = not e{i - 1}\n" for i in range(1, 32)
    )
    root = project(tmp_path / "p", chain + rule("e30"))
    assert codes(root) == []
    _build_and_run(root, {"flag": True, "time": 1, "ua": "u"})


def test_parse_cache_round_trips_the_deepest_accepted_tree(tmp_path: Path) -> None:
    body = "element e = " + nested("[", "1", "]", 62) + "\n"
    root = project(tmp_path / "p", body)
    assert codes(root) == []
    assert list((root / ".capic_cache" / "parse").rglob("*"))
    cached = api.load_project(root)
    fresh = api.load_project(root, use_cache=False)
    assert cached.project is not None and fresh.project is not None
    assert cached.project.to_json() == fresh.project.to_json()


def test_parse_cache_skips_a_tree_its_encoder_cannot_nest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should a construct ever nest deeper JSON per level than the limit allows for, the file
    is parsed without a cache entry instead of failing."""
    monkeypatch.setattr(limits, "MAX_DEPTH", 400)
    root = project(tmp_path / "p", "element e = " + nested("[", "1", "]", 150) + "\n")
    result = api.load_project(root)
    assert result.project is not None and "e" in result.project.elements
    entries = [p for p in (root / ".capic_cache" / "parse").rglob("*") if p.is_file()]
    assert len(entries) == 1  # pixels.capi only


def test_did_you_mean_is_bounded_for_long_text(tmp_path: Path) -> None:
    """A literal of the longest accepted length in three places that look for a near miss
    (an enum value, a currency, an environment name) is checked at once: suggestions are not
    searched for text far longer than every candidate."""
    import time

    from capic.meta import catalog
    from capic.model.resolve import suggest

    long = "x" * limits.MAX_TEXT
    assert catalog.suggest(long, catalog.currencies()) is None
    assert suggest(long, ["development", "production"]) is None
    assert catalog.suggest("usd", catalog.currencies()) == "USD"
    body = (
        'rule "r" {\n  send Purchase to shop {\n    event_time = 1\n'
        f'    action_source = "{long}"\n'
        f'    custom {{\n      currency = "{long}"\n      value = 1\n    }}\n  }}\n}}\n'
        f'test "t" {{\n  environment = "{long}"\n  event = {{}}\n  expect nothing\n}}\n'
    )
    root = project(tmp_path / "p", body)
    started = time.perf_counter()
    found = {c for c, _, _ in codes(root)}
    assert {"L001", "L002", "R013"} <= found
    # Seconds before the bound (6 s for 200,000 characters); generous for a loaded machine.
    assert time.perf_counter() - started < 20


# ----------------------------------------------------------------------------- file size (S034)


def test_a_file_beyond_the_size_limit_is_s034_and_not_parsed(tmp_path: Path) -> None:
    """Found by the fuzzer: a 14 MB file with one long string took 16 s and 4.5 GB to check
    (every finding printed its whole line). Now the file is refused before it is lexed."""
    body = 'element x = "' + "\\u00e9" * (limits.MAX_FILE_BYTES // 6 + 10) + '"\n'
    root = project(tmp_path / "p", body)
    assert (root / "r.capi").stat().st_size > limits.MAX_FILE_BYTES
    assert codes(root) == [("S034", 1, 1)]
    result = CliRunner().invoke(cli, ["check", str(root)])
    assert "r.capi:1:1" in result.output
    assert len(result.output) < 2_000  # one frame of the first line, not megabytes


def test_a_file_at_the_size_limit_is_parsed(tmp_path: Path) -> None:
    comment = "# " + "c" * 100 + "\n"
    body = comment * (limits.MAX_FILE_BYTES // len(comment))
    root = project(tmp_path / "p", body)
    assert (root / "r.capi").stat().st_size <= limits.MAX_FILE_BYTES
    assert codes(root) == []


def test_fmt_refuses_a_file_beyond_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.capi"
    path.write_text("# " + "c" * limits.MAX_FILE_BYTES + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["fmt", "--check", str(path)])
    assert result.exit_code == 2
    assert "S034" in result.output
    assert "Traceback" not in result.output


def test_a_long_line_is_clipped_in_the_code_frame(tmp_path: Path) -> None:
    """A finding on a minified or generated line shows a window around its column."""
    root = project(tmp_path / "p", 'element a = "' + "x" * 20_000 + '"  element b = zz\n')
    result = CliRunner().invoke(cli, ["check", str(root)])
    assert result.exit_code == 1
    assert "S031" in result.output
    assert max(len(line) for line in result.output.splitlines()) < 300
    frame = [line for line in result.output.splitlines() if line.lstrip().startswith("1 | ")]
    assert frame and all("..." in line for line in frame)
