"""Typed, cached views of what capic knows about Meta CAPI, read from ``schemas/*.schema.json``.

The JSON Schemas are the single source of Meta facts: every function here reads them (once per
process) and no fact is repeated in Python. Custom annotations (``x-capic-*``) carry what JSON
Schema cannot assert: which keys are hashed, the "too broad to match" key sets, capic's match
quality weights, the custom_data keys Meta recommends per standard event.

``jsonschema`` is imported only by :func:`validator` and :func:`registry`, so ``suggest`` and the
fact look-ups stay cheap for the CLI.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from capic.resources import load_schema, schema_names

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped, unused-ignore]
    from referencing import Registry

__all__ = [
    "UserKey",
    "action_source_branch",
    "action_sources",
    "app_data_keys",
    "catalog_ads_keys",
    "content_types",
    "currencies",
    "custom_data_standard_keys",
    "delivery_categories",
    "extinfo_length",
    "hashed_keys",
    "keep_empty_keys",
    "ldu_country_codes",
    "ldu_state_codes",
    "match_ipv4_factor",
    "match_weights",
    "messaging_channels",
    "recommended_custom_keys",
    "registry",
    "required_custom_keys",
    "schema",
    "server_event_keys",
    "standard_events",
    "suggest",
    "too_broad_subsets",
    "trimmed_keys",
    "user_data_aliases",
    "user_data_keys",
    "validator",
]


@dataclass(frozen=True, slots=True)
class UserKey:
    """One ``user_data`` key as described by ``user_data.schema.json``."""

    name: str
    #: capic's runtime normalizes and SHA-256 hashes the value (``x-capic-hashed``).
    hashed: bool
    #: a list of values is allowed as well as a single one (``x-capic-array``).
    array: bool
    #: JSON type of one value: ``"string"`` or ``"integer"``.
    type: str
    description: str
    #: SDK-only legacy key, not on Meta's parameter page (``deprecated`` in the schema).
    deprecated: bool = False


def schema(name: str) -> dict[str, Any]:
    """The parsed schema ``name`` (shared and cached: do not mutate it)."""
    loaded = load_schema(name)
    if not isinstance(loaded, dict):
        raise TypeError(f"schema {name!r} is not a JSON object")
    return loaded


def _properties(name: str) -> dict[str, Any]:
    props = schema(name)["properties"]
    assert isinstance(props, dict)
    return props


def _if_then_branches(name: str, key: str) -> dict[str, dict[str, Any]]:
    """``{value: then}`` for every ``allOf`` branch ``if {key: {const: value}} then {...}``."""
    branches: dict[str, dict[str, Any]] = {}
    for branch in schema(name).get("allOf", []):
        const = branch.get("if", {}).get("properties", {}).get(key, {}).get("const")
        if isinstance(const, str):
            branches[const] = branch.get("then", {})
    return branches


# -- server event -------------------------------------------------------------------------------


@functools.cache
def server_event_keys() -> frozenset[str]:
    """Top-level keys of a server event."""
    return frozenset(_properties("server_event"))


@functools.cache
def keep_empty_keys() -> frozenset[str]:
    """Top-level keys whose empty value means something (``x-capic-keep-empty``:
    ``data_processing_options = []`` says Limited Data Use is off): sent even when empty,
    where every other empty list, object or string is left out."""
    props = _properties("server_event")
    return frozenset(k for k, v in props.items() if v.get("x-capic-keep-empty") is True)


@functools.cache
def action_sources() -> tuple[str, ...]:
    """The nine ``action_source`` values, in the schema's order."""
    return tuple(_properties("server_event")["action_source"]["enum"])


@functools.cache
def ldu_country_codes() -> tuple[int, ...]:
    """Allowed ``data_processing_options_country`` values (0 = geolocate, 1 = USA)."""
    return tuple(_properties("server_event")["data_processing_options_country"]["enum"])


@functools.cache
def ldu_state_codes() -> tuple[int, ...]:
    """Allowed ``data_processing_options_state`` values (0 = geolocate, 1000..1013)."""
    return tuple(_properties("server_event")["data_processing_options_state"]["enum"])


@functools.cache
def messaging_channels() -> tuple[str, ...]:
    """Allowed ``messaging_channel`` values."""
    return tuple(_properties("server_event")["messaging_channel"]["enum"])


# -- standard events ----------------------------------------------------------------------------


@functools.cache
def standard_events() -> tuple[str, ...]:
    """The 18 standard event names, in the order of Meta's pixel reference."""
    return tuple(schema("standard_events")["x-capic-standard-events"])


