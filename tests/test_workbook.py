"""Excel workbook uploads: the same records as CSV, cells as shown, bounded reading."""

from __future__ import annotations

import csv
import datetime
import io
import struct
import tracemalloc
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl.worksheet.worksheet import Worksheet

from userimport import (
    Actor,
    Issue,
    MemoryStore,
    Organization,
    OrgTree,
    Preview,
    _workbook,
    converter,
    prepare,
    template,
)
from userimport.outputs import TEMPLATE_HEADERS
from userimport.reading import MAX_CELL_LENGTH, read_upload
from userimport.schema import COLUMNS
from workbooks import (
    MACRO_TYPE,
    inline_rows,
    sheet_xml,
    styles_xml,
    workbook,
)

FIXTURES = Path(__file__).parent / "fixtures" / "workbooks"
#: The English template's header, as an administrator's workbook has it.
HEADER = list(TEMPLATE_HEADERS["en"].values())
TREE = OrgTree([Organization("acme", "Acme"), Organization("es", "Spain", "acme")])
ACTOR = Actor("acme")


def codes(issues: Iterable[Issue]) -> list[str]:
    return [issue.code.value for issue in issues]


def openpyxl_bytes(rows: Sequence[Sequence[object]], *, title: str = "Sheet") -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def type_text(sheet: Worksheet, row: int, cells: list[str]) -> None:
    """Type ``cells`` into a row as text, as Excel does in a text-formatted column
    (openpyxl on its own would take ``=0`` for a formula)."""
    for column, text in enumerate(cells, start=1):
        cell = sheet.cell(row, column, text)
        cell.data_type = "s"


def csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def only_issue(data: bytes, **options: Any) -> tuple[str, str]:
    upload = read_upload(data, **options)
    assert 1 == len(upload.issues), upload.issues
    return upload.issues[0].code.value, upload.issues[0].message


# -- the same path as CSV --------------------------------------------------------------


def test_a_workbook_gives_the_records_its_csv_gives() -> None:
    """A workbook's sheet reads as the same records, row numbers and columns as the
    same rows saved as CSV; the upload says it was a workbook, without encoding or
    delimiter."""
    rows = [
        HEADER,
        ["Ana", "García", "ana@example.org", "Spain", "manager", "A; B", "es"],
        ["", "", "", "", "", "", ""],
        [" Bo ", "Li", "bo@example.org", "", "", "", ""],
    ]
    from_csv = read_upload(csv_bytes(rows))
    from_workbook = read_upload(openpyxl_bytes(rows))

    assert from_csv.records == from_workbook.records
    assert from_csv.columns == from_workbook.columns
    assert (None, None, None, "xlsx") == (
        from_workbook.encoding,
        from_workbook.encoding_source,
        from_workbook.delimiter,
        from_workbook.format,
    )
    assert "csv" == from_csv.format


def test_row_numbers_are_the_sheets_and_blank_rows_count() -> None:
    """Rows are numbered as the sheet numbers them: blank rows before the header and
    between users count, as in Excel."""
    xml = sheet_xml(
        '<row r="3"><c t="inlineStr"><is><t>Email</t></is></c>'
        '<c t="inlineStr"><is><t>First name</t></is></c>'
        '<c t="inlineStr"><is><t>Last name</t></is></c></row>'
        '<row r="4"/>'
        '<row r="7"><c t="inlineStr"><is><t>a@example.org</t></is></c>'
        '<c t="inlineStr"><is><t>A</t></is></c>'
        '<c t="inlineStr"><is><t>B</t></is></c></row>'
    )
    upload = read_upload(workbook(xml))

    assert [7] == [record.row for record in upload.records]


