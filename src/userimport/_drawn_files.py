"""How the strategies write an upload: dialect, encoding, header and cells.

Private building blocks of :mod:`userimport.strategies`: the ways a user's fields
may be written in a cell and still read back as that user, the header spellings,
the CSV dialects and the encodings a file may be drawn in.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Sequence
from typing import Final

import attrs
from hypothesis import strategies as st

from userimport._confusables import available, likeness
from userimport._drawn_users import fits_cp1252
from userimport.access import Actor
from userimport.formulas import unprotect_cell
from userimport.hierarchy import OrgTree
from userimport.schema import EXAMPLE_ROWS, HEADER_ALIASES, Role, UserRow, email_key
from userimport.validation import ROLE_ALIASES

__all__ = [
    "ENCODINGS",
    "UNKNOWN_HEADERS",
    "Layout",
    "encode",
    "encodings",
    "header",
    "layouts",
    "look",
    "needs_cell",
    "not_example",
    "user_cells",
    "write",
]

#: The encodings a file may be drawn in (``userimport.strategies.ENCODINGS``).
ENCODINGS: Final[tuple[str, ...]] = (
    "utf-8",
    "utf-8-sig",
    "utf-16-le-bom",
    "utf-16-be-bom",
    "utf-32-le-bom",
    "utf-32-be-bom",
    "utf-16-le",
    "utf-16-be",
    "cp1252",
)

_BOMS: Final = {
    "utf-8-sig": (b"", "utf-8-sig"),
    "utf-16-le-bom": (codecs.BOM_UTF16_LE, "utf-16-le"),
    "utf-16-be-bom": (codecs.BOM_UTF16_BE, "utf-16-be"),
    "utf-32-le-bom": (codecs.BOM_UTF32_LE, "utf-32-le"),
    "utf-32-be-bom": (codecs.BOM_UTF32_BE, "utf-32-be"),
}

# --- writing files --------------------------------------------------------------

UNKNOWN_HEADERS: Final = ("Notes", "Department", "Employee number", "Comentarios")
_DELIMITERS: Final = (",", ";", "\t", "|")
_LINE_ENDS: Final = ("\r\n", "\n", "\r")
_GROUP_SEPARATORS: Final = ("; ", ";", ",", " | ", "|")
_CASES: Final[tuple[Callable[[str], str], ...]] = (str, str.upper, str.lower, str.title)


@st.composite
def header(draw: st.DrawFn, column: str) -> str:
    """A spelling of a column's header: an alias, in some case."""
    alias = draw(st.sampled_from(HEADER_ALIASES[column]))
    return draw(st.sampled_from(_CASES))(alias)


@attrs.frozen
class Layout:
    """How a file is written: its dialect and the blank records it carries."""

    delimiter: str
    line_end: str
    quoting: int
    sep_line: bool
    blank_before: int


@st.composite
def layouts(draw: st.DrawFn) -> Layout:
    return Layout(
        delimiter=draw(st.sampled_from(_DELIMITERS)),
        line_end=draw(st.sampled_from(_LINE_ENDS)),
        quoting=draw(st.sampled_from((csv.QUOTE_MINIMAL, csv.QUOTE_ALL))),
        sep_line=draw(st.booleans()),
        blank_before=draw(st.integers(0, 2)),
    )


def write(layout: Layout, records: Sequence[Sequence[str]]) -> str:
    """The text of a CSV file: an Excel ``sep=`` line, blank records, the records."""
    buffer = io.StringIO()
    if layout.sep_line:
        buffer.write(f"sep={layout.delimiter}{layout.line_end}")
    # The writer quotes a cell holding a character of its line terminator, and a
    # reader ends a record at "\r" or "\n" alike: with "\r\n" as the terminator
    # every cell with a line break is quoted, whatever the layout's line end, which
    # then replaces the terminator of each record.
    record_text = io.StringIO()
    writer = csv.writer(
        record_text,
        delimiter=layout.delimiter,
        lineterminator="\r\n",
        quoting=layout.quoting,  # type: ignore[arg-type]  # typeshed wants a Literal
    )
    for record in [*([()] * layout.blank_before), *records]:
        record_text.seek(0)
        record_text.truncate()
        writer.writerow(record)
        buffer.write(record_text.getvalue().removesuffix("\r\n") + layout.line_end)
    return buffer.getvalue()


def _fits_bomless_utf16(text: str) -> bool:
    """Whether BOM-less UTF-16 of ``text`` shows by its NUL bytes.

    ASCII and Latin-1 characters leave a NUL in the high byte of their code unit;
    the reader recognises BOM-less UTF-16 when enough code units do and no unit has
    a NUL low byte (U+0100, U+4E00, ...). Half the text being such characters is
    comfortably enough.
    """
    units = text.encode("utf-16-le")[:8192]
    low, high = units[0::2], units[1::2]
    return 0 not in low and high.count(0) * 2 >= len(high)


