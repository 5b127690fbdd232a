"""Empty values in the payload: when an event is emitted, a field whose value is ``""``, ``[]``
or ``{}`` is left out like null, except where the schema gives the empty value a meaning
(``data_processing_options = []``: Limited Data Use is off). Inside expressions nothing
changes. `capic test` says so when a test expects an empty value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

from capic import api
from capic.cli import cli
from capic.runtime.context import Context

RULES = """
pixel shop {
  id           = "1234567890123456"
  access_token = env("META_CAPI_TOKEN")
}

element products = event.products ?? []

rule "Cart" {
  send AddToCart to shop {
    event_id                = event.id
    event_time              = now()
    action_source           = "app"
    data_processing_options = []
    referrer_url            = event.referrer
    user {
      external_id       = event.customer
      client_ip_address = event.ip
    }
    custom {
      content_ids  = [for p in products : p.sku]
      contents     = [for p in products : {id = p.sku, quantity = p.qty ?? 1, note = p.note}]
      content_name = event.name ?? "fallback"
      zero         = event.zero
      off          = event.off
      extra        = event.extra
      was_empty    = event.name == ""
    }
    app {
      advertiser_tracking_enabled = 1
      extinfo {
        version    = "i2"
        os_version = "17.4"
      }
    }
  }
}
"""


def emit(event: dict[str, Any]) -> dict[str, Any]:
    result = api.parse(RULES, "rules.capi")
    assert result.project is not None
    module = api.load_compiled(api.compile_project(result.project))
    [out] = module.process(event, None, context=Context(validate=False))
    payload: dict[str, Any] = out.event
    return payload


def test_empty_values_are_left_out_and_other_falsy_values_kept() -> None:
    ev = emit(
        {
            "id": "",
            "referrer": "",
            "customer": "c-1",
            "ip": "",
            "name": "",
            "zero": 0,
            "off": False,
            "extra": {"a": "", "b": [], "c": {"d": None}},
            "products": [{"sku": "A", "note": ""}],
        }
    )
    assert "event_id" not in ev and "referrer_url" not in ev
    assert ev["data_processing_options"] == []  # a meaning of its own: LDU off
    assert "client_ip_address" not in ev["user_data"]
    custom = ev["custom_data"]
    # `??` keeps "" in expressions: the fallback is not used, and "" is then not sent.
    assert "content_name" not in custom
    assert custom["was_empty"] is True
    assert custom["zero"] == 0 and custom["off"] is False
    assert "extra" not in custom  # every member was empty
    assert custom["contents"] == [{"id": "A", "quantity": 1}]
    extinfo = ev["app_data"]["extinfo"]
    assert len(extinfo) == 16 and extinfo[0] == "i2" and extinfo[1] == ""  # list items stay


def test_an_empty_list_from_a_comprehension_is_not_sent() -> None:
    ev = emit({"customer": "c-1", "products": []})
    assert "content_ids" not in ev["custom_data"] and "contents" not in ev["custom_data"]


def test_capic_test_explains_an_expected_empty_value(tmp_path: Path) -> None:
    (tmp_path / "rules.capi").write_text(
        RULES
        + """
test "empty" {
  event = {"customer": "c-1", "products": []}
  expect "Cart" sends AddToCart to shop {
    data_processing_options = []
    custom { content_ids = [] }
  }
}

test "absent" {
  event = {"customer": "c-1", "products": []}
  expect "Cart" sends AddToCart to shop {
    custom { content_ids = absent }
  }
}
""",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["test", str(tmp_path / "rules.capi")])
    assert result.exit_code == 1
    assert "PASS" in result.stdout and "absent" in result.stdout
    assert 'empty values ("", [], {}) are not sent, like null: expect absent' in result.stdout
    assert "1 passed, 1 failed" in result.stdout


def test_the_linter_sees_what_is_sent(tmp_path: Path) -> None:
    (tmp_path / "rules.capi").write_text(
        """
pixel shop {
  id           = "1234567890123456"
  access_token = env("META_CAPI_TOKEN")
}

rule "Buy" {
  send Purchase to shop {
    event_time    = now()
    action_source = "email"
    user { em = event.email }
    custom {
      currency     = ""
      value        = 1
      content_ids  = []
      content_type = ""
    }
  }
}
""",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli, ["check", str(tmp_path / "rules.capi"), "--select", "M005,V006,L002,L003"]
    )
    # currency = "" is not sent: Meta's requirement for a Purchase is what fails, not its shape.
    assert "M005" in result.stdout and "`Purchase` needs `custom_data.currency`" in result.stdout
    assert "V006" not in result.stdout and "L002" not in result.stdout
    assert "L003" not in result.stdout