def test_prepare_reviews_a_workbook_like_a_csv_file() -> None:
    """prepare on a workbook gives the review the CSV file gives, and the preview
    says it was a workbook; the preview keeps that through JSON."""
    rows = [HEADER, ["Ana", "García", "ana@example.org", "Spain", "", "", "es"]]
    from_workbook = prepare(
        openpyxl_bytes(rows),
        actor=ACTOR,
        orgs=TREE,
        store=MemoryStore(),
    )
    from_csv = prepare(csv_bytes(rows), actor=ACTOR, orgs=TREE, store=MemoryStore())

    assert from_csv.rows == from_workbook.rows
    assert ("xlsx", None, None) == (
        from_workbook.format,
        from_workbook.encoding,
        from_workbook.delimiter,
    )
    assert "csv" == from_csv.format
    again = converter.structure(converter.unstructure(from_workbook), Preview)
    assert from_workbook == again


def test_an_old_preview_without_a_format_was_a_csv_file() -> None:
    """A preview kept as JSON before workbooks were read loads as a CSV upload."""
    preview = prepare(csv_bytes([HEADER]), actor=ACTOR, orgs=TREE, store=MemoryStore())
    kept = converter.unstructure(preview)
    del kept["format"]

    assert "csv" == converter.structure(kept, Preview).format


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([HEADER], ["no_rows"]),
        ([["Name", "Notes"], ["x", "y"]], ["missing_columns"] * 3),
        ([HEADER, *[["A", "B", f"u{n}@example.org"] for n in range(3)]], []),
    ],
)
def test_file_level_checks_are_the_csv_ones(
    rows: list[list[str]], expected: list[str]
) -> None:
    """A header without users, or without the required columns, is the same issue
    as in a CSV file."""
    errors = [i for i in read_upload(openpyxl_bytes(rows)).issues if i.is_error]

    assert expected == codes(errors)


def test_the_row_limit_counts_every_user_row() -> None:
    """More rows than max_rows is too_many_rows with the sheet's real count."""
    rows = [HEADER, *[["A", "B", f"u{n}@example.org"] for n in range(12)]]

    upload = read_upload(openpyxl_bytes(rows), max_rows=10)

    assert (["too_many_rows"], "12", 12, ()) == (
        codes(upload.issues),
        upload.issues[0].value,
        upload.row_count,
        upload.records,
    )


def test_an_empty_workbook_is_an_empty_file() -> None:
    """A workbook whose sheet holds nothing is empty_file."""
    assert "empty_file" == only_issue(openpyxl_bytes([]))[0]


def test_the_callers_header_mapping_applies() -> None:
    """ImportOptions.columns maps a workbook's header cells as it maps a CSV's."""
    rows = [["Nom", "Cognom", "Correu"], ["A", "B", "a@example.org"]]
    mapping = {"Nom": "first_name", "Cognom": "last_name", "Correu": "email"}

    upload = read_upload(openpyxl_bytes(rows), columns=mapping)

    assert "a@example.org" == upload.records[0].values["email"]


def test_cells_right_of_the_header_are_not_read() -> None:
    """A value in a column without a header cell is left out, without an issue: no
    delimiter can have split a workbook's value."""
    rows = [["First name", "Last name", "Email"], ["A", "B", "a@example.org", "note"]]

    upload = read_upload(openpyxl_bytes(rows))

    assert ((), ()) == (upload.issues, upload.records[0].issues)


# -- cells as the administrator sees them ---------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (42, "42"),
        (1.0, "1"),
        (-3, "-3"),
        (1.5, "1.5"),
        (0.1 + 0.2, "0.3"),
        (1e20, "100000000000000000000"),
        (1.5e-7, "0.00000015"),
        (12345678901234567890, "12345678901234600000"),
        ("007", "007"),
        ("1-2", "1-2"),
        ("  padded  ", "  padded  "),
        (True, "TRUE"),
        (False, "FALSE"),
        (datetime.date(2024, 5, 1), "2024-05-01"),
        (datetime.datetime(2024, 5, 1, 13, 45, 30), "2024-05-01 13:45:30"),
        (datetime.time(8, 5), "08:05:00"),
    ],
)
def test_cells_read_as_the_text_the_spreadsheet_shows(
    value: object, shown: str
) -> None:
    """Numbers without .0 or scientific notation and at Excel's 15 significant
    digits, text as typed (leading zeros kept), booleans as TRUE/FALSE, dates and
    times as ISO 8601 text."""
    rows: list[list[object]] = [
        ["Email", "First name", "Last name"],
        ["a@x.org", value, "B"],
    ]

    upload = read_upload(openpyxl_bytes(rows))

    assert shown == upload.records[0].values["first_name"]


