"""The lint cache knows the [meta] settings of capic.toml: changing the allowed originals of
AppendAttribution re-checks the sends (M071) instead of replaying cached findings."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from capic.cli import cli

RULES = """pixel shop {
  id           = "1234567890123456"
  access_token = env("META_CAPI_TOKEN")
}

rule "Credit" {
  send AppendAttribution to shop {
    event_time       = parse_time(event.time)
    action_source    = "website"
    event_source_url = event.page
    user {
      em                = event.email
      client_user_agent = event.ua
    }
    original_event {
      event_name = "Subscribe"
      event_time = parse_time(event.original_time)
      order_id   = event.order
    }
    attribution {
      attribution_share = event.share
    }
  }
}
"""


def m071(root: Path) -> int:
    result = CliRunner().invoke(cli, ["check", str(root), "--output-format", "json"])
    return sum(d["code"] == "M071" for d in json.loads(result.output))


def test_meta_settings_are_part_of_the_cache_key(tmp_path: Path) -> None:
    (tmp_path / "rules.capi").write_text(RULES, encoding="utf-8")
    config = tmp_path / "capic.toml"
    config.write_text('[project]\nname = "p"\n', encoding="utf-8")
    assert m071(tmp_path) == 1
    assert m071(tmp_path) == 1  # from the cache
    config.write_text(
        '[project]\nname = "p"\n[meta]\nappend_attribution_originals = ["Purchase", "Subscribe"]\n',
        encoding="utf-8",
    )
    assert m071(tmp_path) == 0
    assert (tmp_path / ".capic_cache").is_dir()
