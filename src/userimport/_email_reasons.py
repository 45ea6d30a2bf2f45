"""email-validator's explanations as messages, so that they can be said in Spanish.

email-validator explains a refused address in English, with sentences from a finite
set in its source; inside a few of them, in parentheses, is the idna package's
sentence (an internationalised domain) or the standard library's ``ipaddress`` one
(an address in brackets). :func:`email_reason` finds the explanation in the tables
below and gives it as a :func:`~userimport._messages.message` with the same
information, so the English stays exactly email-validator's and
:func:`~userimport._messages.say` says it in the review's language.

The explanation is first made a clause, as the review says it after ``Correct this
email address:`` (:func:`clause`: one sentence, lower-case start, no final period),
and the tables are written in that form. Each entry is the English template, and
the value of each placeholder says what that part of the text may be: data from
the address (a count, the characters email-validator lists, a label), kept as
written, or another explanation, looked up in the table named (the excess of a
length, idna's or ``ipaddress``'s sentence). The entry's pattern is its template
with each placeholder replaced by what it may be, so the message rebuilt from a
match is the explanation, character for character. One difference is made on
purpose: after ``after Unicode normalization:`` email-validator repeats its own
sentence with a capital letter, which becomes a clause like any other.

An explanation that no entry fits (a sentence of a later email-validator, idna or
Python) is kept as it is: the review then says ``Corrige el correo electrónico:``
followed by the English text, which still tells the administrator what to fix.
``tests/test_email_reasons.py`` fails when the installed email-validator can give
such a sentence: it reads email-validator's and idna's source for the sentences
they raise, and asks hypothesis for hostile addresses whose explanation is not
fully known. (email-validator 2.3, the oldest allowed, raises a subset of 2.4's
sentences.)
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Mapping
from typing import Final

from userimport._messages import Message, message

__all__ = ["clause", "email_reason", "is_known"]


class _Part:
    """What a placeholder of an entry stands for in the text.

    Attributes:
        pattern: The regular expression of the text it may be.
        table: The table whose entries it is, or ``None`` for data kept as written.
        example: A text it may be (for the tests).
    """

    __slots__ = ("example", "pattern", "table")

    def __init__(self, pattern: str, example: str, table: str | None = None) -> None:
        self.pattern = pattern
        self.example = example
        self.table = table

    def __repr__(self) -> str:
        return f"<{self.table or self.pattern}>"


# Data from the address, kept as written.
_COUNT: Final = _Part("[1-9][0-9]*", "3")
#: email-validator's list of characters: quoted (``'x', 'y'``) or Unicode names.
_CHARACTERS: Final = _Part(".+?", "'x', 'y'")
_CODEPOINT: Final = _Part("U\\+[0-9A-F]{4,6}", "U+00E9")
_POSITION: Final = _Part("[1-9][0-9]*", "3")
#: A label, domain or address in brackets, as Python's repr() shows it.
_QUOTED: Final = _Part(r"'(?:[^'\\]|\\.)*'" "|" r'"(?:[^"\\]|\\.)*"', "'x'")
# Sentences of email-validator and of the libraries it calls, each from its table.
_EXCESS: Final = _Part(".+", "(3 characters too many)", "excess")
_IDNA: Final = _Part(".+", "Label too long", "idna")
_IP: Final = _Part(".+", "Expected 4 octets in '1.2.3'", "ip")
#: email-validator's own sentence, in capitals, after "After Unicode normalization:".
_REASON: Final = _Part(
    ".+",
    "The email address contains invalid characters before the @-sign: ';'",
    "reasons",
)

#: email-validator's explanations (2.3 and later), as clauses. An entry that a more
#: general one would also fit (a longer literal, a fixed sentence in parentheses)
#: comes first.
_REASONS: Final = (
    # Splitting the address at its @ (and at a display name's angle brackets).
    message(
        'the email address has the "full-width" at-sign (@) character instead of a'
        " regular at-sign"
    ),
    message(
        'the email address has the "small commercial at" character instead of a'
        " regular at-sign"
    ),
    message("an email address must have an @-sign"),
    message(
        "extra character(s) found after close quote: {characters}",
        characters=_CHARACTERS,
    ),
    message(
        "the display name contains invalid characters when not quoted: {characters}",
        characters=_CHARACTERS,
    ),
    message(
        "an open angle bracket at the start of the email address has to be followed"
        " by a close angle bracket at the end"
    ),
    message("there can't be anything after the email address"),
    # The part before the @.
    message("there must be something before the @-sign"),
    message("the email address is too long before the @-sign {excess}", excess=_EXCESS),
    message(
        "internationalized characters before the @-sign are not supported:"
        " {characters}",
        characters=_CHARACTERS,
    ),
    message("internationalized characters before the @-sign are not supported"),
    message(
        "the email address contains invalid characters in quotes before the @-sign:"
        " {characters}",
        characters=_CHARACTERS,
    ),
    message("the email address contains an invalid character"),
    message(
        "the email address contains invalid characters before the @-sign: {characters}",
        characters=_CHARACTERS,
    ),
    message("the email address contains invalid characters before the @-sign"),
    message(
        "the email address contains unsafe characters: {characters}",
        characters=_CHARACTERS,
    ),
    message("an email address cannot start with a period"),
    message("an email address cannot have a period immediately before the @-sign"),
    message("an email address cannot have two periods in a row"),
    message("after Unicode normalization: {reason}", reason=_REASON),
    message("quoting the part before the @-sign is not allowed here"),
    # The part after the @.
    message("there must be something after the @-sign"),
    message("the email address is too long after the @-sign {excess}", excess=_EXCESS),
    message(
        "the part after the @-sign contains invalid characters: {characters}",
        characters=_CHARACTERS,
    ),
    message(
        "the part after the @-sign contains invalid characters after Unicode"
        " normalization: {characters}",
        characters=_CHARACTERS,
    ),
    message(
        "the part after the @-sign contains invalid characters ({detail})",
        detail=_IDNA,
    ),
    message("an email address cannot have a period immediately after the @-sign"),
    message("an email address cannot end with a period"),
    message("an email address cannot have a hyphen immediately after the @-sign"),
    message("an email address cannot end with a hyphen"),
    message("an email address cannot have a period and a hyphen next to each other"),
    message(
        "an email address cannot have two letters followed by two dashes immediately"
        " after the @-sign or after a period, except Punycode"
    ),
    message("the part after the @-sign is invalid ({detail})", detail=_IDNA),
    message(
        "the email address contains invalid characters after the @-sign after IDNA"
        " encoding"
    ),
    message(
        "after the @-sign, periods cannot be separated by so many characters {excess}",
        excess=_EXCESS,
    ),
    message("the part after the @-sign is not valid; it should have a period"),
    message(
        "the part after the @-sign is not valid; it is not within a valid top-level"
        " domain"
    ),
    message(
        "the part after the @-sign is a special-use or reserved name that cannot be"
        " used with email"
    ),
    message("the part after the @-sign is not valid IDNA ({detail})", detail=_IDNA),
    message(
        "the part after the @-sign became invalid after normalizing to international"
        " characters ({detail})",
        detail=_IDNA,
    ),
    # An address in brackets after the @.
    message(
        "the address in brackets after the @-sign is not valid: It is not an IPv4"
        " address ({detail}) or is missing an address literal tag",
        detail=_IP,
    ),
    message(
        "the IPv6 address in brackets after the @-sign is not valid (It has a zone"
        " index)"
    ),
    message(
        "the IPv6 address in brackets after the @-sign is not valid ({detail})",
        detail=_IP,
    ),
    message(
        "the part after the @-sign in brackets is not an IPv4 address and has no"
        " address literal tag"
    ),
    message(
        "the part after the @-sign contains invalid characters in brackets:"
        " {characters}",
        characters=_CHARACTERS,
    ),
    message(
        "the part after the @-sign contains an invalid address literal tag in brackets"
    ),
    message("a bracketed IP address after the @-sign is not allowed here"),
    # The whole address.
    message("the email address is too long {excess}", excess=_EXCESS),
    message(
        "a display name and angle brackets around the email address are not"
        " permitted here"
    ),
    message("the email address is not valid ASCII"),
)

#: How far over a length limit an address is. email-validator writes the plural
#: when the count is above 1; the singular has its own entry, as Spanish needs.
_EXCESSES: Final = (
    message("(1 character too many)"),
    message("({count} characters too many)", count=_COUNT),
    message("({fewest}-{count} characters too many)", fewest=_COUNT, count=_COUNT),
    message("(1 byte too many after IDNA encoding)"),
    message("({count} bytes too many after IDNA encoding)", count=_COUNT),
    message("after normalization (1 byte too many)"),
    message("after normalization ({count} bytes too many)", count=_COUNT),
    message(
        "when the part after the @-sign is converted to IDNA ASCII (1 byte too many)"
    ),
    message(
        "when the part after the @-sign is converted to IDNA ASCII ({count} bytes"
        " too many)",
        count=_COUNT,
    ),
)

#: The idna package's sentences (``idna.IDNAError``), as email-validator quotes them.
_IDNA_ERRORS: Final = (
    message(
        "Codepoint {codepoint} not allowed at position {position} in {text}",
        codepoint=_CODEPOINT,
        position=_POSITION,
        text=_QUOTED,
    ),
    message(
        "Codepoint {codepoint} at position {position} of {text} not allowed",
        codepoint=_CODEPOINT,
        position=_POSITION,
        text=_QUOTED,
    ),
    message(
        "Unknown codepoint adjacent to joiner {codepoint} at position {position}"
        " in {text}",
        codepoint=_CODEPOINT,
        position=_POSITION,
        text=_QUOTED,
    ),
    message(
        "Joiner {codepoint} not allowed at position {position} in {text}",
        codepoint=_CODEPOINT,
        position=_POSITION,
        text=_QUOTED,
    ),
    message(
        "Unknown directionality in label {text} at position {position}",
        text=_QUOTED,
        position=_POSITION,
    ),
    message(
        "First codepoint in label {text} must be directionality L, R or AL",
        text=_QUOTED,
    ),
    message(
        "Invalid direction for codepoint at position {position} in a right-to-left"
        " label",
        position=_POSITION,
    ),
    message("Can not mix numeral types in a right-to-left label"),
    message(
        "Invalid direction for codepoint at position {position} in a left-to-right"
        " label",
        position=_POSITION,
    ),
    message("Label ends with illegal codepoint directionality"),
    message("Label begins with an illegal combining character"),
    message("Label has disallowed hyphens in 3rd and 4th position"),
    message("Label must not start or end with a hyphen"),
    message("Label must be in Normalization Form C"),
    message("Empty Label"),
    message("Empty label"),
    message("Empty domain"),
    message("Label too long"),
    message("Domain too long"),
    message("Invalid A-label"),
    message("Malformed A-label, no Punycode eligible content found"),
    message("A-label must not end with a hyphen"),
    message("A-label is not the canonical Punycode encoding of its U-label"),
    message("Invalid ASCII in A-label"),
    message("Invalid UTF-8 in label"),
)

#: The standard library's sentences (``ipaddress.AddressValueError``) for an address
#: in brackets. An error inside a part is followed by `` in`` and the whole address.
_IP_ERRORS: Final = (
    message("Address cannot be empty"),
    message("Expected 4 octets in {address}", address=_QUOTED),
    message("Empty octet not permitted in {address}", address=_QUOTED),
    message(
        "Only decimal digits permitted in {part} in {address}",
        part=_QUOTED,
        address=_QUOTED,
    ),
    message(
        "At most 3 characters permitted in {part} in {address}",
        part=_QUOTED,
        address=_QUOTED,
    ),
    message(
        "Leading zeros are not permitted in {part} in {address}",
        part=_QUOTED,
        address=_QUOTED,
    ),
    message(
        "Octet {number} (> 255) not permitted in {address}",
        number=_COUNT,
        address=_QUOTED,
    ),
    message(
        "At least {count} parts expected in {address}", count=_COUNT, address=_QUOTED
    ),
    message(
        "At most {count} colons permitted in {address}", count=_COUNT, address=_QUOTED
    ),
    message("At most one '::' permitted in {address}", address=_QUOTED),
    message("Leading ':' only permitted as part of '::' in {address}", address=_QUOTED),
    message(
        "Trailing ':' only permitted as part of '::' in {address}", address=_QUOTED
    ),
    message(
        "Expected at most {count} other parts with '::' in {address}",
        count=_COUNT,
        address=_QUOTED,
    ),
    message(
        "Exactly {count} parts expected without '::' in {address}",
        count=_COUNT,
        address=_QUOTED,
    ),
    message(
        "Only hex digits permitted in {part} in {address}",
        part=_QUOTED,
        address=_QUOTED,
    ),
    message(
        "At most 4 characters permitted in {part} in {address}",
        part=_QUOTED,
        address=_QUOTED,
    ),
    message('Invalid IPv6 address: "{address}"', address=_QUOTED),
    # An error in the IPv4 address that ends an IPv6 address.
    message("{detail} in {address}", detail=_IP, address=_QUOTED),
)

_TABLES: Final[Mapping[str, tuple[str, ...]]] = {
    "reasons": _REASONS,
    "excess": _EXCESSES,
    "idna": _IDNA_ERRORS,
    "ip": _IP_ERRORS,
}


def _entry(template: str) -> tuple[Message, dict[str, _Part]]:
    """An entry of a table, with the part each placeholder stands for."""
    if not isinstance(template, Message):  # pragma: no cover - the tables above
        raise TypeError(template)
    parts = {
        name: part for name, part in template.values.items() if isinstance(part, _Part)
    }
    return template, parts


@functools.cache
def _compiled(table: str) -> tuple[tuple[re.Pattern[str], str, dict[str, _Part]], ...]:
    """The entries of ``table`` with their patterns (built on first use; constant)."""
    compiled = []
    for entry in _TABLES[table]:
        template, parts = _entry(entry)
        pattern = "".join(
            re.escape(literal) + (f"(?P<{name}>{parts[name].pattern})" if name else "")
            for literal, name, _, _ in string.Formatter().parse(template.template)
        )
        compiled.append((re.compile(pattern, re.DOTALL), template.template, parts))
    return tuple(compiled)


def _find(text: str, table: str, *, strict: bool) -> Message | None:
    """``text`` as the first entry of ``table`` that fits it, or ``None``.

    A part that is another explanation is looked up in its table; when it is not
    there the entry does not fit if ``strict``, else the part is kept as written.
    """
    for pattern, template, parts in _compiled(table):
        found = pattern.fullmatch(text)
        if found is None:
            continue
        values: dict[str, object] = {}
        for name, value in found.groupdict().items():
            nested_table = parts[name].table
            if nested_table is None:
                values[name] = value
                continue
            nested = _find(
                clause(value) if nested_table == "reasons" else value,
                nested_table,
                strict=strict,
            )
            if nested is None and strict:
                break
            values[name] = value if nested is None else nested
        else:
            return Message(template, **values)
    return None


_SENTENCE_BREAK: Final = re.compile(r"\.\s+([A-Z])(?=[a-z ])")


def clause(explanation: str) -> str:
    """email-validator's explanation as a clause: one sentence, lower-case start.

    >>> clause("The part after the @-sign is not valid. It should have a period.")
    'the part after the @-sign is not valid; it should have a period'
    """
    text = explanation.strip().rstrip(".")
    text = _SENTENCE_BREAK.sub(lambda m: "; " + m.group(1).lower(), text)
    if text[:1].isupper() and not text[1:2].isupper():
        text = text[0].lower() + text[1:]
    return text


def email_reason(explanation: str) -> str:
    """email-validator's explanation as a clause, sayable in the review's language.

    The parts no table knows are kept as written (an unknown explanation, the
    whole of it).

    Args:
        explanation: ``str()`` of an ``EmailNotValidError``.
    """
    text = clause(explanation)
    found = _find(text, "reasons", strict=False)
    return text if found is None else found


def is_known(explanation: str) -> bool:
    """Whether every sentence of ``explanation`` is in the tables (for the tests)."""
    return _find(clause(explanation), "reasons", strict=True) is not None
