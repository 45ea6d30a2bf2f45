"""Workbooks for the tests, built part by part with the zipfile module.

A real .xlsx is a ZIP archive of XML parts; :func:`workbook` writes the few parts a
reader needs, so a test can put exactly the XML it is about (a DTD, a shared
strings table, a 10 MB cell) into an otherwise ordinary workbook.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from xml.sax.saxutils import escape

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"
TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
SHEET_TYPE = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
)
MACRO_TYPE = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
_QUOTE = {'"': "&quot;"}


def content_types(main_type: str = SHEET_TYPE) -> str:
    """The ``[Content_Types].xml`` part."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{TYPES}">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{main_type}"/></Types>'
    )


def relationships(targets: Iterable[tuple[str, str]]) -> str:
    """A relationships part: ``(type, target)`` pairs, ids rId1, rId2..."""
    items = "".join(
        f'<Relationship Id="rId{number}" Type="{RELATIONSHIPS}/{kind}" '
        f'Target="{target}"/>'
        for number, (kind, target) in enumerate(targets, start=1)
    )
    return f'<Relationships xmlns="{PACKAGE}">{items}</Relationships>'


def sheet_xml(rows: str) -> str:
    """A worksheet part around ``rows`` (the ``<row>`` elements)."""
    return f'<worksheet xmlns="{MAIN}"><sheetData>{rows}</sheetData></worksheet>'


def inline_rows(rows: Sequence[Sequence[str]]) -> str:
    """``<row>`` elements of inline strings, rows numbered from 1."""
    return "".join(
        f'<row r="{number}">'
        + "".join(
            f'<c t="inlineStr"><is><t xml:space="preserve">{escape(cell)}</t></is></c>'
            for cell in cells
        )
        + "</row>"
        for number, cells in enumerate(rows, start=1)
    )


def workbook(
    sheets: Sequence[tuple[str, str | bytes]] | str | bytes,
    *,
    shared_strings: str | bytes | None = None,
    styles: str | None = None,
    hidden: Iterable[str] = (),
    workbook_properties: str = "",
    main_type: str = SHEET_TYPE,
    extra: Mapping[str, str | bytes] | None = None,
    shared_strings_target: str = "sharedStrings.xml",
    with_content_types: bool = True,
    workbook_part: str | None = None,
) -> bytes:
    """An .xlsx file with these sheets (name and worksheet XML, in tab order).

    A single worksheet XML may be given alone: it is the sheet "Sheet1".
    """
    if isinstance(sheets, (str, bytes)):
        sheets = [("Sheet1", sheets)]
    hidden = set(hidden)
    targets = [
        ("worksheet", f"worksheets/sheet{n}.xml") for n in range(1, len(sheets) + 1)
    ]
    if shared_strings is not None:
        targets.append(("sharedStrings", shared_strings_target))
    if styles is not None:
        targets.append(("styles", "styles.xml"))
    listed = "".join(
        f'<sheet name="{escape(name)}" sheetId="{n}" r:id="rId{n}"'
        + (' state="hidden"' if name in hidden else "")
        + "/>"
        for n, (name, _) in enumerate(sheets, start=1)
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if with_content_types:
            archive.writestr("[Content_Types].xml", content_types(main_type))
        archive.writestr(
            "_rels/.rels", relationships([("officeDocument", "xl/workbook.xml")])
        )
        archive.writestr(
            "xl/workbook.xml",
            workbook_part
            or f'<workbook xmlns="{MAIN}" xmlns:r="{RELATIONSHIPS}">'
            f"{workbook_properties}<sheets>{listed}</sheets></workbook>",
        )
        archive.writestr("xl/_rels/workbook.xml.rels", relationships(targets))
        for n, (_, xml) in enumerate(sheets, start=1):
            archive.writestr(f"xl/worksheets/sheet{n}.xml", xml)
        if shared_strings is not None and shared_strings_target == "sharedStrings.xml":
            archive.writestr("xl/sharedStrings.xml", shared_strings)
        if styles is not None:
            archive.writestr("xl/styles.xml", styles)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def styles_xml(
    number_formats: Sequence[int], custom: Mapping[int, str] | None = None
) -> str:
    """A styles part whose cell style *i* has number format ``number_formats[i]``;
    ``custom`` defines format codes by number."""
    formats = "".join(
        f'<numFmt numFmtId="{number}" formatCode="{escape(code, _QUOTE)}"/>'
        for number, code in (custom or {}).items()
    )
    xfs = "".join(f'<xf numFmtId="{number}"/>' for number in number_formats)
    return (
        f'<styleSheet xmlns="{MAIN}"><numFmts>{formats}</numFmts>'
        f"<cellXfs>{xfs}</cellXfs></styleSheet>"
    )
