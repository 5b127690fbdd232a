"""The ``capic serve`` process: outbox, delivery engine, rules, two HTTP servers, signals.

Life of the process:

1. open the outbox (the process's exclusive lock: a second process on the same file stops
   with one line naming the holder), load the rules (a failure stops here, exit 2), start the
   delivery engine (it first resends what a previous process left in the outbox);
2. serve the public app and the admin app (uvicorn, httptools, uvloop when installed) on one
   event loop; SIGHUP or a changed file reloads the rules, keeping the last good ones;
3. on SIGTERM or SIGINT: ``/readyz`` fails, the public port stops accepting, requests in
   flight finish (their events committed), the delivery engine delivers what is queued until
   ``--drain-timeout`` and stops; the rest stays in the outbox for the next start. A second
   signal stops delivery at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable, Generator
from typing import Any

import uvicorn

from capic.serve.accesslog import AccessLog
from capic.serve.app import admin_app, public_app
from capic.serve.config import ServeConfig
from capic.serve.enhance import EnhancementStore, SqliteEnhancementStore
from capic.serve.limits import RateLimiter
from capic.serve.metrics import Metrics
from capic.serve.rules import Loaded, RuleSet, RuleSource, SourceError
from capic.serve.state import ActiveRules, Delivery, ServiceState, build_active

__all__ = ["ServiceError", "run"]

log = logging.getLogger("capic.serve")


class ServiceError(Exception):
    """The service cannot start: one line, exit status 2."""


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the service handles signals for both servers."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class _Formatter(logging.Formatter):
    """``capic serve: message``, with the level named only from warnings up."""

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.levelno >= logging.WARNING:
            text = f"{record.levelname.lower()}: {text}"
        elif record.levelno < logging.INFO:
            text = f"debug: {text}"
        return f"capic serve: {text}"


def setup_logging(level: str) -> None:
    """Service messages on stderr (``capic serve: ...``), access lines (JSON) on stdout."""
    root = logging.getLogger("capic")
    root.handlers.clear()
    root.setLevel(level.upper())
    err = logging.StreamHandler(sys.stderr)
    err.setFormatter(_Formatter())
    err.addFilter(lambda r: not r.name.startswith("capic.serve.access"))
    root.addHandler(err)
    access = logging.getLogger("capic.serve.access")
    access.handlers.clear()
    out = logging.StreamHandler(sys.stdout)
    out.setFormatter(logging.Formatter("%(message)s"))
    access.addHandler(out)
    access.propagate = False
    access.setLevel(logging.INFO)  # on or off with --no-access-log, whatever --log-level says
    # The bundle slot's own "activated"/"rejected" lines would repeat (or precede a build that
    # can still fail) what the service says itself; its other warnings (an unchecked
    # signature) stay.
    bundle = logging.getLogger("capic.bundle")
    bundle.filters.clear()
    bundle.addFilter(lambda record: record.funcName != "switch")
    for noisy in ("uvicorn", "uvicorn.error", "uvicorn.access", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class _LazyStore:
    """The enhancement store, opened the first time an environment turns enhancement on:
    the node's SQLite file, or with ``--queue`` the shared store in Redis."""

    def __init__(self, make: Callable[[str], EnhancementStore]) -> None:
        self.make = make
        self.store: EnhancementStore | None = None
        self._lock = threading.Lock()

    def get(self, project: str) -> EnhancementStore:
        with self._lock:
            if self.store is None:
                self.store = self.make(project)
            return self.store

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


