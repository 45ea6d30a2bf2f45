"""A saved cell value as the spreadsheet shows it: the text an administrator sees.

A workbook saves a number as a number and a date as a number of days; what the
cell shows comes from its number format (ECMA-376 part 1, §18.8.30 and §18.8.31).
These functions turn a saved value and the kind of its format into that text, so
that an upload reads what the administrator typed and saw: ``42`` (never ``42.0``),
``100000000000000000000`` (never ``1e+20``), ``2024-05-01`` (never ``45413``).
"""

from __future__ import annotations

import datetime
import re
from typing import Final

__all__ = ["BUILTIN_FORMATS", "format_kind", "number_text", "unescape"]

# An escaped character in a text (ECMA-376 part 1, §22.9.2.19 ST_Xstring):
# "_x000D_" is a carriage return, "_x005F_" an underscore.
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
_PLAIN_INTEGER = re.compile(r"-?[0-9]{1,15}")

# Number formats built into Excel that show a number as a date, a time or both
# (ECMA-376 part 1, §18.8.30), and the one that keeps it as text ("@").
_DATE: Final = "date"
_TIME: Final = "time"
_DATETIME: Final = "datetime"
_TEXT: Final = "text"
BUILTIN_FORMATS: Final = {
    **dict.fromkeys((14, 15, 16, 17, 27, 28, 29, 30, 31, 34, 35, 36), _DATE),
    **dict.fromkeys((50, 51, 52, 53, 54, 57, 58), _DATE),
    **dict.fromkeys((18, 19, 20, 21, 32, 33, 45, 46, 47, 55, 56), _TIME),
    22: _DATETIME,
    49: _TEXT,
}
# In a format code, what is shown literally (quoted text, escaped characters) or
# sets a colour, a condition or a locale ("[Red]", "[>100]", "[$-409]").
_FORMAT_LITERALS = re.compile(r'"[^"]*"|\\.|_.|\*.|\[(?![hHmMsS]+\])[^\]]*\]')


def format_kind(code: str) -> str | None:
    """What a number format code shows: a date, a time, both, text, zeros, or
    ``None`` (the number as it is)."""
    section = _FORMAT_LITERALS.sub("", code.split(";", 1)[0])
    if section.strip() == "@":
        return _TEXT
    if section and set(section) == {"0"} and len(section) > 1:
        return section
    if section.casefold() == "general":
        return None
    letters = section.casefold()
    has_date = any(c in letters for c in "dy") or (
        "m" in letters and not any(c in letters for c in "hs")
    )
    has_time = any(c in letters for c in "hs")
    if has_date and has_time:
        return _DATETIME
    if has_date:
        return _DATE
    if has_time:
        return _TIME
    return None


def unescape(text: str) -> str:
    """A saved text with Excel's ``_xHHHH_`` escapes undone.

    >>> unescape("a_x000D_b_x005F_x000D_")
    'a\\rb_x000D_'
    """
    if "_x" not in text:
        return text
    return _ESCAPED.sub(lambda match: chr(int(match.group(1), 16)), text)


def number_text(value: str, kind: str | None, date1904: bool) -> str:
    """A number as the spreadsheet shows it: an integer without ``.0``, no
    scientific notation, at most 15 significant digits (Excel's precision); a
    date, time or both as ISO 8601 text when its format shows one.

    Args:
        value: The saved number, as the workbook's XML writes it.
        kind: What its format shows (:func:`format_kind`).
        date1904: Whether the workbook counts days from 1904.

    >>> number_text("1.0", None, False), number_text("1E+20", None, False)
    ('1', '100000000000000000000')
    >>> number_text("45413", "date", False), number_text("123", "00000", False)
    ('2024-05-01', '00123')
    """
    if kind is None or kind == _TEXT:
        if _PLAIN_INTEGER.fullmatch(value):
            return value
        return _general(value)
    if kind in (_DATE, _TIME, _DATETIME):
        return _date_text(value, kind, date1904)
    # A format of zeros ("00000") pads an integer to its length.
    if _PLAIN_INTEGER.fullmatch(value) and not value.startswith("-"):
        return value.zfill(len(kind))
    return _general(value)


def _general(value: str) -> str:
    try:
        number = float(value)
    except ValueError:
        return value
    if number != number or number in (float("inf"), float("-inf")):
        return value
    text = f"{number:.15g}"
    if "e" in text:
        # 1e+20 as 100000000000000000000 and 1.5e-07 as 0.00000015.
        mantissa, exponent = text.split("e")
        negative = mantissa.startswith("-")
        digits = mantissa.lstrip("-").replace(".", "")
        point = mantissa.lstrip("-").find(".")
        point = len(mantissa.lstrip("-")) if point < 0 else point
        position = point + int(exponent)
        # .15g writes an exponent only below 1e-4 and from 1e15 on, so the point
        # falls before the digits or after them, never among them.
        if position <= 0:
            text = "0." + "0" * -position + digits
        else:
            text = digits + "0" * (position - len(digits))
        text = ("-" if negative else "") + text
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


_EPOCH_1900: Final = datetime.datetime(1899, 12, 30)
_EPOCH_1904: Final = datetime.datetime(1904, 1, 1)
# The last day a spreadsheet shows: 9999-12-31.
_LAST_SERIAL: Final = 2958466


def _date_text(value: str, kind: str, date1904: bool) -> str:
    """A date serial as ISO 8601 text: ``2024-05-01``, ``13:45:00`` or both."""
    try:
        serial = float(value)
    except ValueError:
        return value
    if not 0 <= serial < _LAST_SERIAL:
        return _general(value)
    days = int(serial)
    # To the second, as a spreadsheet shows a time.
    seconds = round((serial - days) * 86400)
    days, seconds = days + seconds // 86400, seconds % 86400
    time = datetime.time(seconds // 3600, seconds // 60 % 60, seconds % 60)
    if kind == _TIME:
        return time.isoformat()
    if date1904:
        date = (_EPOCH_1904 + datetime.timedelta(days=days)).date().isoformat()
    elif days == 60:
        # Excel counts a 29 February 1900 that never was, as Lotus 1-2-3 did...
        date = "1900-02-29"
    else:
        # ... so the days before it are one later than the arithmetic says.
        offset = days + 1 if days < 60 else days
        date = (_EPOCH_1900 + datetime.timedelta(days=offset)).date().isoformat()
    return date if kind == _DATE else f"{date} {time.isoformat()}"
