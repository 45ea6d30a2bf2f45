"""The guard against formula injection, and its undo.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or
line break, or the full-width ``＝＋－＠``, possibly after spaces) as a formula, and a
formula can run programs (``=cmd|' /C calc'!A0``) or send data away (OWASP, "CSV
Injection"). Two rules follow, and both live here:

* every cell the library writes (the template, the error report) goes through
  :func:`protect_cell`, which puts an apostrophe before such a cell, as OWASP
  recommends;
* reading an upload undoes exactly what the guard did (:func:`unprotect_values`),
  so re-uploading an error report gives back the values first uploaded. A value that
  itself starts with apostrophes before a trigger gets one more apostrophe, which
  keeps the two functions exact inverses.

Validation refuses names and groups that start with one of
:data:`FORMULA_TRIGGERS`, so such text never reaches a store either.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

__all__ = [
    "FORMULA_TRIGGERS",
    "MARKER",
    "protect_cell",
    "unprotect_cell",
    "unprotect_values",
]

#: The characters that make a spreadsheet run a cell as a formula when they start
#: it, full-width forms included (tab, carriage return and line feed do too; they are
#: never accepted inside a value anyway).
FORMULA_TRIGGERS: Final = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")

#: The character put before a cell that a spreadsheet would run as a formula (the
#: OWASP "CSV Injection" recommendation): spreadsheets show it as text.
MARKER: Final = "'"

# A cell is run as a formula when it starts, maybe after whitespace, with a trigger;
# tab, CR and LF count themselves, so the whitespace skipped before the trigger is any
# other whitespace (spaces, no-break spaces, ideographic spaces...). Leading
# apostrophes are skipped too: that is what makes the marker reversible.
_TRIGGERED: Final = re.compile(
    "'*[^\\S\t\r\n]*[\t\r\n" + re.escape("".join(sorted(FORMULA_TRIGGERS))) + "]"
)


def protect_cell(text: str) -> str:
    """The cell to write for ``text`` so that no spreadsheet runs it as a formula.

    A text that starts, maybe after whitespace, with a formula trigger (``=``,
    ``+``, ``-``, ``@``, a tab, a carriage return, a line feed, or the full-width
    ``＝＋－＠``) gets an apostrophe in front, and so does a text whose
    leading apostrophes are followed by one, so that :func:`unprotect_cell` can
    always tell the added apostrophe from the text's own. Every other text is
    returned unchanged. ``unprotect_cell(protect_cell(t)) == t`` for every ``t``.

    >>> protect_cell("=cmd|' /C calc'!A0")
    "'=cmd|' /C calc'!A0"
    >>> protect_cell("'=1+1")
    "''=1+1"
    >>> protect_cell("O'Brien"), protect_cell("'quoted'")
    ("O'Brien", "'quoted'")
    """
    return MARKER + text if _TRIGGERED.match(text) else text


def unprotect_cell(text: str) -> str:
    """Undo :func:`protect_cell`: the value a cell written by the library stands for.

    The first apostrophe is removed only when what follows it would need
    protection (apostrophes, maybe whitespace, then a formula trigger); any other
    cell, such as ``'quoted'`` or ``O'Brien``, is returned unchanged. Reading an
    upload calls this once on every value cell.

    >>> unprotect_cell("'=cmd|' /C calc'!A0")
    "=cmd|' /C calc'!A0"
    >>> unprotect_cell("''=1+1"), unprotect_cell("'quoted'")
    ("'=1+1", "'quoted'")
    """
    if text.startswith(MARKER) and _TRIGGERED.match(text, 1):
        return text[1:]
    return text


def unprotect_values(values: Mapping[str, str]) -> Mapping[str, str]:
    """:func:`unprotect_cell` of every cell of a row; ``values`` itself if none changes.

    Most rows hold no apostrophe at all, and one search of their joined cells tells.
    """
    if MARKER not in "".join(values.values()):
        return values
    return {column: unprotect_cell(value) for column, value in values.items()}