@pytest.mark.parametrize(
    ("number_format", "custom", "value", "shown"),
    [
        (14, {}, "45413", "2024-05-01"),
        (22, {}, "45413.5", "2024-05-01 12:00:00"),
        (20, {}, "0.75", "18:00:00"),
        (164, {164: "dd/mm/yyyy"}, "45413", "2024-05-01"),
        (164, {164: "[$-409]mmmm d, yyyy;@"}, "1", "1900-01-01"),
        (164, {164: "h:mm AM/PM"}, "0.5", "12:00:00"),
        (164, {164: "00000"}, "123", "00123"),
        (164, {164: "#,##0.00"}, "1234.5", "1234.5"),
        (164, {164: '"Day "0'}, "7", "7"),
        (49, {}, "123", "123"),
        (14, {}, "60", "1900-02-29"),
        (14, {}, "59", "1900-02-28"),
        (14, {}, "61", "1900-03-01"),
        (14, {}, "-1", "-1"),
        (14, {}, "3000000", "3000000"),
        (0, {}, "1.5E-7", "0.00000015"),
        (164, {164: "@"}, "123", "123"),
        (164, {164: "00000"}, "1.5", "1.5"),
        (0, {}, "abc", "abc"),
        (0, {}, "INF", "INF"),
        (14, {}, "abc", "abc"),
        (99, {}, "7", "7"),
    ],
)
def test_number_formats_show_dates_and_zeros(
    number_format: int, custom: dict[int, str], value: str, shown: str
) -> None:
    """A date or time format shows its number as ISO 8601 text (with Excel's
    29 February 1900), a format of zeros pads it, others show the number; a date
    out of Excel's range shows as the number."""
    xml = sheet_xml(
        inline_rows([["Email", "First name", "Last name"]])
        + f'<row r="2"><c t="inlineStr"><is><t>a@x.org</t></is></c>'
        f'<c s="1"><v>{value}</v></c><c t="inlineStr"><is><t>B</t></is></c></row>'
    )
    # Style 2 does not exist: a cell that names it shows its number as it is.
    style = 2 if number_format == 99 else 1
    xml = xml.replace('s="1"', f's="{style}"')
    data = workbook(xml, styles=styles_xml([0, number_format], custom))

    assert shown == read_upload(data).records[0].values["first_name"]


def test_the_1904_date_system() -> None:
    """A workbook whose dates count from 1904 (old Mac Excel) reads them right."""
    xml = sheet_xml(
        inline_rows([["Email", "First name", "Last name"]])
        + '<row r="2"><c t="inlineStr"><is><t>a@x.org</t></is></c>'
        '<c s="1"><v>0</v></c><c t="inlineStr"><is><t>B</t></is></c></row>'
    )
    data = workbook(
        xml,
        styles=styles_xml([0, 14]),
        workbook_properties='<workbookPr date1904="1"/>',
    )

    assert "1904-01-01" == read_upload(data).records[0].values["first_name"]


def test_shared_strings_rich_text_and_escapes() -> None:
    """Shared texts are read whole: rich-text runs joined, phonetic guides left out,
    Excel's _xHHHH_ escapes undone."""
    strings = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<si><t>Email</t></si><si><t>First name</t></si><si><t>Last name</t></si>"
        "<si><r><t>Jo</t></r><r><rPr><b/></rPr><t>sé</t></r>"
        "<rPh><t>ホセ</t></rPh></si>"
        "<si><t>a_x005F_x000D_b_x000D_</t></si><si><t>a@x.org</t></si></sst>"
    )
    xml = sheet_xml(
        '<row r="1"><c t="s"><v>0</v></c><c t="s"><v>1</v></c>'
        '<c t="s"><v>2</v></c></row>'
        '<row r="2"><c t="s"><v>5</v></c><c t="s"><v>3</v></c>'
        '<c t="s"><v>4</v></c></row>'
    )
    values = read_upload(workbook(xml, shared_strings=strings)).records[0].values

    assert ("José", "a_x000D_b\r") == (values["first_name"], values["last_name"])


