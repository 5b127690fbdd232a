"""The compile-time facts of a send whose event name is computed (``send names[event_type]
to shop``): one :class:`~capic.runtime.payload.SendSpec` per name it can take.

Generated modules hold a :class:`SpecsByName` per such send and look the event's name up in
it. A name the compiler did not foresee (an open set: a ``??`` fallback read from the event)
gets a spec made for that event and not kept, so names coming from events never accumulate.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from capic.runtime.payload import SendSpec

__all__ = ["SpecsByName"]


class SpecsByName(dict[str, SendSpec]):
    """``specs[name]``: the SendSpec of one send for the event name ``name``."""

    __slots__ = ("_args",)

    def __init__(self, names: Iterable[str] = (), **args: Any) -> None:
        super().__init__({name: SendSpec(event_name=name, **args) for name in names})
        self._args = args

    def __missing__(self, name: str) -> SendSpec:
        return SendSpec(event_name=name, **self._args)

    def __repr__(self) -> str:
        return f"SpecsByName({sorted(self)!r}, rule={self._args.get('rule')!r})"
