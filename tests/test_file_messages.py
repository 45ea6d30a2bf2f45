"""The messages about the file as a whole in the review's language: every refusal of
the reading (size, binary content, encodings, CSV structure, the header, the row
limit, hostile workbooks) is said in Spanish in a Spanish review, with the values it
names (rows, encodings, header cells) kept as they are."""

from __future__ import annotations

import codecs
import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import userimport
from test_workbook import HOSTILE
from userimport import (
    Actor,
    ImportOptions,
    Issue,
    IssueCode,
    MemoryStore,
    Organization,
    OrgTree,
    Preview,
    error_report,
)
from userimport._messages import Listing, Message, say
from userimport._messages import _number as number
from userimport.decoding import decode
from userimport.formulas import FORMULA_TRIGGERS
from userimport.issues import FILE_ERROR_CODES
from userimport.reading import MAX_CELL_LENGTH
from userimport.strategies import defective_csv_files
from workbooks import MACRO_TYPE, inline_rows, sheet_xml, workbook

LOCALE = Path(__file__).parents[1] / "src" / "userimport" / "locale"
TREE = OrgTree([Organization("acme", "Acme"), Organization("es", "España", "acme")])
ACTOR = Actor("acme")
HEADER = "First name,Last name,Email\r\n"
#: Words of English sentences that no Spanish message holds (once the values it
#: names, which may be English, are taken out).
ENGLISH = re.compile(
    r"\b(the|is|this|row|rows|use|file|cannot|save|upload|and|with|which|column"
    r"|columns|workbook|encoding|binary|damaged|missing|archive|image|document)\b",
    re.IGNORECASE,
)


@functools.cache
def spanish_catalog() -> dict[str, str]:
    """The Spanish ``.po``: English template → translation."""
    with (LOCALE / "es" / "LC_MESSAGES" / "userimport.po").open("rb") as file:
        return {str(m.id): str(m.string) for m in read_po(file) if m.id}


def templates(text: str) -> Iterator[str]:
    """The templates of a message and of the messages among its values."""
    if isinstance(text, Listing):
        for item in text.items:
            yield from templates(item)
    elif isinstance(text, Message):
        yield text.template
        for value in text.values.values():
            if isinstance(value, str):
                yield from templates(value)


def named_values(text: str) -> Iterator[str]:
    """The values a message names that are not messages themselves (a row number,
    an encoding, a header cell as written): they stay as they are in any language,
    numbers written as Spanish writes them."""
    if isinstance(text, Listing):
        for item in text.items:
            yield from named_values(item)
    elif isinstance(text, Message):
        for value in text.values.values():
            if isinstance(value, Message | Listing):
                yield from named_values(value)
            else:
                yield str(number(value, "es"))
    else:
        yield text


def assert_said_in_spanish(english: str, spanish: str) -> None:
    """``spanish`` is ``english`` said from the catalog, names every value the
    English names, holds no English word besides them, and is safe in a cell."""
    assert isinstance(english, Message), f"not a message: {english!r}"
    for template in templates(english):
        assert spanish_catalog().get(template), f"no translation of {template!r}"
    assert say(english, "es") == spanish
    assert english != spanish
    rest = spanish
    for value in sorted(named_values(english), key=len, reverse=True):
        assert value in rest, (value, spanish)
        rest = rest.replace(value, " ", 1)
    assert not ENGLISH.search(rest), spanish
    assert spanish[0] not in FORMULA_TRIGGERS


def previewed(data: bytes, locale: str, **options: Any) -> Preview:
    return userimport.prepare(
        data,
        actor=ACTOR,
        orgs=TREE,
        store=MemoryStore(),
        options=ImportOptions(locale=locale, **options),
    )


def reviewed(data: bytes, locale: str, **options: Any) -> list[Issue]:
    return list(previewed(data, locale, **options).issues)


# -- one upload per file-level message ------------------------------------------------

_ROWS = "Ana,Gil,ana@example.com\r\nBo,Li,bo@example.com\r\nCy,Xu,cy@example.com\r\n"
_WIDE = (HEADER + "Ana,Gil,ana@example.com\r\n").encode("utf-16-le")
_SHARED_ROWS = sheet_xml('<row r="1"><c t="s"><v>0</v></c></row>')
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500)