@functools.cache
def _standard_event_branches() -> Mapping[str, dict[str, Any]]:
    return _if_then_branches("standard_events", "event_name")


def _standard_event_then(event: str) -> dict[str, Any]:
    return _standard_event_branches().get(event, {})


def required_custom_keys(event: str) -> tuple[str, ...]:
    """custom_data keys ``event`` must carry (``("currency", "value")`` for Purchase); ``()`` for
    events without requirements and for custom events."""
    then = _standard_event_then(event)
    return tuple(then.get("properties", {}).get("custom_data", {}).get("required", ()))


def recommended_custom_keys(event: str) -> tuple[str, ...]:
    """custom_data keys Meta lists for ``event``; ``()`` for custom events."""
    return tuple(_standard_event_then(event).get("x-capic-recommended", ()))


def catalog_ads_keys(event: str) -> tuple[str, ...]:
    """custom_data keys of which at least one is needed for Advantage+ catalog ads; ``()`` if none."""
    return tuple(_standard_event_then(event).get("x-capic-catalog-ads-any-of", ()))


# -- user_data ----------------------------------------------------------------------------------


@functools.cache
def _user_keys() -> Mapping[str, UserKey]:
    keys: dict[str, UserKey] = {}
    for name, prop in _properties("user_data").items():
        types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
        value_type = next(t for t in types if t != "array")
        keys[name] = UserKey(
            name=name,
            hashed=bool(prop["x-capic-hashed"]),
            array=bool(prop["x-capic-array"]),
            type=value_type,
            description=prop["description"],
            deprecated=bool(prop.get("deprecated", False)),
        )
    return keys


def user_data_keys() -> dict[str, UserKey]:
    """Every ``user_data`` key (a fresh dict; the values are frozen)."""
    return dict(_user_keys())


@functools.cache
def hashed_keys() -> frozenset[str]:
    """``user_data`` keys capic hashes (``em``, ``ph``, ..., ``external_id`` and legacy SDK keys)."""
    return frozenset(name for name, key in _user_keys().items() if key.hashed)


@functools.cache
def trimmed_keys() -> frozenset[str]:
    """Never-hashed ``user_data`` keys sent trimmed and left out when blank (``fbc``, ``fbp``,
    ``client_ip_address``: ``x-capic-trimmed``)."""
    props = _properties("user_data")
    return frozenset(name for name, prop in props.items() if prop.get("x-capic-trimmed"))


@functools.cache
def too_broad_subsets() -> tuple[frozenset[str], ...]:
    """Meta's "too broad to match" sets: an event whose user_data keys are a subset of one of
    them is rejected."""
    return tuple(frozenset(s) for s in schema("user_data")["x-capic-too-broad-subsets"])


def match_weights() -> dict[str, float]:
    """capic's match-quality weights (an estimate, not Meta's formula). A name joined with ``+``
    (``"fn+ln"``) is a group that counts only when all its keys are present."""
    return {k: float(v) for k, v in schema("user_data")["x-capic-match-weights"].items()}


def match_ipv4_factor() -> float:
    """Share of the ``client_ip_address`` weight an IPv4 address earns (IPv6 earns all of it)."""
    return float(schema("user_data")["x-capic-match-ipv4-factor"])


def user_data_aliases() -> dict[str, str]:
    """Legacy offline-upload names mapped to their user_data keys (``{"email": "em", ...}``)."""
    return dict(schema("user_data")["x-capic-aliases"])


# -- custom_data and app_data -------------------------------------------------------------------


@functools.cache
def custom_data_standard_keys() -> frozenset[str]:
    """Meta's standard custom_data keys (a custom key must not reuse one of them)."""
    return frozenset(_properties("custom_data"))


@functools.cache
def currencies() -> frozenset[str]:
    """ISO 4217 codes accepted for ``custom_data.currency`` (uppercase)."""
    return frozenset(_properties("custom_data")["currency"]["enum"])


@functools.cache
def content_types() -> tuple[str, ...]:
    """Allowed ``custom_data.content_type`` values."""
    return tuple(_properties("custom_data")["content_type"]["enum"])


@functools.cache
def delivery_categories() -> tuple[str, ...]:
    """Allowed ``delivery_category`` values."""
    return tuple(_properties("custom_data")["delivery_category"]["enum"])


@functools.cache
def app_data_keys() -> frozenset[str]:
    """Keys of ``app_data``."""
    return frozenset(_properties("app_data"))