def test_a_prefixed_namespace_and_cells_without_references() -> None:
    """Sheets written with a namespace prefix (as some .NET tools do) and without
    cell references read the same."""
    xml = (
        '<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<x:sheetData><x:row>"
        + "".join(
            f'<x:c t="inlineStr"><x:is><x:t>{cell}</x:t></x:is></x:c>'
            for cell in ("Email", "First name", "Last name")
        )
        + "</x:row><x:row>"
        + "".join(
            f'<x:c t="inlineStr"><x:is><x:t>{cell}</x:t></x:is></x:c>'
            for cell in ("a@x.org", "A", "B")
        )
        + "</x:row></x:sheetData></x:worksheet>"
    )

    record = read_upload(workbook(xml)).records[0]

    assert (2, "A") == (record.row, record.values["first_name"])


def test_a_formula_reads_as_its_saved_result() -> None:
    """A formula is never evaluated: the cell reads as the result saved with it."""
    xml = sheet_xml(
        inline_rows([["Email", "First name", "Last name"]])
        + '<row r="2"><c t="inlineStr"><is><t>a@x.org</t></is></c>'
        '<c t="str"><f>UPPER("ana")</f><v>ANA</v></c>'
        "<c><f>1+1</f><v>2</v></c></row>"
    )
    values = read_upload(workbook(xml)).records[0].values

    assert ("ANA", "2") == (values["first_name"], values["last_name"])


def test_a_formula_without_a_result_makes_its_row_invalid() -> None:
    """A formula saved without its result is an invalid_characters error of its row
    and column, naming the formula; a formula in a column that is not read is no
    problem."""
    xml = sheet_xml(
        inline_rows([["Email", "First name", "Last name", "Notes"]])
        + '<row r="2"><c t="inlineStr"><is><t>a@x.org</t></is></c>'
        '<c><f>PROPER(B9)</f></c><c t="inlineStr"><is><t>B</t></is></c>'
        "<c><f>NOW()</f></c></row>"
    )
    preview = prepare(workbook(xml), actor=ACTOR, orgs=TREE, store=MemoryStore())
    formula = [i for i in preview.issues if i.value == "=PROPER(B9)"]

    assert [(2, "invalid_characters", "first_name")] == [
        (i.row, i.code.value, i.column) for i in formula
    ]
    assert "invalid" == preview.rows[0].action.value
    assert not [i for i in preview.issues if i.value == "=NOW()"]


# -- which sheet ----------------------------------------------------------------------


def test_the_sheet_named_like_the_templates_is_read() -> None:
    """A workbook with a sheet named like the template's (in any of its languages)
    reads that sheet, wherever it is; otherwise the first visible one."""
    users = sheet_xml(
        inline_rows([["Email", "First name", "Last name"], ["a@x.org", "A", "B"]])
    )
    other = sheet_xml(inline_rows([["Notes"]]))

    named = read_upload(workbook([("Notes", other), ("usuarios", users)]))
    hidden_first = read_upload(
        workbook([("Old", other), ("Mine", users)], hidden=["Old"])
    )

    assert ["a@x.org"] == [r.values["email"] for r in named.records]
    assert ["a@x.org"] == [r.values["email"] for r in hidden_first.records]


def test_a_workbook_without_a_worksheet_is_malformed() -> None:
    """A workbook whose sheets are all hidden (or that lists none) has nothing to
    read."""
    only_hidden = workbook([("Old", sheet_xml(""))], hidden=["Old"])

    assert "malformed_csv" == only_issue(only_hidden)[0]


# -- the template, filled in and uploaded back ---------------------------------------

_TEXT = st.text(
    st.characters(
        blacklist_categories=("Cs", "Cc"),
        blacklist_characters="\ufffe\uffff",
    ),
    max_size=30,
)


