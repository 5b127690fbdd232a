"""``capic run --queue``: the options' checks and the forwarder that replaces delivery
(capic.queue.serving.run_deliverer). Separate from cli/run.py, which owns the run itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from capic.runtime.secrets import SecretRef

__all__ = ["queue_deliverer"]


def queue_deliverer(
    queue: tuple[str | None, int, bool],
    project: str,
    environment: str | None,
    secrets: dict[str, dict[str, SecretRef]],
    dry_run: bool,
    warn: Callable[[str], None],
) -> Any:
    """``--queue``: the forwarder factory of capic.queue, or None without a queue; raises
    ValueError (one line) for options that do not go together."""
    url, partitions, strict = queue
    if url is None:
        if strict:
            raise ValueError("--queue-strict checks the Redis queue: use it with --queue")
        return None
    if dry_run:
        raise ValueError("--dry-run sends nothing anywhere: leave out --queue")
    if secrets:
        raise ValueError(
            f"pixel `{next(iter(secrets))}` writes its credentials inline; a queue carries "
            "only references (workers resolve them): use env(...) or secret(...)"
        )
    try:
        from capic.queue import QueueURL
        from capic.queue.serving import run_deliverer
        from capic.runtime.delivery.queue import QueueError

        QueueURL.parse(url)
    except ImportError as exc:
        raise ValueError(
            f"--queue needs the queue extra: pip install 'capic[queue]' ({exc.name} is missing)"
        ) from None
    except QueueError as exc:
        raise ValueError(str(exc)) from None
    return run_deliverer(
        url,
        project=project,
        environment=environment,
        partitions=partitions,
        strict=strict,
        log=warn,
    )
