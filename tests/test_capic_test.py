"""`capic test`: running test blocks, pass/fail output (golden), JUnit, selection, load errors.

The projects are written into a temporary directory and the commands run from inside it, so
that the paths in the output (and in the golden files) are project-relative.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from capic import api
from capic.cli import cli
from capic.runtime.hashing import sha256_hex
from capic.testing import DEFAULT_NOW, TEST_UUID, run
from tests.conftest import REPO, SAMPLES, assert_golden

GOLDEN = REPO / "tests" / "golden" / "testrunner"

CONFIG = """\
[project]
name = "runner-fixture"
default_environment = "development"
default_country = "US"
"""

RULES = """\
pixel shop {
  id           = "1234567890123456"
  access_token = env("META_CAPI_TOKEN")
}

environment development {
  test_event_code = "TEST123"
}

environment production {
}

element page = event.page ?? "https://shop.example.com/"

rule "Purchase" {
  when event.type == "purchase"

  send Purchase to shop {
    event_id         = event.order.id ?? uuid()
    event_time       = parse_time(event.time) ?? now()
    action_source    = "website"
    event_source_url = page
    user {
      em                = event.email
      ph                = event.phone
      client_ip_address = request.ip
      client_user_agent = request.headers["user-agent"]
    }
    custom {
      currency = upper(event.order.currency)
      value    = number(event.order.total)
      contents = [for i in event.order.items : {id = i.sku, quantity = i.qty ?? 1}]
    }
  }
}

rule "Lead" {
  when event.type == "lead"

  send Lead to shop {
    event_id         = event.id
    event_time       = now()
    action_source    = "website"
    event_source_url = page
    user {
      em                = event.email
      client_user_agent = request.headers["user-agent"]
    }
  }
}
"""

REQUEST = '{"ip": "203.0.113.7", "headers": {"user-agent": "Mozilla/5.0"}}'

PASSING = f"""\
test "purchase: exact values, hashed, absent and any" {{
  now     = "2026-01-01T00:00:10Z"
  event   = {{
    "type": "purchase", "time": "2026-01-01T00:00:00Z", "email": " Ada@Example.COM ",
    "phone": "(650) 555-1212",
    "order": {{"id": "o-1", "currency": "eur", "total": "42.50", "items": [{{"sku": "A", "qty": 2}}, {{"sku": "B"}}]}}
  }}
  request = {REQUEST}

  expect "Purchase" sends Purchase to shop {{
    event_id         = "o-1"
    event_time       = 1767225600
    action_source    = "website"
    event_source_url = "https://shop.example.com/"
    user {{
      em                = hashed("ada@example.com")
      ph                = hashed("+1 650 555 1212")
      client_ip_address = any
    }}
    custom {{
      currency = "EUR"
      value    = 42.5
      contents = [{{id = "A", quantity = 2}}, {{"id": "B", "quantity": 1.0}}]
    }}
  }}
  expect "Lead" sends nothing
}}

test "uuid() and now() are fixed in a test" {{
  event   = {{"type": "purchase", "order": {{"currency": "USD", "total": 1}}, "email": "a@b.co"}}
  request = {REQUEST}

  expect "Purchase" sends Purchase to shop {{
    event_id   = "{TEST_UUID}"
    event_time = {DEFAULT_NOW}
  }}
}}

test "production: nothing for an unknown type" {{
  environment = "production"
  event       = {{"type": "other"}}

  expect nothing
}}
"""

FAILING = f"""\
test "field mismatches" {{
  now     = 1767225610
  event   = {{
    "type": "purchase", "time": 1767225600, "email": "ada@example.com",
    "order": {{"id": "o-2", "currency": "USD", "total": 10, "items": [{{"sku": "A"}}]}}
  }}
  request = {REQUEST}

  expect "Purchase" sends Purchase to shop {{
    event_id = "o-3"
    user {{
      em                = hashed("grace@example.com")
      ph                = any
      client_ip_address = absent
    }}
    custom {{
      value    = 10.5
      contents = [{{id = "A", quantity = 1}}, {{id = "B", quantity = 1}}]
    }}
  }}
}}

test "an invalid raw value in hashed()" {{
  event   = {{"type": "lead", "id": "l-1", "email": "ada@example.com"}}
  request = {REQUEST}

  expect "Lead" sends Lead to shop {{
    user {{
      em = hashed("not an e-mail")
    }}
  }}
}}

test "the rule sends nothing" {{
  event = {{"type": "lead-ish"}}

  expect "Lead" sends Lead to shop {{
    event_id = "l-1"
  }}
}}

test "the rule sends something else" {{
  event   = {{"type": "lead", "id": "l-2", "email": "ada@example.com"}}
  request = {REQUEST}

  expect "Lead" sends Purchase to shop {{
    event_id = "l-2"
  }}
}}

