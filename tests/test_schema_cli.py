"""`capic schema`: list the schemas, print one, and fail cleanly on an unknown name."""

from __future__ import annotations

import json

from click.testing import CliRunner

from capic.cli import cli
from capic.resources import load_schema, schema_names


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["schema", *args])
    return result.exit_code, result.stdout, result.stderr


def test_lists_every_schema_with_its_title() -> None:
    code, out, err = run()
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == schema_names()
    for line in lines:
        name = line.split()[0]
        assert line.endswith(load_schema(name)["title"])


def test_list_flag_gives_the_same_listing() -> None:
    assert run("--list") == run()


def test_prints_one_schema_as_sorted_pretty_json() -> None:
    code, out, err = run("server_event")
    assert (code, err) == (0, "")
    assert json.loads(out) == load_schema("server_event")
    expected = json.dumps(load_schema("server_event"), indent=2, sort_keys=True, ensure_ascii=False)
    assert out == expected + "\n"
    assert out.startswith('{\n  "$id": ')


def test_accepts_the_file_name() -> None:
    code, out, _ = run("user_data.schema.json")
    assert code == 0
    assert json.loads(out)["$id"].endswith("/user_data.schema.json")


def test_unknown_name_is_one_line_with_a_suggestion_and_exit_2() -> None:
    code, out, err = run("server_evnt")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "unknown schema 'server_evnt'" in err
    assert "did you mean 'server_event'?" in err


def test_unknown_name_without_a_close_match() -> None:
    code, _, err = run("zzz")
    assert code == 2
    assert "unknown schema 'zzz'" in err
    assert "did you mean" not in err


def test_name_and_list_together_is_a_usage_error() -> None:
    code, out, _ = run("config", "--list")
    assert code == 2
    assert out == ""


def test_schema_is_in_the_top_level_help() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "schema" in result.stdout
