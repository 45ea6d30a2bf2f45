"""The CSV files the library writes: the template and the error report (SPEC §8).

Both are UTF-8 with a byte-order mark, so that Excel opens accented names correctly,
with CRLF line ends (RFC 4180 §2.1) and every cell in double quotes. Every cell the
library writes, headers and messages included, goes through
:func:`userimport.formulas.protect_cell`, the guard against formula injection; reading
an upload undoes it, so a re-uploaded error report gives back the values first
uploaded. See ``docs/outputs.md`` for the reasons.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Final

from userimport.formulas import protect_cell
from userimport.preview import ImportResult
from userimport.schema import COLUMNS, EXAMPLE_ROWS

if TYPE_CHECKING:
    from userimport.issues import Issue
    from userimport.preview import Preview
    from userimport.review import ReviewRow

__all__ = [
    "ERRORS_COLUMN",
    "TEMPLATE_HEADERS",
    "TEMPLATE_LANGUAGES",
    "error_report",
    "template",
]

#: The error report's extra column (SPEC §10).
ERRORS_COLUMN: Final = "errors"

#: The template's header cell of each canonical column, by language. Every one of
#: them names its column again when read (:func:`userimport.schema.column_for_header`).
TEMPLATE_HEADERS: Final[Mapping[str, Mapping[str, str]]] = {
    "en": {
        "first_name": "First name",
        "last_name": "Last name",
        "email": "Email",
        "organization": "Organization",
        "role": "Role",
        "groups": "Groups",
        "language": "Language",
    },
    "es": {
        "first_name": "Nombre",
        "last_name": "Apellidos",
        "email": "Correo electrónico",
        "organization": "Organización",
        "role": "Rol",
        "groups": "Grupos",
        "language": "Idioma",
    },
}

#: The languages :func:`template` can write headers in.
TEMPLATE_LANGUAGES: Final[tuple[str, ...]] = tuple(TEMPLATE_HEADERS)

_SENTENCE_ENDS: Final = (".", "!", "?", "\u2026")


def _csv_bytes(records: Iterable[Sequence[str]]) -> bytes:
    """UTF-8 with a byte-order mark, CRLF, every cell protected and in quotes.

    The byte-order mark makes Excel read UTF-8 (without it Excel assumes the
    system's legacy code page); quoting every cell follows the OWASP advice and
    keeps each value one cell whatever the spreadsheet's delimiter settings.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    for record in records:
        # No upload can carry a NUL (reading refuses it), but a preview kept by a
        # client can; csv cannot write one (Python 3.11+ raises "need to escape"),
        # so it is shown as U+FFFD REPLACEMENT CHARACTER instead.
        writer.writerow([protect_cell(cell).replace("\0", "\ufffd") for cell in record])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _template_language(language: str) -> str:
    """The supported language a tag such as ``"es"``, ``"ES"`` or ``"es-MX"`` names."""
    primary = language.replace("_", "-").split("-", 1)[0].casefold()
    if primary not in TEMPLATE_HEADERS:
        supported = ", ".join(repr(code) for code in TEMPLATE_LANGUAGES)
        raise ValueError(
            f"The template is not available in {language!r}; choose one of {supported}."
        )
    return primary


def template(language: str = "en", *, examples: bool = True) -> bytes:
    """The CSV template administrators download, fill in and upload (SPEC §8).

    It is generated from the schema, so it cannot drift from what ``prepare``
    accepts: the canonical columns in order, with headers in ``language``, and the
    schema's example rows, which an upload that keeps them skips with the warning
    ``example_row``.

    Args:
        language: ``"en"`` or ``"es"`` (case-insensitive; a region such as
            ``"es-MX"`` is ignored).
        examples: Include the example rows.

    Returns:
        UTF-8 with a byte-order mark, CRLF line ends.

    Raises:
        ValueError: The language is not supported (the message names the ones that
            are).

    >>> text = template("es", examples=False).decode("utf-8-sig")
    >>> print(text.rstrip("\\r\\n"))
    "Nombre","Apellidos","Correo electrónico","Organización","Rol","Grupos","Idioma"
    """
    headers = TEMPLATE_HEADERS[_template_language(language)]
    records: list[Sequence[str]] = [[headers[column] for column in COLUMNS]]
    if examples:
        records.extend(
            [example[column] for column in COLUMNS] for example in EXAMPLE_ROWS
        )
    return _csv_bytes(records)


def _sentence(message: str) -> str:
    message = message.strip()
    return message if message.endswith(_SENTENCE_ENDS) else message + "."


def _errors_text(issues: Iterable[Issue]) -> str:
    """The ``errors`` cell: errors first, then warnings marked ``Warning:``.

    Each message is one sentence (SPEC §4); they are separated by a space.
    """
    ordered = sorted(issues, key=lambda issue: not issue.is_error)
    return " ".join(
        _sentence(issue.message if issue.is_error else f"Warning: {issue.message}")
        for issue in ordered
    )


def _row_cells(row: ReviewRow) -> list[str]:
    return [
        *(row.values.get(column, "") for column in COLUMNS),
        _errors_text(row.issues),
    ]


def error_report(preview: Preview | ImportResult) -> bytes:
    """The uploaded rows with their problems, ready to fix and upload again.

    The report has the canonical columns under the English template headers, and a
    last column, ``errors``, that says in plain words what is wrong with each row:
    its errors first, then its warnings (each marked ``Warning:``), one sentence
    each. Every uploaded row is there, in file order, with exactly the values it was
    uploaded with, and on the same spreadsheet row as in the upload (blank lines
    fill the gaps), so that row numbers in the messages still point at it. Valid
    rows have an empty ``errors`` cell.

    Given a commit's :class:`~userimport.ImportResult`, the report holds only the
    rows the commit left out (invalid at review, or left out by the reviewer): what
    the administrator still has to fix.

    When the file itself could not be read (a file-level error such as
    ``missing_columns``; such a preview has no rows), the line under the header
    has empty values and, in ``errors``, every file-level message. File-level
    warnings of a readable file are not repeated: the report is UTF-8 and has only
    known columns, so uploading it cannot raise them again.

    Every cell is protected against formula injection
    (:func:`userimport.formulas.protect_cell`); reading the report back with
    :func:`userimport.formulas.unprotect_cell` gives the values uploaded.

    Args:
        preview: What ``prepare`` or ``revise`` returned, or what ``commit``
            returned.

    Returns:
        UTF-8 with a byte-order mark, CRLF line ends, every cell in quotes.
    """
    if isinstance(preview, ImportResult):
        rows: Sequence[ReviewRow] = preview.left_out
        file_issues: Sequence[Issue] = ()
    else:
        rows, file_issues = preview.rows, preview.file_issues
    headers = TEMPLATE_HEADERS["en"]
    records: list[Sequence[str]] = [
        [*(headers[column] for column in COLUMNS), ERRORS_COLUMN]
    ]
    if any(issue.is_error for issue in file_issues):
        records.append([*("" for _ in COLUMNS), _errors_text(file_issues)])
    for row in rows:
        # The record being written is spreadsheet row len(records) + 1.
        if row.row is not None:
            records.extend([] for _ in range(row.row - len(records) - 1))
        records.append(_row_cells(row))
    return _csv_bytes(records)