@functools.cache
def extinfo_length() -> int:
    """Exact number of elements of ``app_data.extinfo`` (16)."""
    extinfo = _properties("app_data")["extinfo"]
    length = extinfo["minItems"]
    if extinfo["maxItems"] != length or len(extinfo["prefixItems"]) != length:
        raise ValueError("app_data.extinfo: minItems, maxItems and prefixItems disagree")
    return int(length)


# -- validation ---------------------------------------------------------------------------------


@functools.cache
def registry() -> Registry:
    """A registry of every capic schema under its ``$id``, so cross-schema ``$ref``s resolve
    offline."""
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    resources = [(schema(n)["$id"], DRAFT202012.create_resource(schema(n))) for n in schema_names()]
    return Registry().with_resources(resources).crawl()


@functools.cache
def validator(name: str) -> Draft202012Validator:
    """A Draft 2020-12 validator for schema ``name`` (cached; validators are immutable).

    ``format`` stays an annotation (no format checker): what capic asserts is spelled out with
    ``pattern`` so results do not depend on optional packages.
    """
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema(name), registry=registry())


# -- suggestions --------------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s_\-.]+")
#: Score of a candidate that is a prefix of the name or the other way round ("email" -> "em").
_PREFIX_SCORE = 0.75
#: Score of a candidate spelled by the initials of the name's words ("first_name" -> "fn").
_INITIALS_SCORE = 0.8


def _fold(text: str) -> str:
    return _SEPARATORS.sub("", text).casefold()


def _initials(text: str) -> str:
    words = [w for w in _SEPARATORS.split(text.casefold()) if w]
    return "".join(w[0] for w in words) if len(words) > 1 else ""


def _score(name: str, candidate: str) -> float:
    import difflib  # here, not at the top: the runtime reads this module's facts at start-up

    folded, other = _fold(name), _fold(candidate)
    score = difflib.SequenceMatcher(None, folded, other).ratio()
    short, long = sorted((folded, other), key=len)
    if len(short) >= 2 and long.startswith(short):
        score = max(score, _PREFIX_SCORE)
    if _initials(name) == other:
        score = max(score, _INITIALS_SCORE)
    return score


def suggest(name: str, candidates: Iterable[str], *, cutoff: float = 0.65) -> str | None:
    """The candidate closest to ``name``, or ``None`` when nothing is close enough.

    Case and separators are ignored ("purchase" -> "Purchase", "add_to_cart" -> "AddToCart",
    "usd" -> "USD"); otherwise the best :mod:`difflib` similarity of the folded strings wins
    ("AddToChart" -> "AddToCart"), where a prefix counts as close ("emial" -> "em", "phone" ->
    "ph") and so do the initials of a multi-word name ("first_name" -> "fn"). Ties go to the
    alphabetically first candidate.
    """
    pool = sorted(set(candidates))
    if name in pool:
        return name
    if not pool or len(name) > 2 * max(map(len, pool)) + 8:
        # Far longer than every candidate: no near miss, and difflib's cost grows with the
        # product of the lengths (a 200,000-character literal took seconds).
        return None
    folded = _fold(name)
    for candidate in pool:
        if _fold(candidate) == folded:
            return candidate
    best: str | None = None
    best_score = cutoff
    for candidate in pool:
        score = _score(name, candidate)
        if score > best_score or (score == best_score and best is None):
            best, best_score = candidate, score
    return best


# -- added for the linter (capic.lint): recommendations per action source ------------------------


@functools.cache
def recommended_parameters(source: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(server-event keys, user_data keys)`` Meta recommends for every event plus those for
    action source ``source`` (``x-capic-recommended-event-keys`` and
    ``x-capic-recommended-user-data`` of ``action_sources.schema.json``, top level and branch).
    ``source`` None or unknown: the keys recommended for every event."""
    doc = schema("action_sources")
    branch = _if_then_branches("action_sources", "action_source").get(source or "", {})
    event_keys: dict[str, None] = {}
    user_keys: dict[str, None] = {}
    for part in (doc, branch):
        event_keys.update(dict.fromkeys(part.get("x-capic-recommended-event-keys", ())))
        user_keys.update(dict.fromkeys(part.get("x-capic-recommended-user-data", ())))
    return tuple(event_keys), tuple(user_keys)


def action_source_branch(source: str) -> dict[str, Any]:
    """The ``then`` of ``action_sources.schema.json``'s branch for ``source`` (its
    requirements and ``x-capic-*`` annotations); ``{}`` for an unknown source."""
    return _if_then_branches("action_sources", "action_source").get(source, {})
