"""The `serve { }` block: resolved per environment into the rule module's SERVE constant;
wrong keys and types are front-end errors."""

from __future__ import annotations

from typing import Any

from capic import api

PIXEL = """
pixel shop {
  id           = "1234567890123456"
  access_token = env("META_CAPI_TOKEN")
}
rule "r" {
  send PageView to shop {
    event_id = event.id
  }
}
"""


def _serve_of(source: str, env: str | None) -> dict[str, Any]:
    result = api.parse(PIXEL + source, "site.capi")
    assert result.diagnostics == [], result.diagnostics
    assert result.project is not None
    module = api.load_compiled(api.compile_project(result.project, env))
    serve = module.SERVE
    assert isinstance(serve, dict)
    return serve


def test_defaults_without_a_block() -> None:
    serve = _serve_of("", None)
    assert serve == {
        "allowed_origins": [],
        "cookie_domain": None,
        "cookies": True,
        "ingest_tokens": [],
        "enhancement": False,
        "enhancement_ttl": 7 * 86400,
    }


def test_environment_block_overrides_keys_of_the_top_level_block() -> None:
    source = """
serve {
  allowed_origins = ["https://shop.example.com"]
  cookie_domain   = "example.com"
  ingest_tokens   = env("INGEST")
}
environment production {
  serve {
    ingest_tokens   = [env("INGEST"), secret("rotated")]
    enhancement     = true
    enhancement_ttl = "12h"
  }
}
environment development {
}
"""
    prod = _serve_of(source, "production")
    assert prod["allowed_origins"] == ["https://shop.example.com"]
    assert prod["cookie_domain"] == "example.com"
    assert prod["ingest_tokens"] == [
        {"kind": "env", "name": "INGEST"},
        {"kind": "secret", "name": "rotated"},
    ]
    assert prod["enhancement"] is True
    assert prod["enhancement_ttl"] == 12 * 3600
    dev = _serve_of(source, "development")
    assert dev["ingest_tokens"] == [{"kind": "env", "name": "INGEST"}]
    assert dev["enhancement"] is False


def test_a_literal_token_never_reaches_the_module() -> None:
    source = 'serve {\n  ingest_tokens = "s3cr3t-literal"\n}\n'
    result = api.parse(PIXEL + source, "site.capi")
    assert result.project is not None
    code = api.compile_project(result.project, None)
    assert "s3cr3t-literal" not in code
    assert api.load_compiled(code).SERVE["ingest_tokens"] == [{"kind": "literal"}]


def test_unknown_keys_wrong_types_and_duplicate_blocks_are_errors() -> None:
    source = """
serve {
  allowed_origin  = ["https://a.example"]
  cookies         = "yes"
  allowed_origins = "https://a.example"
  enhancement_ttl = "a week"
  ingest_tokens   = [1]
  nested { x = 1 }
}
serve {
}
environment production {
  serve { }
  serve { }
}
"""
    result = api.parse(PIXEL + source, "site.capi")
    found = sorted((d.code, d.span.line if d.span else 0) for d in result.diagnostics)
    base = PIXEL.count("\n") + 1
    assert found == [
        ("R003", base + 9),
        ("R007", base + 7),
        ("R011", base + 2),
        ("R012", base + 13),
        ("R015", base + 3),
        ("R015", base + 4),
        ("R015", base + 5),
        ("R015", base + 6),
    ], result.diagnostics
