"""Excel workbooks (.xlsx) read as rows of cell texts, bounded like a CSV upload.

An .xlsx file is a ZIP archive of XML parts (Office Open XML, ECMA-376 part 1):
``xl/workbook.xml`` lists the sheets, ``xl/sharedStrings.xml`` holds the texts the
cells refer to, ``xl/styles.xml`` the number formats that make a number show as a
date, and each ``xl/worksheets/sheetN.xml`` the rows. This module reads exactly
those parts with the standard library (:mod:`zipfile` and expat) and gives the rows
of one sheet as the texts the administrator sees, numbered as the spreadsheet
numbers them, for :mod:`userimport.reading` to turn into records like any CSV file.

Why not a workbook library: openpyxl's read-only mode takes about ten times as long
as the whole CSV path on 200 rows, and python-calamine, fast as it is, allocates the
sheet's whole rectangle, so a 1.5 KB file with a cell at A1 and one at XFD1048576
aborts the process; neither tells a formula without a saved result from an empty
cell in one pass. ``docs/reading.md`` has the measurements.

Everything is bounded before it is spent (``docs/reading.md``, "Workbooks"):

- the parts read may unpack to at most :data:`UNPACK_RATIO` times ``max_bytes``
  together, checked against each part's declared size before it is opened; the
  :mod:`zipfile` module never unpacks more than the declared size (a part that
  claims less than it holds fails its CRC check), so a zip bomb costs nothing;
- no XML part may declare a document type: a DTD is where entities are defined,
  so "billion laughs" and external entities stop at its first line;
- a sheet holds at most ``max_bytes // 2`` cells (counted over each row's width),
  as many as a CSV file of ``max_bytes`` could, and no cell is longer than the
  reader's :data:`~userimport.reading.MAX_CELL_LENGTH`;
- rows are numbered 1 to 1,048,576 in increasing order, columns A to XFD, as
  Excel writes them.

The sheet streams: its XML is fed to expat in 64 KiB chunks and rows are handed
on as they are parsed. Formulas are never evaluated: a formula cell reads as the
result the file saved with it, and one without a saved result is reported. How a
saved number shows (a date, zeros, no ``.0``) is :mod:`userimport._cell_text`'s.

It is long because it reads the parts of a workbook itself, with the standard library's
zip and expat, bounded at every step (no reading library passed both the speed and the
safety tests); the cell texts live in _cell_text.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import posixpath
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Final

from userimport._cell_text import BUILTIN_FORMATS, format_kind, number_text, unescape
from userimport._labels import FIELD_NAMES
from userimport._messages import message
from userimport.issues import Issue, IssueCode

if TYPE_CHECKING:
    import zipfile
    from xml.parsers import expat

__all__ = [
    "MAX_CELLS_PER_BYTE",
    "TEMPLATE_SHEETS",
    "UNPACK_RATIO",
    "Sheet",
    "WorkbookError",
    "available",
    "formula_issue",
    "looks_like",
    "open_sheet",
]

#: The parts a workbook's reading opens may unpack to this many times ``max_bytes``
#: together. Real workbooks unpack to 5 to 10 times their size; a zip bomb to
#: hundreds or thousands of times.
UNPACK_RATIO: Final = 8
#: A sheet may hold ``max_bytes * MAX_CELLS_PER_BYTE`` cells: what a CSV file of
#: ``max_bytes`` could hold, a character and a delimiter per cell.
MAX_CELLS_PER_BYTE: Final = 0.5
#: The name of the template's data sheet, by language; an upload reads the sheet of
#: one of these names if it has one, else its first visible worksheet.
TEMPLATE_SHEETS: Final = {"en": "Users", "es": "Usuarios"}

# Excel's own limits: 1,048,576 rows and 16,384 columns (A to XFD).
_MAX_ROW: Final = 1_048_576
_MAX_COLUMN: Final = 16_384
# More entries than any workbook has; the central directory is read whole.
_MAX_ENTRIES: Final = 10_000
_CHUNK: Final = 64 * 1024

_OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC: Final = b"PK\x03\x04"
# Stream names in an OLE container's directory (UTF-16LE): an Excel workbook
# encrypted with a password is an OLE container holding the encrypted package.
_ENCRYPTED_PACKAGE: Final = "EncryptedPackage".encode("utf-16-le")
_WORD_DOCUMENT: Final = "WordDocument".encode("utf-16-le")

# Namespaces: the transitional and the strict (ISO/IEC 29500 strict) forms.
_MAIN: Final = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)
_PACKAGE_RELS: Final = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE_DOCUMENT: Final = "/officeDocument"
_WORKSHEET: Final = "/worksheet"
_SHARED_STRINGS: Final = "/sharedStrings"
_STYLES: Final = "/styles"
_MACRO_TYPES: Final = ("macroEnabled", "vbaProject")

_SAVE_AGAIN: Final = message(
    "open it in Excel or LibreOffice, save it again as an Excel Workbook (.xlsx) "
    "and upload that"
)


class WorkbookError(Exception):
    """Reading a workbook stopped; :attr:`issue` says why, for the administrator."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.message)
        self.issue = issue


