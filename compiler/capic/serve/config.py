"""The deployment: what ``capic serve`` is told by flags and ``CAPIC_*`` variables.

What belongs to the site (origins, cookie domain, ingest tokens, enhancement) travels in the
bundle (:mod:`capic.serve.site`); what belongs to one machine is here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from capic.serve.context import TrustedProxies

__all__ = ["Limits", "ServeConfig"]


@dataclass(frozen=True, slots=True)
class Limits:
    #: Largest /v1/events body (bytes): 1,000 rich events fit.
    max_body: int = 8 * 1024 * 1024
    #: Largest /v1/collect body (bytes): one data-layer event.
    max_collect_body: int = 64 * 1024
    #: Deepest JSON nesting accepted (arrays and objects).
    max_depth: int = 32
    #: Most inputs in one /v1/events request.
    max_events: int = 5000
    #: /v1/collect requests per second per client address (0: unlimited), and the burst.
    rate: float = 20.0
    burst: int = 60
    #: Outbox depth at which new events are refused with 503 (the delivery backlog).
    max_backlog: int = 1_000_000


@dataclass(frozen=True, slots=True)
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    admin_host: str = "127.0.0.1"
    admin_port: int = 9090
    #: Graph API base URL (None: https://graph.facebook.com).
    endpoint: str | None = None
    outbox: Path = Path(".capic_outbox/serve.sqlite")
    #: "full": every commit is fsynced (a 202 survives power loss); "normal": written to the
    #: operating system before the 202 (survives the process being killed, not a power cut).
    outbox_sync: Literal["full", "normal"] = "full"
    secrets_dir: Path | None = None
    trusted_proxies: TrustedProxies = field(default_factory=TrustedProxies)
    insecure_no_auth: bool = False
    limits: Limits = field(default_factory=Limits)
    #: Seconds SIGTERM waits for deliveries before leaving the rest in the outbox.
    drain_timeout: float = 10.0
    #: Seconds between looks at the bundle (or project) files; 0: reload on SIGHUP only.
    watch_interval: float = 1.0
    #: Cookies are Secure (browsers drop them over plain HTTP except on localhost).
    secure_cookies: bool = True
    access_log: bool = True
    #: Delivery tuning (the engine's): events per request, seconds a batch may wait.
    max_batch: int = 1000
    max_age: float = 1.0
    #: Redis queue URL (``capic serve --queue``): events go to Redis Streams, the outbox is
    #: only where they wait while Redis is away, and ``capic worker`` delivers them.
    queue: str | None = None
    #: Partition streams per project and environment (every node of a queue: the same).
    queue_partitions: int = 8
    #: Refuse to start unless Redis fsyncs every write (appendfsync always).
    queue_strict: bool = False

    @property
    def enhancement_path(self) -> Path:
        """The node's enhancement store, next to the outbox."""
        return self.outbox.with_name(self.outbox.stem + ".enhancement.sqlite")
