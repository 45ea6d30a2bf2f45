"""The characters never accepted in text the library keeps.

Text the library keeps (the cells of an upload, organization names) is shown to
administrators: in the review, in issue messages, in the error report they open in a
spreadsheet, in a terminal. A character that cannot be seen there makes the text
read as something other than what it is: a right-to-left override (U+202E) turns
``"Sales\\u202eslx.exe"`` into what displays as ``Salesexe.xls``, a zero-width space
makes two equal-looking names different, a control character can drive a terminal.
So these characters are refused wherever such text enters:

* C0 and C1 controls (Unicode category Cc), tab and line feed included;
* the Arabic letter mark (U+061C) and the left-to-right and right-to-left marks,
  embeddings, overrides and isolates (Unicode Bidirectional Algorithm, UAX #9:
  U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069);
* zero-width characters: zero-width space, non-joiner and joiner (U+200B to
  U+200D), the word joiner (U+2060) and the byte-order mark (U+FEFF), which inside
  text is a zero-width no-break space;
* the line and paragraph separators (U+2028, U+2029);
* other invisible formatting characters: the soft hyphen (U+00AD), the Mongolian
  vowel separator (U+180E), the invisible mathematical operators (U+2061 to
  U+2064), the deprecated format characters (U+206A to U+206F), the interlinear
  annotation characters (U+FFF9 to U+FFFB) and the tag characters (U+E0000 to
  U+E007F), which can hide text inside text;
* unpaired surrogates (U+D800 to U+DFFF), which no file can hold but text handed
  to the library by a program can.

:mod:`userimport.validation` applies the rule to every cell of an upload
(``invalid_characters``) and :class:`userimport.hierarchy.OrgTree` to every
organization name (``HierarchyError``): both call :func:`hidden_character`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

import attrs

from userimport._messages import message

__all__ = ["HiddenCharacter", "hidden_character"]

# Every character of the list above. None of them is printable, so
# ``str.isprintable()`` is a fast filter before this search.
_HIDDEN: Final = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064"
    "\u2066-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"
)
_ZERO_WIDTH: Final = frozenset("\u200b\u200c\u200d\u2060\ufeff")
_LINE_BREAKS: Final = frozenset("\n\r\x0b\x0c\x85\u2028\u2029")


@attrs.frozen
class HiddenCharacter:
    """A hidden character found in a text, and how to tell a person about it.

    Attributes:
        char: The character.
        position: Where it is, counting from 1 in the whole text.
        kind: What it is, in words: ``"a tab"``, ``"a line break"``, ``"an
            invisible zero-width character"``, ``"a control character"`` or ``"an
            invisible text-direction control character"``.
        fix: What to do about it, in words.
    """

    char: str
    position: int
    kind: str
    fix: str

    @property
    def description(self) -> str:
        """``"a tab (U+0009) at position 4; replace it with a space"``: what follows
        "contains" in a message."""
        code = f"U+{ord(self.char):04X}"
        return message(
            "{kind} ({code}) at position {position}; {fix}",
            kind=self.kind,
            code=code,
            position=self.position,
            fix=self.fix,
        )


def hidden_character(text: str, *, trimmed: bool = False) -> HiddenCharacter | None:
    """The first hidden character of ``text``, or ``None``.

    Args:
        text: The text as written.
        trimmed: Leave out leading and trailing whitespace (``str.strip``'s), which
            the caller trims away: an upload's cells are trimmed, so a line break
            at the end of a cell is not kept and not an error.

    >>> hidden_character("Ana") is None
    True
    >>> hidden_character("Ana\\tRuiz").description
    'a tab (U+0009) at position 4; replace it with a space'
    >>> found = hidden_character("Sales\\u202eslx.exe")
    >>> found.position, found.kind
    (6, 'an invisible text-direction control character')
    >>> hidden_character("Ana\\n", trimmed=True) is None
    True
    """
    if text.isprintable():
        return None
    if trimmed:
        match = _HIDDEN.search(text, len(text) - len(text.lstrip()), len(text.rstrip()))
    else:
        match = _HIDDEN.search(text)
    if match is None:
        return None
    char = match.group()
    if char == "\t":
        kind, fix = _TAB
    elif char in _LINE_BREAKS:
        kind, fix = _LINE_BREAK
    elif char in _ZERO_WIDTH:
        kind, fix = _ZERO_WIDTH_CHARACTER
    elif unicodedata.category(char) == "Cc":
        kind, fix = _CONTROL
    elif char in _DIRECTION_CHARACTERS:
        kind, fix = _DIRECTION
    elif unicodedata.category(char) == "Cs":
        kind, fix = _SURROGATE
    else:
        kind, fix = _FORMATTING
    return HiddenCharacter(char, match.start() + 1, kind, fix)


# What each kind of hidden character is, and what to do about it, for a person.
_TAB: Final = (message("a tab"), message("replace it with a space"))
_LINE_BREAK: Final = (message("a line break"), message("keep the value on one line"))
_ZERO_WIDTH_CHARACTER: Final = (
    message("an invisible zero-width character"),
    message("delete it"),
)
_CONTROL: Final = (message("a control character"), message("delete it"))
_DIRECTION_CHARACTERS: Final = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_SURROGATE: Final = (
    message("an unpaired surrogate, which is not a character"),
    message("delete it"),
)
_FORMATTING: Final = (
    message("an invisible formatting character"),
    message("delete it"),
)
_DIRECTION: Final = (
    message("an invisible text-direction control character"),
    message("delete it, as it can make text display differently from what it is"),
)