def encode(text: str, encoding: str) -> bytes:
    if encoding in _BOMS:
        bom, codec = _BOMS[encoding]
        return bom + text.encode(codec)
    return text.encode(encoding)


def encodings(
    text: str, delimiter: str, *, ascii_references: bool
) -> st.SearchStrategy[str]:
    """The encodings of :data:`ENCODINGS` that can carry ``text`` readably.

    cp1252 needs a text it can encode, another delimiter than ``|``, and
    organization references in ASCII (``ascii_references``): its encoding is
    guessed when read, a guessed multi-byte encoding (Big5, GB18030, Shift JIS)
    would take a ``|`` after an accented letter for the second byte of a
    character, and a guessed code page (cp1250 for a lone ``Ã``) would misread an
    accented organization name, which then names no organization. It comes first
    when it fits, so that it is drawn often.
    """
    legacy = delimiter != "|" and ascii_references and fits_cp1252(text)
    fitting = [
        name
        for name in sorted(ENCODINGS, key=lambda name: name != "cp1252")
        if (name != "cp1252" or legacy)
        and (name not in ("utf-16-le", "utf-16-be") or _fits_bomless_utf16(text))
    ]
    return st.sampled_from(fitting)


_EXAMPLE_KEYS: Final = frozenset(email_key(row["email"]) for row in EXAMPLE_ROWS)


def not_example(user: UserRow) -> bool:
    return user.key not in _EXAMPLE_KEYS


def look(user: UserRow) -> str:
    """What a reader tells users apart by: the likeness of their email keys (with
    the ``confusables`` extra), otherwise the keys. The users of a drawn file are
    unique by it, so no two of its emails look alike (``confusable_email``)."""
    return likeness(user.key) if available() else user.key


def needs_cell(column: str, user: UserRow, actor: Actor) -> bool:
    """Whether ``user`` needs a non-empty cell in an optional ``column``."""
    if column == "organization":
        return user.organization != actor.org_id
    if column == "role":
        return user.role is not Role.LEARNER
    if column == "groups":
        return bool(user.groups)
    return user.language is not None


@st.composite
def _padded(draw: st.DrawFn, text: str) -> str:
    """``text`` with maybe some surrounding spaces, which validation trims."""
    return (
        draw(st.sampled_from(("", " ", "  "))) + text + draw(st.sampled_from(("", " ")))
    )


@st.composite
def _organization_cell(
    draw: st.DrawFn, user: UserRow, orgs: OrgTree, actor: Actor
) -> str:
    """A reference that resolves to the user's organization from the actor's.

    An id, a name in some case or a path (from the root or from the actor's
    organization), kept only when the tree resolves it to exactly that
    organization; the actor's own organization may also be an empty cell.
    """
    org_id = user.organization
    target = orgs.get(org_id)
    assert target is not None  # the user's organization was drawn from the tree
    name = target.name
    refs = [
        org_id,
        name,
        name.upper(),
        orgs.path_text(org_id),
        orgs.path_text(org_id, within=actor.org_id),
    ]
    usable = [
        ref
        for ref in refs
        if ref
        and unprotect_cell(ref) == ref
        and orgs.candidates(ref, within=actor.org_id) == (target,)
    ]
    if org_id == actor.org_id:
        usable.append("")
    return draw(st.sampled_from(usable))


@st.composite
def _role_cell(draw: st.DrawFn, role: Role) -> str:
    spellings = [alias for alias, value in ROLE_ALIASES.items() if value is role]
    if role is Role.LEARNER:
        spellings.append("")  # the default role (ImportOptions.default_role)
    return draw(st.sampled_from(_CASES))(draw(st.sampled_from(spellings)))


def _language_cell(language: str | None) -> st.SearchStrategy[str]:
    if language is None:
        return st.just("")
    return st.sampled_from(
        (language, language.lower(), language.upper(), language.replace("-", "_"))
    )


@st.composite
def user_cells(
    draw: st.DrawFn, user: UserRow, orgs: OrgTree, actor: Actor
) -> dict[str, str]:
    """One way of writing ``user`` in an upload, by canonical column."""
    separator = draw(st.sampled_from(_GROUP_SEPARATORS))
    return {
        "first_name": draw(_padded(user.first_name)),
        "last_name": draw(_padded(user.last_name)),
        "email": draw(_padded(user.email)),
        "organization": draw(_organization_cell(user, orgs, actor)),
        "role": draw(_role_cell(user.role)),
        "groups": separator.join(user.groups),
        "language": draw(_language_cell(user.language)),
    }
