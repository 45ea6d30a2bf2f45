"""The CSV files the library writes: the template and the error report.

Both are written to open in columns when an administrator double-clicks them: with
the list separator of their spreadsheet (the template's language decides it; the
report uses the delimiter of the upload it reports on), UTF-8 with a byte-order mark
so that Excel opens accented names correctly, CRLF line ends (RFC 4180 §2.1) and
every cell in double quotes. Every cell the library writes, headers and messages
included, goes through :func:`userimport.formulas.protect_cell`, the guard against
formula injection; reading an upload undoes it, so a re-uploaded error report gives
back the values first uploaded. See ``docs/outputs.md`` for the reasons.

The template is also an Excel workbook (``format="xlsx"``, the ``xlsx`` extra) with
drop-down lists of the roles, organizations and languages an administrator may use.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Final

from userimport._messages import language, message, say
from userimport.formulas import protect_cell
from userimport.preview import ImportResult
from userimport.reading import check_delimiter
from userimport.schema import COLUMNS, EXAMPLE_ROWS

if TYPE_CHECKING:
    from userimport.access import Actor
    from userimport.hierarchy import OrgTree
    from userimport.issues import Issue
    from userimport.preview import Preview
    from userimport.review import ReviewRow

__all__ = [
    "ERRORS_COLUMN",
    "TEMPLATE_HEADERS",
    "TEMPLATE_LANGUAGES",
    "error_report",
    "list_separator",
    "template",
]

#: The error report's extra column.
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


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


# A spreadsheet opens a double-clicked CSV file with its locale's list separator
# (Excel takes it from the Windows or macOS regional settings, LibreOffice from the
# locale), which is ";" where the decimal separator is a comma, so that "1,5;2,5"
# is two numbers, and "," where it is a point. The separator of each template
# language, and the regions where the decimal separator, and so the list
# separator, is the other one (Unicode CLDR 49 number symbols).
_LIST_SEPARATORS: Final[Mapping[str, str]] = {"en": ",", "es": ";"}
_OTHER_SEPARATOR_REGIONS: Final[Mapping[str, frozenset[str]]] = {
    # A decimal comma: English as used in continental Europe, Indonesia and
    # South Africa.
    "en": _codes(
        "AT BE CZ DE DK EE ES FI FR GE HU ID IT LT LV NL NO PL PT RO SE SI SK UA ZA"
    ),
    # A decimal point: Mexico, the United States, Central America and the
    # Caribbean, Peru, Belize, Brazil, and Latin America as a whole (419).
    "es": _codes("419 BR BZ CU DO GT HN MX NI PA PE PR SV US"),
}

_SENTENCE_ENDS: Final = (".", "!", "?", "\u2026")


def _csv_bytes(records: Iterable[Sequence[str]], delimiter: str) -> bytes:
    """UTF-8 with a byte-order mark, CRLF, every cell protected and in quotes.

    The byte-order mark makes Excel read UTF-8 (without it Excel assumes the
    system's legacy code page). No ``sep=`` line names the delimiter: with one,
    Excel is widely reported to ignore the byte-order mark and read the accents
    wrong, so the delimiter is the spreadsheet's own list separator instead.
    Quoting every cell follows the OWASP advice and keeps a value that holds the
    delimiter or a line break in one cell.
    """
    buffer = io.StringIO()
    writer = csv.writer(
        buffer, delimiter=delimiter, quoting=csv.QUOTE_ALL, lineterminator="\r\n"
    )
    for record in records:
        # No upload can carry a NUL (reading refuses it), but a preview kept by a
        # client can; csv cannot write one (Python 3.11+ raises "need to escape"),
        # so it is shown as U+FFFD REPLACEMENT CHARACTER instead.
        writer.writerow([protect_cell(cell).replace("\0", "\ufffd") for cell in record])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _template_language(language: str) -> tuple[str, str | None]:
    """The supported language a tag such as ``"es"``, ``"ES"``, ``"es-MX"`` or
    ``"es_419"`` names, and its region (upper-case), if it names one."""
    primary, *subtags = language.replace("_", "-").split("-")
    primary = primary.casefold()
    if primary not in TEMPLATE_HEADERS:
        supported = ", ".join(repr(code) for code in TEMPLATE_LANGUAGES)
        raise ValueError(
            f"The template is not available in {language!r}; choose one of {supported}."
        )
    # BCP 47: the region is the first subtag of two letters or three digits (a
    # script such as "Latn" may come before it).
    region = next(
        (
            tag.upper()
            for tag in subtags
            if (len(tag) == 2 and tag.isalpha() and tag.isascii())
            or (len(tag) == 3 and tag.isdigit() and tag.isascii())
        ),
        None,
    )
    return primary, region


def list_separator(language: str) -> str:
    """The list separator of spreadsheets in ``language``: the template's delimiter.

    ``";"`` where the decimal separator is a comma (Spanish in Spain, Argentina,
    Colombia...; English in continental Europe), ``","`` where it is a point
    (English in the United States, the United Kingdom...; Spanish in Mexico, the
    United States, Central America). Without a region, the language's most common
    convention: ``","`` for ``"en"``, ``";"`` for ``"es"``.

    Args:
        language: A language the template is available in, optionally with a
            region (``"es"``, ``"es-MX"``, ``"en_ZA"``).

    Raises:
        ValueError: The template is not available in that language.

    >>> list_separator("es"), list_separator("es-MX"), list_separator("en")
    (';', ',', ',')
    """
    primary, region = _template_language(language)
    separator = _LIST_SEPARATORS[primary]
    if region in _OTHER_SEPARATOR_REGIONS[primary]:
        return ";" if separator == "," else ","
    return separator


def template(
    language: str = "en",
    *,
    examples: bool = True,
    delimiter: str | None = None,
    format: str = "csv",
    orgs: OrgTree | None = None,
    actor: Actor | None = None,
) -> bytes:
    """The template administrators download, fill in and upload: CSV or a workbook.

    It is generated from the schema, so it cannot drift from what ``prepare``
    accepts: the canonical columns in order, with headers in ``language``, and the
    schema's example rows, which an upload that keeps them skips with the warning
    ``example_row``.

    It is written to open in columns when double-clicked in the administrator's
    spreadsheet: with the list separator of ``language`` (:func:`list_separator`:
    ``";"`` for Spanish, ``","`` for English, or the other one for a region with the
    other decimal separator), as UTF-8 with a byte-order mark.

    Args:
        language: ``"en"`` or ``"es"`` (case-insensitive), optionally with a
            region (``"es-MX"``), which chooses the list separator.
        examples: Include the example rows.
        delimiter: Write with this delimiter instead of the language's list
            separator: one character, not a double quote, a line break or NUL.
            Uploads are read with any of ``,`` ``;`` TAB ``|`` detected; another
            delimiter must be given to ``ImportOptions(delimiter=...)`` as well.
        format: ``"csv"``, or ``"xlsx"`` for an Excel workbook (the ``xlsx``
            extra) whose role, organization and language cells offer drop-down
            lists, with the header row frozen and every column formatted as text;
            an upload of it reads exactly what was typed.
        orgs: For ``"xlsx"``: the organization tree. The organization list holds
            the actor's organization and every one below it, by their paths from
            the actor's organization, never one outside it.
        actor: For ``"xlsx"``: the administrator; the role list holds the roles
            it may give.

    Returns:
        CSV: UTF-8 with a byte-order mark, CRLF line ends. ``"xlsx"``: the
        workbook's bytes.

    Raises:
        ValueError: The language is not supported (the message names the ones that
            are), the delimiter is not one that a CSV file can have, the format is
            unknown, or ``"xlsx"`` is asked for without ``orgs`` and ``actor`` (or
            with a delimiter).
        UserImportError: The actor's organization is not in ``orgs``.
        ModuleNotFoundError: ``"xlsx"`` without the ``xlsx`` extra installed.

    >>> text = template("es", examples=False).decode("utf-8-sig")
    >>> print(text.rstrip("\\r\\n"))
    "Nombre";"Apellidos";"Correo electrónico";"Organización";"Rol";"Grupos";"Idioma"
    >>> print(template("en", examples=False).decode("utf-8-sig").rstrip("\\r\\n"))
    "First name","Last name","Email","Organization","Role","Groups","Language"
    """
    primary, _ = _template_language(language)
    if format == "xlsx":
        if delimiter is not None:
            raise ValueError("delimiter is for the CSV template; a workbook has none")
        if orgs is None or actor is None:
            raise ValueError(
                "template(format='xlsx') needs orgs and actor: its drop-down lists "
                "offer the organizations and roles the actor may use"
            )
        return _workbook(primary, examples, orgs, actor)
    if format != "csv":
        raise ValueError(f"format is 'csv' or 'xlsx', not {format!r}")
    if delimiter is None:
        delimiter = list_separator(language)
    else:
        check_delimiter(delimiter)
    headers = TEMPLATE_HEADERS[primary]
    records: list[Sequence[str]] = [[headers[column] for column in COLUMNS]]
    if examples:
        records.extend(
            [example[column] for column in COLUMNS] for example in EXAMPLE_ROWS
        )
    return _csv_bytes(records, delimiter)


#: The hidden sheet of the workbook template's longer lists, by language.
_LISTS_SHEETS: Final = {"en": "Lists", "es": "Listas"}
#: The workbook template's help on its drop-down lists: a title and a sentence.
_LIST_TITLES: Final[Mapping[str, Mapping[str, str]]] = {
    "en": {
        "organization": "Organization\nChoose one, or leave empty for your own.",
        "role": "Role\nChoose one, or leave empty for the default role.",
        "language": "Language\nA code such as es, en or pt-BR.",
    },
    "es": {
        "organization": "Organización\nElige una o déjala vacía para usar la tuya.",
        "role": "Rol\nElige uno o déjalo vacío para usar el predeterminado.",
        "language": "Idioma\nUn código como es, en o pt-BR.",
    },
}


def _workbook(language: str, examples: bool, orgs: OrgTree, actor: Actor) -> bytes:
    """The workbook template (see :func:`template`)."""
    from userimport import _workbook
    from userimport.exceptions import UserImportError
    from userimport.schema import Role
    from userimport.validation import LANGUAGE_CODES

    if not _workbook.available():
        raise ModuleNotFoundError(
            "template(format='xlsx') needs XlsxWriter, which the 'xlsx' extra "
            "installs: pip install 'userimport[xlsx]'",
            name="xlsxwriter",
        )
    if actor.org_id not in orgs:
        raise UserImportError(
            f"The actor's organization {actor.org_id!r} is not in the tree."
        )
    # Paths from the actor's own organization: the names above it stay unsaid.
    inside = orgs.subtree_ids(actor.org_id)
    organizations = [
        orgs.path_text(org.id, within=actor.org_id) for org in orgs if org.id in inside
    ]
    roles = [role.value for role in Role if actor.may_assign(role)]
    from userimport._workbook_template import write_template

    return write_template(
        columns=COLUMNS,
        headers=TEMPLATE_HEADERS[language],
        examples=EXAMPLE_ROWS if examples else (),
        sheet_name=_workbook.TEMPLATE_SHEETS[language],
        lists_name=_LISTS_SHEETS[language],
        choices={
            "organization": (organizations, "warning"),
            "role": (roles, "stop"),
            "language": (sorted(LANGUAGE_CODES), "warning"),
        },
        titles=_LIST_TITLES[language],
    )


def _sentence(message: str) -> str:
    message = message.strip()
    return message if message.endswith(_SENTENCE_ENDS) else message + "."


def _errors_text(issues: Iterable[Issue], locale: str) -> str:
    """The ``errors`` cell: errors first, then warnings marked ``Warning:`` (in
    the language of ``locale``, as the messages are).

    Each message is one sentence; they are separated by a space.
    """
    ordered = sorted(issues, key=lambda issue: not issue.is_error)
    return " ".join(
        _sentence(
            issue.message
            if issue.is_error
            else say(message("Warning: {text}", text=issue.message), locale)
        )
        for issue in ordered
    )


def _row_cells(row: ReviewRow, locale: str) -> list[str]:
    return [
        *(row.values.get(column, "") for column in COLUMNS),
        _errors_text(row.issues, locale),
    ]


def error_report(preview: Preview | ImportResult) -> bytes:
    """The uploaded rows with their problems, ready to fix and upload again.

    The report has the canonical columns under the template's headers in the
    review's language (``Nombre``, ``Apellidos``... for a Spanish review; English
    for a language without a template), and a last column, ``errors`` in every
    language, that says in plain words what is wrong with each row:
    its errors first, then its warnings (each marked ``Warning:``, or ``Aviso:``
    in a Spanish review, like its messages), one sentence each. Every uploaded row
    is there, in file order, with exactly the values it was uploaded with, and on
    the same spreadsheet row as in the upload (blank lines fill the gaps), so that
    row numbers in the messages still point at it. Valid rows have an empty
    ``errors`` cell.

    Given a commit's :class:`~userimport.ImportResult`, the report holds only the
    rows the commit left out (invalid at review, or left out by the reviewer): what
    the administrator still has to fix.

    The report is written with the delimiter of the upload it reports on
    (``preview.delimiter``), so that it opens in the administrator's spreadsheet as
    their upload did, and uploads again as it is; with ``,`` when the file could not
    be parsed (the preview has no delimiter).

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

    >>> from userimport import MemoryStore, Organization, OrgTree, Actor, prepare
    >>> upload = "Nombre;Apellidos;Correo\\r\\nAna;García;ana@\\r\\n".encode()
    >>> tree = OrgTree([Organization("acme", "Acme")])
    >>> preview = prepare(upload, actor=Actor("acme"), orgs=tree, store=MemoryStore())
    >>> print(error_report(preview).decode("utf-8-sig").splitlines()[0])
    "First name";"Last name";"Email";"Organization";"Role";"Groups";"Language";"errors"
    """
    if isinstance(preview, ImportResult):
        rows: Sequence[ReviewRow] = preview.left_out
        file_issues: Sequence[Issue] = ()
    else:
        rows, file_issues = preview.rows, preview.file_issues
    locale = preview.locale
    headers = TEMPLATE_HEADERS.get(language(locale), TEMPLATE_HEADERS["en"])
    records: list[Sequence[str]] = [
        [*(headers[column] for column in COLUMNS), ERRORS_COLUMN]
    ]
    if any(issue.is_error for issue in file_issues):
        records.append([*("" for _ in COLUMNS), _errors_text(file_issues, locale)])
    for row in rows:
        # The record being written is spreadsheet row len(records) + 1.
        if row.row is not None:
            records.extend([] for _ in range(row.row - len(records) - 1))
        records.append(_row_cells(row, locale))
    return _csv_bytes(records, _report_delimiter(preview.delimiter))


def _report_delimiter(delimiter: str | None) -> str:
    """The upload's delimiter; ``,`` when the file could not be parsed, or when a
    preview kept by a client names a delimiter no file can have."""
    if delimiter is None:
        return ","
    try:
        check_delimiter(delimiter)
    except ValueError:
        return ","
    return delimiter
