"""Dates of birth for ``user_data``: ``db`` (``YYYYMMDD``) and the legacy SDK keys ``dobd``,
``dobm`` and ``doby`` (day ``DD``, month ``MM``, year ``YYYY``).

Digit groups are read from the text (any non-digit separates). With three or more groups the
year is the first group above 31 among the first two, otherwise the third (Meta's reference);
a year-first date is year-month-day unless the month slot holds a day above 12; otherwise a
number above 12 is the day, and when both are 12 or less ``dob_order`` decides. The date must
exist, with a year from 1900 to the current year (UTC), as Meta's documentation says.
"""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Callable
from typing import Final

from capic.runtime._text import ascii_digits, clean_text

__all__ = ["DOB_ORDERS", "dob_normalizer", "norm_day", "norm_month", "norm_year"]

#: Accepted values of ``dob_order``: how to read a date whose day and month are both <= 12.
DOB_ORDERS: Final = frozenset({"mdy", "dmy", "ymd"})

_DIGIT_GROUPS: Final = re.compile(r"[0-9]+")
# The common written shapes ("1997-02-16", "2/16/1997", "16.02.1997"), matched in one step.
_DATE_SHAPE: Final = re.compile(r"([0-9]{1,4})[-/. ]([0-9]{1,2})[-/. ]([0-9]{1,4})")
_DAYS_IN_MONTH: Final = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_TWO_DIGITS: Final = tuple(f"{n:02d}" for n in range(32))
_MONTH_DAYS: Final = {f"{m:02d}": f"{_DAYS_IN_MONTH[m]:02d}" for m in range(1, 13)}
# The latest year accepted (as a number and as text) and when to look at the clock again (the
# next New Year, UTC). Only a year above the cached one needs the clock, so ordinary dates
# never read it.
_this_year: list[int] = [0, 0]
_this_year_text: list[str] = ["0000"]


def _current_year() -> int:
    now = time.time()
    if now >= _this_year[1]:
        year = time.gmtime(now).tm_year
        _this_year[0] = year
        _this_year[1] = calendar.timegm((year + 1, 1, 1, 0, 0, 0))
        _this_year_text[0] = f"{year:04d}"
    return _this_year[0]


def _year_ok(y: str) -> bool:
    """A 4-digit year text is 1900..this year (zero-padded digits compare like numbers)."""
    return y >= "1900" and (y <= _this_year_text[0] or y <= f"{_current_year():04d}")


def _date(year: int, month: int, day: int) -> str | None:
    """``YYYYMMDD`` if the date exists and the year is 1900..this year (docs), else None."""
    if year < 1900 or not 1 <= month <= 12 or not 1 <= day <= _DAYS_IN_MONTH[month]:
        return None
    if year > _this_year[0] and year > _current_year():
        return None
    if month == 2 and day == 29 and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
        return None
    return str(year) + _TWO_DIGITS[month] + _TWO_DIGITS[day]


def _ymd(n1: int, n2: int, n3: int, dob_order: str) -> str | None:
    # The year is the first group > 31 among the first two, else the third (reference). A
    # year-first date is Y-M-D (ISO) unless the month slot holds a day > 12. Otherwise a group
    # > 12 must be the day; when both are <= 12, dob_order decides.
    if n1 > 31:
        return _date(n1, n3, n2) if n2 > 12 else _date(n1, n2, n3)
    if n2 > 31:
        return _date(n2, n1, n3) if n3 > 12 else _date(n2, n3, n1)
    if n1 > 12:
        return _date(n3, n2, n1)
    if n2 > 12 or dob_order != "dmy":
        return _date(n3, n1, n2)
    return _date(n3, n2, n1)


def _iso_date(text: str) -> str | None:
    """``YYYYMMDD`` of an ISO "YYYY-MM-DD" (what databases and JSON emit), checked as strings
    to skip the int conversions; "" if ``text`` is not in that form with the month in the
    middle, for the general path to read."""
    y, m, d = text[:4], text[5:7], text[8:]
    last = _MONTH_DAYS.get(m)
    if last is None or not (y.isdigit() and d.isdigit() and y.isascii() and d.isascii()):
        return ""
    if not "01" <= d <= last or not _year_ok(y):
        return None
    if m == "02" and d == "29":
        year = int(y)
        if not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
            return None
    return y + m + d


