"""Invisible code points, canonical equivalence and idempotence, for every hashed key
(docs/normalization.md, "Unicode")."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from capic.runtime.hashing import UserDataBuilder, sha256_hex
from capic.runtime.normalize import HASHED_KEYS, INVISIBLE, normalize

# The Variation_Selector property of the Unicode Character Database (PropList.txt).
VARIATION_SELECTORS = [
    *range(0x180B, 0x180E),
    0x180F,
    *range(0xFE00, 0xFE10),
    *range(0xE0100, 0xE01F0),
]


def test_invisible_covers_every_format_character_and_variation_selector() -> None:
    missing = [
        f"U+{c:04X}"
        for c in range(sys.maxunicode + 1)
        if unicodedata.category(chr(c)) == "Cf" and not INVISIBLE.fullmatch(chr(c))
    ]
    assert not missing, f"Cf in Unicode {unicodedata.unidata_version}, not in INVISIBLE"
    assert all(INVISIBLE.fullmatch(chr(c)) for c in VARIATION_SELECTORS)
    # ... and nothing a script needs: letters and combining marks other than those.
    assert not INVISIBLE.search("aé\u0301\u0915\u093f\u0e01\u0e34\u05d0\u05b7")


ZWJ, ZWSP, BOM, VS16, SHY, LRM = "\u200d", "\u200b", "\ufeff", "\ufe0f", "\u00ad", "\u200e"


@pytest.mark.parametrize(
    ("key", "raw", "expected"),
    [
        ("ct", "Paris ❤️", "paris"),  # not "paris\ufe0f"
        ("ct", f"San{ZWSP} Francisco", "sanfrancisco"),
        ("fn", f"Jo{ZWJ}hn", "john"),
        ("fn", f"Ma{SHY}ry", "mary"),
        ("ln", f"{LRM}O’Brien", "obrien"),
        ("em", f"{ZWSP}john@example.com", "john@example.com"),
        ("em", f"john{ZWJ}@example.com", "john@example.com"),
        ("zp", f"941{ZWSP}03", "94103"),
        ("external_id", f"user{ZWJ}-123", "user-123"),
        ("db", f"1990{ZWSP}-02-16", "19900216"),
        ("ge", f"f{VS16}", "f"),
        ("country", f"U{ZWSP}S", "us"),
        ("st", f"Cali{SHY}fornia", "ca"),
        ("ph", f"+1 650{ZWSP} 555 0123", "16505550123"),
        # Marks that scripts need stay: vowel signs, the nukta, Thai vowels, the accents.
        ("ct", "मुंबई", "मुंबई"),
        ("ct", "เชียงใหม่", "เชียงใหม่"),
        ("fn", "Zoe\u0308", "zoë"),  # decomposed ë: NFC
        ("fn", f"e{ZWJ}\u0301", "é"),  # the removal brings the accent to its base
    ],
)
def test_invisible_code_points_do_not_change_the_hash(
    key: str, raw: str, expected: str | None
) -> None:
    assert normalize(key, raw) == expected


def test_the_builder_hashes_without_them() -> None:
    out = UserDataBuilder().build({"ct": "Paris ❤️", "fn": f"Jo{ZWJ}hn"})
    assert out == {"ct": sha256_hex("paris"), "fn": sha256_hex("john")}


keys = st.sampled_from(sorted(HASHED_KEYS))
texts = st.one_of(
    st.text(),
    st.text(st.characters(categories=["L", "M", "N", "P", "Z", "Cf", "S"]), max_size=12),
    st.text("aéz09 .-'\u0301\u0308\u0339\u0334\u0327\u093f\u200d\ufe0f\u00ad:&", max_size=12),
)


@settings(max_examples=3000, deadline=None)
@given(keys, texts, st.sampled_from(["mdy", "dmy"]))
@example("fn", "\u0339:\u0334", "mdy")  # marks out of canonical order once ":" is gone
@example("ct", "a\u0339!\u0334", "mdy")
@example("external_id", "a\u0339 \u0334", "mdy")
def test_normalizing_twice_changes_nothing(key: str, text: str, order: str) -> None:
    once = normalize(key, text, dob_order=order)
    if once is not None:
        assert normalize(key, once, dob_order=order) == once
        assert unicodedata.is_normalized("NFC", once)
        assert not INVISIBLE.search(once)


@settings(max_examples=2000, deadline=None)
@given(keys, texts)
def test_canonically_equal_texts_hash_the_same(key: str, text: str) -> None:
    forms = {unicodedata.normalize(form, text) for form in ("NFC", "NFD")}
    assert len({normalize(key, form) for form in forms}) == 1
