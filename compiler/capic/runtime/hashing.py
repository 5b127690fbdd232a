"""SHA-256 hashing of customer information and assembly of the CAPI ``user_data`` object.

Meta requires SHA-256 (lowercase hex of the UTF-8 bytes) for every customer-information key
except the click/browser IDs and the platform-issued IDs in ``NEVER_HASHED_KEYS``. Which key is
which is a fact of ``schemas/user_data.schema.json`` (read through :mod:`capic.meta.catalog`).
Raw values never leave this module: the output holds only digests and the never-hashed IDs.
"""

from __future__ import annotations

import collections
import hashlib
import importlib
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Final, Protocol

from capic.meta import catalog
from capic.runtime import clickids
from capic.runtime.normalize import (
    DOB_ORDERS,
    MEMO_SIZE,
    WHITESPACE,
    MemoSize,
    Normalizer,
    PhoneNormalizer,
    as_text,
    bound_normalizers,
    is_sha256,
    memoized,
    region_code,
)

__all__ = [
    "MEMO_KEYS",
    "MEMO_LIMIT",
    "NEVER_HASHED_KEYS",
    "TRIMMED_KEYS",
    "WHITESPACE",
    "Put",
    "UserDataBuilder",
    "clean_identifiers",
    "sha256",
    "sha256_hex",
]


