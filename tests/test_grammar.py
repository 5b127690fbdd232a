"""The grammar itself: it builds in Lark's strict mode, every rule it defines is reachable from
``start`` (Lark silently drops unreachable rules), and every rule and alternative is exercised
by the samples plus a catalogue of constructs."""

from __future__ import annotations

import re

from lark import Lark, Tree

from capic import api
from capic.resources import grammar_text
from capic.syntax.parser import build_lark
from tests.conftest import SAMPLES

#: One of every construct of the language; it also resolves cleanly.
CATALOGUE = r"""
pixel shop {
  id            = "1234567890123456"
  access_token  = env("META_CAPI_TOKEN")
  app_secret    = secret("META_APP_SECRET")
  browser_pixel = true
  api_version   = "v25.0"
}

element items    = event.items ?? []
element nothing  = null
element flags    = [true, false, null, 1, 2.5, 1e3, -4, "s\u00e9\n",]
element shape    = {a = 1, "odd key": 2, b: [],}
element empty    = {}
element none     = []
element first_id = items[0]["id"]
element maths    = (event.a + 2) * 3 - -event.b / 4
element lookup   = {ios = "i2", android = "a2"}[lower(event.os)]
element ids      = [for i in items : i.id]
element big      = [for i in items : {id = i.id, qty = i.q ?? 1} if i.q > 1]
element checks   = event.a == 1 or event.b != 2 and not event.c < 3
element more     = event.d <= 4 and event.e > 5 and event.f >= 6
element words    = event.g in ["x", "y"] and event.h not in ["z"] and event.i contains "j"
element affixes  = event.k starts_with "l" or event.m ends_with "n"
element folded   = event.o iequals "P" or event.q icontains "r" or event.s istarts_with "t"
element tail     = event.u iends_with "v" and event.w matches /^x\/y$/i
element calls    = concat(uuid(), now(), len(items))
element choice   = if event.a > 1 then "big" else if event.a == 1 then "one" else null
element names    = {"purchase" = "Purchase", "lead" = "Lead"}

shared user customer {
  em = event.email
}

shared send web {
  action_source = "website"
  user {
    ...customer
  }
}

rule "catalogue" {
  when exists(event.id)

  send Purchase to shop {
    event_id = event.id
    user {
      em = event.email
    }
    custom {
      "odd-key" = 1
      nested {
        deep = true
      }
    }
  }
  send "CustomEvent" to shop {
    event_id = event.id
  }
  send names[event.type] ?? "Other" to shop {
    ...web
    event_id = event.id
    consent {
      exempt = "a catalogue of constructs, not a real send"
    }
  }
}

rule "unconditional" {
  send PageView to shop {
    event_id = uuid()
  }
}

environment development {
  test_event_code = "TEST1"
  consent {
    granted   = event.consent == "yes"
    otherwise = "limited_data_use"
  }
  pixel shop {
    id = "999"
  }
}

environment empty_env {
}

serve {
  allowed_origins = ["https://shop.example.com"]
  cookie_domain   = "example.com"
  ingest_tokens   = [env("CAPIC_INGEST_TOKEN"), secret("ingest")]
}

environment with_serve {
  serve {
    enhancement     = true
    enhancement_ttl = "12h"
  }
}

test "catalogue" {
  environment = "development"
  event = {"id": "1", "email": "a@example.com"}
  request = {"ip": "192.0.2.1"}
  now = "2026-03-03T15:00:00Z"
  expect "catalogue" sends Purchase to shop {
    event_id = "1"
    user {
      em = hashed("a@example.com")
    }
  }
  expect "catalogue" sends "CustomEvent" to shop {
  }
  expect "unconditional" sends nothing
}

test "nothing" {
  event = {}
  expect nothing
}
"""


def plain_lark() -> Lark:
    """The grammar without the embedded AST builder: parse trees to inspect."""
    return Lark(grammar_text(), parser="lalr", lexer="contextual", keep_all_tokens=True)


def test_grammar_builds_in_strict_mode() -> None:
    lark = build_lark(strict=True)
    assert lark.options.strict
    assert lark.options.parser == "lalr"


def test_every_defined_rule_is_reachable() -> None:
    text = grammar_text()
    defined = set(re.findall(r"^[?!]?([_a-z][_a-z0-9]*)\s*:", text, re.MULTILINE))
    compiled = {r.origin.name for r in plain_lark().rules}
    assert "start" in defined
    assert defined - compiled == set(), "rules not reachable from start"


def test_every_defined_terminal_is_used() -> None:
    text = grammar_text()
    defined = set(re.findall(r"^([A-Z][A-Z0-9_]*)\s*:", text, re.MULTILINE))
    used = {t.name for t in plain_lark().terminals}
    assert defined - used == set(), "terminals defined but never used"


def _expected_tree_names(lark: Lark) -> set[str]:
    names = set()
    for r in lark.rules:
        if r.alias:
            names.add(str(r.alias))
        elif r.origin.name.startswith("_"):
            continue
        elif not r.options.expand1 or len(r.expansion) > 1:
            names.add(r.origin.name)
    return names


def _tree_names(tree: Tree) -> set[str]:
    return {str(t.data) for t in tree.iter_subtrees()}


def test_every_rule_and_alternative_is_exercised() -> None:
    lark = plain_lark()
    seen = _tree_names(lark.parse(CATALOGUE))
    for path in sorted(SAMPLES.glob("**/*.capi")):
        seen |= _tree_names(lark.parse(path.read_text(encoding="utf-8")))
    missing = _expected_tree_names(lark) - seen
    assert not missing, f"grammar rules never exercised: {sorted(missing)}"


def test_catalogue_resolves_cleanly() -> None:
    result = api.parse(CATALOGUE, "catalogue.capi")
    assert result.diagnostics == []
    assert result.project is not None
    assert len(result.project.elements) == 20
    assert set(result.project.shared) == {"customer", "web"}


def test_keywords_are_soft_where_the_contextual_lexer_allows() -> None:
    text = """
element to      = event.to
element sends   = event.send.test.rule.when.nothing.expect
element contains_ = event.contains
element test    = {pixel = 1, rule = 2, element = 3}
element in_key  = event["in"]
"""
    result = api.parse(text, "soft.capi")
    assert result.diagnostics == []
    assert result.project is not None
    assert set(result.project.elements) == {"to", "sends", "contains_", "test", "in_key"}


def test_statement_keywords_name_fields_after_an_expression() -> None:
    """LALR look-ahead makes the lexer read `environment` after an expression as the keyword;
    the parser reads it again as a field name when `=` follows."""
    text = """
pixel shop {
  id = "1"
  access_token = env("T")
}
environment development {
}
rule "r" {
  send Lead to shop {
    event_id = event.id
    custom {
      a = 1
      test = 2
      rule = 3
      pixel = 4
      element = 5
      send = 6
      expect = 7
      environment = 8
    }
  }
}
test "t" {
  now = "2026-03-03T15:00:00Z"
  environment = "development"
  event = {"id": "x", environment: 1, test = 2}
  expect nothing
}
"""
    result = api.parse(text, "soft.capi")
    assert result.diagnostics == []
    assert result.project is not None
    custom = result.project.rules[0].sends[0].body.section("custom_data")
    assert custom is not None
    assert list(custom.entries) == [
        "a",
        "test",
        "rule",
        "pixel",
        "element",
        "send",
        "expect",
        "environment",
    ]
    assert set(result.project.tests[0].fields) == {"now", "environment", "event"}
