"""What generated rule modules import, and what a service embedding them uses.

A generated module (``capic compile``, or :func:`capic.api.compile_project`) exposes
``process(event, request=None, *, context=None) -> list[Emitted]``; :class:`Context` fixes the
clock and the id source and carries the counters. The submodules:

- :mod:`capic.runtime.paths`, :mod:`capic.runtime.stdlib`: path access and the language's
  functions and operators (never raising);
- :mod:`capic.runtime.coerce`, :mod:`capic.runtime.normalize`, :mod:`capic.runtime.hashing`:
  type conversions, customer-information normalization and SHA-256 hashing;
- :mod:`capic.runtime.payload`, :mod:`capic.runtime.validate`, :mod:`capic.runtime.limits`:
  server-event assembly and per-event validation (the limits read from the JSON Schemas);
- :mod:`capic.runtime.ingest`, :mod:`capic.runtime.destinations`: one incoming event to queue
  items and an outcome (what ``capic run`` and ``capic serve`` do per event);
- :mod:`capic.runtime.delivery`, :mod:`capic.runtime.secrets`: the queue contract, the outbox,
  group commit and the delivery engine (batching, retries, bisection, dead letters);
- :mod:`capic.runtime.runner`: ``capic run``'s pipeline (input, checkpoints, delivery);
- :mod:`capic.runtime.loader`: importing a generated module from text or a file.
"""

from __future__ import annotations

from capic.runtime.context import Context, Emitted, Rejection, RuntimeStats

__all__ = ["Context", "Emitted", "Rejection", "RuntimeStats"]