#: Uploads that each get a file-level message (and the options they are read
#: with), with the code they must get. Where the encoding is guessed, which reading
#: wins is the scoring's judgment: those only need the code.
UPLOADS: dict[str, tuple[bytes, dict[str, Any], IssueCode]] = {
    "empty": (b"", {}, IssueCode.EMPTY_FILE),
    "blank lines": (b"\r\n,,\r\n", {}, IssueCode.EMPTY_FILE),
    "too large, in bytes": (b"x" * 2000, {"max_bytes": 1000}, IssueCode.FILE_TOO_LARGE),
    "too large, in KiB": (b"x" * 5000, {"max_bytes": 4096}, IssueCode.FILE_TOO_LARGE),
    "a PDF": (b"%PDF-1.7\n" + bytes(50), {}, IssueCode.BINARY_FILE),
    "a PNG image": (b"\x89PNG\r\n\x1a\n" + bytes(50), {}, IssueCode.BINARY_FILE),
    "a gzip archive": (b"\x1f\x8b\x08\x00" + bytes(50), {}, IssueCode.BINARY_FILE),
    "a ZIP archive": (b"PK\x03\x04" + bytes(40), {}, IssueCode.BINARY_FILE),
    "an OpenDocument spreadsheet": (
        b"PK\x03\x04\x14\x00\x00\x00mimetypeapplication/vnd.oasis.opendocument."
        b"spreadsheet" + bytes(40),
        {},
        IssueCode.BINARY_FILE,
    ),
    "a program": (b"\x7fELF" + bytes(50), {}, IssueCode.BINARY_FILE),
    "binary data": (bytes(range(32)) * 8, {}, IssueCode.BINARY_FILE),
    "UTF-32 without a byte-order mark": (
        (HEADER + "Ana,Gil,ana@example.com\r\n").encode("utf-32-le"),
        {},
        IssueCode.BINARY_FILE,
    ),
    "a UTF-8 byte-order mark on cp1252": (
        codecs.BOM_UTF8 + (HEADER + "José,Gil,jose@example.com\r\n").encode("cp1252"),
        {},
        IssueCode.UNDECODABLE,
    ),
    "UTF-16 without a byte-order mark, broken": (
        _WIDE + b"\x00\xd8A\x00",
        {},
        IssueCode.UNDECODABLE,
    ),
    "no allowed encoding fits": (
        HEADER.encode() + b"\x81\x80\xff\x98,Gil,ana@example.com\r\n",
        {},
        IssueCode.UNDECODABLE,
    ),
    "the caller's encoding does not fit": (
        (HEADER + "José,Gil,jose@example.com\r\n").encode("cp1252"),
        {"encoding": "utf-8"},
        IssueCode.UNDECODABLE,
    ),
    "an unknown encoding": (
        HEADER.encode(),
        {"encoding": "nope"},
        IssueCode.UNDECODABLE,
    ),
    "a transformation, not a character set": (
        HEADER.encode(),
        {"encoding": "punycode"},
        IssueCode.UNDECODABLE,
    ),
    "lone surrogates": (
        b"email\n+2AA-\n",
        {"encoding": "utf-7"},
        IssueCode.UNDECODABLE,
    ),
    "two encodings, one row each": (
        (HEADER + "José,Gil,jose@example.com\r\n").encode()
        + "Núñez,Ruiz,nunez@example.com\r\n".encode("cp1252"),
        {},
        IssueCode.MIXED_ENCODINGS,
    ),
    "two encodings, rows of each": (
        (HEADER + "José,Gil,a@example.com\r\nZoë,Li,b@example.com\r\n").encode()
        + "Núñez,Ruiz,c@example.com\r\nPeña,Xu,d@example.com\r\n".encode("cp1252"),
        {},
        IssueCode.MIXED_ENCODINGS,
    ),
    "a close call between two readings": (
        HEADER.encode() + b"\x8e\xa9,Gil,ana@example.com\r\n",
        {},
        IssueCode.ENCODING_GUESSED,
    ),
    "a quote never closed": (
        (HEADER + 'Ana,"Gil,ana@example.com\r\n').encode(),
        {},
        IssueCode.MALFORMED_CSV,
    ),
    "a quote never closed, over a cell's length": (
        (HEADER + 'Ana,"' + "x" * (MAX_CELL_LENGTH + 10)).encode(),
        {},
        IssueCode.MALFORMED_CSV,
    ),
    "text after a closing quote": (
        (HEADER + '"Ana"x,Gil,ana@example.com\r\n').encode(),
        {},
        IssueCode.MALFORMED_CSV,
    ),
    "a NUL character": (
        (
            HEADER + "Ana,Gil,ana@example.com\r\n" * 3 + "Bo\x00,Li,bo@x.com\r\n"
        ).encode(),
        {},
        IssueCode.MALFORMED_CSV,
    ),
    **{
        f"a sep= line naming {named}": (
            f"sep={line}\r\n{HEADER}Ana,Gil,ana@example.com\r\n".encode(),
            {},
            IssueCode.MALFORMED_CSV,
        )
        for named, line in (
            ("two characters", "ab"),
            ("a letter", "x"),
            ("a digit", "1"),
            ("a quote", "'"),
            ("a space", " "),
            ("an invisible character", "\u200b"),
            ("a delimiter the header lacks", ";"),
            ("a tab the header lacks", "\t"),
        )
    },
    "a required column missing": (
        b"First name,Last name\r\nAna,Gil\r\n",
        {},
        IssueCode.MISSING_COLUMNS,
    ),
    "a column twice": (
        b"First name,Nombre,Last name,Email\r\nAna,Ana,Gil,ana@example.com\r\n",
        {},
        IssueCode.DUPLICATE_COLUMNS,
    ),
    "an unknown column": (
        (HEADER.rstrip() + ",Notes\r\nAna,Gil,ana@example.com,x\r\n").encode(),
        {},
        IssueCode.UNKNOWN_COLUMNS,
    ),
    "unknown columns": (
        (HEADER.rstrip() + ",Notes,Team\r\nAna,Gil,ana@example.com,x,y\r\n").encode(),
        {},
        IssueCode.UNKNOWN_COLUMNS,
    ),
    "no rows": (HEADER.encode(), {}, IssueCode.NO_ROWS),
    "too many rows for one": (
        (HEADER + _ROWS).encode(),
        {"max_rows": 1},
        IssueCode.TOO_MANY_ROWS,
    ),
    "too many rows": (
        (HEADER + _ROWS).encode(),
        {"max_rows": 2},
        IssueCode.TOO_MANY_ROWS,
    ),
    # Workbooks that are not read: the OLE ones and those of their own kind.
    "a password-protected workbook": (
        _OLE + "EncryptedPackage".encode("utf-16-le"),
        {},
        IssueCode.BINARY_FILE,
    ),
    "an Excel 97-2003 workbook": (
        _OLE + "Workbook".encode("utf-16-le"),
        {},
        IssueCode.BINARY_FILE,
    ),
    "a macro-enabled workbook": (
        workbook(sheet_xml(""), main_type=MACRO_TYPE),
        {},
        IssueCode.BINARY_FILE,
    ),
    "an Excel binary workbook": (
        workbook(sheet_xml(""), extra={"xl/workbook.bin": b"\x00"}),
        {},
        IssueCode.BINARY_FILE,
    ),
    "a workbook without a worksheet": (
        workbook([("Old", sheet_xml(""))], hidden=["Old"]),
        {},
        IssueCode.MALFORMED_CSV,
    ),
    "more shared strings than an upload may have cells": (
        workbook(
            _SHARED_ROWS,
            shared_strings=(
                '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
                'main">' + "<si/>" * 2000 + "</sst>"
            ),
        ),
        {"max_bytes": 2048},
        IssueCode.MALFORMED_CSV,
    ),
    "a workbook of an empty sheet": (workbook(sheet_xml("")), {}, IssueCode.EMPTY_FILE),
    # Hostile workbooks, as the workbook tests build them (but the million-row
    # sheet, which takes long and is missing_columns).
    **{
        f"hostile: {name}": (data, {}, IssueCode(code))
        for name, (data, code) in HOSTILE.items()
        if name != "a 1,048,576-row sheet"
    },
}