test "an unexpected event" {{
  event   = {{"type": "lead", "id": "l-3", "email": "ada@example.com"}}
  request = {REQUEST}

  expect "Lead" sends nothing
  expect nothing
}}

test "rejected by validation: the event is too old for the clock" {{
  now     = "2026-03-01T00:00:00Z"
  event   = {{"type": "purchase", "time": "2026-01-01T00:00:00Z", "email": "a@b.co", "order": {{"currency": "USD", "total": 1}}}}
  request = {REQUEST}

  expect "Purchase" sends Purchase to shop {{
    custom {{
      value = 1
    }}
  }}
}}

test "a passing test among failures" {{
  event   = {{"type": "lead", "id": "l-4", "email": "ada@example.com"}}
  request = {REQUEST}

  expect "Lead" sends Lead to shop {{
    event_id = "l-4"
    user {{
      em = hashed("ADA@example.com")
    }}
  }}
}}
"""


def make_project(root: Path, tests: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "capic.toml").write_text(CONFIG, encoding="utf-8")
    (root / "rules.capi").write_text(RULES, encoding="utf-8")
    (root / "tests.capi").write_text(tests, encoding="utf-8")
    return root


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["test", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def passing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return make_project(tmp_path / "shop", PASSING)


@pytest.fixture
def failing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return make_project(tmp_path / "shop", FAILING)


def test_passing_project_exits_0(passing: Path) -> None:
    code, out, err = invoke("shop")
    assert code == 0, out + err
    assert out.endswith("\n3 passed, 0 failed\n")
    assert out.count("PASS") == 3
    assert "[production]" in out  # a test in another environment is marked
    assert err == ""
    assert_golden(GOLDEN / "passing.txt", out)


def test_failure_output_golden(failing: Path) -> None:
    code, out, err = invoke("shop")
    assert code == 1
    assert err == ""
    assert out.endswith("1 passed, 6 failed\n")
    assert_golden(GOLDEN / "failures.txt", out)


def test_failure_output_shows_expected_and_actual_per_field(failing: Path) -> None:
    _, out, _ = invoke("shop")
    block = out.split("FAIL  shop/tests.capi:1  field mismatches\n")[1].split("\nFAIL")[0]
    assert 'event_id\n          expected: "o-3"\n          actual:   "o-2"' in block
    digest = sha256_hex("grace@example.com")
    assert f'expected: hashed("grace@example.com") = {digest}' in block
    assert f'actual:   "{sha256_hex("ada@example.com")}"' in block
    assert "user_data.ph\n          expected: any (a value)\n          actual:   absent" in block
    assert (
        'user_data.client_ip_address\n          expected: absent\n          actual:   "203.0.113.7"'
        in block
    )
    assert "expected 2 items, got 1" in block
    assert "rejected by validation (Purchase to shop: event_time older than 7 days)" in out
    assert "the rule sent nothing (its condition was false for this event)" in out
    assert 'it sent something else: "Lead" sent Lead to shop' in out
    assert "(not a valid em: it normalizes to nothing)" in out


def test_junit_golden(failing: Path, tmp_path: Path) -> None:
    code, out, _ = invoke("shop", "--output-format", "junit")
    assert code == 1
    root = ET.fromstring(out)
    assert root.tag == "testsuites"
    assert root.get("tests") == "7"
    assert root.get("failures") == "6"
    assert root.get("errors") == "0"
    cases = root.findall("./testsuite/testcase")
    assert cases[0].get("name") == "field mismatches"
    assert all(c.get("file") == "shop/tests.capi" and c.get("line") for c in cases)
    failed = [c for c in cases if c.find("failure") is not None]
    assert len(failed) == 6
    stable = re.sub(r'time="[0-9.]+"', 'time="0.000"', out)
    assert_golden(GOLDEN / "failures.junit.xml", stable)


def test_output_file_gets_the_report_and_stderr_the_summary(passing: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.xml"
    code, out, err = invoke("shop", "--output-format", "junit", "-o", str(report))
    assert code == 0
    assert out == ""
    assert err == "3 passed, 0 failed\n"
    assert ET.parse(report).getroot().get("tests") == "3"


def test_select_with_k(passing: Path) -> None:
    code, out, _ = invoke("shop", "-k", "UUID")
    assert code == 0
    assert out.count("PASS") == 1
    assert out.endswith("1 passed, 0 failed\n")
    code, out, _ = invoke("shop", "-k", "production*type")
    assert (code, out.count("PASS")) == (0, 1)


def test_a_file_runs_the_tests_written_in_it(passing: Path) -> None:
    (passing / "more.capi").write_text(
        'test "another file" {\n  event = {"type": "x"}\n  expect nothing\n}\n', encoding="utf-8"
    )
    code, out, _ = invoke("shop/more.capi")
    assert code == 0
    assert out == "PASS  shop/more.capi:1  another file\n\n1 passed, 0 failed\n"
    code, out, _ = invoke("shop")
    assert out.endswith("4 passed, 0 failed\n")


def test_k_matching_nothing_is_a_usage_error(passing: Path) -> None:
    code, out, err = invoke("shop", "-k", "no such test")
    assert code == 2
    assert out == ""
    assert err == "capic test: no test matches 'no such test' (3 tests)\n"


def test_unknown_env_is_a_usage_error(passing: Path) -> None:
    code, _, err = invoke("shop", "--env", "prod")
    assert code == 2
    assert "unknown environment 'prod' (environments: development, production)" in err


def test_env_option_sets_the_environment_of_tests_naming_none(passing: Path) -> None:
    code, out, _ = invoke("shop", "--env", "production")
    assert code == 0
    assert "[production]" not in out  # production is the run's environment now
    assert "[development]" not in out


def test_front_end_errors_are_diagnostics_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    project = make_project(tmp_path / "shop", PASSING)
    (project / "rules.capi").write_text(
        RULES.replace('when event.type == "lead"', "when event.type = 1")
    )
    code, out, err = invoke("shop")
    assert code == 2
    assert out == ""
    assert "error[S011]" in err
    assert "--> shop/rules.capi:" in err
    assert "no test ran" in err
    assert "Traceback" not in err


def test_bad_now_and_computed_expectations_are_diagnostics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    make_project(
        tmp_path / "shop",
        """\
