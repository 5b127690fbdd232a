"""SHA-256 hashing of customer information and assembly of the CAPI ``user_data`` object.

Meta requires SHA-256 (lowercase hex of the UTF-8 bytes) for every customer-information key
except the click/browser IDs and the platform-issued IDs in ``NEVER_HASHED_KEYS``. Raw values
never leave this module: the output holds only digests and the never-hashed IDs.
"""

from __future__ import annotations

import collections
import hashlib
import importlib
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Final

from capic.runtime.normalize import (
    DOB_ORDERS,
    WHITESPACE,
    Normalizer,
    as_text,
    bound_normalizers,
    is_sha256,
    region_code,
)

__all__ = [
    "MEMO_KEYS",
    "MEMO_LIMIT",
    "NEVER_HASHED_KEYS",
    "WHITESPACE",
    "Put",
    "UserDataBuilder",
    "sha256",
    "sha256_hex",
]


def _fastest_sha256() -> Callable[[bytes], Any]:
    """CPython's built-in SHA-256 (``_sha2`` on 3.12+, ``_sha256`` on 3.11) when it exists,
    else OpenSSL's through hashlib. Same digests; the built-in one is about twice as fast for
    the short inputs hashed here, because OpenSSL 3 has a large fixed cost per call."""
    for name in ("_sha2", "_sha256"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        fn = getattr(module, "sha256", None)
        if callable(fn):
            return fn
    return hashlib.sha256


_sha256: Final = _fastest_sha256()
#: The SHA-256 constructor this module hashes with (generated modules inline the common path
#: of the put functions with it: ``sha256(text.encode()).hexdigest()``).
sha256: Final = _sha256

#: user_data keys that Meta wants in clear text (sending a hash of them breaks matching).
NEVER_HASHED_KEYS: Final = frozenset(
    {
        "client_ip_address",
        "client_user_agent",
        "fbc",
        "fbp",
        "subscription_id",
        "fb_login_id",
        "lead_id",
        "anon_id",
        "madid",
        "page_id",
        "page_scoped_user_id",
        "ctwa_clid",
        "ig_account_id",
        "ig_sid",
        "partner_id",
        "partner_name",
        "whatsapp_business_account_id",
        "instagram_business_account_id",
    }
)


def sha256_hex(s: str) -> str:
    """Lowercase hex SHA-256 of the UTF-8 bytes of ``s``."""
    return _sha256(s.encode()).hexdigest()


_SCALARS: Final = (str, int, float, Decimal)

#: Keys whose values repeat a lot from event to event (gender, city, state, country, first and
#: last name): their digests are memoized per builder, raw text -> digest ("" when invalid).
#: Privacy: the memo holds raw customer values in process memory only, like the event being
#: processed does; it is bounded (cleared when it reaches ``MEMO_LIMIT`` entries per key), never
#: logged, never written anywhere and never returned: only digests leave this module.
MEMO_KEYS: Final = frozenset({"fn", "ln", "ge", "ct", "st", "country"})
MEMO_LIMIT: Final = 4096

#: ``put(out, value, invalid)``: normalizes and hashes ``value`` and stores the result in
#: ``out`` under the put's key (see :meth:`UserDataBuilder.hasher`).
Put = Callable[[dict[str, object], object, "collections.Counter[str] | None"], None]


class UserDataBuilder:
    """Builds CAPI ``user_data`` from raw fields: normalizes and hashes the hashed keys.

    ``default_country`` (ISO 3166-1 alpha-2) is the region whose calling code is added to
    phone numbers written without one; ``dob_order`` ("mdy", "dmy" or "ymd") says how to read
    a date of birth whose day and month are both <= 12. Both are checked here, once: a bad
    value raises ValueError.
    """

    __slots__ = ("_memos", "_normalizers", "_puts")

    def __init__(self, *, default_country: str | None = None, dob_order: str = "mdy") -> None:
        if dob_order not in DOB_ORDERS:
            raise ValueError(f"dob_order must be one of {sorted(DOB_ORDERS)}, got {dob_order!r}")
        self._normalizers = bound_normalizers(region_code(default_country), dob_order)
        #: Raw text -> digest ("" when invalid) of the memoized keys (see ``MEMO_KEYS``).
        self._memos: dict[str, dict[str, str]] = {key: {} for key in MEMO_KEYS}
        self._puts: dict[str, Put] = {
            key: _make_put(key, normalizer, self._memos.get(key))
            for key, normalizer in self._normalizers.items()
        }

    def hasher(self, key: str) -> Put | None:
        """The put function of the hashed key ``key`` (None for keys that are not hashed).

        ``put(out, value, invalid)`` does for one key what :meth:`build` does for each: a
        digest (or a list of distinct digests) is stored in ``out[key]``; a missing or blank
        value stores nothing; an invalid one stores nothing and adds 1 to ``invalid[key]``.
        Generated rule modules call these directly, one per user_data field."""
        return self._puts.get(key)

    def normalizer(self, key: str) -> Normalizer | None:
        """The normalizer of the hashed key ``key`` when its put function is not memoized
        (None otherwise): generated modules call it for a stripped string that is not 64
        characters long, and the put function for every other value. Same results."""
        if key in MEMO_KEYS:
            return None
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
        on lowercased, never hashed twice. Missing and blank values are left out silently;
        values that are present but invalid are left out and counted in ``invalid[key]``
        (never recorded themselves). Other keys (never-hashed IDs, and unknown keys, which the
        linter reports) are passed through untouched, except that None is left out.
        """
        out: dict[str, object] = {}
        puts = self._puts
        for key, value in fields.items():
            if value is None:
                continue
            put = puts.get(key)
            if put is None:
                out[key] = value
            else:
                put(out, value, invalid)
        return out


def _make_put(key: str, normalizer: Normalizer, memo: dict[str, str] | None) -> Put:
    """The put function of one hashed key (see :meth:`UserDataBuilder.hasher`)."""
    ws = WHITESPACE
    sha = _sha256

    def other(
        out: dict[str, object], value: object, invalid: collections.Counter[str] | None
    ) -> None:
        # Lists, tuples and non-string scalars (the rare shapes).
        if value is None:
            return
        if isinstance(value, list | tuple):
            digests: list[str] = []
            for item in value:
                digest = _digest(normalizer, item)
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
        digest = _digest(normalizer, value)
        if digest:
            out[key] = digest
        elif digest == "" and invalid is not None:
            invalid[key] += 1

    if memo is None:

        def put(
            out: dict[str, object], value: object, invalid: collections.Counter[str] | None
        ) -> None:
            if type(value) is not str:
                other(out, value, invalid)
                return
            text = value.strip(ws)
            if not text:
                return
            if len(text) == 64 and is_sha256(text):
                out[key] = text.lower()
                return
            normalized = normalizer(text)
            if normalized is not None:
                out[key] = sha(normalized.encode()).hexdigest()
            elif invalid is not None:
                invalid[key] += 1

        return put

    memo_get = memo.get

    def memo_put(
        out: dict[str, object], value: object, invalid: collections.Counter[str] | None
    ) -> None:
        if type(value) is not str:
            other(out, value, invalid)
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
                digest = "" if normalized is None else sha(normalized.encode()).hexdigest()
            if len(memo) >= MEMO_LIMIT:
                memo.clear()
            memo[value] = digest
        if digest:
            out[key] = digest
        elif invalid is not None:
            invalid[key] += 1

    return memo_put


def _digest(normalizer: Normalizer, value: object) -> str | None:
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