@given(st.lists(st.lists(_TEXT, min_size=7, max_size=7), min_size=1, max_size=6))
def test_what_is_typed_into_the_template_reads_back_exactly(
    rows: list[list[str]],
) -> None:
    """Any text typed into the workbook template's cells (saved by openpyxl, as a
    spreadsheet would save it) reads back exactly, row for row."""
    book = openpyxl.load_workbook(
        io.BytesIO(template(examples=False, format="xlsx", orgs=TREE, actor=ACTOR))
    )
    sheet = book["Users"]
    for number, row in enumerate(rows, start=2):
        type_text(sheet, number, row)
    buffer = io.BytesIO()
    book.save(buffer)
    typed = [dict(zip(COLUMNS, row, strict=True)) for row in rows]

    upload = read_upload(buffer.getvalue())
    read = [dict(record.values) for record in upload.records]

    # Rows whose cells are all blank are not users, in a workbook as in CSV.
    assert [row for row in typed if "".join(row.values()).strip()] == read


def test_the_templates_columns_are_formatted_as_text() -> None:
    """Every column of the workbook template is formatted as text ("@"), so Excel
    keeps what is typed: leading zeros, "1-2" (not a date), "1E5" (not a number)."""
    book = openpyxl.load_workbook(
        io.BytesIO(template(examples=False, format="xlsx", orgs=TREE, actor=ACTOR))
    )
    formats = {
        column: dimension.number_format
        for dimension in book["Users"].column_dimensions.values()
        for column in range(dimension.min or 0, (dimension.max or 0) + 1)
    }

    assert ["@"] * 7 == [formats.get(column) for column in range(1, 8)]


# -- LibreOffice --------------------------------------------------------------------


def test_a_libreoffice_workbook() -> None:
    """A workbook LibreOffice Calc saved from a CSV file (tests/fixtures/workbooks,
    made by make.sh) reads as what Calc shows: its own number and date conversions
    on import, a blank row counted, accents intact."""
    upload = read_upload((FIXTURES / "libreoffice_users.xlsx").read_bytes())
    by_row = {record.row: dict(record.values) for record in upload.records}

    assert [2, 3, 5, 6] == list(by_row)
    assert ("José", "Núñez", "Ventas; Madrid") == (
        by_row[2]["first_name"],
        by_row[2]["last_name"],
        by_row[2]["groups"],
    )
    # Calc turned 00123 into the number 123, 2024-05-01 into a date, 1E5 into
    # 100000 when it imported the CSV; the workbook holds those.
    assert ("123", "2024-05-01", "1-2", "100000") == (
        by_row[3]["organization"],
        by_row[5]["organization"],
        by_row[5]["last_name"],
        by_row[6]["groups"],
    )


def test_a_libreoffice_formula_reads_as_its_result() -> None:
    """A formula Calc evaluated on import reads as the result Calc saved."""
    upload = read_upload((FIXTURES / "libreoffice_formula.xlsx").read_bytes())

    assert ["2", "learner"] == [r.values["role"] for r in upload.records]


# -- files that are not what they claim, and limits ----------------------------------


def test_without_the_extra_a_workbook_is_binary_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without the xlsx extra a workbook is binary_file, whose message says to save
    it as CSV or to install userimport[xlsx]."""
    monkeypatch.setattr(_workbook, "available", lambda: False)

    code, message = only_issue(openpyxl_bytes([HEADER]))

    assert "binary_file" == code
    assert "save it as CSV" in message
    assert "userimport[xlsx]" in message


def test_the_extra_is_found_by_its_writer() -> None:
    """The xlsx extra counts as installed when its writer, XlsxWriter, is."""
    assert _workbook.available()


def test_other_zip_files_are_left_to_the_sniffing() -> None:
    """A Word document, an OpenDocument spreadsheet or a plain ZIP archive is named
    by the binary sniffing, as before."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    code, message = only_issue(buffer.getvalue())

    assert ("binary_file", True) == (code, "Word document" in message)
    assert "binary_file" == only_issue(b"PK\x03\x04" + bytes(40))[0]


