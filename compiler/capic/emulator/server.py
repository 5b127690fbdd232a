"""The emulator's HTTP server: ``POST /{version}/{pixel_id}/events``, the Dataset Quality API
(``GET /{version}/dataset_quality``, :mod:`capic.emulator.quality`) and a small query API.

Query API (for tests and demos): ``GET /_emulator/events`` (accepted events, JSON list),
``GET /_emulator/stats``, ``POST /_emulator/reset``.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from capic.emulator.faults import Fault, FaultConfig, FaultPicker
from capic.emulator.meta_events import MetaEventRules
from capic.emulator.request import (
    check_events_request,
    check_token,
    query_params,
    request_params,
)
from capic.emulator.state import EmulatorState
from capic.emulator.validation import GraphError
from capic.emulator.versions import VersionSignals

__all__ = ["EmulatorHandle", "start"]

_EVENTS_PATH = re.compile(r"/(v\d+\.\d+)/([^/]+)/events/?")
_QUALITY_PATH = re.compile(r"/(v\d+\.\d+)/dataset_quality/?")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: EmulatorState) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.state = state
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conn_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conn_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away mid-response is normal here (timeouts, drops): stay quiet.
        pass

    def close_connections(self) -> None:
        with self._conn_lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "capic-emulator"
    sys_version = ""
    # Headers and body are separate writes: without this, Nagle + delayed ACK cost 40 ms each.
    disable_nagle_algorithm = True
    #: Idle keep-alive connections are closed after this many seconds.
    timeout = 120
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # -- plumbing ---------------------------------------------------------------------------

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            size = int(length)
        except ValueError:
            return None
        if size < 0:
            return None
        return self.rfile.read(size) if size else b""

    def _read_chunked(self) -> bytes | None:
        chunks: list[bytes] = []
        try:
            while True:
                size = int(self.rfile.readline(1024).split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline(65536) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        except ValueError:
            return None

    def _send_json(
        self, status: int, payload: Any, headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        body = orjson.dumps(payload)
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def _send_error(self, error: GraphError, headers: tuple[tuple[str, str], ...] = ()) -> None:
        state = self.server.state
        with state.lock:
            state.errors[error.reason] += 1
        self._send_json(error.status, error.to_json(state.trace_id()), headers)

    # -- routes -----------------------------------------------------------------------------

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        state = self.server.state
        if path == "/_emulator/events":
            self._send_json(200, state.received())
        elif path == "/_emulator/stats":
            self._send_json(200, state.stats())
        elif (match := _QUALITY_PATH.fullmatch(path)) is not None:
            self._quality(match.group(1), urlsplit(self.path).query)
        else:
            self._send_error(
                GraphError(
                    400, 100, f"Unsupported get request: {path}", type="GraphMethodException"
                )
            )

    def do_POST(self) -> None:
        split = urlsplit(self.path)
        body = self._read_body()
        state = self.server.state
        if split.path == "/_emulator/reset":
            state.reset()
            self._send_json(200, {"success": True})
            return
        with state.lock:
            state.requests += 1
        if state.latency:
            state.stopping.wait(state.latency)
        match = _EVENTS_PATH.fullmatch(split.path)
        if match is None:
            self._send_error(GraphError(400, 2500, f"Unknown path components: {split.path}"))
            return
        if body is None:
            self.close_connection = True
            self._send_error(GraphError(400, 100, "(#100) Invalid Content-Length"))
            return
        version, pixel_id = match.group(1), match.group(2)
        deprecated = state.versions.error(version)
        if deprecated is not None:
            self._send_error(deprecated)
            return
        fault = state.picker.pick()
        if fault is not None and fault.error is not None:
            with state.lock:
                state.faults[fault.kind] += 1
            self._send_error(fault.error, fault.headers)
            return
        params = request_params(split.query, body)
        if params is None:
            self._send_error(GraphError(400, 100, "(#100) The request body is not valid JSON"))
            return
        problem = check_events_request(state, pixel_id, params)
        if problem is not None:
            self._send_error(problem)
            return
        data: list[Any] = params["data"]
        test_code = params.get("test_event_code")
        test_code = test_code if isinstance(test_code, str) and test_code else None
        if fault is not None:
            self._fail(fault, pixel_id, version, test_code, data)
            return
        state.accept(pixel_id, version, test_code, data)
        messages = state.originals.messages(pixel_id, data)
        self._send_json(
            200,
            {"events_received": len(data), "messages": messages, "fbtrace_id": state.trace_id()},
            state.versions.headers(version),
        )

    def _quality(self, version: str, query: str) -> None:
        """``GET /{version}/dataset_quality?dataset_id=..&agent_name=..&fields=..``."""
        state = self.server.state
        params = query_params(query)
        deprecated = state.versions.error(version)
        if deprecated is not None:
            self._send_error(deprecated)
            return
        problem = check_token(params, state.token)
        if problem is not None:
            self._send_error(problem)
            return
        dataset = params.get("dataset_id")
        if not isinstance(dataset, str) or not dataset.isdigit():
            self._send_error(GraphError(400, 100, "(#100) The parameter dataset_id is required"))
            return
        refused = state.quality.refusal(dataset)
        if refused is not None:
            self._send_error(refused)
            return
        self._send_json(200, state.quality.answer(dataset), state.versions.headers(version))

    def _fail(
        self, fault: Fault, pixel_id: str, version: str, test_code: str | None, data: list[Any]
    ) -> None:
        state = self.server.state
        with state.lock:
            state.faults[fault.kind] += 1
        if fault.accept_first:
            state.accept(pixel_id, version, test_code, data)
        if fault.kind == "timeout":
            state.stopping.wait(state.picker.config.stall)
            self._send_json(
                200, {"events_received": len(data), "messages": [], "fbtrace_id": state.trace_id()}
            )
            return
        # "drop": close the socket without a response.
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class EmulatorHandle:
    """A running emulator. Use it as a context manager, or call :meth:`stop`."""

    def __init__(self, server: _Server, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        self.host = str(server.server_address[0])
        self.port = int(server.server_address[1])
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{host}:{self.port}"
        self._stopped = False

    def __repr__(self) -> str:
        return f"EmulatorHandle(url={self.url!r})"

    def received(self) -> list[dict[str, Any]]:
        """Accepted events, oldest first: ``{"pixel_id", "api_version", "test_event_code",
        "event"}``. Duplicates (retries of accepted requests) appear as many times as accepted."""
        return self._server.state.received()

    def stats(self) -> dict[str, Any]:
        return self._server.state.stats()

    def reset(self) -> None:
        """Forget the accepted events and counters (faults keep their random sequence)."""
        self._server.state.reset()

    def set_faults(self, faults: FaultConfig | None, seed: int = 0) -> None:
        """Change fault injection while running."""
        self._server.state.picker = FaultPicker(faults or FaultConfig(), seed)

    def stop(self) -> None:
        """Stop serving, close open connections and the record file. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        state = self._server.state
        state.stopping.set()
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join(timeout=5)
        state.close()

    def __enter__(self) -> EmulatorHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    token: str | None = None,
    faults: FaultConfig | None = None,
    seed: int = 0,
    record: Path | None = None,
    now: Callable[[], float] = time.time,
    keep: int | None = None,
    latency: float = 0.0,
    app_secret: str | None = None,
    rules: MetaEventRules | None = None,
    versions: VersionSignals | None = None,
    quality_fixture: dict[str, Any] | None = None,
) -> EmulatorHandle:
    """Start an emulator in a background thread; ``port=0`` picks a free port.

    ``token``: the access token requests must carry (None: any). ``faults``/``seed``: fault
    injection. ``record``: append accepted events to this JSON-lines file. ``now``: the clock
    event times are checked against. ``keep``: how many accepted events to keep in memory for
    :meth:`EmulatorHandle.received` (None: all). ``latency``: seconds added to every
    ``/events`` response, to mimic the real Graph API's round trip. ``app_secret``: requests
    must carry the matching ``appsecret_proof`` (code 100 otherwise, as Meta answers).
    ``rules``: the physical_store window and the checks of AppendAttribution and CRM stages
    (:mod:`capic.emulator.meta_events`). ``versions``: versions answered with ``(#2635)`` or
    with an ``X-Ad-Api-Version-Warning`` header. ``quality_fixture``: diagnostics and refusals
    of the Dataset Quality API (:mod:`capic.emulator.quality`).
    """
    if latency < 0:
        raise ValueError("latency must not be negative")
    state = EmulatorState(
        token=token,
        faults=faults or FaultConfig(),
        seed=seed,
        record=record,
        now=now,
        keep=keep,
        latency=latency,
        app_secret=app_secret,
        rules=rules,
        versions=versions,
        quality_fixture=quality_fixture,
    )
    try:
        server = _Server((host, port), state)
    except BaseException:
        state.close()
        raise
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"capic-emulator-{server.server_address[1]}",
        daemon=True,
    )
    thread.start()
    return EmulatorHandle(server, thread)