def looks_like(content: bytes) -> bool:
    """Whether ``content`` starts like an Office file: a ZIP or an OLE container."""
    return content.startswith((_ZIP_MAGIC, _OLE_MAGIC))


@functools.cache
def available() -> bool:
    """Whether the ``xlsx`` extra is installed, which turns workbook uploads on.

    The reader needs nothing beyond the standard library; the extra (whose writer,
    XlsxWriter, makes the workbook template) is the host's one switch for accepting
    workbooks at all.
    """
    return importlib.util.find_spec("xlsxwriter") is not None


def _binary(text: str) -> Issue:
    return Issue.error(IssueCode.BINARY_FILE, text)


def _malformed(text: str) -> Issue:
    return Issue.error(IssueCode.MALFORMED_CSV, text)


def _size(size: float) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):,.0f} MiB"
    return f"{size / 1024:,.0f} KiB"


def formula_issue(row: int, column: str, formula: str) -> Issue:
    """The error of a cell holding a formula without a saved result.

    The library never evaluates a formula; a spreadsheet program saves each
    formula's result beside it, and only files written by other programs lack it.
    """
    return Issue.error(
        IssueCode.INVALID_CHARACTERS,
        message(
            "The {column} cell holds the formula {formula} without its result; type "
            "the value itself, or open the file in Excel or LibreOffice and save it "
            "again so that the result is saved.",
            column=FIELD_NAMES[column],
            formula=formula,
        ),
        row=row,
        column=column,
        value=formula,
    )


def open_sheet(
    content: bytes, *, max_bytes: int, max_cell_length: int
) -> Sheet | Issue | None:
    """The sheet of a workbook upload to read, or why it cannot be read.

    Args:
        content: The whole upload (at most ``max_bytes`` long).
        max_bytes: The upload's size limit, which scales the other limits.
        max_cell_length: The longest cell read, in characters.

    Returns:
        The :class:`Sheet` to read; a ``binary_file`` or ``malformed_csv`` issue
        for a workbook that cannot be read (damaged, encrypted, macro-enabled, an
        old .xls, over a limit); ``None`` when ``content`` is no Excel workbook
        (text, or another kind of file, left to the CSV path's sniffing).
    """
    # zipfile and expat are imported by the functions that use them: a CSV upload
    # never loads them.
    import zipfile

    if content.startswith(_OLE_MAGIC):
        return _ole_issue(content)
    if not content.startswith(_ZIP_MAGIC):
        return None
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        if b"xl/" not in content:
            return None  # some other broken archive: the sniffing names it
        return _damaged_file()
    try:
        return _Package(archive, max_bytes, max_cell_length).sheet()
    except WorkbookError as error:
        return error.issue
    except (zipfile.BadZipFile, EOFError, NotImplementedError, OSError):
        return _damaged_file()


def _damaged_file() -> Issue:
    return _binary(
        message(
            "This file looks like an Excel workbook but is damaged; {advice}.",
            advice=_SAVE_AGAIN,
        )
    )