test "bad clock" {
  now   = "yesterday"
  event = {"type": "lead"}
  expect nothing
}

test "computed expectation" {
  event = {"type": "lead", "id": "x"}
  expect "Lead" sends Lead to shop {
    event_id = event.id
    user {
      em = hashed(event.email)
    }
  }
}
""",
    )
    code, out, err = invoke("shop")
    assert code == 2
    assert out == ""
    assert "error[R015]: `now` 'yesterday' is not an ISO-8601 time" in err
    assert "an expected value must be a literal, hashed(...), absent or any" in err
    assert "hashed() takes the raw value as a string (or number) literal" in err
    assert err.endswith(
        "Found 3 diagnostics: 3 errors.\ncapic test: the project has errors; no test ran\n"
    )


def test_missing_project_is_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = invoke("nowhere")
    assert code == 2
    assert "nowhere" in err
    assert "Traceback" not in err


def test_api_run_reports_results(passing: Path) -> None:
    outcome = run(api.load_project(passing))
    assert (outcome.passed, outcome.failed, outcome.exit_code) == (3, 0, 0)
    assert [r.environment for r in outcome.results] == ["development", "development", "production"]
    assert outcome.results[0].sent == ('"Purchase" sent Purchase to shop',)


@pytest.mark.parametrize(
    "sample", sorted(p.name for p in SAMPLES.iterdir() if (p / "capic.toml").is_file())
)
def test_samples_carry_passing_tests(sample: str) -> None:
    outcome = run(api.load_project(SAMPLES / sample))
    details = [
        (r.name, r.error, [(f.expectation, f.message, f.mismatches) for f in r.failures])
        for r in outcome.results
        if r.status != "passed"
    ]
    assert outcome.loaded, (outcome.diagnostics, outcome.problems)
    assert outcome.results, f"{sample} has no tests"
    assert outcome.failed == 0, details


def test_an_exception_in_the_rules_is_an_error_not_a_traceback(passing: Path) -> None:
    from types import SimpleNamespace

    from capic.testing.report import RENDERERS, RenderOptions
    from capic.testing.runner import ERROR, Runner
    from capic.testing.spec import SpecBuilder

    load = api.load_project(passing)
    assert load.project is not None
    spec = SpecBuilder(load.project.config).test(load.project.tests[0], "development")

    def process(event: object, request: object, *, context: object) -> list[object]:
        raise ZeroDivisionError("division by zero")

    result = Runner(load).run_one(spec, SimpleNamespace(process=process))  # type: ignore[arg-type]
    assert result.status == ERROR
    assert result.error == "the rules raised ZeroDivisionError: division by zero"
    outcome = run(load, pattern="uuid")
    outcome.results = [result]
    text = RENDERERS["text"](outcome, RenderOptions(str))
    assert "ERROR  tests.capi:1  purchase: exact values, hashed, absent and any\n" in text
    assert "      the rules raised ZeroDivisionError: division by zero\n" in text
    assert text.endswith("0 passed, 1 failed\n")
    junit = ET.fromstring(RENDERERS["junit"](outcome, RenderOptions(str)))
    assert junit.get("errors") == "1" and junit.get("failures") == "0"
    (case,) = junit.iter("testcase")
    error = case.find("error")
    assert error is not None and error.get("message") == result.error
