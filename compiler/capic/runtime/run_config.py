"""What a ``capic run`` is given: its settings (:class:`RunConfig`), how it talks to its caller
(:class:`RunHooks`), what delivers from the outbox (:class:`Deliverer`), how the caller aborts
it (:class:`RunAborted`), and the outbox directory it prepares.

The run itself is :func:`capic.runtime.runner.run`, which re-exports these names.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TextIO

from capic.runtime.delivery import Outbox, RetryPolicy
from capic.runtime.delivery.stats import DeliveryStats
from capic.runtime.delivery.transport import DEFAULT_BASE_URL
from capic.runtime.summary import RunSummary

__all__ = [
    "OUTBOX_DIR",
    "Deliverer",
    "RunAborted",
    "RunConfig",
    "RunHooks",
    "prepare_outbox_dir",
]

OUTBOX_DIR = ".capic_outbox"


class RunAborted(BaseException):
    """Raise it (from a signal handler) to end a run at once: what was committed stays in the
    outbox, what was read but not committed is not stored (the recorded count says so)."""


class Deliverer(Protocol):
    """What delivers from the outbox: the :class:`DeliveryEngine` (to the Graph API), or with
    ``capic run --queue`` the forwarder into Redis Streams (capic.queue.spill.Forwarder)."""

    @property
    def stopped_reason(self) -> str | None: ...

    @property
    def stats(self) -> DeliveryStats: ...

    def start(self) -> None: ...

    def drain(self, deadline: float | None) -> None: ...

    def stop(self, deadline: float | None) -> None: ...


@dataclass(frozen=True)
class RunConfig:
    events: str
    outbox: Path | None = None
    dry_run: bool = False
    endpoint: str = DEFAULT_BASE_URL
    secrets_dir: Path | None = None
    rebase_time: bool = False
    from_start: bool = False
    max_batch: int = 1000
    max_age: float = 1.0
    timeout: float = 30.0
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    chunk_lines: int = 2000
    chunk_age: float = 0.05
    #: Queued events above which reading waits while delivery drains (None: never waits).
    max_backlog: int | None = 20_000
    #: Builds what delivers from the outbox instead of the engine (``--queue``); it may raise
    #: RunConfigError.
    deliverer: Callable[[Outbox], Deliverer] | None = None


@dataclass
class RunHooks:
    """How a run talks to its caller (all optional)."""

    #: One line per warning or report (stderr).
    warn: Callable[[str], None] | None = None
    #: The running summary, every 1,000 events and when the input pauses.
    progress: Callable[[RunSummary], None] | None = None
    #: Polled between lines: True stops reading (what was read is committed and delivered).
    stop: Callable[[], bool] | None = None
    #: Where a dry run prints its requests.
    output: TextIO | None = None
    #: Wraps the line iterator (a progress bar counts bytes with it).
    lines: Callable[[Iterator[bytes | None]], Iterator[bytes | None]] | None = None


def prepare_outbox_dir(path: Path) -> None:
    """Create the outbox's directory; a ``.capic_outbox`` directory gets a ``.gitignore``."""
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    if directory.name == OUTBOX_DIR:
        marker = directory / ".gitignore"
        if not marker.exists():
            with contextlib.suppress(OSError):
                marker.write_text("# created by capic: undelivered (hashed) events\n*\n")
