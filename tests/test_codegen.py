"""Code generation: golden modules, determinism, module API, environments, laziness."""

from __future__ import annotations

import ast
import hashlib
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from click.testing import CliRunner

from capic import DSL_VERSION, __version__, api
from capic.cli import cli
from capic.codegen import CodegenError, generate, resolve_environment
from capic.runtime import Context
from capic.runtime.secrets import SecretRef
from tests.conftest import REPO, SAMPLES, assert_golden

GOLDEN = REPO / "tests" / "golden" / "codegen"
STOREFRONT = SAMPLES / "storefront"
ENVIRONMENTS = ("development", "staging", "production")


def storefront_source(env: str | None) -> str:
    result = api.load_project(STOREFRONT, use_cache=False)
    assert result.ok and result.project is not None
    return api.compile_project(result.project, env)


def project_of(text: str, path: str = "rules.capi") -> Any:
    result = api.parse(text, path)
    assert result.ok, [d.message for d in result.diagnostics]
    return result.project


def compile_text(text: str, env: str | None = None) -> ModuleType:
    return api.load_compiled(api.compile_project(project_of(text), env))


def ctx(**kwargs: Any) -> Context:
    return Context(now=lambda: 1772550245.0, **kwargs)


PIXEL = 'pixel p { id = "1" access_token = env("T") }\n'
SEND_BASICS = """
    event_time = 1772550245
    action_source = "website"
    event_source_url = "https://shop.example.com/"
"""
USER = 'user { em = "a@b.co" client_user_agent = "UA" }'


# ----------------------------------------------------------------------------- storefront


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_storefront_golden(env: str) -> None:
    assert_golden(GOLDEN / f"storefront-{env}.py", storefront_source(env))


def test_same_input_same_bytes(runner: CliRunner, tmp_path: Path) -> None:
    first = storefront_source("production")
    assert storefront_source("production") == first
    out = runner.invoke(cli, ["compile", str(STOREFRONT), "--env", "production"])
    assert out.exit_code == 0, out.output
    assert out.stdout == first
    target = tmp_path / "out" / "rules.py"
    written = runner.invoke(
        cli, ["compile", str(STOREFRONT), "--env", "production", "-o", str(target)]
    )
    assert written.exit_code == 0, written.output
    assert target.read_bytes() == first.encode("utf-8")


def test_default_environment_is_the_projects() -> None:
    assert storefront_source(None) == storefront_source("development")


def test_imports_only_the_runtime_and_the_standard_library() -> None:
    tree = ast.parse(storefront_source("development"))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.module is not None
            modules.add(node.module)
    allowed = {"__future__", "re"}
    assert all(m in allowed or m.startswith("capic.runtime") for m in modules), modules
    regex_module = generate(
        project_of(PIXEL + 'rule "r" { when event.a matches /x/ send Lead to p { } }')
    )
    assert "\nimport re\n" in regex_module


def test_header_names_versions_and_source_hashes() -> None:
    source = storefront_source("development")
    header = source.split('"""', 1)[0]
    assert f"capic {__version__}" in header
    assert f"DSL version {DSL_VERSION}" in header
    for path in sorted(STOREFRONT.rglob("*.capi")):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        rel = path.relative_to(STOREFRONT).as_posix()
        assert f"{digest}  {rel!r}" in header


def test_module_api() -> None:
    result = api.load_project(STOREFRONT, use_cache=False)
    assert result.project is not None
    for env in ENVIRONMENTS:
        module = api.load_compiled(api.compile_project(result.project, env))
        assert env == module.ENVIRONMENT
        assert module.PROJECT == "storefront"
        assert module.SETTINGS == {
            "default_country": "us",
            "dob_order": "mdy",
            "meta": {
                "physical_store_window_days": 7,
                "append_attribution_checks": True,
                "append_attribution_originals": ["Purchase", "fb_mobile_purchase"],
            },
        }
        assert [r["name"] for r in module.RULES] == [r.name for r in result.project.rules]
        purchase = next(r for r in module.RULES if r["name"] == "MetaConversion_Purchase")
        assert purchase == {
            "name": "MetaConversion_Purchase",
            "events": ["Purchase"],
            "pixels": ["shop"],
            "file": "rules/purchase.capi",
            "line": 3,
        }
        assert set(module.SOURCES) == {f.path for f in result.project.files}
        shop = module.PIXELS["shop"]
        assert shop["token"] == {"kind": "env", "name": "META_CAPI_TOKEN"}
        assert shop["api_version"] == "v25.0"
        assert shop["browser_pixel"] is True
    dev = api.load_compiled(api.compile_project(result.project, "development")).PIXELS["shop"]
    assert dev["id"] == "9876543210987654" and dev["test_event_code"] == "TEST12345"
    staging = api.load_compiled(api.compile_project(result.project, "staging")).PIXELS["shop"]
    assert staging["test_event_code"] == {"kind": "env", "name": "CAPI_TEST_EVENT_CODE"}
    prod = api.load_compiled(api.compile_project(result.project, "production")).PIXELS["shop"]
    assert prod["id"] == "1234567890123456" and prod["test_event_code"] is None