def _ole_issue(content: bytes) -> Issue | None:
    """What an OLE compound file (the container of Office 97-2003) is."""
    if _ENCRYPTED_PACKAGE in content:
        return _binary(
            message(
                "This file is a password-protected Excel workbook; remove the "
                "password (in Excel: File > Info > Protect Workbook > Encrypt with "
                "Password), save it and upload it again."
            )
        )
    if _WORD_DOCUMENT in content:
        return None  # a Word 97-2003 document: the sniffing names it
    return _binary(
        message(
            "This file is an Excel 97-2003 workbook (.xls), which is not read; save "
            "it as an Excel Workbook (.xlsx) or as CSV (UTF-8) and upload that."
        )
    )


class _Parts:
    """The archive's parts, each read at most once, within the unpacking budget."""

    def __init__(self, archive: zipfile.ZipFile, max_bytes: int) -> None:
        self.archive = archive
        self.budget = UNPACK_RATIO * max_bytes
        self.limit = self.budget
        infos = archive.infolist()
        if len(infos) > _MAX_ENTRIES:
            raise WorkbookError(
                _binary(
                    message(
                        "This file holds {count} parts, far more than a workbook "
                        "has; {advice}.",
                        count=len(infos),
                        advice=_SAVE_AGAIN,
                    )
                )
            )
        self.infos = {info.filename: info for info in infos}

    def __contains__(self, name: str) -> bool:
        return name in self.infos

    def open(self, name: str) -> IO[bytes]:
        """The part's bytes as a stream, once its declared size fits the budget."""
        info = self.infos[name]
        if info.flag_bits & 0x1:
            raise WorkbookError(
                _binary(
                    message(
                        "This workbook is encrypted; remove its password, save it "
                        "and upload it again."
                    )
                )
            )
        if info.file_size > self.budget:
            raise WorkbookError(
                _binary(
                    message(
                        "This workbook unpacks to more than {limit} ({part} alone "
                        "is {size}), far more than a list of users needs; save the "
                        "list in a new workbook, or as CSV (UTF-8), and upload that.",
                        limit=_size(self.limit),
                        part=name,
                        size=_size(info.file_size),
                    )
                )
            )
        self.budget -= info.file_size
        return self.archive.open(info)

    def parse(self, name: str, parser: expat.XMLParserType) -> None:
        """Feed the whole part to ``parser``."""
        with self.open(name) as stream:
            _feed(parser, stream, name)


def _feed(parser: expat.XMLParserType, stream: IO[bytes], name: str) -> None:
    from xml.parsers import expat

    try:
        while chunk := stream.read(_CHUNK):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as error:
        raise WorkbookError(_xml_issue(name, error)) from None


def _xml_issue(name: str, error: expat.ExpatError) -> Issue:
    from xml.parsers import expat

    return _malformed(
        message(
            "This workbook is damaged: its part {part} is not well-formed XML "
            "({reason}, line {line}); {advice}.",
            part=name,
            reason=expat.ErrorString(error.code),
            line=error.lineno,
            advice=_SAVE_AGAIN,
        )
    )


class _NoDocumentType(Exception):
    """An XML part declared a document type."""


def _refuse_document_type(*_: object) -> None:
    raise _NoDocumentType


def _parser(*, namespaces: bool = True) -> expat.XMLParserType:
    """An expat parser that refuses any document type declaration.

    A DTD is where entities are declared; refusing it at its first line stops
    entity expansion ("billion laughs") and external entities before they start.
    No spreadsheet program writes one.
    """
    from xml.parsers import expat

    parser = expat.ParserCreate(namespace_separator=" " if namespaces else None)
    parser.buffer_text = True
    parser.buffer_size = _CHUNK
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_document_type
    parser.EntityDeclHandler = _refuse_document_type
    return parser


def _local(name: str) -> str:
    """An element or attribute name without its namespace."""
    return name.rpartition(" ")[2]


def _relationships(parts: _Parts, name: str) -> dict[str, tuple[str, str]]:
    """A relationships part: each id's type (its last path segment) and target."""
    found: dict[str, tuple[str, str]] = {}
    if name not in parts:
        return found
    base = posixpath.dirname(posixpath.dirname(name))

    def start(tag: str, attributes: dict[str, str]) -> None:
        if _local(tag) == "Relationship" and attributes.get("TargetMode") != "External":
            target = attributes.get("Target", "")
            if target.startswith("/"):
                path = target.lstrip("/")
            else:
                path = posixpath.normpath(posixpath.join(base, target))
            kind = attributes.get("Type", "")
            found[attributes.get("Id", "")] = (kind[kind.rfind("/") :], path)

    parser = _parser()
    parser.StartElementHandler = start
    _parse(parts, name, parser)
    return found


