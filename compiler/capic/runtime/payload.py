"""Turning what a rule's ``send`` evaluated into a Conversions API server event.

This is the per-event hot path. A generated rule builds two dict literals, the server event
(with ``event_name`` first and a ``user_data`` placeholder where the source put the section)
and the raw customer information, and calls :meth:`Sender.send` with the :class:`SendSpec`
of that send, a module constant that holds everything known at compile time: which top-level
keys need a type conversion, which sections need their nulls removed. ``send`` then:

1. leaves out null fields, converts known keys to the type Meta expects (``event_time`` to
   unix seconds, ``event_id`` to a string, ``custom_data.value`` to a number, ``currency`` to
   an ISO code, ``app_data.advertiser_tracking_enabled`` to 0/1 ...; a value that cannot be
   converted is dropped and counted, and an ``event_time`` that cannot be read rejects the
   event);
2. removes nulls inside sections (``custom_data``, ``app_data`` ...), recursively, and drops
   sections left empty;
3. adds ``Context.time_offset`` to ``event_time``;
4. normalizes and hashes the customer information with one
   :meth:`capic.runtime.hashing.UserDataBuilder.build` call;
5. validates (:func:`capic.runtime.validate.validate_event`) against the event's clock;
6. appends an :class:`~capic.runtime.context.Emitted` or counts the rejection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from capic.runtime.coerce import currency, to_bool, to_event_time, to_int, to_number, to_string
from capic.runtime.context import Emitted, EventScope, Rejection
from capic.runtime.hashing import UserDataBuilder
from capic.runtime.validate import INVALID_EVENT_TIME, validate_event

__all__ = ["SECTION_COERCIONS", "TOP_COERCIONS", "SendSpec", "Sender", "flag", "prune"]

Coerce = Callable[[Any], Any]
#: (key, conversion, type that needs no conversion, rejection reason when it fails or None)
_Field = tuple[str, Coerce | None, type | None, str | None]


def flag(v: Any) -> int | None:
    """A 0/1 flag (``app_data.advertiser_tracking_enabled``) from a bool, 0/1 or a word."""
    b = to_bool(v)
    return None if b is None else int(b)


#: Top-level server-event keys converted to the type Meta expects.
TOP_COERCIONS: Final[dict[str, tuple[Coerce, type, str | None]]] = {
    "event_time": (to_event_time, int, INVALID_EVENT_TIME),
    "event_id": (to_string, str, None),
    "opt_out": (to_bool, bool, None),
    "data_processing_options_country": (to_int, int, None),
    "data_processing_options_state": (to_int, int, None),
}
#: Section key -> {key: (conversion, type that needs none)}.
SECTION_COERCIONS: Final[dict[str, dict[str, tuple[Coerce, type]]]] = {
    "custom_data": {
        "value": (to_number, float),
        "predicted_ltv": (to_number, float),
        "net_revenue": (to_number, float),
        "currency": (currency, type(None)),
        "num_items": (to_int, int),
    },
    "app_data": {
        "advertiser_tracking_enabled": (flag, type(None)),
        "application_tracking_enabled": (flag, type(None)),
    },
}


def prune(value: Any) -> Any:
    """``value`` without nulls: object members and list items that are None are left out,
    at every depth, and so are objects whose members all were null. Lists and objects are
    copied only when something changes."""
    if type(value) is dict:
        out: dict[str, Any] | None = None
        for k, v in value.items():
            if v is None:
                if out is None:
                    out = {}
                    for k2, v2 in value.items():
                        if k2 == k:
                            break
                        out[k2] = v2
                continue
            if type(v) is dict or type(v) is list:
                p = prune(v)
                if p is not v and out is None:
                    out = {}
                    for k2, v2 in value.items():
                        if k2 == k:
                            break
                        out[k2] = v2
                if type(p) is dict and not p and v:
                    continue  # an object whose members were all null is left out too
                v = p
            if out is not None:
                out[k] = v
        return value if out is None else out
    if type(value) is list:
        items: list[Any] | None = None
        for i, v in enumerate(value):
            if v is None:
                if items is None:
                    items = value[:i]
                continue
            if type(v) is dict or type(v) is list:
                p = prune(v)
                if p is not v and items is None:
                    items = value[:i]
                if type(p) is dict and not p and v:
                    continue
                v = p
            if items is not None:
                items.append(v)
        return value if items is None else items
    return value


class SendSpec:
    """What is known about one ``send`` at compile time (a module constant)."""

    __slots__ = ("event_name", "fields", "pixel", "rule", "sections")

    def __init__(
        self,
        *,
        rule: str,
        pixel: str,
        event_name: str,
        keys: tuple[str, ...],
        sections: tuple[str, ...] = (),
    ) -> None:
        self.rule = rule
        self.pixel = pixel
        self.event_name = event_name
        fields: list[_Field] = []
        for key in keys:
            spec = TOP_COERCIONS.get(key)
            if spec is None:
                fields.append((key, None, None, None))
            else:
                fields.append((key, spec[0], spec[1], spec[2]))
        #: Top-level fields (not sections, not user_data) with their conversion.
        self.fields: tuple[_Field, ...] = tuple(fields)
        #: Sections (other than user_data) with their conversions.
        self.sections: tuple[tuple[str, tuple[tuple[str, Coerce, type], ...]], ...] = tuple(
            (
                key,
                tuple((k, c, t) for k, (c, t) in SECTION_COERCIONS.get(key, {}).items()),
            )
            for key in sections
        )

    def __repr__(self) -> str:
        return f"SendSpec(rule={self.rule!r}, pixel={self.pixel!r}, event_name={self.event_name!r})"


class Sender:
    """Finishes server events for one module's settings (default country, DOB order)."""

    __slots__ = ("_build", "builder")

    def __init__(self, *, default_country: str | None = None, dob_order: str = "mdy") -> None:
        self.builder = UserDataBuilder(default_country=default_country, dob_order=dob_order)
        self._build = self.builder.build

    def send(
        self,
        s: EventScope,
        out: list[Emitted],
        spec: SendSpec,
        ev: dict[str, Any],
        user: dict[str, Any] | None,
        test_event_code: Any = None,
    ) -> None:
        """Finish ``ev`` (see the module docstring) and append it to ``out`` when valid."""
        ctx = s.ctx
        stats = s.stats
        for key, coerce, fast, reason in spec.fields:
            v = ev[key]
            if v is None:
                del ev[key]
            elif coerce is not None and type(v) is not fast:
                c = coerce(v)
                if c is None:
                    del ev[key]
                    if reason is not None:
                        if not ctx.probe:
                            self._reject(s, spec, reason)
                        return
                    stats.invalid_values[key] += 1
                else:
                    ev[key] = c
            elif type(v) is list or type(v) is dict:
                ev[key] = prune(v)
        t = ev.get("event_time")
        if ctx.probe:
            if type(t) is int and (stats.max_event_time is None or t > stats.max_event_time):
                stats.max_event_time = t
            return
        if ctx.time_offset and type(t) is int:
            ev["event_time"] = t + ctx.time_offset
        for key, coercions in spec.sections:
            section = ev[key]
            if type(section) is not dict:
                del ev[key]
                continue
            section = prune(section)
            for k, coerce, fast in coercions:
                v = section.get(k)
                if v is not None and type(v) is not fast:
                    c = coerce(v)
                    if c is None:
                        del section[k]
                        stats.invalid_values[f"{key}.{k}"] += 1
                    else:
                        section[k] = c
            if section:
                ev[key] = section
            else:
                del ev[key]
        if user is not None:
            ud = self._build(user, stats.invalid_values)
            if ud:
                ev["user_data"] = ud
            else:
                ev.pop("user_data", None)
        if ctx.validate:
            reason = validate_event(ev, s.now())
            if reason is not None:
                self._reject(s, spec, reason)
                return
        stats.emitted += 1
        if test_event_code is not None:
            test_event_code = to_string(test_event_code)
        out.append(Emitted(spec.rule, spec.pixel, ev, test_event_code))

    @staticmethod
    def _reject(s: EventScope, spec: SendSpec, reason: str) -> None:
        s.stats.rejected[reason] += 1
        hook = s.ctx.on_reject
        if hook is not None:
            hook(Rejection(spec.rule, spec.pixel, spec.event_name, reason))
