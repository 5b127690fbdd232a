"""An exclusive kernel lock on a file, held by one process: the outbox's single-writer rule.

``flock`` on a sidecar file (``<outbox>.lock``): the kernel releases it when the process dies,
``kill -9`` included, so a crash never leaves a stale lock to clean up by hand. The holder
writes its pid and command line into the sidecar, so that a second process can say who holds
it. The sidecar is never deleted: removing a lock file while another process waits on the old
inode would let two holders in.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
from pathlib import Path

__all__ = ["FileLock", "LockHeld"]


class LockHeld(Exception):
    """Another process holds the lock; the message names it (pid and command)."""

    def __init__(self, path: Path, holder: str) -> None:
        self.path = path
        self.holder = holder
        super().__init__(holder)


def _command_line() -> str:
    # /proc gives the real argv (the console script, not the interpreter); fall back to sys.argv.
    try:
        raw = Path(f"/proc/{os.getpid()}/cmdline").read_bytes()
        parts = [p.decode("utf-8", "replace") for p in raw.split(b"\0") if p]
    except OSError:
        parts = list(sys.argv)
    text = " ".join(parts)
    return text if len(text) <= 200 else text[:197] + "..."


class FileLock:
    """``with FileLock(path):`` or :meth:`acquire` / :meth:`release`. Not re-entrant: a second
    ``FileLock`` on the same path in the same process is refused as well."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or raise :class:`LockHeld` at once (never waits)."""
        if self._fd is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._read_holder(fd)
            os.close(fd)
            raise LockHeld(self.path, holder) from None
        except BaseException:
            os.close(fd)
            raise
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {_command_line()}\n".encode(), 0)
        self._fd = fd

    @staticmethod
    def _read_holder(fd: int) -> str:
        try:
            text = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
        except OSError:
            text = ""
        pid, _, command = text.partition(" ")
        if not pid.isdigit():
            return "another process"
        return f"pid {pid} ({command})" if command else f"pid {pid}"

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __del__(self) -> None:
        # A forgotten lock object must not keep a descriptor (and the lock) forever.
        self.release()
