"""The routes: the public app (``/v1/events``, ``/v1/collect``) and the admin app
(``/healthz``, ``/readyz``, ``/metrics``), on Starlette.

A request reads the active rules once (``state.rules.active``) and uses them to the end, so a
reload in the middle never changes the rules of an event in flight. An answer that says
events were taken (202, 204) is sent only after the server events they produced are durable
in the outbox (``GroupCommitter`` future resolved); a full backlog or disk answers 503 with
``Retry-After`` and nothing was stored.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from capic.serve.body import BodyError, Input, TooManyEvents, parse_collect, parse_events
from capic.serve.context import client_ip, parse_cookies, rule_headers
from capic.serve.metrics import CONTENT_TYPE

if TYPE_CHECKING:
    from capic.runtime.delivery.queue import QueueItem
    from capic.serve.state import ActiveRules, ServiceState

__all__ = ["admin_app", "public_app"]

#: Inputs processed on the event loop; larger requests go to a worker thread so that one big
#: batch does not stall every other connection.
_INLINE_INPUTS = 32


class _Refused(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def _json(status: int, data: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status, headers, media_type="application/json")


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _Refused(413, f"the body is larger than {limit} bytes")
    # Straight from the ASGI messages: a small body is one message, read without the
    # generator Request.stream() puts around it.
    receive = request.receive
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _Refused(400, "the client went away before the body was read")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _Refused(413, f"the body is larger than {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _peer(request: Request) -> str | None:
    return request.client.host if request.client is not None else None


class Handlers:
    def __init__(self, state: ServiceState) -> None:
        self.state = state

    # ------------------------------------------------------------------ shared
    async def _commit(self, items: Sequence[QueueItem]) -> None:
        if not items:
            return
        from capic.runtime.delivery.queue import QueueFull

        state = self.state
        try:
            await state.loop_committer.commit(items)
        except QueueFull as exc:
            state.outbox_problem = str(exc)
            retry = str(max(1, math.ceil(exc.retry_after)))
            raise _Refused(503, "the outbox is full; retry later", {"retry-after": retry}) from None
        except Exception as exc:  # the outbox failed: nothing was stored, say so
            state.outbox_problem = f"{type(exc).__name__}: {exc}"
            raise _Refused(
                503, "the outbox cannot store events now", {"retry-after": "5"}
            ) from None
        state.outbox_problem = None

    def _enhance(self, active: ActiveRules, items: tuple[QueueItem, ...]) -> list[QueueItem]:
        enhancer = active.enhancer
        if enhancer is None:
            return list(items)
        out = []
        for item in items:
            body = enhancer.apply(item.body)
            if body is not None:
                self.state.metrics.enhanced.inc()
                item = item._replace(body=body)
            out.append(item)
        return out

    def _finish(
        self,
        request: Request,
        route: str,
        status: int,
        started: float,
        client: str | None,
        size: int | None = None,
        counts: dict[str, int] | None = None,
    ) -> None:
        seconds = time.perf_counter() - started
        self.state.metrics.request_done(route, status, seconds)
        access = self.state.access
        if not access.enabled:
            return
        access.log(
            method=request.method,
            path=request.scope["path"],
            status=status,
            seconds=seconds,
            client=client,
            size=size,
            counts=counts,
        )

    # ------------------------------------------------------------------ /v1/events
    def _process(
        self, active: ActiveRules, inputs: list[Input]
    ) -> tuple[dict[str, Any], list[QueueItem]]:
        process = active.ingestor.process
        accepted = unmatched = 0
        rejections: list[dict[str, Any]] = []
        items: list[QueueItem] = []
        m = self.state.metrics
        for inp in inputs:
            if inp.problem is not None:
                rejections.append({"index": inp.index, "reason": inp.problem})
                m.child(m.rejected, inp.problem).inc()
                continue
            outcome = process(inp.event, inp.request, inp.index)
            for rule in outcome.rules:
                m.child(m.matches, rule).inc()
            if outcome.status == "accepted":
                accepted += 1
                if active.enhancer is None:
                    items.extend(outcome.items)
                elif active.consents(inp.event, inp.request):
                    items.extend(self._enhance(active, outcome.items))
                else:
                    m.child(m.consent_refusals, "enhancement").inc()
                    items.extend(outcome.items)
            elif outcome.status == "unmatched":
                unmatched += 1
            else:
                reason = outcome.reason or "rejected"
                rejections.append({"index": inp.index, "reason": reason})
                m.child(m.rejected, reason).inc()
        counts = {
            "accepted": accepted,
            "unmatched": unmatched,
            "rejected": len(rejections),
            "server_events": len(items),
        }
        return {**counts, "rejections": rejections}, items

    async def events(self, request: Request) -> Response:
        started = time.perf_counter()
        peer = _peer(request)
        status, counts, size = 500, None, None
        try:
            active = self.state.rules.active
            if not active.auth.allows(request.headers.get("authorization")):
                raise _Refused(
                    401, "a valid bearer token is required", {"www-authenticate": "Bearer"}
                )
            limits = self.state.config.limits
            body = await _read_body(request, limits.max_body)
            size = len(body)
            try:
                inputs = parse_events(
                    body, max_depth=limits.max_depth, max_events=limits.max_events
                )
            except TooManyEvents as exc:
                raise _Refused(413, str(exc)) from None
            except BodyError as exc:
                raise _Refused(400, str(exc)) from None
            if len(inputs) <= _INLINE_INPUTS:
                answer, items = self._process(active, inputs)
            else:
                answer, items = await asyncio.to_thread(self._process, active, inputs)
            await self._commit(items)
            m = self.state.metrics
            for outcome in ("accepted", "unmatched", "rejected"):
                if answer[outcome]:
                    m.child(m.events, outcome).inc(answer[outcome])
            status = 202
            counts = {k: answer[k] for k in ("accepted", "unmatched", "rejected")}
            return _json(202, answer)
        except _Refused as exc:
            status = exc.status
            return _json(exc.status, {"error": str(exc)}, exc.headers)
        finally:
            self._finish(request, "/v1/events", status, started, peer, size, counts)

    # ------------------------------------------------------------------ /v1/collect
    def _client(self, request: Request) -> str | None:
        headers = request.headers
        return client_ip(
            _peer(request),
            self.state.config.trusted_proxies,
            x_forwarded_for=headers.getlist("x-forwarded-for"),
            forwarded=headers.getlist("forwarded"),
        )

    async def collect_preflight(self, request: Request) -> Response:
        started = time.perf_counter()
        active = self.state.rules.active
        h = request.headers
        allowed = active.cors.preflight(
            h.get("origin"),
            h.get("access-control-request-method"),
            h.get("access-control-request-headers"),
        )
        status = 204 if allowed is not None else 403
        self._finish(request, "/v1/collect", status, started, self._client(request))
        return Response(None, status, dict(allowed or []))

    async def collect(self, request: Request) -> Response:
        started = time.perf_counter()
        client = self._client(request)
        status, size = 500, None
        active = self.state.rules.active
        origin = request.headers.get("origin")
        cors = dict(active.cors.headers(origin))
        try:
            if origin is not None and not active.cors.allows(origin):
                raise _Refused(403, "this origin is not allowed")
            wait = self.state.limiter.acquire(client or "")
            if wait > 0:
                self.state.metrics.rate_limited.inc()
                raise _Refused(429, "too many requests", {"retry-after": str(math.ceil(wait))})
            limits = self.state.config.limits
            body = await _read_body(request, limits.max_collect_body)
            size = len(body)
            try:
                hit = parse_collect(body, max_depth=limits.max_depth)
            except BodyError as exc:
                raise _Refused(400, str(exc)) from None
            cookies = parse_cookies(request.headers.get("cookie"))
            context: dict[str, Any] = {
                "ip": client,
                "headers": rule_headers(request.headers.items()),
                "cookies": cookies,
                "url": hit.url,
                "referrer": hit.referrer,
            }
            set_cookie: list[str] = []
            m = self.state.metrics
            if active.cookies is not None and not active.consents(hit.event, context):
                m.child(m.consent_refusals, "cookies").inc()
            elif active.cookies is not None:
                jar = active.cookies.apply(
                    cookies, hit.url, request.headers.get("host"), int(time.time() * 1000)
                )
                context["cookies"], set_cookie = jar.cookies, jar.set_cookie
                m.child(m.cookies, "_fbp", "created" if jar.created_fbp else "refreshed").inc()
                if jar.new_fbc:
                    m.child(m.cookies, "_fbc", "created").inc()
            answer, items = self._process(active, [Input(0, hit.event, context)])
            await self._commit(items)
            for outcome in ("accepted", "unmatched", "rejected"):
                if answer[outcome]:
                    m.child(m.events, outcome).inc(answer[outcome])
            status = 204
            response = Response(None, 204, cors)
            for value in set_cookie:
                response.raw_headers.append((b"set-cookie", value.encode("latin-1")))
            return response
        except _Refused as exc:
            status = exc.status
            return _json(exc.status, {"error": str(exc)}, {**cors, **exc.headers})
        finally:
            self._finish(request, "/v1/collect", status, started, client, size)

    # ------------------------------------------------------------------ admin
    async def healthz(self, request: Request) -> Response:
        return _json(200, {"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        problems = self.state.readiness_problems()
        if problems:
            return _json(503, {"status": "not ready", "problems": problems})
        degraded = self.state.degraded()
        if degraded:
            # Still ready: what is accepted is durable in the local outbox meanwhile.
            return _json(200, {"status": "degraded", "problems": degraded})
        return _json(200, {"status": "ready"})

    async def metrics(self, request: Request) -> Response:
        body = await asyncio.to_thread(self.state.render_metrics)
        return Response(body, 200, media_type=CONTENT_TYPE)


def public_app(state: ServiceState) -> Starlette:
    h = Handlers(state)
    return Starlette(
        routes=[
            Route("/v1/events", h.events, methods=["POST"]),
            Route("/v1/collect", h.collect, methods=["POST"]),
            Route("/v1/collect", h.collect_preflight, methods=["OPTIONS"]),
        ]
    )


def admin_app(state: ServiceState) -> Starlette:
    h = Handlers(state)
    return Starlette(
        routes=[
            Route("/healthz", h.healthz, methods=["GET"]),
            Route("/readyz", h.readyz, methods=["GET"]),
            Route("/metrics", h.metrics, methods=["GET"]),
        ]
    )
