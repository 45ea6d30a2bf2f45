"""Text to records: the dialect, the header and spreadsheet row numbers.

:func:`read_upload` takes the upload's bytes (or a binary stream) to an
:class:`Upload`: how the file was read (encoding, delimiter, columns), its records
with their spreadsheet row numbers and raw cells, and the file-level issues. It
never raises on any bytes: every problem of the file is an :class:`Issue`.

Rows are numbered as a spreadsheet shows the file: the first
record is row 1, whatever it is (an Excel ``sep=`` line, a blank record), every
record counts, and a quoted cell that spans lines is one record.

It is long because reading an upload has many cases that share one state (the sep= line,
delimiter detection, strict parsing, header matching, blank records and row numbers,
limits): they stay together in one reader, with the workbook and encoding steps in their
own modules.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from itertools import islice, starmap
from typing import Final

import attrs

from userimport import _workbook
from userimport._labels import FIELD_NAMES
from userimport._messages import message
from userimport.decoding import (
    DEFAULT_MAX_BYTES,
    Decoded,
    Readable,
    decode,
    read_limited,
    sniff_binary,
)
from userimport.issues import Issue, IssueCode
from userimport.schema import (
    COLUMNS,
    HEADER_ALIASES,
    REQUIRED_COLUMNS,
    ColumnMatch,
    column_for_header,
    header_key,
)

__all__ = [
    "DEFAULT_MAX_ROWS",
    "DELIMITERS",
    "MAX_CELL_LENGTH",
    "RawRecord",
    "Record",
    "Upload",
    "check_delimiter",
    "read_records",
    "read_upload",
]

#: The default row limit: 200 users per file.
DEFAULT_MAX_ROWS = 200

#: The delimiters detected, in order of preference on a tie.
DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")

# Excel's "sep=;" first line names the delimiter (and is row 1 of the sheet); spaces
# after the character are tolerated.
_SEP_LINE = re.compile(r"sep=([^\r\n]*)(?:\r\n|\r|\n|\Z)", re.IGNORECASE)
# Characters that never belong in a header cell: byte-order mark, zero-width
# space / non-joiner / joiner, word joiner (a BOM never ends up in a header).
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060"))
# What a blank record may hold ("all cells empty, as Excel leaves
# them"): every character for which str.isspace() is true, and the delimiters.
_BLANK = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003"
    "\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
    ",;|"
)
# In a workbook a delimiter is a value like any other: only whitespace is blank.
_BLANK_CELL = _BLANK.rstrip(",;|")
_LINE_BREAK = re.compile(r"[\r\n]").search
# Delimiter detection reads this much of the text: the header and the first
# records, and a wrong candidate that opens a quote it never closes stops there.
_DETECT_CHARS = 4 * 1024
# ... and compares the field counts of this many records after the header.
_DETECT_RECORDS = 10
# Header cells are compared by schema.header_key, which costs a few microseconds
# per character; no alias is anywhere near this long.
_LONGEST_HEADER = 100
# Header lines up to this long have their delimiter scores and column matches
# cached (256 headers at most), which bounds the caches' memory.
_CACHED_HEADER_LENGTH = 1024
#: The longest cell read, in characters: the csv module's own default limit, which
#: the library never changes (it is process-wide state). Edits in a review are held
#: to it too.
MAX_CELL_LENGTH: Final = 131072


@attrs.frozen
class Record:
    """One data record of the upload, as written.

    Attributes:
        row: The spreadsheet row number (the file's first record is row 1).
        values: Every canonical column (:data:`~userimport.schema.COLUMNS`) mapped
            to its raw cell, untrimmed; ``""`` when the column is not in the file
            or the record has fewer cells.
        issues: Problems found while reading this record: ``wrong_field_count``
            when it has more cells than the header and the extra ones are not empty.
    """

    row: int
    values: Mapping[str, str]
    issues: tuple[Issue, ...] = ()


@attrs.frozen
class Upload:
    """The upload as read: how it was understood, its records and file-level issues.

    Attributes:
        encoding: The Python codec name the text was decoded with, or ``None``
            when reading stopped before decoding.
        encoding_source: How the encoding was chosen (see
            :class:`~userimport.decoding.Decoded`), or ``None``.
        delimiter: The one-character delimiter, or ``None`` when reading stopped
            before choosing it.
        columns: Each non-empty header cell as written (without byte-order mark or
            zero-width characters), with the canonical column it maps to or
            ``None`` when it is ignored.
        records: The non-blank data records, in file order; empty whenever the
            file has a file-level error, so nothing of such a file is validated.
        issues: File-level issues (``row`` is ``None``), errors first.
        row_count: How many non-blank data records the file has (all of them,
            also beyond ``max_rows``; up to the error for a malformed file).
        sha256: The SHA-256 of the bytes read, in hexadecimal (``None`` for an
            empty file or one over ``max_bytes``, which is not read whole).
        format: ``"xlsx"`` when the upload was read (or refused) as an Excel
            workbook, whose first sheet (or the one named like the template's) gives
            the records and which has no encoding or delimiter; ``"csv"`` otherwise.
    """

    encoding: str | None
    encoding_source: str | None
    delimiter: str | None
    columns: tuple[ColumnMatch, ...]
    records: tuple[Record, ...]
    issues: tuple[Issue, ...]
    row_count: int
    sha256: str | None = None
    format: str = "csv"

    @property
    def ok(self) -> bool:
        """Whether the file has no file-level error (warnings are fine)."""
        return not any(issue.is_error for issue in self.issues)


def read_upload(
    data: bytes | bytearray | memoryview | Readable,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_rows: int | None = DEFAULT_MAX_ROWS,
    encoding: str | None = None,
    delimiter: str | None = None,
    columns: Mapping[str, str | None] | None = None,
    locale: str | None = None,
) -> Upload:
    """Read a CSV upload into records with spreadsheet row numbers.

    The steps: read at most ``max_bytes`` (``file_too_large``), refuse binary
    files (``binary_file``), decode (``undecodable``; a guessed legacy encoding
    adds the warning ``encoding_guessed``), choose the delimiter, parse strictly
    (``malformed_csv``), match the header (``missing_columns``,
    ``duplicate_columns``, the warning ``unknown_columns``), and count the rows
    (``empty_file``, ``no_rows``, ``too_many_rows``).

    A text holding a NUL character is ``malformed_csv`` on every Python version
    (the csv module of Python 3.11 and later would accept it silently); content
    with many NUL or other control bytes is ``binary_file`` before that.

    Args:
        data: The upload as bytes or a binary file object; a stream is never read
            past ``max_bytes + 1`` bytes.
        max_bytes: The largest accepted file size, in bytes.
        max_rows: The most data rows accepted, or ``None`` for no limit.
        encoding: Decode with this Python codec instead of detecting the encoding.
        delimiter: Use this delimiter instead of detecting it (an Excel ``sep=``
            line is still skipped).
        columns: Header cells as written mapped to canonical columns, or to
            ``None`` to ignore them; overrides automatic header matching.
        locale: The language of the people in the file (``"es"``, ``"pl"``,
            ``"ja"``), a hint that breaks a tie between legacy code pages and never
            overrides the bytes; English hints nothing.

    Returns:
        The :class:`Upload`; check :attr:`Upload.ok` before using its records.

    Raises:
        ValueError: An option is invalid (negative limit, or a delimiter that is
            not one character, or is a quote, a line break or NUL).
        TypeError: ``data`` is a text stream.
    """
    upload, records = read_records(
        data,
        max_bytes=max_bytes,
        max_rows=max_rows,
        encoding=encoding,
        delimiter=delimiter,
        columns=columns,
        locale=locale,
    )
    if not records:
        return upload
    return attrs.evolve(upload, records=tuple(starmap(Record, records)))


#: A record as a plain tuple ``(row, values, issues)``: a :class:`Record`'s fields.
RawRecord = tuple[int, dict[str, str], tuple[Issue, ...]]


def read_records(
    data: bytes | bytearray | memoryview | Readable,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_rows: int | None = DEFAULT_MAX_ROWS,
    encoding: str | None = None,
    delimiter: str | None = None,
    columns: Mapping[str, str | None] | None = None,
    locale: str | None = None,
) -> tuple[Upload, list[RawRecord]]:
    """:func:`read_upload`, giving the records as plain tuples beside the upload.

    For ``prepare``, which reviews every record right away: a :class:`Record` per
    row costs about half as much as parsing the row. The :class:`Upload` holds no
    records; the list holds exactly the fields of the records :func:`read_upload`
    gives (empty when the file has a file-level error).
    """
    if max_rows is not None and max_rows < 0:
        raise ValueError(f"max_rows must be zero or more, or None, not {max_rows}")
    if delimiter is not None:
        check_delimiter(delimiter)
    content = read_limited(data, max_bytes=max_bytes)
    if isinstance(content, Issue):
        return _failed(content), []
    if not content:
        return _failed(_empty_file()), []
    digest = hashlib.sha256(content).hexdigest()
    mapping = tuple(sorted(columns.items())) if columns else ()
    if _workbook.looks_like(content) and _workbook.available():
        # An Excel workbook (the `xlsx` extra): its sheet's cells take the place
        # of the decoded text, and every later step is the CSV path's.
        sheet = _workbook.open_sheet(
            content, max_bytes=max_bytes, max_cell_length=MAX_CELL_LENGTH
        )
        if isinstance(sheet, Issue):
            return attrs.evolve(_failed(sheet), sha256=digest, format="xlsx"), []
        if sheet is not None:
            upload, records = _Reader(None, None, max_rows, mapping).read_sheet(sheet)
            return attrs.evolve(upload, sha256=digest), records
    binary = sniff_binary(content, encoding=encoding)
    if binary is not None:
        return attrs.evolve(_failed(binary), sha256=digest), []
    decoded = decode(content, encoding=encoding, hint=locale)
    if isinstance(decoded, Issue):
        return attrs.evolve(_failed(decoded), sha256=digest), []
    upload, records = _Reader(decoded, delimiter, max_rows, mapping).read()
    return attrs.evolve(upload, sha256=digest), records


def check_delimiter(delimiter: str) -> None:
    """Refuse a delimiter no CSV file can be read or written with.

    The delimiter must be one character, and not a double quote (the quote
    character), a line break (the record separator) or NUL; reading takes a forced
    delimiter and the template writes one only after this check.

    Raises:
        ValueError: The delimiter is not one character, or is one of those.

    >>> check_delimiter(";")
    >>> check_delimiter('"')
    Traceback (most recent call last):
    ...
    ValueError: delimiter cannot be a quote, a line break or NUL, not '"'
    """
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ValueError(f"delimiter must be one character, not {delimiter!r}")
    if delimiter in '"\r\n\x00':
        raise ValueError(
            f"delimiter cannot be a quote, a line break or NUL, not {delimiter!r}"
        )


def _failed(issue: Issue) -> Upload:
    return Upload(
        encoding=None,
        encoding_source=None,
        delimiter=None,
        columns=(),
        records=(),
        issues=(issue,),
        row_count=0,
    )


def _empty_file() -> Issue:
    return Issue.error(
        IssueCode.EMPTY_FILE,
        message(
            "The file is empty or holds only blank rows; add a header row and one "
            "row per user, then upload it again."
        ),
    )


class _Reader:
    """One read of a decoded upload (or a workbook's sheet, ``decoded`` ``None``);
    holds the state the steps share."""

    def __init__(
        self,
        decoded: Decoded | None,
        delimiter: str | None,
        max_rows: int | None,
        mapping: _Mapping = (),
    ):
        self.decoded = decoded
        self.text = decoded.text if decoded is not None else ""
        self.forced = delimiter
        self.max_rows = max_rows
        self.mapping = mapping
        self.warnings: list[Issue] = []
        if decoded is not None:
            # encoding_guessed, when another encoding read the names almost as
            # plausibly (decoding builds it: it knows both readings).
            self.warnings.extend(decoded.warnings)

    def upload(
        self,
        *,
        delimiter: str | None = None,
        columns: Sequence[ColumnMatch] = (),
        records: list[RawRecord] | None = None,
        errors: Sequence[Issue] = (),
        row_count: int = 0,
    ) -> tuple[Upload, list[RawRecord]]:
        decoded = self.decoded
        upload = Upload(
            encoding=decoded.encoding if decoded is not None else None,
            encoding_source=decoded.source if decoded is not None else None,
            delimiter=delimiter,
            columns=tuple(columns),
            records=(),
            issues=(*errors, *self.warnings),
            row_count=row_count,
            format="csv" if decoded is not None else "xlsx",
        )
        return upload, records if records is not None and not errors else []

    def read(self) -> tuple[Upload, list[RawRecord]]:
        text = self.text
        # A caller's "utf-8" on a file saved with a BOM leaves the BOM in the text.
        start = 1 if text.startswith("\ufeff") else 0
        first_row = 1
        sep = _SEP_LINE.match(text, start)
        delimiter = self.forced
        if sep is not None:
            # The sep= line is row 1 of the sheet but not a record.
            start, first_row = sep.end(), 2
            if delimiter is None:
                delimiter = sep.group(1).rstrip(" ") or sep.group(1)[:1]
                problem = _sep_problem(delimiter, text, start)
                if problem is not None:
                    line = sep.group(0).rstrip("\r\n")
                    return self.upload(errors=[_sep_issue(line, problem)])
        nul = text.find("\x00", start)
        if nul >= 0:
            row = first_row - 1 + _records_until(text, start, nul, delimiter or ",")
            return self.upload(errors=[_nul_issue(row)])
        if delimiter is None:
            delimiter = _choose_delimiter(text, start)
        return self._parse(text, start, first_row, delimiter)

    def _parse(
        self, text: str, start: int, first_row: int, delimiter: str
    ) -> tuple[Upload, list[RawRecord]]:
        reader = _csv_reader(text, start, delimiter)
        return self._rows(enumerate(reader, first_row), first_row, delimiter)

    def read_sheet(self, sheet: _workbook.Sheet) -> tuple[Upload, list[RawRecord]]:
        """Read a workbook's sheet: its rows, numbered by the sheet, are records."""
        return self._rows(sheet.rows(), 1, None, sheet.formulas)

    def _rows(
        self,
        numbered: Iterator[tuple[int, list[str]]],
        first_row: int,
        delimiter: str | None,
        formulas: Mapping[int, list[tuple[int, str]]] | None = None,
    ) -> tuple[Upload, list[RawRecord]]:
        """The header and the records of numbered rows of cells: a CSV text's
        records, or a workbook sheet's rows (``delimiter`` ``None``; ``formulas``
        the sheet's formulas without a saved result, by row)."""
        limit = self.max_rows
        row = first_row - 1
        columns: list[ColumnMatch] = []
        errors: list[Issue] = []
        out: list[RawRecord] = []
        count = 0
        blank = _BLANK if delimiter is not None else _BLANK_CELL
        try:
            # `row` outlives each loop: a csv error is reported at the next row.
            for row, cells in numbered:  # noqa: B007
                if not "".join(cells).strip(blank):
                    continue  # blank records still count as rows
                columns, indexes, errors = _match_header(cells, self.mapping)
                width = len(cells)
                break
            else:
                return self.upload(delimiter=delimiter, errors=[_empty_file()])
            self.warnings.extend(_unknown_columns(columns, self.mapping))
            # Each record's values: every canonical column from its cell, or ""
            # from the padding when the column is absent (index -1) or the record
            # is short. A dict display with local indexes is twice as fast as
            # dict(zip(...)), which matters at 200 rows (see benchmarks/).
            first, last, email, org, role, groups, language = (
                indexes.get(column, -1) for column in COLUMNS
            )
            # Padded as far as the last column read (at least one cell, for the
            # index -1), not the header's width: a header of 100,000 cells would
            # copy them for every record.
            pad = [""] * (max(first, last, email, org, role, groups, language, 0) + 1)
            for row, cells in numbered:
                # A first cell with a value settles it for most records.
                if not (cells and cells[0].strip(blank)) and not (
                    "".join(cells).strip(blank)
                ):
                    continue  # blank records are not users
                count += 1
                if limit is not None and count > limit:
                    # Past the limit only the file's real row count matters
                    # ; no record is built.
                    for row, cells in numbered:  # noqa: B007
                        if "".join(cells).strip(blank):
                            count += 1
                    break
                padded = cells + pad
                values = {
                    "first_name": padded[first],
                    "last_name": padded[last],
                    "email": padded[email],
                    "organization": padded[org],
                    "role": padded[role],
                    "groups": padded[groups],
                    "language": padded[language],
                }
                if delimiter is None:
                    # A workbook's cells right of the header's are not read: no
                    # delimiter can have split a value there.
                    issues = (
                        _formula_issues(row, formulas[row], indexes)
                        if formulas and row in formulas
                        else ()
                    )
                elif len(cells) > width:
                    issues = _field_count(cells, width, row, delimiter)
                else:
                    issues = ()
                out.append((row, values, issues))
        except csv.Error as error:
            errors.append(_malformed(error, row + 1))
        except _workbook.WorkbookError as error:
            errors.append(error.issue)
        else:
            if count == 0:
                errors.append(
                    Issue.error(
                        IssueCode.NO_ROWS,
                        message(
                            "The file has a header row but no user rows; add one "
                            "row per user below the header."
                        ),
                    )
                )
            elif limit is not None and count > limit:
                errors.append(_too_many_rows(count, limit))
        return self.upload(
            delimiter=delimiter,
            columns=columns,
            records=out,
            errors=errors,
            row_count=count,
        )


def _csv_reader(text: str, start: int, delimiter: str) -> Iterator[list[str]]:
    # newline="" hands csv the line endings untouched, so CRLF, LF and CR-only
    # files all work and a line break inside quotes stays in the cell; io splits
    # lines only at \r and \n, unlike str.splitlines(), which would also split a
    # quoted cell at U+2028 or U+0085.
    stream = io.StringIO(text, newline="")
    stream.seek(start)
    return csv.reader(stream, delimiter=delimiter, strict=True)


def _records(text: str, delimiter: str) -> tuple[list[list[str]], csv.Error | None]:
    """The records of a (short) text, and the csv error that stopped them, if any."""
    records: list[list[str]] = []
    try:
        records.extend(_csv_reader(text, 0, delimiter))
    except csv.Error as error:
        return records, error
    return records, None


def _blank(cells: list[str]) -> bool:
    """Whether a record holds no value: only whitespace and delimiters.

    Delimiters count as blank so that a line of another delimiter (``,,,`` read
    with ``;``) is blank under every candidate, as it is under its own.
    """
    return not "".join(cells).strip(_BLANK)


def _records_until(text: str, start: int, end: int, delimiter: str) -> int:
    """The number of the record holding ``text[end]``, counting from ``start``.

    A stand-in character replaces ``text[end]`` so the count includes its record
    even when it starts a new line.
    """
    records, error = _records(text[start:end] + "x", delimiter)
    return len(records) + 1 if error is not None else len(records)


def _nul_issue(row: int) -> Issue:
    return Issue.error(
        IssueCode.MALFORMED_CSV,
        message(
            "Row {row} contains a NUL character, which a CSV file cannot hold; save "
            "the file again as CSV from the spreadsheet.",
            row=row,
        ),
    )


def _sep_problem(named: str, text: str, start: int) -> str | None:
    """What is wrong with the delimiter a ``sep=`` line names, or ``None``.

    It must be one character that can separate cells (not a letter, a digit, a
    quote or a space), and the header, the first non-blank record after the line,
    must hold it: otherwise every column would be "missing", and the messages would
    never say why.
    """
    if len(named) != 1:
        return message("should name the one character that separates the columns")
    kind = (
        message("a letter")
        if named.isalpha()
        else message("a digit")
        if named.isnumeric()
        else message("a quote")
        if named in "\"'"
        else message("a space")
        if named.isspace() and named != "\t"
        else message("an invisible character")
        if not named.isprintable() and named != "\t"
        else None
    )
    if kind is not None:
        return message("names {kind}, which cannot separate columns", kind=kind)
    header = next(_non_blank(text[start : start + _DETECT_CHARS], named), None)
    if header is not None and len(header) < 2:
        return message(
            "names {delimiter}, but the header row does not contain it",
            delimiter=_shown_delimiter(named),
        )
    return None


def _shown_delimiter(delimiter: str) -> str:
    """A delimiter as messages show it: ``tab``, or the character in quotes."""
    return message("tab") if delimiter == "\t" else f'"{delimiter}"'


def _sep_issue(line: str, problem: str) -> Issue:
    return Issue.error(
        IssueCode.MALFORMED_CSV,
        message(
            'Row 1, "{line}", {problem}; write the delimiter the file uses after '
            '"sep=" (such as "sep=;"), or delete row 1.',
            line=line,
            problem=problem,
        ),
        value=line,
    )


def _malformed(error: csv.Error, row: int) -> Issue:
    reason = str(error)
    if "field larger than field limit" in reason:
        said = message(
            "Row {row} has a cell longer than {length} characters, which usually "
            "means a quote opened there is never closed; check the quotes on that "
            "row.",
            row=row,
            length=format(MAX_CELL_LENGTH, ","),
        )
    elif "unexpected end of data" in reason:
        said = message(
            "Row {row} opens a quoted cell that is never closed; add the closing "
            'quote (") or remove the opening one.',
            row=row,
        )
    elif "expected after" in reason:
        said = message(
            "Row {row} has text right after a closing quote; put the whole cell "
            'in quotes and double every quote inside it ("").',
            row=row,
        )
    else:
        said = message(
            "Row {row} cannot be read as CSV ({reason}); save the file again as "
            "CSV from the spreadsheet.",
            row=row,
            reason=reason,
        )
    return Issue.error(IssueCode.MALFORMED_CSV, said)


def _choose_delimiter(text: str, start: int) -> str:
    """The delimiter that splits the header into the most known column names.

    Ties (a single-column file, or a header with no known name) are broken by how
    many of the first records have as many cells as the header, then by how many
    cells the header has, then by the order of :data:`DELIMITERS`. This beats
    ``csv.Sniffer``, which answers ``'x'`` for ``x\\n`` and fails on single-column
    files and quoted free text.
    """
    sample = text[start : start + _DETECT_CHARS]
    # The usual header is a first line without quotes: str.split gives exactly
    # what csv would, for a tenth of the cost (that matters at 200 rows), and its
    # scores are cached, as a platform's uploads share a few headers.
    line_break = _LINE_BREAK(sample)
    line = sample[: line_break.start()] if line_break else sample
    scored: tuple[_Score, ...]
    if '"' not in line and line.strip(_BLANK):
        if len(line) <= _CACHED_HEADER_LENGTH:
            scored = _cached_split_scores(line)
        else:
            scored = _split_scores(line)
    else:
        scored = tuple(
            _score(next(_non_blank(sample, candidate), []), rank, candidate)
            for rank, candidate in enumerate(DELIMITERS)
        )
    best = max(known for known, *_ in scored)
    tied = [entry for entry in scored if entry[0] == best]
    if len(tied) == 1:
        return tied[0][3]
    # Only ties read further, so the usual file parses no record here.
    return max(
        (known, _consistent(sample, candidate, width), width, rank, candidate)
        for known, width, rank, candidate in tied
    )[4]


#: A candidate delimiter's score: known columns, header cells, -rank, delimiter.
_Score = tuple[int, int, int, str]


def _score(header: list[str], rank: int, candidate: str) -> _Score:
    known = len({_column_of(cell) for cell in header} - {None})
    return known, len(header), -rank, candidate


def _split_scores(line: str) -> tuple[_Score, ...]:
    """Every candidate's score on a header line without quotes."""
    return tuple(
        _score(line.split(candidate), rank, candidate)
        for rank, candidate in enumerate(DELIMITERS)
    )


_cached_split_scores = functools.lru_cache(maxsize=256)(_split_scores)


def _consistent(sample: str, delimiter: str, width: int) -> int:
    """How many of the first records after the header have ``width`` cells."""
    rows = islice(_non_blank(sample, delimiter), 1, 1 + _DETECT_RECORDS)
    return sum(len(cells) == width for cells in rows)


def _non_blank(text: str, delimiter: str) -> Iterator[list[str]]:
    """The non-blank records of a text, up to the first csv error if any."""
    try:
        for cells in _csv_reader(text, 0, delimiter):
            if not _blank(cells):
                yield cells
    except csv.Error:
        return


@functools.lru_cache(maxsize=1024)
def _cached_column(cell: str) -> str | None:
    return column_for_header(cell)


def _column_of(cell: str) -> str | None:
    """The canonical column of a header cell (cached: uploads share headers)."""
    if len(cell) > _LONGEST_HEADER:
        return None
    return _cached_column(cell)


#: The caller's header mapping (``ImportOptions.columns``) as sorted pairs.
_Mapping = tuple[tuple[str, str | None], ...]


def _match_header(
    header: list[str], mapping: _Mapping = ()
) -> tuple[list[ColumnMatch], dict[str, int], list[Issue]]:
    """Map the header cells to canonical columns.

    Cached (as a platform's uploads share a few headers) for headers of at most
    ``_CACHED_HEADER_LENGTH`` characters; the caller gets its own lists and dict.
    """
    cells = tuple(header)
    if sum(map(len, cells)) <= _CACHED_HEADER_LENGTH:
        columns, indexes, errors = _cached_header_match(cells, mapping)
    else:
        columns, indexes, errors = _header_match(cells, mapping)
    return list(columns), dict(indexes), list(errors)


def _header_match(
    header: tuple[str, ...], mapping: _Mapping = ()
) -> tuple[tuple[ColumnMatch, ...], tuple[tuple[str, int], ...], tuple[Issue, ...]]:
    """:func:`_match_header`'s answer, as immutable values.

    A header cell named in ``mapping`` (as written) takes the column the mapping
    gives it, or is ignored for ``None``; the others are matched by their aliases.
    """
    chosen = dict(mapping)
    columns: list[ColumnMatch] = []
    indexes: dict[str, int] = {}
    headers_of: dict[str, list[str]] = {}
    for index, cell in enumerate(header):
        written = cell if cell.isascii() else cell.translate(_INVISIBLE)
        if not written.strip():
            continue  # an empty header cell (Excel's trailing ",,,") is not a column
        column = chosen[written] if written in chosen else _column_of(written)
        columns.append(ColumnMatch(written, column))
        if column is not None:
            indexes.setdefault(column, index)
            headers_of.setdefault(column, []).append(written)
    errors = [
        Issue.error(
            IssueCode.MISSING_COLUMNS,
            message(
                "The required column “{column}” is missing; add a header cell "
                "named one of {names}.",
                column=FIELD_NAMES[column],
                names=_quoted(HEADER_ALIASES[column]),
            ),
            column=column,
        )
        for column in REQUIRED_COLUMNS
        if column not in indexes
    ]
    errors.extend(
        Issue.error(
            IssueCode.DUPLICATE_COLUMNS,
            message(
                "The columns {headers} both give the {column}; keep only one of them.",
                headers=_quoted(written, every=True),
                column=FIELD_NAMES[column],
            ),
            column=column,
        )
        for column, written in headers_of.items()
        if len(written) > 1
    )
    return tuple(columns), tuple(indexes.items()), tuple(errors)


_cached_header_match = functools.lru_cache(maxsize=256)(_header_match)


_ERRORS_KEY = header_key("errors")


def _unknown_columns(
    columns: Sequence[ColumnMatch], mapping: _Mapping = ()
) -> list[Issue]:
    # The `errors` column of the library's own error report is ignored without a
    # warning, so a corrected report uploads cleanly; so are the cells the caller's
    # mapping chose to ignore.
    chosen = {header for header, column in mapping if column is None}
    ignored = [
        match.header
        for match in columns
        if match.column is None
        and match.header not in chosen
        and header_key(match.header) != _ERRORS_KEY
    ]
    if not ignored:
        return []
    if len(ignored) == 1:
        said = message(
            "The column is not used and will be ignored: {headers}.",
            headers=_quoted(ignored),
        )
    else:
        said = message(
            "The columns are not used and will be ignored: {headers}.",
            headers=_quoted(ignored, every=True),
        )
    return [Issue.warning(IssueCode.UNKNOWN_COLUMNS, said)]


def _quoted(texts: Sequence[str], *, every: bool = False) -> str:
    """The texts in quotes, as a list: "a", "b" or "c" (``every``: "a", "b" and
    "c")."""
    quoted = [f'"{text}"' for text in texts]
    if len(quoted) == 1:
        return quoted[0]
    first, last = ", ".join(quoted[:-1]), quoted[-1]
    if every:
        return message("{first} and {last}", first=first, last=last)
    return message("{first} or {last}", first=first, last=last)


def _field_count(
    cells: list[str], width: int, row: int, delimiter: str
) -> tuple[Issue, ...]:
    extra = cells[width:]
    if not any(cell.strip() for cell in extra):
        return ()  # trailing empty cells, as spreadsheets leave them, are fine
    return (
        Issue.error(
            IssueCode.WRONG_FIELD_COUNT,
            message(
                "This row has {cells} cells but the header has {width}; a value "
                "probably contains the delimiter {delimiter}: put that value in "
                "quotes.",
                cells=len(cells),
                width=width,
                delimiter=_shown_delimiter(delimiter),
            ),
            row=row,
            value=delimiter.join(extra).rstrip(delimiter),
        ),
    )


def _formula_issues(
    row: int, formulas: list[tuple[int, str]], indexes: Mapping[str, int]
) -> tuple[Issue, ...]:
    """The errors of a row's formulas without a saved result, in read columns."""
    column_at = {index: column for column, index in indexes.items()}
    return tuple(
        _workbook.formula_issue(row, column_at[index], formula)
        for index, formula in formulas
        if index in column_at
    )


def _too_many_rows(count: int, limit: int) -> Issue:
    if limit == 1:
        said = message(
            "The file has {count} user rows but at most 1 row can be imported at "
            "once; split it into files of 1 row or fewer.",
            count=count,
        )
    else:
        said = message(
            "The file has {count} user rows but at most {limit} rows can be "
            "imported at once; split it into files of {limit} rows or fewer.",
            count=count,
            limit=limit,
        )
    return Issue.error(IssueCode.TOO_MANY_ROWS, said, value=str(count))