@pytest.mark.parametrize("name", sorted(UPLOADS))
def test_a_spanish_review_says_the_files_problems_in_spanish(name: str) -> None:
    """The same upload reviewed in English and in Spanish gets the same issues, the
    Spanish ones said from the catalog with every value of the English kept."""
    data, options, code = UPLOADS[name]

    english = reviewed(data, "en", **options)
    spanish = reviewed(data, "es-MX", **options)

    assert code in {issue.code for issue in english}, english
    assert [i.code for i in english] == [i.code for i in spanish]
    for said_en, said_es in zip(english, spanish, strict=True):
        assert_said_in_spanish(said_en.message, said_es.message)


def test_every_file_error_code_has_a_spanish_upload() -> None:
    """The uploads above cover every file-level code."""
    covered = {code for _, _, code in UPLOADS.values()}

    assert FILE_ERROR_CODES | {IssueCode.UNKNOWN_COLUMNS} <= covered


def test_row_messages_of_the_reading_are_spanish_too() -> None:
    """The reader's row messages: a row with more cells than the header, and a
    workbook formula saved without its result."""
    extra = (HEADER + "Ana,Gil,ana@example.com,x\r\n").encode()
    formula = workbook(
        sheet_xml(
            inline_rows([["Email", "First name", "Last name"]])
            + '<row r="2"><c t="inlineStr"><is><t>a@x.org</t></is></c>'
            '<c><f>PROPER(B9)</f></c><c t="inlineStr"><is><t>B</t></is></c></row>'
        )
    )
    for data, code in (
        (extra, IssueCode.WRONG_FIELD_COUNT),
        (formula, IssueCode.INVALID_CHARACTERS),
    ):
        english, spanish = reviewed(data, "en"), reviewed(data, "es")
        assert code in {issue.code for issue in english}
        for said_en, said_es in zip(english, spanish, strict=True):
            assert_said_in_spanish(said_en.message, said_es.message)