def _compact_date(dob_order: str, g: str) -> str | None:
    """A date written as 8 ASCII digits."""
    # A valid YYYYMMDD is its own answer: checked as strings like _iso_date does (what _date
    # checks, without the int conversions).
    m, d = g[4:6], g[6:]
    last = _MONTH_DAYS.get(m)
    y = g[:4]
    if (
        last is not None
        and "01" <= d <= last
        and y >= "1900"
        and (y <= _this_year_text[0] or _year_ok(y))
        and not (m == "02" and d == "29")
    ):
        return g
    compact = _date(int(g[:4]), int(m), int(d))
    if compact is not None or dob_order == "ymd":
        return compact
    # Not a valid YYYYMMDD: read it as MMDDYYYY / DDMMYYYY.
    return _ymd(int(g[:2]), int(g[2:4]), int(g[4:]), dob_order)


def _norm_dob(dob_order: str, text: str) -> str | None:
    if not text.isascii():
        text = ascii_digits(clean_text(text))
    if len(text) == 8 and text.isdigit() and text.isascii():
        # "YYYYMMDD" (or MMDDYYYY / DDMMYYYY): what the general path below does with one
        # group of 8 digits, without the regexes.
        return _compact_date(dob_order, text)
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        iso = _iso_date(text)
        if iso != "":
            return iso
    shape = _DATE_SHAPE.fullmatch(text)
    if shape is not None:
        return _ymd(int(shape[1]), int(shape[2]), int(shape[3]), dob_order)
    groups = _DIGIT_GROUPS.findall(text)
    if len(groups) >= 3:
        first = groups[:3]
        # More than 4 significant digits is no day, month or year (and int() of a huge digit
        # run is refused by Python, so the check also keeps this total).
        if all(len(g.lstrip("0")) <= 4 for g in first):
            return _ymd(int(first[0]), int(first[1]), int(first[2]), dob_order)
        return None
    if len(groups) == 1 and len(groups[0]) == 8:
        return _compact_date(dob_order, groups[0])
    return None


def dob_normalizer(dob_order: str) -> Callable[[str], str | None]:
    """The normalizer of ``db`` for ``dob_order`` (of a stripped, non-empty text)."""
    month_days = _MONTH_DAYS
    year_text = _this_year_text

    def norm_dob(text: str) -> str | None:
        # A valid "YYYYMMDD" (what most systems store) is its own answer: _compact_date's
        # first test, inline.
        if len(text) == 8 and text.isdigit() and text.isascii():
            m, d = text[4:6], text[6:]
            last = month_days.get(m)
            if (
                last is not None
                and "01" <= d <= last
                and "1900" <= text[:4] <= year_text[0]
                and (d != "29" or m != "02")
            ):
                return text
            return _compact_date(dob_order, text)
        return _norm_dob(dob_order, text)

    return norm_dob


def _number(text: str, low: int, high: int, width: int) -> str | None:
    """``text`` as a zero-padded number of ``width`` digits if it is one from low to high."""
    if not (text.isdigit() and text.isascii()) or len(text.lstrip("0")) > width:
        return None
    n = int(text)
    return f"{n:0{width}d}" if low <= n <= high else None


def norm_day(text: str) -> str | None:
    """``dobd``: day of birth ``DD`` (1 to 31)."""
    return _number(text, 1, 31, 2)


def norm_month(text: str) -> str | None:
    """``dobm``: month of birth ``MM`` (1 to 12)."""
    return _number(text, 1, 12, 2)


def norm_year(text: str) -> str | None:
    """``doby``: year of birth ``YYYY`` (1900 to the current year)."""
    if len(text) != 4 or not (text.isdigit() and text.isascii()):
        return None
    return text if _year_ok(text) else None
