"""Tests for userimport.reading: dialects, headers, row numbers, file issues."""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
import zipfile
from collections.abc import Sequence
from itertools import starmap
from random import Random

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from userimport import Issue, IssueCode, Severity, _workbook, reading
from userimport.decoding import DEFAULT_LEGACY_ENCODINGS
from userimport.reading import DELIMITERS, Record, Upload, read_records, read_upload
from userimport.schema import (
    COLUMNS,
    HEADER_ALIASES,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    ColumnMatch,
)

MiB = 1024 * 1024
HEADER = ["first_name", "last_name", "email"]


def csv_bytes(
    rows: Sequence[Sequence[str]],
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    newline: str = "\r\n",
) -> bytes:
    """A CSV file as csv.writer writes it (which is how spreadsheets quote)."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=newline).writerows(rows)
    return out.getvalue().encode(encoding)


def users(count: int) -> list[list[str]]:
    """A header and ``count`` user rows."""
    return [HEADER] + [
        [f"Ana{i}", "López", f"ana{i}@example.com"] for i in range(count)
    ]


def cells(upload: Upload, *columns: str) -> list[tuple[object, ...]]:
    """(row, values of the given columns) for each record."""
    names = columns or tuple(HEADER)
    return [
        (record.row, *(record.values[name] for name in names))
        for record in upload.records
    ]


def codes(issues: Sequence[Issue]) -> list[str]:
    """The issue codes, in order, as plain strings."""
    return [issue.code.value for issue in issues]


class CountingStream(io.RawIOBase):
    """A lazily generated endless CSV stream that counts the bytes read from it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.consumed = 0
        self.header = b"first_name,last_name,email\r\n"

    def readable(self) -> bool:
        return True

    def read(self, n: int | None = -1) -> bytes:
        want = self.size - self.consumed if n is None or n < 0 else n
        want = min(want, self.size - self.consumed)
        line = b"Ana,Lopez,ana@example.com\r\n"
        chunk = (self.header + line * (want // len(line) + 1))[:want]
        self.header = b""
        self.consumed += want
        return chunk


# -- realistic uploads ------------------------------------------------------------


def test_excel_on_windows_cp1252_semicolons_crlf() -> None:
    """Excel's "CSV (delimited)" in a European locale: cp1252, ";" and CRLF."""
    data = csv_bytes(
        [
            ["First name", "Last name", "Email", "Role"],
            ["José", "García", "jose.garcia@example.com", "learner"],
            ["Anna", "Müller", "anna.mueller@example.de", "instructor"],
            ["María", "Núñez", "maria.nunez@example.es", "learner"],
            ["Øyvind", "Hansen", "oyvind@example.no", "manager"],
        ],
        encoding="cp1252",
        delimiter=";",
    )

    upload = read_upload(data)

    assert ("cp1252", "detected", ";") == (
        upload.encoding,
        upload.encoding_source,
        upload.delimiter,
    )
    assert [
        (2, "José", "García", "jose.garcia@example.com", "learner"),
        (3, "Anna", "Müller", "anna.mueller@example.de", "instructor"),
        (4, "María", "Núñez", "maria.nunez@example.es", "learner"),
        (5, "Øyvind", "Hansen", "oyvind@example.no", "manager"),
    ] == cells(upload, "first_name", "last_name", "email", "role")
    # A clear choice: no other code page reads these names as names.
    assert [] == codes(upload.issues)
    assert upload.ok


def test_excel_csv_utf8_has_a_bom() -> None:
    """Excel's "CSV UTF-8": the BOM decides, and never ends up in a header."""
    data = csv_bytes(
        [HEADER, ["Zoë", "Ørsted", "zoe@example.com"]], encoding="utf-8-sig"
    )

    upload = read_upload(data)

    assert ("utf-8-sig", "bom", ",") == (
        upload.encoding,
        upload.encoding_source,
        upload.delimiter,
    )
    assert ColumnMatch("first_name", "first_name") == upload.columns[0]
    assert [(2, "Zoë", "Ørsted", "zoe@example.com")] == cells(upload)
    assert () == upload.issues


def test_excel_unicode_text_is_utf16_with_tabs() -> None:
    """Excel's "Unicode Text": UTF-16 LE with a BOM, TAB-delimited, CRLF."""
    data = codecs.BOM_UTF16_LE + csv_bytes(
        [HEADER, ["山田", "太郎", "yamada@example.jp"], ["Łukasz", "Wójcik", "l@x.pl"]],
        encoding="utf-16-le",
        delimiter="\t",
    )

    upload = read_upload(data)

    assert ("utf-16", "bom", "\t") == (
        upload.encoding,
        upload.encoding_source,
        upload.delimiter,
    )
    assert [
        (2, "山田", "太郎", "yamada@example.jp"),
        (3, "Łukasz", "Wójcik", "l@x.pl"),
    ] == cells(upload)


def test_google_sheets_utf8_without_bom() -> None:
    """Google Sheets downloads UTF-8 without a BOM, comma-delimited."""
    data = csv_bytes(
        [
            ["First Name", "Last Name", "Email Address", "Groups"],
            ["Zoë", "O'Neil", "zoe@example.com", "Sales;Support"],
            ["李", "娜", "li.na@example.cn", ""],
        ],
        newline="\n",
    )

    upload = read_upload(data)

    assert ("utf-8", "utf-8", ",") == (
        upload.encoding,
        upload.encoding_source,
        upload.delimiter,
    )
    assert [
        (2, "Zoë", "O'Neil", "zoe@example.com", "Sales;Support"),
        (3, "李", "娜", "li.na@example.cn", ""),
    ] == cells(upload, "first_name", "last_name", "email", "groups")
    assert () == upload.issues


def test_libreoffice_quoted_fields_hold_delimiters_quotes_and_newlines() -> None:
    """Quoted cells keep delimiters, doubled quotes and line breaks: one record."""
    data = (
        b"first_name,last_name,email,groups\n"
        b'"Smith, Jr.","O""Brien",smith@example.com,"Sales\nSupport"\n'
        b"Ana,Lopez,ana@example.com,\n"
    )

    upload = read_upload(data)

    assert [
        (2, "Smith, Jr.", 'O"Brien', "smith@example.com", "Sales\nSupport"),
        (3, "Ana", "Lopez", "ana@example.com", ""),
    ] == cells(upload, "first_name", "last_name", "email", "groups")


def test_cr_only_line_endings() -> None:
    """Old Mac Excel ends lines with CR alone."""
    data = csv_bytes(users(2), newline="\r")

    upload = read_upload(data)

    assert [
        (2, "Ana0", "López", "ana0@example.com"),
        (3, "Ana1", "López", "ana1@example.com"),
    ] == cells(upload)


def test_trailing_empty_cells_and_rows_are_ignored() -> None:
    """Excel's trailing ",,,," cells and rows are neither columns, users nor errors."""
    data = (
        b"first_name,last_name,email,,,,\r\n"
        b"Ana,Lopez,ana@example.com,,,,\r\n"
        b",,,,,,\r\n"
        b"Bob,Ray,bob@example.com,,,,,,,,\r\n"
        b",,,,,,\r\n,,,,,,\r\n"
    )

    upload = read_upload(data)

    assert [
        (2, "Ana", "Lopez", "ana@example.com"),
        (4, "Bob", "Ray", "bob@example.com"),
    ] == cells(upload)
    assert (3, ()) == (len(upload.columns), upload.issues)
    assert [(), ()] == [record.issues for record in upload.records]


def test_spanish_headers() -> None:
    """Spanish Excel headers map to the canonical columns."""
    header = [
        "Nombre",
        "Apellidos",
        "Correo electrónico",
        "Organización",
        "Rol",
        "Grupos",
        "Idioma",
    ]
    row = ["Íñigo", "Núñez", "inigo@example.es", "Ventas", "manager", "A;B", "es"]
    data = csv_bytes([header, row], encoding="utf-8-sig", delimiter=";")

    upload = read_upload(data)

    assert [ColumnMatch(h, c) for h, c in zip(header, COLUMNS, strict=True)] == list(
        upload.columns
    )
    assert [(2, *row)] == cells(upload, *COLUMNS)
    assert () == upload.issues


def test_mostly_ascii_cyrillic_file_is_cp1251() -> None:
    """190 ASCII rows and 10 Cyrillic ones are read as cp1251, not cp1252."""
    rows = [HEADER] + [[f"user{i}", "Smith", f"u{i}@example.com"] for i in range(190)]
    rows += [["Иван", "Петров", f"ivan{i}@example.ru"] for i in range(10)]

    upload = read_upload(csv_bytes(rows, encoding="cp1251", delimiter=";"))

    assert ("cp1251", ";", 200) == (upload.encoding, upload.delimiter, upload.row_count)
    assert (192, "Иван", "Петров", "ivan0@example.ru") == cells(upload)[190]


@pytest.mark.parametrize(
    ("encoding", "names"),
    [
        ("cp932", [("山田", "太郎"), ("佐藤", "花子"), ("髙橋", "一郎")]),
        ("gb18030", [("张", "伟"), ("王", "芳"), ("李", "娜"), ("刘", "洋")]),
        ("cp950", [("陳", "大文"), ("林", "小明"), ("黃", "志強")]),
        ("cp949", [("김", "민준"), ("이", "서연"), ("박", "지훈")]),
        ("cp1250", [("Łukasz", "Wójcik"), ("Jiří", "Dvořák"), ("Žaneta", "Šťastná")]),
    ],
)
def test_legacy_asian_and_central_european_files(
    encoding: str, names: list[tuple[str, str]]
) -> None:
    """Japanese, Chinese, Korean and Central European Excel files are detected,
    the East Asian ones as the Windows supersets Excel writes (髙 is cp932's)."""
    rows = [HEADER] + [[f, la, f"u{i}@example.com"] for i, (f, la) in enumerate(names)]

    upload = read_upload(csv_bytes(rows, encoding=encoding))

    assert (encoding, "detected") == (upload.encoding, upload.encoding_source)
    assert [
        (i + 2, f, la, f"u{i}@example.com") for i, (f, la) in enumerate(names)
    ] == cells(upload)


def test_excel_sep_line_is_row_one() -> None:
    """Excel's "sep=;" line sets the delimiter and is row 1 of the sheet."""
    data = b"sep=;\r\nfirst_name;last_name;email\r\nAna;Lopez;ana@example.com\r\n"

    upload = read_upload(data)

    assert ";" == upload.delimiter
    assert [(3, "Ana", "Lopez", "ana@example.com")] == cells(upload)


def test_sep_line_may_name_any_delimiter() -> None:
    """A "sep=" line naming a delimiter outside the usual four is honoured."""
    data = b"SEP=#\nfirst_name#last_name#email\nAna#Lopez#ana@example.com\n"

    upload = read_upload(data)

    assert ("#", [(3, "Ana", "Lopez", "ana@example.com")]) == (
        upload.delimiter,
        cells(upload),
    )


@pytest.mark.parametrize(
    ("first_line", "problem"),
    [
        ("sep=x", "names a letter"),
        ("SEP=é", "names a letter"),
        ("sep=1", "names a digit"),
        ('sep="', "names a quote"),
        ("sep='", "names a quote"),
        ("sep= ", "names a space"),
        ("sep=\u00a0", "names a space"),
        ("sep=\x7f", "names an invisible character"),
        ("sep=", "should name the one character"),
        ("sep=;;", "should name the one character"),
        ("sep=;", 'names ";", but the header row does not contain it'),
        ("sep=\t", "names tab, but the header row does not contain it"),
    ],
)
def test_sep_line_that_cannot_be_the_delimiter(first_line: str, problem: str) -> None:
    """A "sep=" line naming a letter, digit, quote, space or invisible character,
    or no single character, or a delimiter the header lacks, is malformed_csv that
    quotes row 1, instead of "missing column" errors that never mention it."""
    data = f"{first_line}\nfirst_name,last_name,email\nAna,Lopez,a@x.com\n".encode()

    upload = read_upload(data)

    (issue,) = upload.issues
    assert ("malformed_csv", None, first_line) == (issue.code, issue.row, issue.value)
    assert issue.message.startswith(f'Row 1, "{first_line}", {problem}')
    assert [] == cells(upload)


def test_sep_line_with_spaces_after_the_delimiter() -> None:
    """Spaces after the delimiter of a "sep=" line are ignored."""
    data = b"sep=; \nfirst_name;last_name;email\nAna;Lopez;a@x.com\n"

    upload = read_upload(data)

    assert (";", []) == (upload.delimiter, codes(upload.issues))


def test_sep_line_and_a_quoted_header() -> None:
    """The header is read as CSV: a quoted header cell holding a line break still
    shows the delimiter named by the "sep=" line."""
    data = b'sep=;\n\n;;\n"first\nname";last_name;email\nAna;Lopez;a@x.com\n'

    upload = read_upload(data)

    assert (";", [], [(5, "Ana", "Lopez", "a@x.com")]) == (
        upload.delimiter,
        codes(upload.issues),
        cells(upload),
    )


@given(
    st.characters(codec="utf-8", exclude_characters="\r\n"),
    st.sampled_from([",", ";", "\t"]),
)
def test_sep_line_never_raises(named: str, delimiter: str) -> None:
    """Whatever character a "sep=" line names, reading gives issues, never an
    exception; a usable delimiter that the header holds is honoured."""
    header = delimiter.join(["first_name", "last_name", "email"])
    data = f"sep={named}\n{header}\nAna{delimiter}Lopez{delimiter}a@x.com\n"

    upload = read_upload(data.encode())

    if named == delimiter:
        assert (delimiter, [(3, "Ana", "Lopez", "a@x.com")]) == (
            upload.delimiter,
            cells(upload),
        )
    else:
        assert not upload.ok


def test_caller_delimiter_wins_over_sep_line() -> None:
    """The caller's delimiter wins; the sep= line is still row 1, not a header."""
    data = b"sep=;\nfirst_name,last_name,email\nAna,Lopez,ana@example.com\n"

    upload = read_upload(data, delimiter=",")

    assert (",", [(3, "Ana", "Lopez", "ana@example.com")]) == (
        upload.delimiter,
        cells(upload),
    )


def test_blank_records_count_as_rows() -> None:
    """Blank records before the header and between users advance the row number."""
    data = (
        b"\r\n"
        b"first_name,last_name,email\r\n"
        b"Ana,Lopez,ana@example.com\r\n"
        b"\r\n"
        b"  ,\t,\r\n"
        b"Bob,Ray,bob@example.com\r\n"
    )

    upload = read_upload(data)

    assert [
        (3, "Ana", "Lopez", "ana@example.com"),
        (6, "Bob", "Ray", "bob@example.com"),
    ] == cells(upload)
    assert 2 == upload.row_count


def test_records_of_any_whitespace_are_blank() -> None:
    """A record whose cells hold only Unicode whitespace is blank, whatever space."""
    spaces = [chr(code) for code in range(0x3001) if chr(code).isspace()]
    rows = [[space, space * 2, ""] for space in spaces]

    # The users come first: a head full of control characters would be binary.
    upload = read_upload(csv_bytes([*users(150), *rows]))

    assert (150, 150) == (upload.row_count, len(upload.records))


def test_line_separator_inside_a_quoted_cell_survives() -> None:
    """U+2028 and U+0085 inside a cell are kept: lines split only at CR and LF."""
    data = csv_bytes([*users(0), ["Ana\u2028María", "Lo\x85pez", "a@example.com"]])

    upload = read_upload(data)

    assert [(2, "Ana\u2028María", "Lo\x85pez", "a@example.com")] == cells(upload)


def test_values_are_raw_and_cover_every_column() -> None:
    """Values are untrimmed; absent columns and missing cells are ""."""
    data = b"email,first_name,last_name,role\n  ana@example.com , Ana ,Lopez\n"

    upload = read_upload(data)

    assert {
        "first_name": " Ana ",
        "last_name": "Lopez",
        "email": "  ana@example.com ",
        "organization": "",
        "role": "",
        "groups": "",
        "language": "",
    } == upload.records[0].values


@given(
    st.lists(st.sampled_from(OPTIONAL_COLUMNS), unique=True).map(
        lambda optional: [*REQUIRED_COLUMNS, *optional]
    ),
    st.integers(0, 300),
    st.randoms(use_true_random=False),
    st.lists(st.integers(1, 320), min_size=1, max_size=4),
)
def test_records_read_their_columns_whatever_the_widths(
    columns: list[str], extra: int, random: Random, lengths: list[int]
) -> None:
    """However wide the header, wherever its columns, however short or long each
    record, a column's value is its cell, or "" past the record's end."""
    header = [*columns, *(f"other {i}" for i in range(extra))]
    random.shuffle(header)
    rows = [[f"r{r}c{c}" for c in range(length)] for r, length in enumerate(lengths)]

    upload = read_upload(csv_bytes([header, *rows]))

    index = {column: header.index(column) for column in columns}
    assert [
        {
            column: cells[index[column]]
            if column in index and index[column] < len(cells)
            else ""
            for column in COLUMNS
        }
        for cells in rows
    ] == [dict(record.values) for record in upload.records]


def test_single_column_file() -> None:
    """A single-column file is read as such (csv.Sniffer fails on these)."""
    upload = read_upload(b"email\nana@example.com\n")

    assert (",", (ColumnMatch("email", "email"),), 1) == (
        upload.delimiter,
        upload.columns,
        upload.row_count,
    )


def test_delimiter_ties_are_broken_by_consistent_field_counts() -> None:
    """With equally known headers, the delimiter giving steady field counts wins."""
    data = "Nombre\nPérez, Ana\nGarcía, José\n".encode()

    upload = read_upload(data)

    assert (";", 2) == (upload.delimiter, upload.row_count)


def test_pipe_delimited_file() -> None:
    """Pipes are detected."""
    upload = read_upload(csv_bytes(users(1), delimiter="|"))

    assert ("|", [(2, "Ana0", "López", "ana0@example.com")]) == (
        upload.delimiter,
        cells(upload),
    )


def test_caller_delimiter() -> None:
    """The caller may force a delimiter detection would not choose."""
    data = b"first_name;last_name;email\nAna;Lopez;ana@example.com\n"

    upload = read_upload(data, delimiter=" ")

    assert " " == upload.delimiter
    assert ["missing_columns"] * 3 == codes(upload.issues)[:3]


@pytest.mark.parametrize("delimiter", ["", ";;", '"', "\n", "\r", "\x00"])
def test_invalid_caller_delimiter_is_misuse(delimiter: str) -> None:
    """A delimiter that is not one usable character raises ValueError."""
    with pytest.raises(ValueError, match="delimiter"):
        read_upload(b"a,b\n", delimiter=delimiter)


def test_negative_max_rows_is_misuse() -> None:
    """A negative row limit raises ValueError."""
    with pytest.raises(ValueError, match="max_rows"):
        read_upload(b"a,b\n", max_rows=-1)


def test_reads_binary_streams() -> None:
    """A binary file object is read like bytes."""
    upload = read_upload(io.BytesIO(csv_bytes(users(1))))

    assert [(2, "Ana0", "López", "ana0@example.com")] == cells(upload)


# -- header -------------------------------------------------------------------------


def test_columns_report_every_header_cell_as_written() -> None:
    """Each header cell is reported with its column (or None), without BOM/ZWSP."""
    data = "\ufeff\u200bE-mail,Surname,Given name,Phone,\n".encode() + b"a,b,c,d,\n"

    upload = read_upload(data, encoding="utf-8")

    assert (
        ColumnMatch("E-mail", "email"),
        ColumnMatch("Surname", "last_name"),
        ColumnMatch("Given name", "first_name"),
        ColumnMatch("Phone", None),
    ) == upload.columns


def test_very_long_header_cells_name_no_column() -> None:
    """A header cell longer than 100 characters is ignored without comparing it."""
    long_cell = "email" + " " * 100
    data = f"first_name,last_name,email,{long_cell}\nA,B,c@example.com,x\n".encode()

    upload = read_upload(data)

    assert ColumnMatch(long_cell, None) == upload.columns[-1]
    assert ["unknown_columns"] == codes(upload.issues)


def test_unknown_columns_warning_names_the_ignored_headers() -> None:
    """Ignored headers are named in one warning; empty header cells silently."""
    data = b"first_name,last_name,email,Phone,,Notes,\nA,B,c@example.com,1,,x,\n"

    upload = read_upload(data)

    (warning,) = upload.issues
    assert (IssueCode.UNKNOWN_COLUMNS, Severity.WARNING, None) == (
        warning.code,
        warning.severity,
        warning.row,
    )
    assert '"Phone" and "Notes"' in warning.message
    assert upload.ok


def test_duplicate_columns_name_both_headers() -> None:
    """Two headers for the same column are an error naming both; nothing is read."""
    data = b"first_name,last_name,Email,E-mail\nA,B,c@example.com,d@example.com\n"

    upload = read_upload(data)

    (error,) = upload.issues
    assert (IssueCode.DUPLICATE_COLUMNS, "email") == (error.code, error.column)
    assert '"Email" and "E-mail"' in error.message
    assert ((), 1, False) == (upload.records, upload.row_count, upload.ok)


def test_missing_columns_name_the_column_and_its_spellings() -> None:
    """Each missing required column is an error naming it and its accepted headers."""
    upload = read_upload(b"first_name,email\nAna,ana@example.com\n")

    (error,) = upload.issues
    assert (IssueCode.MISSING_COLUMNS, "last_name", None) == (
        error.code,
        error.column,
        error.row,
    )
    assert "Surname" in error.message
    assert "Apellidos" in error.message
    assert ((), 1) == (upload.records, upload.row_count)


@given(
    st.sampled_from(
        [(alias, column) for column, names in HEADER_ALIASES.items() for alias in names]
    ),
    st.lists(st.booleans(), min_size=40, max_size=40),
    st.lists(st.sampled_from(["", " ", "_", "-", ".", "  "]), min_size=40, max_size=40),
    st.booleans(),
)
def test_header_aliases_in_any_case_spacing_or_accents(
    alias_column: tuple[str, str],
    upper: list[bool],
    separators: list[str],
    decompose: bool,
) -> None:
    """Aliases in any case, spacing, punctuation or accent form map to the column."""
    alias, column = alias_column
    letters = unicodedata.normalize("NFD" if decompose else "NFC", alias)
    mangled = "".join(
        (ch.upper() if up else ch.lower()) + sep
        for ch, up, sep in zip(letters, upper, separators, strict=False)
    )
    assume(mangled.strip())
    data = f"{mangled}\nvalue\n".encode()

    upload = read_upload(data, delimiter=",")

    assert column == upload.columns[0].column


# -- issue codes --------------------------------------------------------------------


@pytest.mark.parametrize(
    "data", [b"", b"\r\n\r\n", b" \t\n", b",,,\r\n;;;\r\n||\r\n", b"sep=;\r\n"]
)
def test_empty_file(data: bytes) -> None:
    """No bytes, or only blank records, is empty_file."""
    upload = read_upload(data)

    assert (["empty_file"], False) == (codes(upload.issues), upload.ok)


@pytest.mark.parametrize(
    "data", [b"first_name,last_name,email\n", b"first_name,last_name,email\n,,\n\n"]
)
def test_no_rows(data: bytes) -> None:
    """A header without user rows is no_rows."""
    assert ["no_rows"] == codes(read_upload(data).issues)


def test_file_too_large() -> None:
    """More bytes than max_bytes is file_too_large, and nothing else is done."""
    upload = read_upload(csv_bytes(users(100)), max_bytes=1000)

    assert (["file_too_large"], None, ()) == (
        codes(upload.issues),
        upload.encoding,
        upload.records,
    )


def test_huge_stream_stops_early() -> None:
    """A 100 MB stream is refused after reading little more than max_bytes."""
    stream = CountingStream(100 * 1000 * 1000)

    upload = read_upload(stream)

    assert ["file_too_large"] == codes(upload.issues)
    assert stream.consumed <= 2 * MiB + 64 * 1024


def test_binary_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the xlsx extra an Excel workbook is binary_file, with advice to save
    it as CSV (tests/test_workbook.py reads workbooks with the extra)."""
    monkeypatch.setattr(_workbook, "available", lambda: False)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")

    upload = read_upload(buffer.getvalue())

    assert ["binary_file"] == codes(upload.issues)
    assert "Excel workbook" in upload.issues[0].message


def test_undecodable_with_the_callers_encoding() -> None:
    """A file that is not in the caller's encoding is undecodable."""
    upload = read_upload(csv_bytes(users(1), encoding="cp1252"), encoding="utf-8")

    assert (["undecodable"], None) == (codes(upload.issues), upload.encoding)


def test_unknown_caller_encoding_is_an_issue() -> None:
    """An unknown encoding name is undecodable, not a LookupError."""
    assert ["undecodable"] == codes(read_upload(b"a", encoding="klingon").issues)


def test_unterminated_quote_names_the_row_where_it_opened() -> None:
    """An unclosed quote is malformed_csv at its row, never a giant merged cell."""
    data = (
        b"first_name,last_name,email\r\n"
        b"Ana,Lopez,ana@example.com\r\n"
        b'Bob,"Ray,bob@example.com\r\n'
        b"Cy,Doe,cy@example.com\r\n"
    )

    upload = read_upload(data)

    (error,) = upload.issues
    assert (IssueCode.MALFORMED_CSV, None) == (error.code, error.row)
    assert "Row 3" in error.message
    assert ((), [ColumnMatch(h, h) for h in HEADER]) == (
        upload.records,
        list(upload.columns),
    )


def test_text_after_a_closing_quote_is_malformed() -> None:
    """Strict parsing refuses text after a closing quote."""
    upload = read_upload(b'first_name,last_name,email\n"Ana" M,Lopez,a@example.com\n')

    assert ["malformed_csv"] == codes(upload.issues)
    assert "Row 2" in upload.issues[0].message


def test_unterminated_quote_in_the_header() -> None:
    """An unclosed quote before any header is malformed_csv too."""
    upload = read_upload(b'"first_name,last_name,email\nAna,Lopez,a@example.com\n')

    assert (["malformed_csv"], ()) == (codes(upload.issues), upload.columns)


def test_huge_cell_is_malformed_and_the_field_limit_is_untouched() -> None:
    """A cell past csv's field limit is malformed_csv; the process limit is intact."""
    before = csv.field_size_limit()
    data = b'first_name,last_name,email\nAna,"' + b"x" * 200_000 + b'",a@example.com\n'

    upload = read_upload(data)

    assert ["malformed_csv"] == codes(upload.issues)
    assert "Row 2" in upload.issues[0].message
    assert before == csv.field_size_limit()


@pytest.mark.parametrize(
    ("data", "row"),
    [
        (b"first_name,last_name,email\n" * 1 + b"A,B,c\n" * 60 + b"D,\x00E,f\n", 62),
        (b"first_name,last_name,email\n" + b"A,B,c\n" * 60 + b"\x00D,E,f\n", 62),
        (b'first_name,last_name,email\n"A\nB",C,d\n' + b"A,B,c\n" * 60 + b"\x00", 63),
        (b'first_name,last_name,email\n"A\n' + b"B" * 5000 + b"\x00", 2),
        (b"sep=,\nfirst_name,last_name,email\n" + b"A,B,c\n" * 60 + b"\x00", 63),
    ],
)
def test_nul_character_is_malformed_on_every_python(data: bytes, row: int) -> None:
    """A stray NUL is malformed_csv naming its row (Python 3.11+ csv would take it)."""
    upload = read_upload(data)

    assert ["malformed_csv"] == codes(upload.issues)
    assert f"Row {row} " in upload.issues[0].message


def test_other_csv_errors_are_malformed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any other csv.Error (say, from a future Python) is malformed_csv, no crash."""

    class Failing:
        def __iter__(self) -> Failing:
            return self

        def __next__(self) -> list[str]:
            raise csv.Error("something new")

    monkeypatch.setattr("userimport.reading.csv.reader", lambda *a, **k: Failing())

    upload = read_upload(csv_bytes(users(1)), delimiter=",")

    assert ["malformed_csv"] == codes(upload.issues)
    assert "something new" in upload.issues[0].message


def test_200_rows_pass_and_201_fail_with_the_real_count() -> None:
    """The default limit is 200 users; the message gives the file's real count."""
    accepted = read_upload(csv_bytes(users(200)))
    refused = read_upload(csv_bytes(users(250) + [[""]] * 3))

    assert (200, 200, True) == (
        len(accepted.records),
        accepted.row_count,
        accepted.ok,
    )
    (error,) = refused.issues
    assert (IssueCode.TOO_MANY_ROWS, "250", 250, ()) == (
        error.code,
        error.value,
        refused.row_count,
        refused.records,
    )
    assert "250" in error.message
    assert "200" in error.message


def test_201_rows_fail() -> None:
    """One row over the limit is too_many_rows."""
    upload = read_upload(csv_bytes(users(201)))

    assert (["too_many_rows"], 201) == (codes(upload.issues), upload.row_count)


def test_row_limit_can_be_lifted_or_changed() -> None:
    """max_rows=None reads any number of rows; max_rows=1 allows one."""
    unlimited = read_upload(csv_bytes(users(1000)), max_rows=None)
    one = read_upload(csv_bytes(users(2)), max_rows=1)

    assert (1000, True) == (len(unlimited.records), unlimited.ok)
    assert ["too_many_rows"] == codes(one.issues)
    assert "at most 1 row" in one.issues[0].message


def test_wrong_field_count_is_a_row_issue() -> None:
    """Non-empty cells past the header are wrong_field_count on that row."""
    data = (
        b"first_name,last_name,email\n"
        b"Smith, John,Doe,john@example.com\n"
        b"Ana,Lopez,ana@example.com,,\n"
    )

    upload = read_upload(data)

    first, second = upload.records
    (issue,) = first.issues
    assert (IssueCode.WRONG_FIELD_COUNT, Severity.ERROR, 2, "john@example.com") == (
        issue.code,
        issue.severity,
        issue.row,
        issue.value,
    )
    assert ((), True) == (second.issues, upload.ok)


def test_tab_delimiter_is_named_in_wrong_field_count() -> None:
    """The message names a tab delimiter as "tab"."""
    data = b"first_name\tlast_name\temail\nA\tB\tc@example.com\textra\n"

    (issue,) = read_upload(data).records[0].issues

    assert "tab" in issue.message


def test_encoding_guessed_is_a_warning_showing_both_readings() -> None:
    """A close call between two code pages warns, naming the encoding read and
    showing the first differing name both ways; UTF-8 never warns."""
    close = read_upload(
        csv_bytes([HEADER, ["Jan", "Nuñez", "j@x.com"]], encoding="cp1252")
    )
    utf8 = read_upload(csv_bytes([HEADER, ["Jan", "Nuñez", "j@x.com"]]))

    (warning,) = close.issues
    assert (IssueCode.ENCODING_GUESSED, Severity.WARNING, "cp1252") == (
        warning.code,
        warning.severity,
        warning.value,
    )
    assert '"Nuñez"' in warning.message
    assert '"Nuńez"' in warning.message
    assert (True, ()) == (close.ok, utf8.issues)


def test_a_clear_guess_does_not_warn() -> None:
    """A legacy file whose other readings are no names reads without a warning."""
    upload = read_upload(csv_bytes(users(1), encoding="cp1252"))

    assert ("detected", ()) == (upload.encoding_source, upload.issues)


def test_mixed_encodings_is_a_file_level_error() -> None:
    """UTF-8 rows pasted above cp1252 rows: no record is read, the error names rows
    of each kind."""
    data = csv_bytes([HEADER, ["José", "Núñez", "j@x.com"]]) + csv_bytes(
        [["Ana", "Muñoz", "a@x.com"]], encoding="cp1252"
    )

    upload = read_upload(data)

    assert (["mixed_encodings"], (), False) == (
        codes(upload.issues),
        upload.records,
        upload.ok,
    )
    assert "row 2 in UTF-8, row 3 in another" in upload.issues[0].message


def test_errors_come_before_warnings() -> None:
    """File-level issues list errors first, then warnings."""
    data = csv_bytes([["first_name", "Phone"], ["Nuñez", "1"]], encoding="cp1252")

    upload = read_upload(data)

    assert [
        "missing_columns",
        "missing_columns",
        "encoding_guessed",
        "unknown_columns",
    ] == codes(upload.issues)


# -- properties -------------------------------------------------------------------


@given(
    data=st.binary(max_size=600),
    max_bytes=st.integers(min_value=0, max_value=700),
    max_rows=st.none() | st.integers(min_value=0, max_value=3),
    encoding=st.none() | st.sampled_from(["utf-8", "cp1252", "utf-16", "klingon"]),
    delimiter=st.none() | st.characters(exclude_characters='"\r\n\x00'),
)
def test_no_bytes_make_the_reader_raise(
    data: bytes,
    max_bytes: int,
    max_rows: int | None,
    encoding: str | None,
    delimiter: str | None,
) -> None:
    """Any bytes with any valid options give an Upload that keeps its invariants."""
    upload = read_upload(
        data,
        max_bytes=max_bytes,
        max_rows=max_rows,
        encoding=encoding,
        delimiter=delimiter,
    )

    severities = [issue.severity for issue in upload.issues]
    assert severities == sorted(severities, key=lambda s: s is Severity.WARNING)
    assert all(issue.row is None for issue in upload.issues)
    assert upload.ok == (Severity.ERROR not in severities)
    if not upload.ok:
        assert () == upload.records
    rows = [record.row for record in upload.records]
    assert rows == sorted(set(rows))
    assert all(list(COLUMNS) == list(r.values) for r in upload.records)


@st.composite
def files(draw: st.DrawFn, codec: str) -> tuple[list[list[str]], str, str]:
    """User rows whose text ``codec`` can hold, a delimiter and a line ending."""
    cell = st.text(
        st.characters(codec=codec, exclude_categories=("Cc", "Cs")), max_size=12
    ).filter(lambda text: text.encode(codec).decode(codec) == text)
    name = cell.filter(
        lambda text: any(not c.isspace() and c not in ",;|" for c in text)
    )
    rows = draw(
        st.lists(st.lists(cell, min_size=7, max_size=7), min_size=1, max_size=8)
    )
    for row in rows:
        row[0] = draw(name)
    return (
        rows,
        draw(st.sampled_from(DELIMITERS)),
        draw(st.sampled_from(["\r\n", "\n"])),
    )


@given(st.data(), st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32"]))
def test_text_round_trips_through_unicode_encodings(
    data: st.DataObject, codec: str
) -> None:
    """Rows written by csv.writer in a Unicode encoding read back exactly."""
    rows, delimiter, newline = data.draw(files("utf-8"))
    content = csv_bytes(
        [list(COLUMNS), *rows], encoding=codec, delimiter=delimiter, newline=newline
    )

    upload = read_upload(content)

    assert (rows, delimiter, ()) == (
        [list(record.values.values()) for record in upload.records],
        upload.delimiter,
        upload.issues,
    )
    assert content.decode(codec) == content.decode(upload.encoding or "")


# The strategy filters out the characters hypothesis warns about (shift_jis
# encodes "¥" as a backslash, for one).
@pytest.mark.filterwarnings(
    "ignore::hypothesis.errors.NonRoundTrippableCharactersWarning"
)
@given(st.data(), st.sampled_from(DEFAULT_LEGACY_ENCODINGS))
def test_text_round_trips_through_legacy_encodings(
    data: st.DataObject, codec: str
) -> None:
    """Rows written in a legacy encoding read back exactly when it is given.

    Detected instead, the reported encoding decodes the file strictly, the values
    are what that decoding says, and only a guess may warn.
    """
    rows, delimiter, newline = data.draw(files(codec))
    content = csv_bytes(
        [list(COLUMNS), *rows], encoding=codec, delimiter=delimiter, newline=newline
    )

    given_codec = read_upload(content, encoding=codec)
    detected = read_upload(content)

    assert rows == [list(r.values.values()) for r in given_codec.records]
    assert detected.ok
    text = content.decode(detected.encoding or "")
    if text == content.decode(codec):
        assert rows == [list(r.values.values()) for r in detected.records]
    if "encoding_guessed" in codes(detected.issues):
        assert detected.encoding_source in ("detected", "fallback")


def test_records_are_frozen_values() -> None:
    """Records and uploads are immutable values that compare by content."""
    first = read_upload(csv_bytes(users(1)))
    second = read_upload(csv_bytes(users(1)))

    assert first == second
    assert Record(2, first.records[0].values) == first.records[0]


# --- read_records, and header matching across uploads ------------------------------


#: Header lines, valid or not, that uploads share.
HEADERS = [
    "first_name,last_name,email\r\n",
    "Nombre;Apellidos;Correo\n",
    "email\n",
    "first_name,email,email\n",
    '"a",b\n',
    "",
]
#: Short texts of CSV-ish pieces: delimiters, quotes, line breaks, header names.
texts = st.lists(
    st.sampled_from([*'ab,;\t|"\r\n é', "email", "Nombre", "Rol", "first_name"]),
    max_size=30,
).map("".join)


@given(texts.map(str.encode))
def test_read_records_are_read_upload_records(data: bytes) -> None:
    """read_records gives exactly read_upload's records, as tuples, and the same
    upload otherwise."""
    upload = read_upload(data)
    bare, records = read_records(data)
    assert upload.records == tuple(starmap(Record, records))
    assert attrs.evolve(upload, records=()) == bare


@given(st.lists(st.sampled_from(HEADERS).flatmap(lambda h: texts.map(h.__add__))))
def test_cached_header_reading_equals_uncached(contents: list[str]) -> None:
    """Reading uploads one after another, with the header caches warm, gives what
    reading each with the caches cleared gives."""
    uploads = [text.encode() for text in contents]
    cold = []
    for data in uploads:
        reading._cached_split_scores.cache_clear()
        reading._cached_header_match.cache_clear()
        cold.append(read_upload(data))
    assert cold == [read_upload(data) for data in uploads]


def test_long_headers_are_matched_without_the_cache() -> None:
    """A header longer than the cached length is matched all the same."""
    header = ["first_name", "last_name", "email", *(f"note {i:04}" for i in range(200))]
    data = (",".join(header) + "\r\nAna,Ruiz,a@x.example\r\n").encode()
    upload = read_upload(data)
    assert "," == upload.delimiter
    assert [2] == [record.row for record in upload.records]
    assert 203 == len(upload.columns)
