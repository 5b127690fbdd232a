"""Turning what a rule's ``send`` evaluated into a Conversions API server event.

This is the per-event hot path. A generated rule builds two dict literals, the server event
(with ``event_name`` first and a ``user_data`` placeholder where the source put the section)
and the raw customer information, and calls :meth:`Sender.send` with the :class:`SendSpec`
of that send, a module constant that holds everything known at compile time: which top-level
keys need a type conversion, which sections need their nulls removed. ``send`` then:

1. leaves out empty fields (null, ``""``, ``[]``, ``{}``; ``data_processing_options = []`` is
   sent: the schema gives it a meaning, see :data:`KEEP_EMPTY`), converts known keys to the type Meta expects (``event_time`` to
   unix seconds, ``event_id`` to a string, ``custom_data.value`` to a number, ``currency`` to
   an ISO code, ``app_data.advertiser_tracking_enabled`` to 0/1 ...; a value that cannot be
   converted is dropped and counted, and an ``event_time`` that cannot be read rejects the
   event);
2. removes empty members inside sections (``custom_data``, ``app_data`` ...), recursively,
   and drops sections left empty;
3. adds ``Context.time_offset`` to ``event_time`` (and to ``original_event_data.event_time``);
4. normalizes and hashes the customer information with one
   :meth:`capic.runtime.hashing.UserDataBuilder.build` call;
5. validates (:func:`capic.runtime.validate.validate_event`) against the event's clock;
6. appends an :class:`~capic.runtime.context.Emitted` or counts the rejection.

The conversions of step 1 are in :mod:`capic.runtime._payload_coerce` and the removal of
empty members in :mod:`capic.runtime._payload_prune`; generated modules import them from
here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from capic.meta import catalog
from capic.runtime._payload_coerce import (
    SECTION_COERCIONS,
    TOP_COERCIONS,
    Coerce,
    event_time,
    flag,
    section_conversion,
)
from capic.runtime._payload_prune import prune, put_pruned
from capic.runtime.coerce import to_string
from capic.runtime.context import Emitted, EventScope, Rejection
from capic.runtime.hashing import UserDataBuilder, clean_identifiers
from capic.runtime.metapolicy import MetaPolicy
from capic.runtime.validate import (
    ACTION_SOURCES,
    MAX_EVENT_NAME,
    validate_event,
    validate_timed_user,
)

__all__ = [
    "KEEP_EMPTY",
    "SECTION_COERCIONS",
    "TOP_COERCIONS",
    "SendSpec",
    "Sender",
    "event_time",
    "flag",
    "prune",
    "put_pruned",
    "section_conversion",
]

#: Top-level keys sent even when empty (``data_processing_options = []``: LDU is off).
KEEP_EMPTY: Final = catalog.keep_empty_keys()
_new_tuple: Final = tuple.__new__
#: (key, conversion, type that needs no conversion, rejection reason when it fails or None)
_Field = tuple[str, Coerce | None, type | None, str | None]


class SendSpec:
    """What is known about one ``send`` at compile time (a module constant)."""

    __slots__ = ("event_name", "fields", "pixel", "rule", "sections", "website")

    #: ``sections``: (key, conversions, clean) where ``clean`` says that the generated code
    #: built the section without nulls (no ``prune`` needed).

    def __init__(
        self,
        *,
        rule: str,
        pixel: str,
        event_name: str,
        keys: tuple[str, ...],
        sections: tuple[str, ...] = (),
        clean: tuple[str, ...] = (),
        action_source: str | None = None,
    ) -> None:
        self.rule = rule
        self.pixel = pixel
        self.event_name = event_name
        #: ``action_source`` is the constant given (the event never has another one): True or
        #: False when it is valid, and so is ``event_name``, saying whether it is "website";
        #: None when validation checks both on every event.
        self.website: bool | None = None
        if (
            action_source in ACTION_SOURCES
            and 0 < len(event_name) <= MAX_EVENT_NAME
            and "action_source" not in keys
        ):
            self.website = action_source == "website"
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
        self.sections: tuple[tuple[str, tuple[tuple[str, Coerce, type], ...], bool], ...] = tuple(
            (
                key,
                tuple((k, c, t) for k, (c, t) in SECTION_COERCIONS.get(key, {}).items()),
                key in clean,
            )
            for key in sections
        )

    def __repr__(self) -> str:
        return f"SendSpec(rule={self.rule!r}, pixel={self.pixel!r}, event_name={self.event_name!r})"


class Sender:
    """Finishes server events for one module's settings (default country, DOB order).

    Generated modules call :meth:`begin` (steps 1 to 3 of the module docstring), then, when it
    returns True, build user_data with the builder's per-key put functions
    (:meth:`capic.runtime.hashing.UserDataBuilder.hasher`) and call :meth:`finish` (steps 5
    and 6). :meth:`send` does all of it with one :meth:`UserDataBuilder.build` call."""

    __slots__ = ("_build", "builder", "hasher", "policy")

    def __init__(
        self,
        *,
        default_country: str | None = None,
        dob_order: str = "mdy",
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        self.builder = UserDataBuilder(default_country=default_country, dob_order=dob_order)
        self._build = self.builder.build
        self.hasher = self.builder.hasher
        #: The module's ``[meta]`` settings (modules of capic 0.1.0 give none: the defaults).
        self.policy = MetaPolicy.from_settings(meta)

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
        if self.begin(s, spec, ev):
            ud = None if user is None else self._build(user, s.stats.invalid_values)
            self.finish(s, out, spec, ev, ud, test_event_code)

    def begin(self, s: EventScope, spec: SendSpec, ev: dict[str, Any]) -> bool:
        """Steps 1 to 3: null removal and conversions of the top-level fields and sections,
        the time offset. False when the event was rejected (counted) or the context only
        probes event times: then nothing else is to be done with it."""
        ctx = s.ctx
        stats = s.stats
        for key, coerce, fast, reason in spec.fields:
            v = ev[key]
            if v is None or (type(v) is str and not v):
                del ev[key]
            elif coerce is not None and type(v) is not fast:
                c = coerce(v)
                if c is None:
                    del ev[key]
                    if reason is not None:
                        if not ctx.probe:
                            self._reject(s, spec, reason)
                        return False
                    stats.invalid_values[key] += 1
                else:
                    ev[key] = c
            elif type(v) is list or type(v) is dict:
                p = prune(v)
                if p or key in KEEP_EMPTY:
                    ev[key] = p
                else:
                    del ev[key]
        if ctx.probe:
            t = ev.get("event_time")
            if type(t) is int and (stats.max_event_time is None or t > stats.max_event_time):
                stats.max_event_time = t
            return False
        if ctx.time_offset:
            t = ev.get("event_time")
            if type(t) is int:
                ev["event_time"] = t + ctx.time_offset
            # The original conversion an event refers to moved with every other event time.
            original = ev.get("original_event_data")
            if type(original) is dict and type(original.get("event_time")) is int:
                original["event_time"] += ctx.time_offset
        for key, coercions, clean in spec.sections:
            section = ev[key]
            if type(section) is not dict:
                del ev[key]
                continue
            if not clean:
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
        return True

    def finish(
        self,
        s: EventScope,
        out: list[Emitted],
        spec: SendSpec,
        ev: dict[str, Any],
        ud: dict[str, Any] | None,
        test_event_code: Any = None,
    ) -> None:
        """Steps 4 to 6 after :meth:`begin`: ``ud`` (the hashed user_data, or None when the
        send has no user section) goes in the ``user_data`` placeholder, or the placeholder
        goes when it is empty; then validation, and ``out`` gets the event when it is valid."""
        if ud is not None:
            clean_identifiers(ud)  # fbc, fbp, client_ip_address: trimmed, blank ones left out
            if ud:
                ev["user_data"] = ud
            else:
                ev.pop("user_data", None)
        stats = s.stats
        if s.ctx.validate:
            website = spec.website
            if website is None:
                reason = validate_event(ev, s.now(), self.policy)
            else:
                reason = validate_timed_user(ev, s.now(), website, self.policy)
            if reason is not None:
                self._reject(s, spec, reason)
                return
        stats.emitted += 1
        if test_event_code is not None:
            test_event_code = to_string(test_event_code)
        # tuple.__new__ skips the NamedTuple's Python-level __new__ (same object).
        out.append(_new_tuple(Emitted, (spec.rule, spec.pixel, ev, test_event_code)))

    @staticmethod
    def _reject(s: EventScope, spec: SendSpec, reason: str) -> None:
        s.stats.rejected[reason] += 1
        hook = s.ctx.on_reject
        if hook is not None:
            hook(Rejection(spec.rule, spec.pixel, spec.event_name, reason))