@pytest.mark.parametrize(
    ("data", "code", "says"),
    [
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
            + bytes(500)
            + "EncryptedPackage".encode("utf-16-le"),
            "binary_file",
            "password",
        ),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
            + bytes(500)
            + "Workbook".encode("utf-16-le"),
            "binary_file",
            ".xls",
        ),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
            + bytes(500)
            + "WordDocument".encode("utf-16-le"),
            "binary_file",
            "Excel 97-2003",
        ),
        (
            workbook(sheet_xml(""), main_type=MACRO_TYPE),
            "binary_file",
            "macro",
        ),
        (
            workbook(sheet_xml(""), extra={"xl/vbaProject.bin": b"\x00"}),
            "binary_file",
            "macro",
        ),
        (
            workbook(sheet_xml(""), extra={"xl/workbook.bin": b"\x00"}),
            "binary_file",
            ".xlsb",
        ),
    ],
)
def test_workbooks_that_are_not_read(data: bytes, code: str, says: str) -> None:
    """A password-protected workbook, an .xls, a macro-enabled or binary workbook
    each get a clear binary_file issue saying what the file is."""
    found_code, message = only_issue(data)

    assert (code, True) == (found_code, says in message), message


def _without(data: bytes, name: str) -> bytes:
    """The archive without the part ``name``."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(buffer, "w") as archive,
    ):
        for info in source.infolist():
            if info.filename != name:
                archive.writestr(info, source.read(info))
    return buffer.getvalue()


def _compression(data: bytes, method: int) -> bytes:
    """The archive with every part's compression method set to ``method``."""
    raw = bytearray(data)
    for signature, offset in ((b"PK\x01\x02", 10), (b"PK\x03\x04", 8)):
        at = raw.find(signature)
        while at >= 0:
            struct.pack_into("<H", raw, at + offset, method)
            at = raw.find(signature, at + 4)
    return bytes(raw)


def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _lying_size(data: bytes, name: str) -> bytes:
    """The archive with ``name``'s declared size cut to 10 bytes, in its central
    directory entry and its local header."""
    raw = bytearray(data)
    encoded = name.encode()
    for signature, name_at, size_at in (
        (b"PK\x01\x02", 46, 24),
        (b"PK\x03\x04", 30, 22),
    ):
        at = raw.find(signature)
        while at >= 0:
            length = struct.unpack_from("<H", raw, at + name_at - 18)[0]
            if raw[at + name_at : at + name_at + length] == encoded:
                struct.pack_into("<I", raw, at + size_at, 10)
            at = raw.find(signature, at + 4)
    return bytes(raw)


_USERS = sheet_xml(
    inline_rows([["Email", "First name", "Last name"], ["a@x.org", "A", "B"]])
)
_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'
        for n in range(1, 10)
    )
    + "]>"
    + sheet_xml('<row r="1"><c t="inlineStr"><is><t>&lol9;</t></is></c></row>')
)
_SELF_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "&a;">]>'
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    "<si><t>&a;</t></si></sst>"
)
_SHARED_ROWS = sheet_xml('<row r="1"><c t="s"><v>0</v></c></row>')

