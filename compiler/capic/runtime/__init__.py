"""What generated rule modules import, and what a service embedding them uses.

A generated module (``capic compile``, or :func:`capic.api.compile_project`) exposes
``process(event, request=None, *, context=None) -> list[Emitted]``; :class:`Context` fixes the
clock and the id source and carries the counters. The submodules:

- :mod:`capic.runtime.paths`, :mod:`capic.runtime.stdlib`: path access and the language's
  functions and operators (never raising);
- :mod:`capic.runtime.coerce`, :mod:`capic.runtime.normalize`, :mod:`capic.runtime.hashing`:
  type conversions, customer-information normalization and SHA-256 hashing;
- :mod:`capic.runtime.payload`, :mod:`capic.runtime.validate`: server-event assembly and
  per-event validation;
- :mod:`capic.runtime.delivery`, :mod:`capic.runtime.secrets`: batching, retries, the outbox;
- :mod:`capic.runtime.runner`: the event-stream loop behind ``capic run``;
- :mod:`capic.runtime.loader`: importing a generated module from text or a file.
"""

from __future__ import annotations

from capic.runtime.context import Context, Emitted, Rejection, RuntimeStats

__all__ = ["Context", "Emitted", "Rejection", "RuntimeStats"]