def test_the_cp1252_fallback_warning_is_spanish() -> None:
    """The warning of a file no allowed encoding fits, read as cp1252."""
    decoded = decode("Zoë".encode("cp1252"), allowed=())
    assert not isinstance(decoded, Issue)
    (warning,) = decoded.warnings

    assert_said_in_spanish(warning.message, say(warning.message, "es"))


def test_a_spanish_error_report_marks_warnings_in_spanish() -> None:
    """The error report of a Spanish review says its messages, and the mark of its
    warnings, in Spanish."""
    data = b"Nombre,Apellidos,Emial\r\nAna,Ruiz,a@example.org\r\n"
    preview = userimport.prepare(
        data,
        actor=ACTOR,
        orgs=TREE,
        store=MemoryStore(),
        options=ImportOptions(locale="es"),
    )

    errors = error_report(preview).decode("utf-8-sig").splitlines()[1]

    assert "Falta la columna obligatoria “correo electrónico”" in errors
    assert 'Aviso: Esta columna no se usa y se ignorará: ""Emial"".' in errors
    assert "Warning" not in errors


def test_the_report_of_a_spanish_commit_is_spanish() -> None:
    """The rows a Spanish commit left out (one invalid, one the reviewer left out)
    come back in its error report said in Spanish."""
    data = (HEADER + "Ana,Gil,ana@example\r\nBo,Li,bo@example.com\r\n").encode()
    store, options = MemoryStore(), ImportOptions(locale="es")
    preview = userimport.prepare(
        data, actor=ACTOR, orgs=TREE, store=store, options=options
    )
    revised = userimport.revise(
        preview, drop=[3], actor=ACTOR, orgs=TREE, store=store, options=options
    )

    result = userimport.commit(
        revised,
        actor=ACTOR,
        orgs=TREE,
        store=store,
        options=options,
        skip_invalid=True,
    )
    report = error_report(result).decode("utf-8-sig")

    assert ("es", [2, 3]) == (result.locale, [row.row for row in result.left_out])
    assert result.left_out[1].issues[0].message.startswith("Dejaste esta fila")
    assert "Aviso: Dejaste esta fila fuera de la importación" in report
    assert "Warning" not in report


# -- any upload -----------------------------------------------------------------------


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.text(max_size=200).map(lambda text: (HEADER + text).encode()),
        defective_csv_files().map(lambda drawn: drawn[0]),
    )
)
def test_every_message_of_any_upload_is_said_from_the_catalog(data: bytes) -> None:
    """Whatever the bytes, every message of a Spanish review is the English one said
    from the catalog: nothing the library says stays English. (The review's
    language also breaks ties between legacy code pages: bytes that the two
    languages read differently are not compared.)"""
    english_review = previewed(data, "en")
    spanish_review = previewed(data, "es")
    assume(english_review.encoding == spanish_review.encoding)
    english, spanish = english_review.issues, spanish_review.issues

    assert [i.code for i in english] == [i.code for i in spanish]
    for said_en, said_es in zip(english, spanish, strict=True):
        assert isinstance(said_en.message, Message), said_en
        for template in templates(said_en.message):
            assert spanish_catalog().get(template), template
        assert say(said_en.message, "es") == said_es.message