def _parse(parts: _Parts, name: str, parser: expat.XMLParserType) -> None:
    try:
        parts.parse(name, parser)
    except _NoDocumentType:
        raise WorkbookError(_document_type_issue(name)) from None


def _document_type_issue(name: str) -> Issue:
    return _malformed(
        message(
            "This workbook's part {part} declares a document type (a DTD), which no "
            "spreadsheet program writes and which is not read; {advice}.",
            part=name,
            advice=_SAVE_AGAIN,
        )
    )


class _Package:
    """The workbook's parts: which sheet to read, its texts and number formats."""

    def __init__(
        self, archive: zipfile.ZipFile, max_bytes: int, max_cell_length: int
    ) -> None:
        self.parts = _Parts(archive, max_bytes)
        self.max_bytes = max_bytes
        self.max_length = max_cell_length

    def sheet(self) -> Sheet | None:
        parts = self.parts
        main = next(
            (
                path
                for kind, path in _relationships(parts, "_rels/.rels").values()
                if kind == _OFFICE_DOCUMENT
            ),
            "xl/workbook.xml",
        )
        if "xl/workbook.bin" in parts or main.endswith(".bin"):
            raise WorkbookError(
                _binary(
                    message(
                        "This file is an Excel binary workbook (.xlsb), which is not "
                        "read; save it as an Excel Workbook (.xlsx) or as CSV "
                        "(UTF-8) and upload that."
                    )
                )
            )
        if main not in parts:
            if not any(name.startswith("xl/") for name in parts.infos):
                return None  # an OpenDocument or Word file: the sniffing names it
            raise WorkbookError(
                _binary(
                    message(
                        "This file looks like an Excel workbook but has no workbook "
                        "part; {advice}.",
                        advice=_SAVE_AGAIN,
                    )
                )
            )
        if self._has_macros():
            raise WorkbookError(
                _binary(
                    message(
                        "This file is a macro-enabled Excel workbook (.xlsm), which "
                        "is not read; save it as an Excel Workbook (.xlsx) or as CSV "
                        "(UTF-8) and upload that."
                    )
                )
            )
        sheets, date1904 = self._sheets(main)
        related = _relationships(parts, _rels_of(main))
        chosen = _choose_sheet(sheets, related)
        if chosen is None:
            raise WorkbookError(
                _malformed(
                    message(
                        "This workbook has no worksheet to read; put the users on "
                        "its first sheet and upload it again."
                    )
                )
            )
        name, path = chosen
        if path not in parts:
            raise WorkbookError(
                _binary(
                    message(
                        "This workbook is damaged: its sheet {sheet} is missing; "
                        "{advice}.",
                        sheet=name,
                        advice=_SAVE_AGAIN,
                    )
                )
            )
        max_cells = int(self.max_bytes * MAX_CELLS_PER_BYTE)
        strings: list[str] = []
        kinds: list[str | None] = []
        for kind, target in related.values():
            if kind == _SHARED_STRINGS and target in parts and not strings:
                strings = self._shared_strings(target, max_cells)
            elif kind == _STYLES and target in parts and not kinds:
                kinds = self._style_kinds(target)
        return Sheet(
            name, parts, path, strings, kinds, date1904, max_cells, self.max_length
        )

    def _has_macros(self) -> bool:
        if any(name.startswith("xl/vbaProject") for name in self.parts.infos):
            return True
        found = False

        def start(tag: str, attributes: dict[str, str]) -> None:
            nonlocal found
            content_type = attributes.get("ContentType", "")
            found = found or any(kind in content_type for kind in _MACRO_TYPES)

        if "[Content_Types].xml" in self.parts:
            parser = _parser()
            parser.StartElementHandler = start
            _parse(self.parts, "[Content_Types].xml", parser)
        return found

    def _sheets(self, main: str) -> tuple[list[tuple[str, str, bool]], bool]:
        """The workbook's sheets in tab order (name, relationship id, visible) and
        whether its dates count from 1904."""
        sheets: list[tuple[str, str, bool]] = []
        date1904 = False

        def start(tag: str, attributes: dict[str, str]) -> None:
            nonlocal date1904
            local = _local(tag)
            if local == "sheet":
                rid = next((v for k, v in attributes.items() if _local(k) == "id"), "")
                visible = attributes.get("state", "visible") == "visible"
                sheets.append((attributes.get("name", ""), rid, visible))
            elif local == "workbookPr":
                date1904 = attributes.get("date1904", "0") in ("1", "true")

        parser = _parser()
        parser.StartElementHandler = start
        _parse(self.parts, main, parser)
        return sheets, date1904

    def _shared_strings(self, name: str, max_cells: int) -> list[str]:
        """The shared strings table: each item's text, phonetic runs left out."""
        strings: list[str] = []
        texts: list[str] = []
        length = 0
        collecting = False
        phonetic = 0

        def start(tag: str, attributes: dict[str, str]) -> None:
            nonlocal collecting, phonetic, length
            local = _local(tag)
            if local == "t":
                collecting = phonetic == 0
            elif local == "si":
                texts.clear()
                length = 0
            elif local == "rPh":
                phonetic += 1

        def end(tag: str) -> None:
            nonlocal collecting, phonetic
            local = _local(tag)
            if local == "t":
                collecting = False
            elif local == "si":
                if len(strings) >= max_cells:
                    raise WorkbookError(_too_many_cells(max_cells, None))
                strings.append(unescape("".join(texts)))
            elif local == "rPh":
                phonetic -= 1

        def text(data: str) -> None:
            nonlocal length
            if collecting:
                length += len(data)
                if length > self.max_length:
                    raise WorkbookError(_cell_too_long(None, self.max_length))
                texts.append(data)

        parser = _parser()
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = text
        _parse(self.parts, name, parser)
        return strings

    def _style_kinds(self, name: str) -> list[str | None]:
        """For each cell style (``s``), whether its number format shows a date, a
        time, both, text, or ``"0"*n`` (zero-padded); ``None`` otherwise."""
        formats: dict[int, str | None] = {}
        kinds: list[str | None] = []
        depth = {"cellXfs": False}

        def start(tag: str, attributes: dict[str, str]) -> None:
            local = _local(tag)
            if local == "numFmt":
                number_format = _integer(attributes.get("numFmtId", ""))
                if number_format is not None:
                    formats[number_format] = format_kind(
                        attributes.get("formatCode", "")
                    )
            elif local == "cellXfs":
                depth["cellXfs"] = True
            elif local == "xf" and depth["cellXfs"]:
                number_format = _integer(attributes.get("numFmtId", "0")) or 0
                kinds.append(
                    formats[number_format]
                    if number_format in formats
                    else BUILTIN_FORMATS.get(number_format)
                )

        def end(tag: str) -> None:
            if _local(tag) == "cellXfs":
                depth["cellXfs"] = False

        parser = _parser()
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        _parse(self.parts, name, parser)
        return kinds


