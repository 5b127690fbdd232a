"""The issue's case: seven XDM event types mapped to seven Meta events, written as seven rules
with the same customer-information block, and as one table-driven rule with a shared block.
Both send the same events for the storefront's recorded stream, and `capic check` applies
each event's requirements to the table-driven one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from capic import api
from capic.cli import cli
from capic.runtime.context import Context
from tests.conftest import SAMPLES

MAPPING = {
    "web.webpagedetails.pageViews": "PageView",
    "commerce.productViews": "ViewContent",
    "commerce.productListAdds": "AddToCart",
    "commerce.checkouts": "InitiateCheckout",
    "commerce.purchases": "Purchase",
    "lead.submitted": "Lead",
    "account.registered": "CompleteRegistration",
}

PIXEL = """pixel shop {
  id           = "1234567890123456"
  access_token = env("META_CAPI_TOKEN")
}
"""

USER_FIELDS = """      em                = event.xdm.identityMap.Email[0].id ?? event.data.customer.email
      ph                = event.xdm.identityMap.Phone[0].id ?? event.data.customer.phone
      fn                = event.data.customer.firstName
      ln                = event.data.customer.lastName
      db                = event.data.customer.birthDate
      ge                = event.data.customer.gender
      ct                = event.data.customer.city
      st                = event.data.customer.state
      zp                = event.data.customer.postalCode
      external_id       = event.data.customer.id
      client_ip_address = request.ip
      client_user_agent = request.headers["user-agent"]
      fbp               = request.cookies["_fbp"]
      fbc               = request.cookies["_fbc"]
"""

BODY = """    event_id         = event.data.meta.conversionData.eventId
    event_time       = parse_time(event.xdm.timestamp)
    action_source    = "website"
    event_source_url = event.xdm.web.webPageDetails.URL
{user}
    custom {{
      content_ids = [for p in event.xdm.productListItems ?? [] : p.SKU]
      currency    = "USD"
      value       = sum([for p in event.xdm.productListItems ?? [] : p.priceTotal])
    }}
"""


def seven_rules() -> str:
    rules = [PIXEL]
    for xdm, meta in MAPPING.items():
        user = "    user {\n" + USER_FIELDS + "    }"
        rules.append(
            f'rule "{meta}" {{\n  when event.xdm.eventType == "{xdm}"\n'
            f"  send {meta} to shop {{\n{BODY.format(user=user)}  }}\n}}\n"
        )
    return "\n".join(rules)


def one_rule() -> str:
    rows = ",\n".join(f'  "{xdm}" = "{meta}"' for xdm, meta in MAPPING.items())
    return (
        PIXEL
        + f"\nelement meta_event = {{\n{rows},\n}}\n\n"
        + "shared user customer {\n"
        + USER_FIELDS.replace("      ", "  ")
        + "}\n\n"
        + 'rule "XDM" {\n  send meta_event[event.xdm.eventType] to shop {\n'
        + BODY.format(user="    user { ...customer }")
        + "  }\n}\n"
    )


def sends(text: str) -> tuple[list[str], dict[str, Any]]:
    result = api.parse(text, "rules.capi")
    assert result.ok and result.project is not None, result.diagnostics
    module = api.load_compiled(api.compile_project(result.project))
    context = Context(now=lambda: 1772560800.0, uuid=lambda: "0" * 32)
    out: list[str] = []
    for line in (SAMPLES / "storefront" / "events.jsonl").read_text().splitlines():
        envelope = json.loads(line)
        for e in module.process(envelope["event"], envelope["request"], context=context):
            out.append(json.dumps(e.event, sort_keys=True))
    stats = context.stats
    return out, {"unmatched": stats.unmatched, "rejected": dict(stats.rejected)}


def test_one_table_driven_rule_sends_what_seven_rules_send() -> None:
    many, many_stats = sends(seven_rules())
    one, one_stats = sends(one_rule())
    assert len(many) > 300
    assert one == many
    assert one_stats == many_stats
    assert one_rule().count("client_user_agent") == 1
    assert seven_rules().count("client_user_agent") == 7


def test_the_table_driven_rule_is_checked_per_event(tmp_path: Path) -> None:
    (tmp_path / "rules.capi").write_text(
        one_rule().replace('      currency    = "USD"\n', ""), encoding="utf-8"
    )
    result = CliRunner().invoke(
        cli, ["check", str(tmp_path / "rules.capi"), "--output-format", "json"]
    )
    errors = [d for d in json.loads(result.stdout) if d["severity"] == "error"]
    assert [(d["code"], d["data"].get("events")) for d in errors] == [("M005", ["Purchase"])]
    assert "`Purchase` needs `custom_data.currency`" in errors[0]["message"]