def listen(host: str, port: int) -> socket.socket:
    """A listening socket, bound before anything else starts so that a port in use is one
    clear line (and port 0 a free port)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ServiceError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ServiceError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.setblocking(False)
    return sock


def _uvicorn_config(app: Any, host: str, port: int, drain: float) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http="httptools",
        lifespan="off",
        log_config=None,
        access_log=False,
        server_header=False,
        # The socket peer is what the service sees; forwarding headers are judged by
        # capic.serve.context against --trusted-proxy, never by uvicorn.
        proxy_headers=False,
        timeout_graceful_shutdown=max(1, int(drain)),
    )


def run(config: ServeConfig, source: RuleSource) -> int:
    """Run the service until a signal stops it; the exit status."""
    from capic.runtime.delivery import GraphTransport, RetryPolicy
    from capic.runtime.delivery.commit import GroupCommitter
    from capic.runtime.delivery.engine import DeliveryEngine
    from capic.runtime.delivery.outbox import Outbox
    from capic.runtime.delivery.queue import QueueError
    from capic.runtime.delivery.transport import DEFAULT_BASE_URL
    from capic.runtime.run_config import prepare_outbox_dir

    # The loop thread is busy with requests while the commit and delivery threads wait for the
    # GIL; the default 5 ms switch interval would make every commit wait that long.
    sys.setswitchinterval(0.001)
    metrics = Metrics()
    with contextlib.ExitStack() as stack:
        public_sock = stack.enter_context(listen(config.host, config.port))
        admin_sock = stack.enter_context(listen(config.admin_host, config.admin_port))
        try:
            prepare_outbox_dir(config.outbox)  # a .capic_outbox folder gets its .gitignore
            outbox = Outbox(
                config.outbox,
                max_pending=config.limits.max_backlog,
                synchronous=config.outbox_sync,
            )
        except (QueueError, OSError) as exc:
            raise ServiceError(f"outbox {config.outbox}: {exc}") from None
        stack.callback(outbox.close)
        store = _LazyStore(lambda _project: SqliteEnhancementStore(config.enhancement_path))
        if config.queue is not None:
            from capic.queue.serving import enhancement_stores

            try:
                store = _LazyStore(enhancement_stores(config.queue))
            except QueueError as exc:
                raise ServiceError(str(exc)) from None
        stack.callback(store.close)

        def build(loaded: Loaded) -> ActiveRules:
            serve = getattr(loaded.module, "SERVE", None)
            wants = isinstance(serve, dict) and serve.get("enhancement") is True
            return build_active(
                loaded, config=config, store=store.get(loaded.project) if wants else None
            )

        def activated(loaded: Loaded) -> None:
            metrics.set_bundle(loaded.project, loaded.environment or "", loaded.revision[:12])
            log.info("active: %s", loaded.description)

        def reloaded(ok: bool) -> None:
            metrics.reloads.labels("activated" if ok else "kept").inc()

        rules: RuleSet[ActiveRules] = RuleSet(
            source, build, on_activate=activated, on_reload=reloaded
        )
        stack.callback(rules.stop)
        try:
            rules.start()
        except SourceError as exc:
            raise ServiceError(str(exc)) from None

        def warn(message: str) -> None:
            log.warning("%s", message)

        degraded: Callable[[], list[str]] = list
        engine: Delivery
        if config.queue is not None:
            # Events go to Redis (the outbox holds them only while Redis is away); the
            # workers deliver them.
            from capic.queue.serving import open_producer

            active = rules.active.loaded
            try:
                side = open_producer(
                    config.queue,
                    project=active.project,
                    environment=active.environment,
                    partitions=config.queue_partitions,
                    strict=config.queue_strict,
                    spill=outbox,
                    max_pending=config.limits.max_backlog,
                    log=warn,
                )
            except QueueError as exc:
                raise ServiceError(str(exc)) from None
            stack.callback(side.close)
            metrics.registry.register(side.collector())
            log.info("queue: %s, streams %s:*", side.url, side.namespace.prefix)
            committer = GroupCommitter(side.producer, max_delay=0.0)
            engine, degraded = side.forwarder, side.degraded
        else:
            transport = GraphTransport(config.endpoint or DEFAULT_BASE_URL)
            stack.callback(transport.close)
            committer = GroupCommitter(outbox, max_delay=0.0)
            engine = DeliveryEngine(
                outbox,
                transport=transport,
                policy=RetryPolicy(),
                max_batch=config.max_batch,
                max_age=config.max_age,
                secrets_dir=config.secrets_dir,
                log=warn,
                observer=metrics,
            )
        stack.callback(engine.stop, 1.0)
        stack.callback(committer.close)  # callbacks run last-in first-out: commit, then stop
        state = ServiceState(
            config=config,
            rules=rules,
            committer=committer,
            consumer=outbox,
            engine=engine,
            metrics=metrics,
            access=AccessLog(config.access_log),
            limiter=RateLimiter(config.limits.rate, config.limits.burst),
            degraded=degraded,
        )
        engine.start()
        return _run_loop(_serve(state, public_sock, admin_sock))
    raise AssertionError("unreachable")  # for type checkers: the with block returns


def _where(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _run_loop(main: Any) -> int:
    try:
        import uvloop
    except ImportError:  # the extra brings it; a plain asyncio loop works too
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


async def _serve(state: ServiceState, public_sock: socket.socket, admin_sock: socket.socket) -> int:
    config = state.config
    loop = asyncio.get_running_loop()
    public = _Server(
        _uvicorn_config(public_app(state), config.host, config.port, config.drain_timeout)
    )
    admin = _Server(_uvicorn_config(admin_app(state), config.admin_host, config.admin_port, 1.0))
    stop = asyncio.Event()
    signals: list[str] = []

    def on_stop(sig: signal.Signals) -> None:
        signals.append(sig.name)
        if len(signals) == 1:
            log.info("%s: draining (again to stop delivery at once)", sig.name)
            state.draining = True
            stop.set()
        else:
            # Stop delivery at once: what is queued stays in the outbox for the next start.
            state.extra["force"] = True
            public.force_exit = True
            loop.run_in_executor(None, state.engine.stop, 0.0)

    def on_hup() -> None:
        loop.run_in_executor(None, state.rules.reload, "SIGHUP")

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_stop, sig)
    loop.add_signal_handler(signal.SIGHUP, on_hup)

    tasks = [
        asyncio.create_task(public.serve([public_sock])),
        asyncio.create_task(admin.serve([admin_sock])),
    ]
    while not (public.started and admin.started):
        await asyncio.sleep(0.01)
    state.rules.watch(config.watch_interval)
    log.info(
        "listening on http://%s:%d (admin http://%s:%d)",
        config.host,
        config.port,
        config.admin_host,
        config.admin_port,
    )
    await stop.wait()

    # Stop taking requests; the ones in flight finish and commit.
    public.should_exit = True
    await tasks[0]
    await asyncio.to_thread(state.committer.close)
    # The engine's deadlines are seconds from now.
    if not state.extra.get("force"):
        await asyncio.to_thread(state.engine.drain, config.drain_timeout)
    await asyncio.to_thread(state.engine.stop, 1.0)
    left = await asyncio.to_thread(state.consumer.depth)
    log.info("stopped; %d event(s) left in the outbox for the next start", left)
    admin.should_exit = True
    await tasks[1]
    return 0