def _integer(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _rels_of(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def _choose_sheet(
    sheets: list[tuple[str, str, bool]], related: dict[str, tuple[str, str]]
) -> tuple[str, str] | None:
    """The template's sheet if the workbook has one, else its first visible
    worksheet (chart sheets and dialog sheets hold no cells)."""
    worksheets = [
        (name, related[rid][1], visible)
        for name, rid, visible in sheets
        if rid in related and related[rid][0] == _WORKSHEET
    ]
    wanted = {name.casefold() for name in TEMPLATE_SHEETS.values()}
    for name, path, _ in worksheets:
        if name.strip().casefold() in wanted:
            return name, path
    for name, path, visible in worksheets:
        if visible:
            return name, path
    return None


def _too_many_cells(max_cells: int, row: int | None) -> Issue:
    if row is None:
        return _malformed(
            message(
                "This workbook holds more than {count} cells, more than an upload "
                "may have; keep only the list of users in it and upload it again.",
                count=max_cells,
            )
        )
    return _malformed(
        message(
            "This workbook holds more than {count} cells (at row {row}), more than "
            "an upload may have; keep only the list of users in it and upload it "
            "again.",
            count=max_cells,
            row=row,
        )
    )


def _cell_too_long(row: int | None, max_length: int) -> Issue:
    if row is None:
        return _malformed(
            message(
                "This workbook has a text longer than {length} characters, more "
                "than any cell of a list of users; shorten it and upload the file "
                "again.",
                length=max_length,
            )
        )
    return _malformed(
        message(
            "Row {row} has a cell longer than {length} characters, more than any "
            "cell of a list of users; shorten it and upload the file again.",
            row=row,
            length=max_length,
        )
    )


def _damaged(row: int, problem: str) -> Issue:
    return _malformed(
        message(
            "This workbook is damaged at row {row}: {problem}; {advice}.",
            row=row,
            problem=problem,
            advice=_SAVE_AGAIN,
        )
    )


@functools.lru_cache(maxsize=4096)
def _column_of(letters: str) -> int:
    """The column index (0 for A) of a cell reference's letters, or -1."""
    index = 0
    for letter in letters:
        if not "A" <= letter <= "Z":
            return -1
        index = index * 26 + ord(letter) - 64
    return index - 1 if 0 < index <= _MAX_COLUMN else -1


class Sheet:
    """One worksheet, read row by row as the texts the administrator sees.

    Attributes:
        name: The sheet's name (its tab).
        formulas: The formulas without a saved result found so far, by row: each
            as its column index and its text (``"=A2&B2"``). Filled as
            :meth:`rows` reads; a row's entries are there when it is handed on.
    """

    def __init__(
        self,
        name: str,
        parts: _Parts,
        path: str,
        strings: list[str],
        kinds: list[str | None],
        date1904: bool,
        max_cells: int,
        max_length: int,
    ) -> None:
        self.name = name
        self.formulas: dict[int, list[tuple[int, str]]] = {}
        self._parts = parts
        self._path = path
        self._strings = strings
        self._kinds = kinds
        self._date1904 = date1904
        self.max_cells = max_cells
        self.max_length = max_length

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """The rows that hold a value, with their numbers, in order.

        Each row is its cells' texts from column A to its last cell with a value;
        an empty cell is ``""``. Rows without a value are left out (the numbers
        of the others say where they are).

        Raises:
            WorkbookError: The sheet is damaged or over a limit; the issue says
                which.
        """
        import zipfile
        from xml.parsers import expat

        ready: list[tuple[int, list[str]]] = []
        parser = _parser(namespaces=False)
        (
            parser.StartElementHandler,
            parser.EndElementHandler,
            parser.CharacterDataHandler,
        ) = _sheet_handlers(self, ready)
        try:
            with self._parts.open(self._path) as stream:
                while chunk := stream.read(_CHUNK):
                    parser.Parse(chunk, False)
                    yield from ready
                    ready.clear()
                parser.Parse(b"", True)
        except expat.ExpatError as error:
            raise WorkbookError(_xml_issue(self._path, error)) from None
        except _NoDocumentType:
            raise WorkbookError(_document_type_issue(self._path)) from None
        except (zipfile.BadZipFile, EOFError, NotImplementedError, OSError):
            raise WorkbookError(_damaged_file()) from None
        yield from ready

    def text(self, value: str, kind: str, style: str | None) -> str:
        """A cell's text as the spreadsheet shows it, from its saved value."""
        if kind == "s":
            try:
                return self._strings[int(value)]
            except (ValueError, IndexError):
                raise _CellError(
                    message("a cell refers to a shared text the workbook does not hold")
                ) from None
        if kind in ("str", "inlineStr", "e", "d"):
            return unescape(value)
        if kind == "b":
            return "TRUE" if value.strip() in ("1", "true") else "FALSE"
        shown = None
        if style is not None:
            try:
                shown = self._kinds[int(style)]
            except (ValueError, IndexError):
                shown = None
        return number_text(value.strip(), shown, self._date1904)


class _CellError(Exception):
    """A cell that cannot be read; the sheet reader says where."""


_Start = Callable[[str, dict[str, str]], None]
_End = Callable[[str], None]


def _sheet_handlers(
    sheet: Sheet, ready: list[tuple[int, list[str]]]
) -> tuple[_Start, _End, _End]:
    """expat's handlers for a worksheet: rows of cell texts, checked as they come.

    The hot path of a workbook upload, so written for speed: closures over local
    state, tag names compared as they are (the sheet's parser does no namespace
    processing; the root element tells the prefix, usually none).
    """
    formulas = sheet.formulas
    text_of = sheet.text
    max_length = sheet.max_length
    max_cells = sheet.max_cells
    row = 0
    cells: dict[int, str] = {}
    column = -1
    kind = "n"
    style: str | None = None
    value: list[str] | None = None
    formula: list[str] | None = None
    collecting: list[str] | None = None
    length = 0
    phonetic = 0
    cell_count = 0
    # The tags, once the root element has told the prefix.
    row_tag = cell_tag = value_tag = text_tag = formula_tag = ""
    inline_tag = phonetic_tag = ""

    def start(tag: str, attributes: dict[str, str]) -> None:
        nonlocal row, column, kind, style, value, formula, collecting
        nonlocal length, phonetic
        nonlocal row_tag, cell_tag, value_tag, text_tag, formula_tag
        nonlocal inline_tag, phonetic_tag
        if tag == cell_tag:
            reference = attributes.get("r")
            if reference is None:
                column += 1
            else:
                column = _column_of(reference.rstrip("0123456789"))
                if column < 0:
                    problem = message("a cell is at {cell}", cell=repr(reference))
                    raise WorkbookError(_damaged(row, problem))
            kind = attributes.get("t", "n")
            style = attributes.get("s")
            value = formula = collecting = None
            phonetic = 0
        elif tag == value_tag:
            value = collecting = []
            length = 0
        elif tag == row_tag:
            number = attributes.get("r")
            previous = row
            if number is None:
                row = previous + 1
            else:
                try:
                    row = int(number)
                except ValueError:
                    problem = message("a row is numbered {number}", number=repr(number))
                    raise WorkbookError(_damaged(previous + 1, problem)) from None
            if not previous < row <= _MAX_ROW:
                raise WorkbookError(_row_order(previous, row))
            column = -1
        elif tag == text_tag:
            # A text run of an inline string, not of a phonetic run.
            if value is not None and phonetic == 0:
                collecting = value
        elif tag == inline_tag:
            value = []
            length = 0
        elif tag == formula_tag:
            formula = collecting = []
            length = 0
        elif tag == phonetic_tag:
            phonetic += 1
        elif not row_tag:
            prefix = tag[: tag.index(":") + 1] if ":" in tag else ""
            row_tag, cell_tag, value_tag = f"{prefix}row", f"{prefix}c", f"{prefix}v"
            text_tag, formula_tag = f"{prefix}t", f"{prefix}f"
            inline_tag, phonetic_tag = f"{prefix}is", f"{prefix}rPh"

    def end(tag: str) -> None:
        nonlocal cells, collecting, phonetic, cell_count
        if tag == cell_tag:
            collecting = None
            if value is None:
                if formula is not None:
                    formulas.setdefault(row, []).append(
                        (column, "=" + "".join(formula))
                    )
                return
            try:
                shown = text_of("".join(value), kind, style)
            except _CellError as error:
                # The message itself (str() would lose its translations).
                raise WorkbookError(_damaged(row, error.args[0])) from None
            if shown:
                cells[column] = shown
        elif tag in (value_tag, text_tag, formula_tag):
            collecting = None
        elif tag == row_tag:
            found = formulas.get(row)
            if not cells and not found:
                return
            width = max(cells) + 1 if cells else 0
            if found:
                width = max(width, *(index + 1 for index, _ in found))
            cell_count += width
            if cell_count > max_cells:
                raise WorkbookError(_too_many_cells(max_cells, row))
            texts = [""] * width
            for index, shown in cells.items():
                texts[index] = shown
            ready.append((row, texts))
            cells = {}
        elif tag == phonetic_tag:
            phonetic -= 1

    def text(data: str) -> None:
        nonlocal length
        if collecting is not None:
            length += len(data)
            if length > max_length:
                raise WorkbookError(_cell_too_long(row, max_length))
            collecting.append(data)

    return start, end, text


def _row_order(previous: int, row: int) -> Issue:
    if row > _MAX_ROW:
        problem = message("row {row} is past the last row a sheet has", row=row)
    else:
        problem = message(
            "row {row} comes after row {previous}",
            row=row,
            previous=previous,
        )
    return _damaged(previous + 1, problem)
