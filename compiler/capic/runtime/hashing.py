"""SHA-256 hashing of customer information and assembly of the CAPI ``user_data`` object.

Meta requires SHA-256 (lowercase hex of the UTF-8 bytes) for every customer-information key
except the click/browser IDs and the platform-issued IDs in ``NEVER_HASHED_KEYS``. Raw values
never leave this module: the output holds only digests and the never-hashed IDs.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping
from decimal import Decimal
from hashlib import sha256 as _sha256
from typing import Final

from capic.runtime.normalize import (
    DOB_ORDERS,
    WHITESPACE,
    Normalizer,
    as_text,
    bound_normalizers,
    is_sha256,
    region_code,
)

__all__ = ["NEVER_HASHED_KEYS", "UserDataBuilder", "sha256_hex"]

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


class UserDataBuilder:
    """Builds CAPI ``user_data`` from raw fields: normalizes and hashes the hashed keys.

    ``default_country`` (ISO 3166-1 alpha-2) is the region whose calling code is added to
    phone numbers written without one; ``dob_order`` ("mdy", "dmy" or "ymd") says how to read
    a date of birth whose day and month are both <= 12. Both are checked here, once: a bad
    value raises ValueError.
    """

    __slots__ = ("_normalizers",)

    def __init__(self, *, default_country: str | None = None, dob_order: str = "mdy") -> None:
        if dob_order not in DOB_ORDERS:
            raise ValueError(f"dob_order must be one of {sorted(DOB_ORDERS)}, got {dob_order!r}")
        self._normalizers = bound_normalizers(region_code(default_country), dob_order)

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
        normalizers = self._normalizers
        ws = WHITESPACE
        for key, value in fields.items():
            if value is None:
                continue
            normalizer = normalizers.get(key)
            if normalizer is None:
                out[key] = value
                continue
            if type(value) is str:
                # The common case, inlined: this loop runs for every field of every event.
                text = value.strip(ws)
                if not text:
                    continue
                if len(text) == 64 and is_sha256(text):
                    out[key] = text.lower()
                    continue
                normalized = normalizer(text)
                if normalized is not None:
                    out[key] = _sha256(normalized.encode()).hexdigest()
                elif invalid is not None:
                    invalid[key] += 1
            elif isinstance(value, list | tuple):
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
            else:
                digest = _digest(normalizer, value)
                if digest:
                    out[key] = digest
                elif digest == "" and invalid is not None:
                    invalid[key] += 1
        return out


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
