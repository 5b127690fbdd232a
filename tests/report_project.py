"""A small project and events that reach every corner of `capic report`: two pixels with
consent gates (Limited Data Use, drop), a rule with two sends, a computed event name, fbc and
fbp of good and bad shapes, event ids repeated inside and outside Meta's 48-hour window, a
rejection, a malformed and a blank line, an event no rule wants.

``canary`` values are customer information and ids that must never appear in a report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PROJECT = """\
pixel shop {
  id            = "1111111111111111"
  access_token  = env("META_CAPI_TOKEN")
  browser_pixel = true
  consent {
    granted   = event.consent == "yes"
    otherwise = "limited_data_use"
  }
}

pixel ads {
  id           = "2222222222222222"
  access_token = env("META_CAPI_TOKEN")
  consent {
    granted   = event.consent == "yes"
    otherwise = "drop"
  }
}

environment development {
}

shared send web {
  event_id         = event.id
  event_time       = event.time
  action_source    = "website"
  event_source_url = event.page
}

shared user who {
  em                = event.email
  ph                = event.phone
  fn                = event.first
  ln                = event.last
  client_ip_address = request.ip
  client_user_agent = request.headers["user-agent"]
  fbc               = request.cookies["_fbc"]
  fbp               = request.cookies["_fbp"]
}

rule "Lead" {
  when event.type == "lead"

  send Lead to shop {
    ...web
    user { ...who }
  }
  send Lead to ads {
    ...web
    user { ...who }
  }
}

rule "Custom" {
  when event.type == "custom"

  send event.name to shop {
    ...web
    user { ...who }
  }
}
"""

T = 1_790_000_000
#: What must never be in a report (raw, normalized, or as a full SHA-256).
CANARY = {
    "email": "Canary.Person+ads@Example.COM",
    "phone": "+1 (415) 555-0199",
    "first": "Zebediah",
    "last": "Quarrington",
    "ip": "198.51.100.77",
    "agent": "CanaryAgent/9.9 (X11; Linux)",
    "fbc": "fb.1.1789990000123.IwARcanaryClickId",
    "fbp": "fb.1.1789990000456.1234509876",
    "fbc_seconds": "fb.1.1789990000.IwARcanarySeconds",
    "fbp_bad": "fb.1.1789990000789.notanumber",
    "event_id": "order-canary-4711",
}
INJECTED = "<script>document.title='pwned'</script>"


def _event(kind: str, *, time: int, consent: str = "yes", **extra: Any) -> dict[str, Any]:
    event = {
        "type": kind,
        "time": time,
        "consent": consent,
        "page": "https://shop.example.com/checkout",
        "email": CANARY["email"],
        "phone": CANARY["phone"],
        "first": CANARY["first"],
        "last": CANARY["last"],
        **extra,
    }
    return {k: v for k, v in event.items() if v is not None}


def _request(
    *, agent: str | None = CANARY["agent"], fbc: str | None = None, fbp: str | None = CANARY["fbp"]
) -> dict[str, Any]:
    cookies = {k: v for k, v in (("_fbc", fbc), ("_fbp", fbp)) if v is not None}
    headers = {"user-agent": agent} if agent is not None else {}
    return {"ip": CANARY["ip"], "headers": headers, "cookies": cookies}


def lines() -> list[str]:
    rows: list[Any] = [
        {
            "event": _event("lead", time=T, id=CANARY["event_id"]),
            "request": _request(fbc=CANARY["fbc"]),
        },
        {
            "event": _event("lead", time=T + 60, consent="no", id="L2"),
            "request": _request(fbc=CANARY["fbc_seconds"]),
        },
        # the same id again within 48 hours (a duplicate on both pixels), then after 50 hours
        {"event": _event("lead", time=T + 3600, id=CANARY["event_id"]), "request": _request()},
        {"event": _event("lead", time=T + 50 * 3600, id=CANARY["event_id"]), "request": _request()},
        {"event": _event("custom", time=T + 120, id="C1", name=INJECTED), "request": _request()},
        {
            "event": _event("custom", time=T + 180, name="Quiz", email=None, phone=None),
            "request": _request(fbp=CANARY["fbp_bad"]),
        },
        "{not json",
        "",
        {"event": _event("other", time=T + 240), "request": _request()},
        {"event": _event("lead", time=T + 300, id="L5"), "request": _request(agent=None)},
    ]
    return [row if isinstance(row, str) else json.dumps(row) for row in rows]


def write(root: Path) -> tuple[Path, Path]:
    """The project directory and its events file under ``root``."""
    project = root / "mini"
    project.mkdir(parents=True)
    (project / "capic.toml").write_text(
        '[project]\nname = "mini"\ndefault_environment = "development"\n', encoding="utf-8"
    )
    (project / "rules.capi").write_text(PROJECT, encoding="utf-8")
    events = root / "events.jsonl"
    events.write_text("\n".join(lines()) + "\n", encoding="utf-8")
    return project, events
