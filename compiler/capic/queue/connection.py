"""Queue URLs and Redis connections, and Redis errors as capic's one-line queue errors.

``redis://[user:password@]host:port/db`` (``rediss://`` for TLS, ``unix:///path?db=0``). The
password is never printed: messages show :func:`display` of the URL. Every Redis failure
becomes a :class:`~capic.runtime.delivery.queue.QueueError`:

- :class:`QueueUnavailable`: the server cannot be reached or did not answer in time (the
  producer spills to its local outbox; a worker waits and tries again);
- :class:`~capic.runtime.delivery.queue.QueueFull`: Redis refused to write (``maxmemory``
  reached, ``OOM command not allowed``) or the backlog limit is reached;
- :class:`~capic.runtime.delivery.queue.QueueError`: anything else (a wrong password, a key
  of another type).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

from capic.runtime.delivery.queue import QueueError, QueueFull

if TYPE_CHECKING:
    import redis

__all__ = ["QueueURL", "QueueUnavailable", "connect", "display", "redis_errors"]

_SCHEMES = ("redis", "rediss", "unix")
_QUERY_PASSWORD = re.compile(r"((?:^|&)password=)[^&]*", re.IGNORECASE)
_EXTRA_HINT = "Redis queues need the queue extra: pip install 'capic[queue]'"

T = TypeVar("T")


class QueueUnavailable(QueueError):
    """Redis cannot be reached (refused, timed out, connection lost)."""


def display(url: str) -> str:
    """The URL without its password (for messages and logs): the one in the user part and a
    ``password=`` query parameter (redis-py reads both). Works on the text, so a URL whose
    port does not parse is still shown, masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unreadable URL>"
    user, at, host = parts.netloc.rpartition("@")
    if at and ":" in user:
        user = user.split(":", 1)[0] + ":***"
    shown = url.replace(parts.netloc, f"{user}{at}{host}", 1) if parts.netloc else url
    if parts.query:
        query = _QUERY_PASSWORD.sub(r"\1***", parts.query)
        shown = shown.replace(f"?{parts.query}", f"?{query}", 1)
    return shown


@dataclass(frozen=True, slots=True)
class QueueURL:
    url: str

    @classmethod
    def parse(cls, url: str) -> QueueURL:
        """Check the URL's form (nothing is contacted); raises QueueError (one line)."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise QueueError(f"bad queue URL {display(url)}: {exc}") from None
        if parts.scheme not in _SCHEMES:
            raise QueueError(
                f"bad queue URL {display(url)}: expected redis://HOST:PORT/DB "
                "(or rediss://, unix://)"
            )
        if parts.scheme == "unix":
            if not parts.path:
                raise QueueError(f"bad queue URL {display(url)}: unix:// needs a socket path")
        elif not parts.hostname:
            raise QueueError(f"bad queue URL {display(url)}: no host")
        path = parts.path.strip("/")
        if parts.scheme != "unix" and path and not path.isdigit():
            raise QueueError(f"bad queue URL {display(url)}: the path is a database number")
        del port
        return cls(url)

    def __str__(self) -> str:
        return display(self.url)


def connect(url: QueueURL, *, timeout: float = 5.0) -> redis.Redis:
    """A client (a connection pool; nothing is contacted until the first command).

    ``timeout`` bounds every command and connection attempt, so a server that hangs is
    noticed instead of blocking the caller; blocking reads stay shorter than it."""
    try:
        import redis
    except ImportError:
        raise QueueError(_EXTRA_HINT) from None
    try:
        return redis.Redis.from_url(
            url.url,
            socket_connect_timeout=min(timeout, 2.0),
            socket_timeout=timeout,
            health_check_interval=30,
            client_name="capic",
        )
    except ValueError as exc:
        raise QueueError(f"bad queue URL {url}: {exc}") from None


def _translate(exc: Exception, where: str) -> QueueError:
    import redis.exceptions as rex

    if isinstance(exc, rex.ConnectionError | rex.TimeoutError):
        return QueueUnavailable(f"Redis at {where} is unavailable: {_short(exc)}")
    if isinstance(exc, rex.ResponseError) and str(exc).startswith("OOM"):
        return QueueFull(f"Redis at {where} is full (maxmemory): {_short(exc)}", retry_after=5.0)
    if isinstance(exc, rex.AuthenticationError | rex.AuthorizationError):
        return QueueError(f"Redis at {where} refused the credentials: {_short(exc)}")
    return QueueError(f"Redis at {where}: {_short(exc)}")


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


@contextlib.contextmanager
def redis_errors(where: str) -> Iterator[None]:
    """Turn a Redis exception raised inside into a one-line QueueError."""
    import redis.exceptions as rex

    try:
        yield
    except rex.RedisError as exc:
        raise _translate(exc, where) from None
    except OSError as exc:  # a socket error that redis-py did not wrap
        raise QueueUnavailable(f"Redis at {where} is unavailable: {exc.strerror or exc}") from None


def call(where: str, fn: Callable[[], T]) -> T:
    """``fn()`` with :func:`redis_errors`."""
    with redis_errors(where):
        return fn()
