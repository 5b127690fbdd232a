"""Text clean-up shared by the customer-information normalizers (``capic.runtime.normalize``).

Invisible code points change a hash without anyone seeing them: a zero-width joiner pasted
into a name, a byte order mark before an e-mail address, the variation selector that turns
"❤" into "❤️". They are removed, after putting the text in NFC so that canonically equal
texts (composed or decomposed "é") lose the same code points and hash the same.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

__all__ = ["INVISIBLE", "WHITESPACE", "ascii_digits", "clean_text", "nfc"]

# Whitespace as JavaScript's \s and String.prototype.trim see it. The reference normalizers are
# JavaScript, and Python's notion differs (it also counts U+001C..U+001F and U+0085, and not
# U+FEFF), which the reference tests pin down for external_id.
WHITESPACE: Final = (
    " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)

#: Code points that change a hash without being seen: format characters (Unicode category Cf:
#: zero-width joiner and space, word joiner, byte order mark, soft hyphen, bidirectional
#: controls, tag characters, ...) and variation selectors (U+FE00..FE0F, U+E0100..E01EF and
#: the Mongolian U+180B..180D, 180F). Cf as of Unicode 15.1 (the Egyptian joiners
#: U+13439..1343F arrived in 15.0); a test checks it against the running Python's table.
INVISIBLE: Final = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180b-\u180f\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufe00-\ufe0f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f\U000e0100-\U000e01ef]"
)


def nfc(text: str) -> str:
    # Composed and decomposed forms of "é" hash differently; NFC makes them one value.
    return unicodedata.normalize("NFC", text)


def clean_text(text: str) -> str:
    """``text`` in NFC without the :data:`INVISIBLE` code points (meant for non-ASCII text).

    NFC comes first, so that canonically equal texts lose the same code points; a removal can
    bring a combining mark next to its base, so NFC runs again when anything went."""
    text = nfc(text)
    cleaned = INVISIBLE.sub("", text)
    return nfc(cleaned) if len(cleaned) != len(text) else text


def ascii_digits(text: str) -> str:
    """``text`` with every decimal digit of any script written as an ASCII digit
    ("١٢" -> "12"): digits of dates and phone numbers mean the same in every script."""
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)
