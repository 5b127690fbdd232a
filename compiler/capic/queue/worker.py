"""``capic worker``: the delivery engine over a Redis consumer group.

A worker is one member of a consumer group: it serves every registered queue (or those
given with ``--only``, looking for new ones every few seconds), and delivers with the same
:class:`~capic.runtime.delivery.engine.DeliveryEngine` as ``capic run`` and ``capic serve``
(batches per pixel of at most 1,000 by size or age, the retry table, bisection, dead
letters). Consumer names are stable (the host and a number, say): a restarted
worker finishes what it held first. An entry handed to workers more than ``max_deliveries``
times (each stopped or was killed while holding it) goes to the dead-letter stream instead.

Signals: SIGTERM or SIGINT stops reading; the batch in flight finishes (up to
``stop_timeout`` seconds), the rest stays pending under this consumer's name. A second signal
stops at once. ``kill -9`` loses nothing either: the entries stay pending and a live worker's
sweeper claims them after ``claim_idle`` seconds.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from capic.queue.connection import QueueUnavailable, QueueURL, call, connect
from capic.queue.consumer import RedisConsumer
from capic.queue.ops import namespaces
from capic.runtime.delivery.queue import QueueError

__all__ = ["WorkerConfig", "run"]


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    queue: str
    group: str
    consumer: str
    endpoint: str | None = None
    #: Serve only these queues (``project:env``, or a project for all its environments).
    only: tuple[str, ...] = ()
    metrics_host: str = "127.0.0.1"
    #: None: no metrics endpoint; 0: a free port (printed at start).
    metrics_port: int | None = None
    secrets_dir: Path | None = None
    max_batch: int = 1000
    max_age: float = 1.0
    #: Requests in flight at once.
    concurrency: int = 1
    #: Seconds of Graph API request timeout.
    timeout: float = 30.0
    max_attempts: int = 8
    #: Entries idle this long are taken from their (dead) consumer.
    claim_idle: float = 60.0
    #: Entries handed to workers more often than this (each stopped or died holding them) are
    #: dead-lettered; failed requests do not count (a Meta outage dead-letters nothing).
    max_deliveries: int = 10
    #: Seconds a pixel whose retries ran out rests (None: the retry policy's longest delay).
    rest: float | None = None
    #: Seconds SIGTERM lets the batch in flight finish.
    stop_timeout: float = 30.0
    #: Seconds between looks for new queues.
    discover_every: float = 5.0


class WorkerError(Exception):
    """The worker cannot start: one line, exit status 2."""


def run(config: WorkerConfig, log: Callable[[str], None]) -> int:
    """Run until a signal; the exit status (1 when delivery stopped on its own)."""
    from capic.queue.metrics import WorkerMetrics
    from capic.runtime.delivery import DeliveryEngine, GraphTransport, RetryPolicy
    from capic.runtime.delivery.transport import DEFAULT_BASE_URL

    try:
        url = QueueURL.parse(config.queue)
        where = str(url)
        client = connect(url)
        try:
            call(where, client.ping)
        except QueueUnavailable as exc:
            raise QueueError(f"cannot reach Redis: {exc}") from None
        consumer = RedisConsumer(
            client,
            namespaces(client, where, config.only),
            where=where,
            group=config.group,
            consumer=config.consumer,
            claim_idle=config.claim_idle,
            max_deliveries=config.max_deliveries,
            log=log,
        )
    except QueueError as exc:
        raise WorkerError(str(exc)) from None
    metrics = WorkerMetrics(consumer)
    server = None
    if config.metrics_port is not None:
        from prometheus_client import start_http_server

        try:
            server, _ = start_http_server(
                config.metrics_port, config.metrics_host, registry=metrics.registry
            )
        except OSError as exc:
            consumer.close()
            raise WorkerError(
                f"cannot listen on {config.metrics_host}:{config.metrics_port}: "
                f"{exc.strerror or exc}"
            ) from None
    transport = GraphTransport(config.endpoint or DEFAULT_BASE_URL, timeout=config.timeout)
    engine = DeliveryEngine(
        consumer,
        transport=transport,
        policy=RetryPolicy(max_attempts=config.max_attempts),
        max_batch=config.max_batch,
        max_age=config.max_age,
        concurrency=config.concurrency,
        secrets_dir=config.secrets_dir,
        log=log,
        observer=metrics,
        cooldown=config.rest,
    )
    stop = threading.Event()
    received: list[str] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        received.append(signal.Signals(signum).name)
        if len(received) == 1:
            log(f"{received[0]}: finishing the batch in flight (again to stop at once)")
            stop.set()
        else:
            threading.Thread(target=engine.stop, args=(0.0,), daemon=True).start()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    queues = ", ".join(ns.name for ns in consumer.namespaces) or "none yet"
    where_metrics = ""
    if server is not None:
        port = server.server_address[1]
        where_metrics = f", metrics on http://{config.metrics_host}:{port}/metrics"
    log(
        f"consumer {config.consumer} of group {config.group} on {where} "
        f"(queues: {queues}){where_metrics}"
    )
    code = 0
    try:
        engine.start()
        next_look = time.monotonic() + config.discover_every
        while not stop.wait(0.2):
            if engine.stopped_reason is not None:
                code = 1
                break
            if time.monotonic() >= next_look:
                next_look = time.monotonic() + config.discover_every
                with contextlib.suppress(QueueError):
                    for ns in consumer.add_namespaces(namespaces(client, where, config.only)):
                        log(f"serving the new queue {ns.name} ({ns.partitions} partitions)")
    finally:
        # The batch in flight may finish; past the deadline the consumer stops waiting for an
        # unreachable Redis (what it could not ack stays pending, delivered again later).
        stopper = threading.Thread(target=engine.stop, args=(config.stop_timeout,))
        stopper.start()
        stopper.join(config.stop_timeout + 1.0)
        if stopper.is_alive():
            consumer.interrupt()
            stopper.join()
        stats = engine.stats.snapshot()
        consumer.close()
        transport.close()
        if server is not None:
            server.shutdown()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log(
        f"stopped: {stats.sent:,} delivered, {stats.dead_lettered:,} dead-lettered, "
        f"{consumer.claims.claimed:,} claimed from other consumers"
    )
    return code