#: Hostile workbooks, each with the issue it must get: built by hand, small.
HOSTILE = {
    "zip bomb": (
        workbook(sheet_xml("<row/>" * 3_000_000)),
        "binary_file",
    ),
    "a part that lies about its size": (
        _lying_size(workbook(_USERS), "xl/worksheets/sheet1.xml"),
        "binary_file",
    ),
    "billion laughs": (workbook(_LAUGHS), "malformed_csv"),
    "an external entity": (
        workbook(
            '<?xml version="1.0"?><!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            + sheet_xml('<row r="1"><c t="inlineStr"><is><t>&x;</t></is></c></row>')
        ),
        "malformed_csv",
    ),
    "a 1,048,576-row sheet": (
        workbook(
            sheet_xml(
                "<row/>" * 1_048_575
                + '<row><c t="inlineStr"><is><t>Email</t></is></c></row>'
            )
        ),
        "missing_columns",
    ),
    "a row past the last": (
        workbook(sheet_xml('<row r="1048577"><c><v>1</v></c></row>')),
        "malformed_csv",
    ),
    "rows out of order": (
        workbook(sheet_xml('<row r="5"><c><v>1</v></c></row><row r="2"/>')),
        "malformed_csv",
    ),
    "a cell past column XFD": (
        workbook(sheet_xml('<row r="1"><c r="XFE1"><v>1</v></c></row>')),
        "malformed_csv",
    ),
    "a cell at XFD1048576 beside A1": (
        workbook(
            sheet_xml(
                '<row r="1"><c r="A1"><v>1</v></c></row>'
                '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
            )
        ),
        "missing_columns",
    ),
    "a shared-strings table that refers to itself": (
        workbook(_SHARED_ROWS, shared_strings=_SELF_ENTITY),
        "malformed_csv",
    ),
    "a shared-strings relationship to the sheet itself": (
        workbook(
            _SHARED_ROWS,
            shared_strings="",
            shared_strings_target="worksheets/sheet1.xml",
        ),
        "malformed_csv",
    ),
    "a 10 MB cell": (
        workbook(
            sheet_xml(
                '<row r="1"><c t="inlineStr"><is><t>'
                + "a" * 10_000_000
                + "</t></is></c></row>"
            )
        ),
        "malformed_csv",
    ),
    "a 10 MB shared string": (
        workbook(
            _SHARED_ROWS,
            shared_strings=(
                '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                "<si><t>" + "a" * 10_000_000 + "</t></si></sst>"
            ),
        ),
        "malformed_csv",
    ),
    "too many cells": (
        workbook(
            sheet_xml(
                "".join(
                    f'<row r="{n}"><c r="XFD{n}"><v>1</v></c></row>'
                    for n in range(1, 70)
                )
            )
        ),
        "malformed_csv",
    ),
    "a corrupt zip": (_truncated(workbook(_USERS)), "binary_file"),
    "an unsupported compression": (_compression(workbook(_USERS), 99), "binary_file"),
    "a damaged workbook part": (
        workbook(_USERS, workbook_part="<workbook><sheets>"),
        "malformed_csv",
    ),
    "a missing sheet": (
        _without(workbook(_USERS), "xl/worksheets/sheet1.xml"),
        "binary_file",
    ),
    "no workbook part": (_without(workbook(_USERS), "xl/workbook.xml"), "binary_file"),
    "a cell at a lower-case reference": (
        workbook(sheet_xml('<row r="1"><c r="a1"><v>1</v></c></row>')),
        "malformed_csv",
    ),
    "a row numbered in words": (
        workbook(sheet_xml('<row r="one"><c><v>1</v></c></row>')),
        "malformed_csv",
    ),
    "ten thousand parts": (
        workbook(_USERS, extra={f"xl/media/{n}.bin": b"" for n in range(10_000)}),
        "binary_file",
    ),
    "damaged XML": (workbook(_USERS[:-20]), "malformed_csv"),
    "a damaged shared-string reference": (
        workbook(
            sheet_xml('<row r="1"><c t="s"><v>7</v></c></row>'), shared_strings="<sst/>"
        ),
        "malformed_csv",
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_workbooks_get_a_clear_issue_quickly_in_bounded_memory(
    name: str,
) -> None:
    """Zip bombs, entity expansion, huge or sparse sheets, oversized cells and
    damaged files each get their file-level issue without holding more than a few
    megabytes (benchmarks/bench_xlsx.py measures how quickly)."""
    data, code = HOSTILE[name]
    assert len(data) < 2 * 1024 * 1024
    # Tracing every allocation of a million rows takes long; that one's memory is
    # measured by the benchmark.
    traced = name != "a 1,048,576-row sheet"
    if traced:
        tracemalloc.start()
    try:
        upload = read_upload(data)
        peak = tracemalloc.get_traced_memory()[1] if traced else 0
    finally:
        tracemalloc.stop()

    errors = [issue for issue in upload.issues if issue.is_error]
    assert code == errors[0].code.value, errors
    assert () == upload.records
    assert peak < 16 * 1024 * 1024


def test_a_cell_may_be_as_long_as_a_csv_cell() -> None:
    """A cell of exactly the reader's longest cell length is read."""
    xml = sheet_xml(
        inline_rows(
            [
                ["Email", "First name", "Last name"],
                ["a@x.org", "A" * MAX_CELL_LENGTH, "B"],
            ]
        )
    )
    upload = read_upload(workbook(xml), max_bytes=4 * 1024 * 1024)

    assert MAX_CELL_LENGTH == len(upload.records[0].values["first_name"])


def test_the_limits_scale_with_max_bytes() -> None:
    """The parts may unpack to eight times max_bytes: a host that raises max_bytes
    raises the workbook's limits with it."""
    data = workbook(sheet_xml("<row/>" * 400_000))  # 2.4 MB unpacked

    code, message = only_issue(data, max_bytes=100 * 1024)
    assert ("binary_file", True) == (code, "800 KiB" in message)
    assert "empty_file" == only_issue(data, max_bytes=512 * 1024)[0]


def test_an_encrypted_zip_part() -> None:
    """A workbook whose parts are encrypted with a ZIP password is binary_file."""
    raw = bytearray(workbook(_USERS))
    at = raw.find(b"PK\x01\x02")
    while at >= 0:
        raw[at + 8] |= 0x1
        at = raw.find(b"PK\x01\x02", at + 4)

    code, message = only_issue(bytes(raw))

    assert ("binary_file", True) == (code, "encrypted" in message)


def test_a_workbook_without_content_types_is_read() -> None:
    """A workbook without [Content_Types].xml (some writers leave it out) reads."""
    data = workbook(_USERS, with_content_types=False)

    assert ["a@x.org"] == [r.values["email"] for r in read_upload(data).records]


def test_more_shared_strings_than_cells_an_upload_may_have() -> None:
    """A shared-strings table longer than the cell limit is malformed_csv."""
    strings = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + "<si/>" * 2000
        + "</sst>"
    )
    data = workbook(_SHARED_ROWS, shared_strings=strings)

    assert "malformed_csv" == only_issue(data, max_bytes=2048)[0]


def test_phonetic_runs_of_inline_strings_and_empty_results() -> None:
    """An inline string's phonetic guide is left out; a formula whose saved result
    is empty text is an empty cell."""
    xml = sheet_xml(
        inline_rows([["Email", "First name", "Last name"]])
        + '<row r="2"><c t="inlineStr"><is><t>a@x.org</t></is></c>'
        '<c t="inlineStr"><is><r><t>Kenji</t></r><rPh><t>けんじ</t></rPh></is></c>'
        '<c t="str"><f>""</f><v></v></c></row>'
    )
    values = read_upload(workbook(xml)).records[0].values

    assert ("Kenji", "") == (values["first_name"], values["last_name"])


def test_damaged_number_formats_are_ignored() -> None:
    """Number formats without a usable id show their numbers as they are."""
    styles = (
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<numFmts><numFmt numFmtId="x" formatCode="yyyy"/></numFmts>'
        '<cellXfs><xf numFmtId="0"/><xf numFmtId="y"/></cellXfs></styleSheet>'
    )
    xml = sheet_xml(
        inline_rows([["Email", "First name", "Last name"]])
        + '<row r="2"><c t="inlineStr"><is><t>a@x.org</t></is></c>'
        '<c s="1"><v>45413</v></c><c t="inlineStr"><is><t>B</t></is></c></row>'
    )

    values = read_upload(workbook(xml, styles=styles)).records[0].values

    assert "45413" == values["first_name"]


def test_open_sheet_leaves_other_content_alone() -> None:
    """Content that is neither a ZIP nor an OLE container is no workbook."""
    assert None is _workbook.open_sheet(
        b"email\n", max_bytes=1024, max_cell_length=MAX_CELL_LENGTH
    )