# ----------------------------------------------------------------------------- environments

ENV_PROJECT = """
pixel a { id = "111" access_token = env("TA") test_event_code = "PIXEL" api_version = "v24.0" }
pixel b { id = "222" access_token = "EAAliteralTOKENvalue" }
pixel c { id = env("C_ID") access_token = secret("c_token") test_event_code = "PIXEL" }
environment plain { }
environment block { test_event_code = "ENV" }
environment override {
  test_event_code = "ENV"
  pixel a { test_event_code = "OVERRIDE" id = "333" api_version = "v26.0" browser_pixel = true }
  pixel c { test_event_code = null }
}
rule "r" {
  send Lead to a { test_event_code = "SEND" }
  send Lead to b { }
  send Lead to c { }
}
"""


def test_environment_precedence() -> None:
    project = project_of(ENV_PROJECT)
    plain = resolve_environment(project, "plain").pixels
    assert plain["a"].test_event_code == "PIXEL"
    assert plain["b"].test_event_code is None
    assert plain["a"].api_version == "v24.0"
    assert plain["b"].api_version == project.config.api_version
    assert plain["c"].id == SecretRef.env("C_ID")
    assert plain["c"].token == SecretRef.secret("c_token")
    block = resolve_environment(project, "block").pixels
    assert block["a"].test_event_code == "ENV"  # the environment block beats the pixel
    assert block["b"].test_event_code == "ENV"
    override = resolve_environment(project, "override").pixels
    assert override["a"].test_event_code == "OVERRIDE"
    assert override["a"].id == "333"
    assert override["a"].api_version == "v26.0"
    assert override["a"].browser_pixel is True
    assert override["b"].test_event_code == "ENV"
    assert override["c"].test_event_code is None  # null clears it
    none = resolve_environment(project, None)
    assert none.name is None and none.pixels["a"].test_event_code == "PIXEL"
    with pytest.raises(ValueError, match="unknown environment 'nope'"):
        resolve_environment(project, "nope")


def test_send_test_event_code_wins_and_literal_tokens_are_withheld() -> None:
    source = api.compile_project(project_of(ENV_PROJECT), "override")
    assert "EAAliteralTOKENvalue" not in source
    module = api.load_compiled(source)
    assert module.PIXELS["b"]["token"] == {"kind": "literal"}
    out = module.process({}, context=ctx(validate=False))
    assert [(e.pixel, e.test_event_code) for e in out] == [("a", "SEND"), ("b", None), ("c", None)]
    assert all("test_event_code" not in e.event for e in out)


def test_refusals(runner: CliRunner, tmp_path: Path) -> None:
    with pytest.raises(CodegenError, match="unknown environment"):
        generate(project_of(ENV_PROJECT), "nope")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "capic.toml").write_text('[project]\nname = "bad"\n')
    (bad / "r.capi").write_text('rule "r" { send Lead to nowhere { } }\n')
    out = runner.invoke(cli, ["compile", str(bad)])
    assert out.exit_code == 1
    assert "R001" in out.stderr and "not compiled" in out.stderr
    assert out.stdout == ""
    out = runner.invoke(cli, ["compile", str(STOREFRONT), "--env", "nope"])
    assert out.exit_code == 2 and "unknown environment" in out.stderr


# ----------------------------------------------------------------------------- evaluation


class Tracked(dict[str, Any]):
    """A dict that counts reads (generated code reads non-dict mappings through .get)."""

    reads: Counter[str]

    def get(self, key: str, default: Any = None) -> Any:
        self.reads[key] += 1
        return super().get(key, default)


SHARED = (
    PIXEL
    + """
element shared = lower(event.tracked.value)
element private = upper(event.tracked.other)
element many = concat(event.tracked.many, "!")
"""
    + "\n".join(
        f"""
rule "r{i}" {{
  when event.kind == "k{i}" or event.kind == "all"
  send Lead to p {{
{SEND_BASICS}
    event_id = shared
    custom {{ a = shared  b = {"private" if i == 0 else "1"}  c = many  d = many }}
    {USER}
  }}
}}
"""
        for i in range(3)
    )
)


def tracked() -> Tracked:
    t = Tracked(value="V", other="o", many="m")
    t.reads = Counter()
    return t