def _fastest_sha256() -> Callable[[bytes], Any]:
    """The quicker SHA-256 constructor here, for the short inputs hashed here: CPython's
    built-in one (``_sha2`` on 3.12+, ``_sha256`` on 3.11) or OpenSSL's through hashlib.

    Same digests; which is faster depends on the machine: OpenSSL 3 has a large fixed cost
    per call, but uses the CPU's SHA instructions where there are any. A few hundred hashes,
    alternating (about 0.2 ms, once per process), decide; a tie goes to the built-in one."""
    candidates: list[Callable[[bytes], Any]] = []
    for name in ("_sha2", "_sha256"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        fn = getattr(module, "sha256", None)
        if callable(fn):
            candidates.append(fn)
            break
    candidates.append(hashlib.sha256)
    if len(candidates) == 1:
        return candidates[0]
    sample = [f"customer-{n}@example.com".encode() for n in range(64)]
    best = [float("inf")] * len(candidates)
    for _ in range(3):
        for i, fn in enumerate(candidates):
            start = time.perf_counter()
            for data in sample:
                fn(data).hexdigest()
            best[i] = min(best[i], time.perf_counter() - start)
    return candidates[1] if best[1] < best[0] * 0.97 else candidates[0]


_sha256: Final = _fastest_sha256()
#: The SHA-256 constructor this module hashes with (generated modules inline the common path
#: of the put functions with it: ``sha256(text.encode()).hexdigest()``).
sha256: Final = _sha256

#: user_data keys that Meta wants in clear text (sending a hash of them breaks matching).
NEVER_HASHED_KEYS: Final = frozenset(catalog.user_data_keys()) - catalog.hashed_keys()
#: Never-hashed identifiers sent trimmed, and left out when blank (``x-capic-trimmed``).
TRIMMED_KEYS: Final = tuple(sorted(catalog.trimmed_keys()))


def sha256_hex(s: str) -> str:
    """Lowercase hex SHA-256 of the UTF-8 bytes of ``s``."""
    return _sha256(s.encode()).hexdigest()


def clean_identifiers(user_data: dict[str, Any]) -> None:
    """Trim the :data:`TRIMMED_KEYS` of ``user_data`` in place and drop the blank ones
    (:func:`capic.runtime.clickids.clean`: an fbc of ``" "`` or ``""`` is no click id)."""
    for key in TRIMMED_KEYS:
        value = user_data.get(key)
        # A trimmed text is left alone: strip() gives the very same object back.
        if value is not None and (
            type(value) is not str or not value or value.strip() is not value
        ):
            cleaned = clickids.clean(value)
            if cleaned is None:
                del user_data[key]
            else:
                user_data[key] = cleaned


_SCALARS: Final = (str, int, float, Decimal)

#: Keys whose values repeat a lot from event to event (gender, city, state, country, first and
#: last name, date of birth, ZIP code): their digests are memoized per builder, raw text ->
#: digest ("" when invalid), and for ZIP codes also normalized text -> digest.
#: Privacy: the memo holds raw customer values in process memory only, like the event being
#: processed does; it is bounded (cleared when it reaches its size, ``MEMO_LIMIT`` entries per
#: key or more: ``memoized()``), never logged, never written anywhere and never returned: only
#: digests leave this module.
_MEMO_SIZES: Final = memoized()
MEMO_KEYS: Final = frozenset(_MEMO_SIZES)
#: Entries at which a memo is cleared, by default (see ``normalize.memoized()``).
MEMO_LIMIT: Final = MEMO_SIZE


class Put(Protocol):
    """``put(out, value, invalid, country=None)``: normalizes and hashes ``value`` and stores
    the result in ``out`` under the put's key (see :meth:`UserDataBuilder.hasher`).
    ``country`` is the event's raw ``user_data.country`` (used by ``ph``)."""

    def __call__(
        self,
        out: dict[str, object],
        value: object,
        invalid: collections.Counter[str] | None,
        country: object = None,
    ) -> None: ...


class UserDataBuilder:
    """Builds CAPI ``user_data`` from raw fields: normalizes and hashes the hashed keys.

    ``default_country`` (ISO 3166-1 alpha-2) is the region whose calling code is added to
    phone numbers written without one, when the event names no country of its own;
    ``dob_order`` ("mdy", "dmy" or "ymd") says how to read a date of birth whose day and
    month are both <= 12. Both are checked here, once: a bad value raises ValueError.
    """

    __slots__ = ("_memos", "_normalizers", "_puts")

    def __init__(self, *, default_country: str | None = None, dob_order: str = "mdy") -> None:
        if dob_order not in DOB_ORDERS:
            raise ValueError(f"dob_order must be one of {sorted(DOB_ORDERS)}, got {dob_order!r}")
        self._normalizers = bound_normalizers(region_code(default_country), dob_order)
        #: Raw text -> digest ("" when invalid) of the memoized keys (see ``MEMO_KEYS``).
        self._memos: dict[str, dict[str, str]] = {key: {} for key in MEMO_KEYS}
        self._puts: dict[str, Put] = {
            key: _make_put(key, normalizer, self._memos.get(key), _MEMO_SIZES.get(key))
            for key, normalizer in self._normalizers.items()
        }

    def hasher(self, key: str) -> Put | None:
        """The put function of the hashed key ``key`` (None for keys that are not hashed).

        ``put(out, value, invalid, country=None)`` does for one key what :meth:`build` does
        for each: a digest (or a list of distinct digests) is stored in ``out[key]``; a
        missing or blank value stores nothing; an invalid one stores nothing and adds 1 to
        ``invalid[key]``. Generated rule modules call these directly, one per user_data field,
        with the event's country for ``ph``."""
        return self._puts.get(key)

    def normalizer(self, key: str) -> Normalizer | None:
        """The normalizer of the hashed key ``key`` (None for other keys): generated modules
        call it for a stripped string that is not 64 characters long, and the put function
        for every other value. Same results. The one of ``ph`` takes the event's country as
        a second argument (see :class:`capic.runtime.normalize.PhoneNormalizer`)."""
        return self._normalizers.get(key)

    def memo_lookup(self, key: str) -> Callable[[str], str | None] | None:
        """``get`` of the digest memo of the memoized key ``key`` (None for other keys):
        raw string -> its digest, "" when it is invalid, None when not memoized yet.
        Generated modules store a non-empty digest it gives directly and call the put
        function for every other value (which also counts the invalid ones). Same results."""
        memo = self._memos.get(key)
        return None if memo is None else memo.get

    def build(
        self, fields: Mapping[str, object], invalid: collections.Counter[str] | None = None
    ) -> dict[str, object]:
        """The ``user_data`` dict for ``fields`` (key -> None, a scalar or a list of scalars).

        Hashed keys: normalized and hashed (a list gives the distinct digests in input order,
        a scalar gives one digest string); a value that already is a SHA-256 digest is passed
        on lowercased, never hashed twice; a phone number is read in the country of
        ``fields["country"]`` when it names one. Missing and blank values are left out
        silently; values that are present but invalid are left out and counted in
        ``invalid[key]`` (never recorded themselves). Other keys (never-hashed IDs, and
        unknown keys, which the linter reports) are passed through untouched, except that
        None is left out and the :data:`TRIMMED_KEYS` are trimmed (left out when blank).
        """
        out: dict[str, object] = {}
        puts = self._puts
        country = fields.get("country")
        for key, value in fields.items():
            if value is None:
                continue
            put = puts.get(key)
            if put is None:
                out[key] = value
            else:
                put(out, value, invalid, country)
        clean_identifiers(out)
        return out


def _make_put(
    key: str, normalizer: Normalizer, memo: dict[str, str] | None, size: MemoSize | None
) -> Put:
    """The put function of one hashed key (see :meth:`UserDataBuilder.hasher`); ``memo`` is
    its digest memo (None if not memoized) of ``size``."""
    ws = WHITESPACE
    sha = _sha256
    digest_of = _phone_digest if key == "ph" else _digest
    # The normalizer of ``ph`` also takes the event's country; the others only the text.
    phone: PhoneNormalizer | None = normalizer if key == "ph" else None  # type: ignore[assignment]

    def other(
        out: dict[str, object],
        value: object,
        invalid: collections.Counter[str] | None,
        country: object,
    ) -> None:
        # Lists, tuples and non-string scalars (the rare shapes).
        if value is None:
            return
        if isinstance(value, list | tuple):
            digests: list[str] = []
            for item in value:
                digest = digest_of(normalizer, item, country)
                if digest is None:
                    continue
                if digest == "":
                    if invalid is not None:
                        invalid[key] += 1
                elif digest not in digests:
                    digests.append(digest)
            if digests:
                out[key] = digests
            return
        digest = digest_of(normalizer, value, country)
        if digest:
            out[key] = digest
        elif digest == "" and invalid is not None:
            invalid[key] += 1

    if memo is None:

        def put(
            out: dict[str, object],
            value: object,
            invalid: collections.Counter[str] | None,
            country: object = None,
        ) -> None:
            if type(value) is not str:
                other(out, value, invalid, country)
                return
            text = value.strip(ws)
            if not text:
                return
            if len(text) == 64 and is_sha256(text):
                out[key] = text.lower()
                return
            if phone:
                normalized = phone(text, country)
            else:
                normalized = normalizer(text)
            if normalized is not None:
                out[key] = sha(normalized.encode()).hexdigest()
            elif invalid is not None:
                invalid[key] += 1

        return put

    assert size is not None
    memo_get = memo.get
    limit = size.raw
    # Normalized text -> digest, for keys whose raw forms vary more than their values.
    by_value: dict[str, str] | None = {} if size.normalized else None

    def memo_put(
        out: dict[str, object],
        value: object,
        invalid: collections.Counter[str] | None,
        country: object = None,
    ) -> None:
        if type(value) is not str:
            other(out, value, invalid, country)
            return
        digest = memo_get(value)
        if digest is None:
            text = value.strip(ws)
            if not text:
                return
            if len(text) == 64 and is_sha256(text):
                digest = text.lower()
            else:
                normalized = normalizer(text)
                if normalized is None:
                    digest = ""
                elif by_value is None:
                    digest = sha(normalized.encode()).hexdigest()
                else:
                    digest = by_value.get(normalized) or _remember(
                        by_value, normalized, sha(normalized.encode()).hexdigest(), size.normalized
                    )
            if limit:
                if len(memo) >= limit:
                    memo.clear()
                memo[value] = digest
        if digest:
            out[key] = digest
        elif invalid is not None:
            invalid[key] += 1

    return memo_put


def _remember(memo: dict[str, str], text: str, digest: str, limit: int) -> str:
    """Store ``text`` -> ``digest`` in ``memo`` (cleared when it holds ``limit`` entries)."""
    if len(memo) >= limit:
        memo.clear()
    memo[text] = digest
    return digest


def _digest(normalizer: Normalizer, value: object, country: object = None) -> str | None:
    """The digest of one raw value; None if it is missing or blank, "" if it is invalid."""
    if value is None:
        return None
    if isinstance(value, _SCALARS):
        text = as_text(value)
        if text is None:
            return ""
    else:
        return ""  # containers and other objects are not customer information
    text = text.strip(WHITESPACE)
    if not text:
        return None
    if len(text) == 64 and is_sha256(text):
        return text.lower()
    normalized = normalizer(text)
    if normalized is None:
        return ""
    return _sha256(normalized.encode()).hexdigest()


def _phone_digest(normalizer: Normalizer, value: object, country: object = None) -> str | None:
    """:func:`_digest` for ``ph``, read in the event's ``country``."""
    phone: PhoneNormalizer = normalizer  # type: ignore[assignment]
    return _digest(lambda text: phone(text, country), value)