def test_shared_elements_are_evaluated_once_and_lazily() -> None:
    module = compile_text(SHARED)
    t = tracked()
    out = module.process({"kind": "all", "tracked": t}, context=ctx())
    assert len(out) == 3
    assert t.reads == Counter({"value": 1, "other": 1, "many": 1})
    assert out[0].event["custom_data"] == {"a": "v", "b": "O", "c": "m!", "d": "m!"}
    t = tracked()
    module.process({"kind": "k1", "tracked": t}, context=ctx())
    assert t.reads == Counter({"value": 1, "many": 1})
    t = tracked()
    assert module.process({"kind": "none", "tracked": t}, context=ctx()) == []
    assert t.reads == Counter()


def test_now_and_uuid_are_stable_within_an_event() -> None:
    ids = iter(["first", "second"])
    module = compile_text(
        PIXEL
        + """
rule "r" {
  send Lead to p { event_id = uuid() event_time = now() action_source = "website" }
  send Contact to p { event_id = uuid() event_time = now() custom { id = uuid() } }
}
"""
    )
    clock = iter([100.5, 200.5])
    context = Context(now=lambda: next(clock), uuid=lambda: next(ids), validate=False)
    first, second = module.process({}, context=context)
    assert first.event["event_id"] == second.event["event_id"] == "first"
    assert second.event["custom_data"] == {"id": "first"}
    assert first.event["event_time"] == second.event["event_time"] == 100
    [again, _] = module.process({}, context=context)
    assert again.event["event_id"] == "second" and again.event["event_time"] == 200


def test_constants_are_folded_and_regexes_compiled_once() -> None:
    source = generate(
        project_of(
            PIXEL
            + """
element price = round(number("12.555"), 2)
element tag = concat(lower("A"), "-", string(1.0))
element always = lower("X") == "x" and len(["a", "b"]) == 2
rule "r" {
  when always and event.a matches /^ab+c$/i and event.b matches /^ab+c$/i
  send Lead to p { custom { price = price tag = tag n = -price x = sha256("x") } }
}
rule "s" { when event.c matches /\\d+/ send Lead to p { } }
"""
        )
    )
    assert "12.56" in source and "'a-1'" in source and "(-12.56)" in source
    assert repr(hashlib.sha256(b"x").hexdigest()) in source
    assert "_f_round_" not in source and "_f_concat" not in source and "_f_sha256" not in source
    assert source.count("re.compile(") == 2
    assert "re.IGNORECASE" in source
    module = api.load_compiled(source)
    out = module.process({"a": "ABBC", "b": "abc"}, context=ctx(validate=False))
    assert out[0].event["custom_data"]["price"] == 12.56
    assert module.process({"a": "abd", "b": "abc"}, context=ctx(validate=False)) == []


def test_comprehensions_and_coalescing() -> None:
    module = compile_text(
        PIXEL
        + """
element items = event.items ?? []
rule "r" {
  send Lead to p {
    custom {
      ids = [for i in event.items ?? event.fallback : i.id ?? "none"]
      nested = [for j in [for i in items ?? [] : i.q ?? 0] : j + 1]
      kept = [for i in items : i.id if i.q ?? 0 > 1]
      zero = event.zero ?? 5
      empty = event.empty ?? "x"
      empty_len = len(event.empty ?? "x")
    }
  }
}
"""
    )
    event = {"items": [{"id": "a", "q": 2}, {"q": 1}], "zero": 0, "empty": ""}
    [out] = module.process(event, context=ctx(validate=False))
    assert out.event["custom_data"] == {
        "ids": ["a", "none"],
        "nested": [3, 2],
        "kept": ["a"],
        "zero": 0,
        # `??` keeps "" (a value in expressions); the payload leaves the empty string out.
        "empty_len": 0,
    }
    [out] = module.process({"fallback": [{"id": "f"}]}, context=ctx(validate=False))
    assert out.event["custom_data"]["ids"] == ["f"]


def test_python_keywords_as_names() -> None:
    module = compile_text(
        PIXEL
        + """
element class = event.x
element lambda = lower(class)
element None = upper(lambda)
rule "r" { send Lead to p { custom { a = [for def in [None, lambda] : def] } } }
"""
    )
    [out] = module.process({"x": "Q"}, context=ctx(validate=False))
    assert out.event["custom_data"] == {"a": ["Q", "q"]}


def test_app_extinfo_is_the_list() -> None:
    module = compile_text(
        PIXEL
        + """
rule "r" {
  send Purchase to p {
    app {
      advertiser_tracking_enabled = event.att
      application_tracking_enabled = event.apt
      extinfo { version = "i2" os_version = event.os }
    }
  }
}
"""
    )
    [out] = module.process({"os": "17.1", "att": False, "apt": "yes"}, context=ctx(validate=False))
    assert out.event["app_data"]["advertiser_tracking_enabled"] == 0
    assert out.event["app_data"]["application_tracking_enabled"] == 1
    extinfo = out.event["app_data"]["extinfo"]
    assert len(extinfo) == 16 and extinfo[0] == "i2" and extinfo[4] == "17.1"
