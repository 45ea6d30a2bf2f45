"""Bytes to text: the bounded read, binary sniffing and the encoding pipeline.

Each step answers with a value or an
:class:`~userimport.issues.Issue`, never an exception, because every input here
comes from an upload:

1. :func:`read_limited` reads ``bytes`` or a binary stream, never more than
   ``max_bytes + 1`` bytes (``file_too_large``).
2. :func:`sniff_binary` recognises spreadsheets, documents, images, archives and
   other binary content, and says what the file looks like (``binary_file``).
3. :func:`decode` chooses the encoding and decodes strictly (``undecodable``):
   the caller's encoding, else a byte-order mark, else BOM-less UTF-16 (its NUL
   pattern), else strict UTF-8, else the most plausible reading among an
   allow-list of legacy encodings (the Windows code pages Excel writes), else
   cp1252. A file whose rows are partly UTF-8 and partly not is refused
   (``mixed_encodings``), and a close call between two readings is a warning that
   shows both (``encoding_guessed``).

Text is never decoded with replacement characters: a name that reaches review
is exactly what the file says in the chosen encoding, or the file is refused.

It is long because choosing an encoding has many steps (BOMs, UTF-16 without BOM, strict
UTF-8, binary sniffing, the legacy candidates, mixed files), each a short function, with
the scoring in _plausibility.
"""

from __future__ import annotations

import bisect
import codecs
import re
import typing
from collections.abc import Collection

import attrs

from userimport._messages import message
from userimport.issues import Issue, IssueCode

__all__ = [
    "DEFAULT_LEGACY_ENCODINGS",
    "DEFAULT_MAX_BYTES",
    "Decoded",
    "EncodingSource",
    "Readable",
    "decode",
    "describe_encoding",
    "read_limited",
    "sniff_binary",
]

#: The default upload limit: 2 MiB.
DEFAULT_MAX_BYTES = 2 * 1024 * 1024

#: The legacy encodings a file may be read in when it is not UTF-8, as Python codec
#: names: the Windows code pages Excel and LibreOffice write for "CSV" (Western,
#: Central European, Cyrillic, Greek, Turkish and Baltic), and for Japanese,
#: Simplified Chinese, Korean and Traditional Chinese the Windows supersets (cp932,
#: GB 18030 for cp936, cp949, cp950), which hold names such as 髙橋 or 山﨑 that the
#: stricter shift_jis, gbk, euc_kr and big5 lack. Earlier entries win ties.
DEFAULT_LEGACY_ENCODINGS: tuple[str, ...] = (
    "cp1252",
    "cp1250",
    "cp1251",
    "cp1253",
    "cp1254",
    "cp1257",
    "cp932",
    "gb18030",
    "cp949",
    "cp950",
)

#: How the encoding was chosen; see :class:`Decoded`.
EncodingSource = typing.Literal[
    "caller", "bom", "utf-16", "utf-8", "detected", "fallback"
]

_CHUNK_SIZE = 64 * 1024
#: Binary sniffing looks at the start of the file only, so it costs the same for
#: every size: the NUL pattern and control bytes in the first 4 KiB, the names
#: of the first entries of a ZIP container in the first 64 KiB.
_SNIFF_BYTES = 4 * 1024
_ZIP_SNIFF_BYTES = 64 * 1024
#: Detection looks at most at 2 KB of the lines that contain non-ASCII bytes, which
#: bounds its time whatever the input: every candidate must decode them all...
_SAMPLE_BYTES = 2 * 1024
#: ... and the first 1 KB of the lines that the readings read differently are
#: scored (words scored are cached), in growing parts: the first 128 bytes in every
#: reading, then 512 bytes and 1 KB only in the readings that are not hopelessly
#: behind (two letters that no language has).
_SCORE_BYTES = 1024
_SCORE_STEPS = (128, 512, _SCORE_BYTES)
_HOPELESS = 12.0
#: A "line" for the sample is cut at this many bytes either side of its first
#: non-ASCII byte, so a file without line breaks cannot make the search slow.
_SAMPLE_REACH = 256
#: Readings decoded in full before falling back to cp1252; each costs one strict
#: decode of the whole file.
_MAX_ATTEMPTS = 3
#: chardet's first answer among the candidates counts less than a rare letter or the
#: locale hint: one input among others, asked only when two readings are close.
_CHARDET_BONUS = 0.3
#: cp1252 is what Excel writes in most Latin-script locales: a head start smaller
#: than any letter's cost, which keeps Spanish files from reading as Central
#: European on a tie ("Nuñez" and "Nuńez" are both names).
_CP1252_PRIOR = 0.75
#: The caller's locale hint breaks ties and nothing more.
_HINT_BONUS = 0.4
#: How many lines holding UTF-8 sequences are looked at for mixed encodings, and how
#: many rows of each kind the error names.
_MIXED_LINES = 200
_MIXED_SHOWN = 3

# Byte-order marks, longest first: the UTF-32 LE mark starts with the UTF-16 LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

_BOM_PREFIXES = tuple(bom for bom, _ in _BOMS)
_UNICODE_NAMES = {"utf-8-sig": "UTF-8", "utf-16": "UTF-16", "utf-32": "UTF-32"}

# chardet's ISO-8859 answers, as the Windows code page of the same script (the
# allow-list holds Windows code pages only).
_ISO_TO_WINDOWS = {
    "iso8859-1": "cp1252",
    "iso8859-15": "cp1252",
    "iso8859-2": "cp1250",
    "iso8859-5": "cp1251",
    "iso8859-7": "cp1253",
    "iso8859-9": "cp1254",
    "iso8859-8": "cp1255",
    "iso8859-6": "cp1256",
    "iso8859-13": "cp1257",
}
# A translation table that marks the bytes 0x80-0xFF with 0x80, and both line
# breaks (CR and LF) with LF, so that ``bytes.find`` (memchr) finds either with one
# call: a regular expression character class, or ``translate`` with deletions, is
# several times slower on 2 MiB.
_MARK_HIGH = bytes(range(0x80)).replace(b"\r", b"\n") + b"\x80" * 0x80
# C0 controls other than TAB, LF, VT, FF and CR: text files have none of them.
_CONTROL_BYTES = bytes([*range(0x09), *range(0x0E, 0x20)])
_SURROGATE = re.compile("[\ud800-\udfff]")
# A UTF-8 multi-byte sequence (RFC 3629), for finding the UTF-8 rows of a file that
# is not UTF-8 as a whole: a lead byte, then as many continuation bytes as it says
# (one character class first lets the search skip other bytes fast).
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xf4](?:(?<=[\xc2-\xdf])[\x80-\xbf]|(?<=[\xe0-\xef])[\x80-\xbf]{2}"
    rb"|(?<=[\xf0-\xf4])[\x80-\xbf]{3})"
)
_LINE_BREAKS = re.compile(rb"\r\n|\r|\n")
# C1 controls: what an ISO-8859 codec makes of bytes 0x80-0x9F, which are printable
# characters in the Windows code pages; no text file holds them.
_C1_CONTROL = re.compile("[\x80-\x9f]")
_CUT_BYTE = re.compile(rb"[\x00-\x2f]")

# Codecs that Python accepts as text encodings but that are transformations of
# text rather than character sets; decoding an upload with them makes no sense
# (and punycode is quadratic).
_NOT_CHARSETS = frozenset(
    {"idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined"}
)

_LABELS = {
    "cp1252": message("Windows Western European"),
    "cp1250": message("Windows Central European"),
    "cp1251": message("Windows Cyrillic"),
    "cp1253": message("Windows Greek"),
    "cp1254": message("Windows Turkish"),
    "cp1257": message("Windows Baltic"),
    "cp932": message("Windows Japanese"),
    "gb18030": message("Chinese Simplified"),
    "gbk": message("Chinese Simplified"),
    "cp949": message("Windows Korean"),
    "cp950": message("Windows Traditional Chinese"),
    "iso8859-15": message("ISO Western European"),
    "shift_jis": message("Japanese"),
    "big5": message("Traditional Chinese"),
    "euc_kr": message("Korean"),
}


class _Signature(typing.NamedTuple):
    magic: bytes
    looks_like: str
    advice: str


# What a file is and what to do instead: fragments of the binary_file message.
_SAVE_AS_CSV = message("save it as CSV (UTF-8) and upload that")
_EXPORT_CSV = message("export the user list as a CSV file and upload that")
_EXTRACT_CSV = message("extract the CSV file and upload that")
_SIGNATURES: tuple[_Signature, ...] = (
    _Signature(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        message("an Excel 97-2003 workbook"),
        _SAVE_AS_CSV,
    ),
    _Signature(b"%PDF-", message("a PDF document"), _EXPORT_CSV),
    _Signature(b"\x89PNG\r\n\x1a\n", message("a PNG image"), _EXPORT_CSV),
    _Signature(b"\xff\xd8\xff", message("a JPEG image"), _EXPORT_CSV),
    _Signature(b"GIF87a", message("a GIF image"), _EXPORT_CSV),
    _Signature(b"GIF89a", message("a GIF image"), _EXPORT_CSV),
    _Signature(b"\x1f\x8b", message("a gzip archive"), _EXTRACT_CSV),
    _Signature(b"7z\xbc\xaf\x27\x1c", message("a 7-Zip archive"), _EXTRACT_CSV),
    _Signature(b"Rar!\x1a\x07", message("a RAR archive"), _EXTRACT_CSV),
    _Signature(b"SQLite format 3\x00", message("an SQLite database"), _EXPORT_CSV),
    _Signature(b"\x7fELF", message("a program"), _EXPORT_CSV),
)
# Inside a ZIP container (XLSX, ODS, DOCX are ZIP files), the first entry names
# tell the formats apart.
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_ZIP_KINDS: tuple[tuple[bytes, str, str], ...] = (
    # Read as it is where the `xlsx` extra is installed (userimport._workbook).
    (
        b"xl/",
        message("an Excel workbook"),
        message(
            "save it as CSV (UTF-8) and upload that (or have the site install "
            "userimport[xlsx], which reads workbooks as they are)"
        ),
    ),
    (
        b"opendocument.spreadsheet",
        message("an OpenDocument spreadsheet"),
        _SAVE_AS_CSV,
    ),
    (b"word/", message("a Word document"), _EXPORT_CSV),
    (b"opendocument.text", message("an OpenDocument text document"), _EXPORT_CSV),
)


class Readable(typing.Protocol):
    """A binary stream: anything with ``read(size) -> bytes``.

    Files opened with ``"rb"``, :class:`io.BytesIO`, and the upload objects of
    web frameworks all qualify.
    """

    def read(self, size: int, /) -> bytes:
        """At most ``size`` bytes; ``b""`` at the end of the stream."""
        ...


@attrs.frozen
class Decoded:
    """The upload's text and how its encoding was chosen.

    ``data.decode(encoding) == text`` always holds: a byte-order mark is part of
    the codec (``utf-8-sig``, ``utf-16``, ``utf-32``), never of the text.

    Attributes:
        text: The whole file, decoded strictly.
        encoding: A Python codec name (``codecs.lookup`` accepts it), e.g.
            ``"utf-8"``, ``"utf-8-sig"``, ``"utf-16"``, ``"utf-16-le"``, ``"cp1252"``.
        source: How the encoding was chosen:

            - ``"caller"``: the encoding the caller passed;
            - ``"bom"``: a byte-order mark (UTF-8, UTF-16 or UTF-32);
            - ``"utf-16"``: UTF-16 without a byte-order mark, recognised by the
              NUL bytes that ASCII characters leave in every other position;
            - ``"utf-8"``: the file is valid UTF-8 (this includes plain ASCII);
            - ``"detected"``: the most plausible reading among the allowed legacy
              encodings;
            - ``"fallback"``: nothing else fitted and the file decodes as cp1252.

            The last two are guesses (:attr:`guessed`).
        warnings: The ``encoding_guessed`` warning when the guess was a close call
            (another allowed encoding reads the names differently and almost as
            plausibly; the message shows the first name both ways) or a fallback;
            empty otherwise, and always for UTF-8, UTF-16, UTF-32 and ASCII.
    """

    text: str
    encoding: str
    source: EncodingSource
    warnings: tuple[Issue, ...] = ()

    @property
    def guessed(self) -> bool:
        """Whether the encoding is a guess (``"detected"`` or ``"fallback"``)."""
        return self.source in ("detected", "fallback")


def describe_encoding(encoding: str) -> str:
    """A short human description of a codec name, for messages.

    >>> describe_encoding("cp1252")
    'cp1252 (Windows Western European)'
    >>> describe_encoding("koi8-r")
    'koi8-r'
    """
    label = _LABELS.get(encoding)
    if label is None:
        return encoding
    return message("{encoding} ({label})", encoding=encoding, label=label)


def read_limited(
    data: bytes | bytearray | memoryview | Readable,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> bytes | Issue:
    """Read an upload, refusing it once it passes ``max_bytes``.

    A stream is read in chunks of at most 64 KiB and never past ``max_bytes + 1``
    bytes, so a huge upload costs no more than a file just over the limit.

    Args:
        data: The upload as bytes or as a binary file object.
        max_bytes: The largest accepted size, in bytes.

    Returns:
        The bytes, or a ``file_too_large`` issue.

    Raises:
        TypeError: ``data`` is text, a text stream or no file at all (misuse: pass
            bytes, or open the file in binary mode).
        ValueError: ``max_bytes`` is negative.
    """
    if max_bytes < 0:
        raise ValueError(f"max_bytes must be zero or more, not {max_bytes}")
    if isinstance(data, (bytes, bytearray, memoryview)):
        content = bytes(data)
    elif callable(getattr(data, "read", None)):
        content = _read_stream(data, max_bytes + 1)
    else:
        raise TypeError(
            "the upload must be bytes or a binary file object (open it with 'rb'),"
            f" not {type(data).__name__}"
        )
    if len(content) > max_bytes:
        return Issue.error(
            IssueCode.FILE_TOO_LARGE,
            message(
                "The file is larger than the limit of {size}; split it into smaller "
                "files and upload each one.",
                size=_format_size(max_bytes),
            ),
        )
    return content


def _read_stream(stream: Readable, limit: int) -> bytes:
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = stream.read(min(_CHUNK_SIZE, remaining))
        if not isinstance(chunk, (bytes, bytearray)):
            raise TypeError(
                "the upload must be bytes or a binary file object (open it with 'rb')"
            )
        if not chunk:
            break
        chunks.append(bytes(chunk))
        remaining -= len(chunk)
    return b"".join(chunks)


def _format_size(size: int) -> str:
    if size >= 1024 * 1024 and size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MiB"
    if size >= 1024 and size % 1024 == 0:
        return f"{size // 1024} KiB"
    return message("{count} bytes", count=size)


def sniff_binary(data: bytes, *, encoding: str | None = None) -> Issue | None:
    """Recognise content that is not a text file.

    Known signatures (Excel XLSX and XLS, OpenDocument, Word, PDF, images,
    archives, databases, programs) are named in the message, with what to do
    instead. Other content is binary when more than 2% of its first 4 KiB are
    control bytes (NUL included) and it is not UTF-16 or UTF-32 text, which is
    full of NULs. A stray NUL in text is left to the reader (``malformed_csv``).

    Args:
        data: The start of the upload (or all of it).
        encoding: The caller's encoding, if any: a UTF-16 or UTF-32 one is trusted
            to explain the NUL bytes.

    Returns:
        A ``binary_file`` issue, or ``None`` when the content may be text.
    """
    looks_like = _signature(data)
    if looks_like is not None:
        kind, advice = looks_like
        return _binary(
            message("This file is {kind}; {advice}.", kind=kind, advice=advice)
        )
    if data.startswith(_BOM_PREFIXES) or _is_wide(encoding):
        return None
    head = data[:_SNIFF_BYTES]
    pattern = _nul_pattern(head)
    if pattern is not None and pattern.startswith("utf-16"):
        return None
    if pattern is not None:
        return _binary(
            message(
                "This file looks like UTF-32 text without a byte-order mark; "
                "save it as CSV (UTF-8) and upload that."
            )
        )
    if len(head.translate(None, _CONTROL_BYTES)) < len(head) * 0.98:
        return _binary(
            message(
                "This file looks like binary data, not a CSV text file; "
                "save the user list as CSV (UTF-8) and upload that."
            )
        )
    return None


def _signature(data: bytes) -> tuple[str, str] | None:
    if data.startswith(_ZIP_MAGIC):
        head = data[:_ZIP_SNIFF_BYTES]
        for marker, kind, advice in _ZIP_KINDS:
            if marker in head:
                return kind, advice
        return message("a ZIP archive"), _EXTRACT_CSV
    for signature in _SIGNATURES:
        if data.startswith(signature.magic):
            return signature.looks_like, signature.advice
    return None


def _binary(text: str) -> Issue:
    return Issue.error(IssueCode.BINARY_FILE, text)


def _is_wide(encoding: str | None) -> bool:
    if encoding is None:
        return False
    try:
        name = codecs.lookup(encoding).name
    except (LookupError, ValueError):
        return False
    return name.startswith(("utf-16", "utf-32"))


def _nul_pattern(head: bytes) -> str | None:
    """``utf-16-le``/``-be`` or ``utf-32-le``/``-be`` when NULs say so, else None.

    ASCII characters (the delimiters, line breaks and most of a user list) leave
    a NUL in the high byte of every UTF-16 code unit and three NULs in every
    UTF-32 one, so the side that holds the NULs gives the byte order.
    """
    size = len(head) - len(head) % 4
    if size < 4 or 0 not in head:
        return None
    head = head[:size]
    quarter = size // 4
    counts = [head[i::4].count(0) for i in range(4)]
    # UTF-32: the two high bytes of a BMP character are always NUL.
    if counts[2] == counts[3] == quarter and counts[0] < quarter * 0.5:
        return "utf-32-le"
    if counts[0] == counts[1] == quarter and counts[3] < quarter * 0.5:
        return "utf-32-be"
    # UTF-16: at least 30% of the code units are ASCII (delimiters, line breaks,
    # emails), and the other side holds almost no NUL.
    even, odd = counts[0] + counts[2], counts[1] + counts[3]
    enough = max(2, size // 2 * 0.3)
    if odd >= enough and even * 20 <= odd:
        return "utf-16-le"
    if even >= enough and odd * 20 <= even:
        return "utf-16-be"
    return None


def decode(
    data: bytes,
    *,
    encoding: str | None = None,
    allowed: Collection[str] = DEFAULT_LEGACY_ENCODINGS,
    hint: str | None = None,
) -> Decoded | Issue:
    """Decode an upload strictly, choosing its encoding.

    The steps, first match wins:

    1. ``encoding``, when the caller gives one (an unknown name, or a codec that
       is not a character set, is an ``undecodable`` issue, not an exception);
    2. a byte-order mark: UTF-8, UTF-16 LE/BE, UTF-32 LE/BE;
    3. UTF-16 without a byte-order mark, by its NUL pattern;
    4. strict UTF-8 (which includes ASCII);
    5. the most plausible reading among ``allowed``: every allowed encoding that
       decodes the lines holding non-ASCII bytes (at most 2 KB of them, so the
       time is bounded) is a candidate, and each candidate's text is scored by
       how plausible its words are as names in the languages of the code page
       (one script per word, no symbol or mojibake inside a word, letters of one
       language, agreement with the row's email: see
       ``userimport._plausibility``); a text that several candidates give is
       read in the one whose languages fit it best. chardet's answer adds a
       little on a close call, ``hint`` (a language such as ``"es"``, ``"pl"``,
       ``"ja"``) a little more: it breaks ties, never overrides the bytes;
       earlier entries of ``allowed`` win exact ties. Before that, a file whose
       rows are partly valid UTF-8 (with multi-byte characters) and partly not is
       ``mixed_encodings``;
    6. cp1252, which decodes everything but five byte values.

    A guess carries the warning ``encoding_guessed`` only when another reading was
    close (:attr:`Decoded.warnings`).

    Args:
        data: The whole upload.
        encoding: The caller's encoding (any Python codec name), or ``None``.
        allowed: The legacy encodings the file may be read in, as Python codec
            names, preferred in this order on a tie.
        hint: A language tag (``"es"``, ``"pt-BR"``, ``"zh-TW"``) whose usual code
            page wins a tie, or ``None``; English hints nothing (its names are
            ASCII, and it is every review's default).

    Returns:
        The decoded text with its encoding, or an ``undecodable`` or
        ``mixed_encodings`` issue.

    Raises:
        ValueError: ``allowed`` names an encoding Python does not know.
    """
    if encoding is not None:
        return _decode_as_caller(data, encoding)
    for bom, codec in _BOMS:
        if data.startswith(bom):
            context = message(
                "The file starts with a {encoding} byte-order mark",
                encoding=_UNICODE_NAMES[codec],
            )
            result = _strict(data, codec, "bom", context)
            if isinstance(result, Issue) and bom == codecs.BOM_UTF32_LE:
                continue  # FF FE 00 00 is also UTF-16 LE text that starts with NUL
            return result
    pattern = _nul_pattern(data[:_SNIFF_BYTES])
    if pattern is not None and pattern.startswith("utf-16"):
        context = message("The file looks like UTF-16 text without a byte-order mark")
        return _strict(data, pattern, "utf-16", context)
    try:
        return Decoded(data.decode("utf-8"), "utf-8", "utf-8")
    except UnicodeDecodeError as error:
        first_error = error.start
    return _detect(data, allowed, hint, first_error)


def _decode_as_caller(data: bytes, encoding: str) -> Decoded | Issue:
    try:
        name = codecs.lookup(encoding).name
    except (LookupError, ValueError):  # ValueError: a NUL in the name
        return Issue.error(
            IssueCode.UNDECODABLE,
            message(
                "The encoding {encoding} is unknown; choose a character encoding "
                "such as utf-8 or cp1252.",
                encoding=repr(encoding),
            ),
            value=encoding,
        )
    not_a_charset = Issue.error(
        IssueCode.UNDECODABLE,
        message(
            "The encoding {encoding} is not a character encoding for text files; "
            "choose one such as utf-8 or cp1252.",
            encoding=repr(encoding),
        ),
        value=encoding,
    )
    if name in _NOT_CHARSETS:
        return not_a_charset
    try:
        text = data.decode(name)
    except LookupError:  # a bytes-to-bytes codec such as "base64"
        return not_a_charset
    except UnicodeError as error:
        context = message(
            "The file was read as {encoding}, as requested", encoding=name
        )
        return _undecodable(data, name, context, error, value=encoding)
    if _SURROGATE.search(text):
        # Only escape-style codecs can produce lone surrogates; no store accepts them.
        return Issue.error(
            IssueCode.UNDECODABLE,
            message(
                "Decoding the file as {encoding} gives invalid characters; choose "
                "the encoding the file was saved in.",
                encoding=name,
            ),
            value=encoding,
        )
    return Decoded(text, name, "caller")


def _strict(
    data: bytes, codec: str, source: EncodingSource, context: str
) -> Decoded | Issue:
    try:
        return Decoded(data.decode(codec), codec, source)
    except UnicodeDecodeError as error:
        return _undecodable(data, codec, context, error)


def _undecodable(
    data: bytes,
    codec: str,
    context: str,
    error: UnicodeError,
    *,
    value: str | None = None,
) -> Issue:
    if isinstance(error, UnicodeDecodeError):
        # The error's own bytes: utf-8-sig reports positions after its BOM.
        said = message(
            "{context}, but it cannot be decoded as {encoding} (byte 0x{byte} on "
            "line {line}); save it as CSV (UTF-8) and upload it again.",
            context=context,
            encoding=codec,
            byte=format(error.object[error.start], "02X"),
            line=error.object.count(b"\n", 0, error.start) + 1,
        )
    else:
        said = message(
            "{context}, but it cannot be decoded as {encoding}; save it as CSV "
            "(UTF-8) and upload it again.",
            context=context,
            encoding=codec,
        )
    return Issue.error(IssueCode.UNDECODABLE, said, value=value)


def _detect(
    data: bytes, allowed: Collection[str], hint: str | None, first_error: int
) -> Decoded | Issue:
    names = _allowed_names(allowed)
    sample = _non_ascii_sample(data)
    readings = _readings(sample, names, hint)
    failures: dict[str, UnicodeDecodeError] = {}
    for index, reading in enumerate(readings[:_MAX_ATTEMPTS]):
        # The code pages that read the sample alike, best fit first: a byte past
        # the sample may be one that only a later one of them has (cp1250's "Ť",
        # which cp1252 lacks, after lines that both read as "José").
        for codec in reading.codecs:
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as error:
                failures[codec] = error
                continue
            mixed = _mixed_encodings(data, first_error, codec)
            if mixed is not None:
                return mixed
            chosen = attrs.evolve(reading, codec=codec)
            close = _close_call(data, chosen, readings[index + 1 :])
            return Decoded(text, codec, "detected", warnings=close)
    try:
        if "cp1252" in failures:
            raise failures["cp1252"]
        text = data.decode("cp1252")
    except UnicodeDecodeError as error:
        context = message("The file is not UTF-8 and no allowed encoding fits it")
        return _undecodable(data, "cp1252", context, error)
    mixed = _mixed_encodings(data, first_error, "cp1252")
    if mixed is not None:
        return mixed
    warning = _guessed(
        message(
            "The file is not UTF-8 and no allowed encoding fits it, so it was read "
            "as {encoding}; check that accented names look right, or save it as "
            "CSV UTF-8 and upload it again.",
            encoding=describe_encoding("cp1252"),
        ),
        "cp1252",
    )
    return Decoded(text, "cp1252", "fallback", warnings=(warning,))


def _allowed_names(allowed: Collection[str]) -> list[str]:
    try:
        return list(dict.fromkeys(codecs.lookup(name).name for name in allowed))
    except LookupError as error:
        raise ValueError(f"allowed holds an unknown encoding: {error}") from None


@attrs.frozen
class _Reading:
    """One reading of the sample: the codec whose languages fit it best, the text,
    its score, and every candidate codec that reads the sample so, best fit first
    (the first of them that decodes the whole file is the file's)."""

    codec: str
    text: str
    score: float
    codecs: tuple[str, ...]


def _readings(sample: bytes, names: list[str], hint: str | None) -> list[_Reading]:
    """The distinct readings of the sample, most plausible first.

    Candidates that read the sample alike ("José;Müller" in cp1252 and cp1250) are
    one reading. It is judged with the languages of each code page that gives it
    ("Rozália" is no Western name but a Slovak one) and named after the one whose
    languages it fits best, the earliest on a tie: that code page decodes the file.
    """
    from userimport import _plausibility

    hinted = _hinted(hint)
    texts: dict[str, list[str]] = {}
    for codec in names:
        try:
            text = sample.decode(codec)
        except UnicodeDecodeError:
            continue
        if _C1_CONTROL.search(text) is None:
            texts.setdefault(text, []).append(codec)
    if not texts:
        return []
    # Lines that every reading reads alike tell nothing: the lines scored are the
    # first that differ, up to 1 KB (the lines of the sample are the same in
    # every reading, as line breaks are ASCII bytes in every allowed encoding).
    split = {text: text.split("\n") for text in texts}
    columns = list(zip(*split.values(), strict=False))
    differing = [i for i, line in enumerate(columns) if len(set(line)) > 1]
    chosen: list[int] = []
    ends: list[int] = []
    size = 0
    for i in differing:
        size += len(columns[i][0]) + 1
        if size > _SCORE_BYTES and chosen:
            break
        chosen.append(i)
        ends.append(size)

    memos: dict[tuple[str, str], _plausibility.Memo] = {}

    def judged(key: tuple[str, str], lines: str) -> float:
        """The score of lines of a text read in a code page, with the code page's
        head start and the hint (lines scored before are not scored again)."""
        codec = key[1]
        score = _plausibility.score(lines, codec, memo=memos.setdefault(key, {}))
        if codec in hinted:
            score += _HINT_BONUS
        return score + _CP1252_PRIOR if codec == "cp1252" else score

    # Each text is judged in each code page that gives it, on the lines scored in
    # growing parts: after each, the judgments far behind the best are dropped,
    # each keeping its distance from the best, and scoring stops once one is left.
    judgments = [(text, codec) for text, names_ in texts.items() for codec in names_]
    scores: dict[tuple[str, str], float] = {}
    behind: dict[tuple[str, str], float] = {}
    alive = judgments
    for budget in _SCORE_STEPS:
        count = max(1, bisect.bisect_right(ends, budget))
        lines = {
            text: "\n".join(
                split[text][i] for i in chosen[:count] if i < len(split[text])
            )
            for text in dict.fromkeys(text for text, _ in alive)
        }
        scores.update((key, judged(key, lines[key[0]])) for key in alive)
        leader = max(scores[key] for key in alive)
        behind.update(
            (key, scores[key] - leader)
            for key in alive
            if scores[key] <= leader - _HOPELESS
        )
        alive = [key for key in alive if key not in behind]
        if len(alive) == 1 or count >= len(chosen):
            break
    top = max(scores[key] for key in alive)
    for key, distance in behind.items():
        scores[key] = top + distance
    readings = []
    for rank, (text, names_) in enumerate(texts.items()):
        # The code page whose languages fit the text best names it; earlier names
        # win exact ties.
        fits = tuple(sorted(names_, key=lambda name: -scores[text, name]))
        readings.append(
            _Reading(fits[0], text, scores[text, fits[0]] - rank * 1e-6, fits)
        )
    ranked = sorted(readings, key=lambda reading: -reading.score)
    if len(ranked) > 1 and ranked[0].score - ranked[1].score < _plausibility.CLOSE:
        ranked = _with_chardet(sample, names, ranked)
    return ranked


def _hinted(hint: str | None) -> tuple[str, ...]:
    """The encodings a language hint makes likelier (``"pt-BR"`` as ``"pt"``)."""
    if not hint:
        return ()
    from userimport._plausibility import HINTS

    tag = hint.replace("_", "-").casefold()
    return HINTS.get(tag) or HINTS.get(tag.partition("-")[0], ())


def _with_chardet(
    sample: bytes, names: list[str], readings: list[_Reading]
) -> list[_Reading]:
    """The readings with chardet's first answer among them a little ahead."""
    # Imported here, not at the top: chardet takes longer to import than the rest
    # of the package, and only a close call needs it.
    import chardet

    results = chardet.detect_all(
        sample,
        include_encodings=sorted({*names, *_ISO_TO_WINDOWS}),
        ignore_threshold=True,
        prefer_superset=False,
        compat_names=True,
    )
    candidates = {codec for reading in readings for codec in reading.codecs}
    for result in results:
        name = _codec_name(result["encoding"])
        name = _ISO_TO_WINDOWS.get(name or "", name)
        if name in candidates:
            return sorted(
                (
                    attrs.evolve(r, score=r.score + _CHARDET_BONUS)
                    if name in r.codecs
                    else r
                    for r in readings
                ),
                key=lambda reading: -reading.score,
            )
    return readings


def _close_call(
    data: bytes, chosen: _Reading, others: list[_Reading]
) -> tuple[Issue, ...]:
    """The ``encoding_guessed`` warning when another reading was almost as good, or
    when the best reading still holds a word that no name could be (the file is in
    an encoding outside the allow-list, or damaged)."""
    from userimport._plausibility import CLOSE, implausible_word

    for other in others[:_MAX_ATTEMPTS]:
        if chosen.score - other.score >= CLOSE:
            break
        if not _decodes(data, other.codec):
            continue
        ours, theirs = _first_difference(chosen.text, other.text)
        said = message(
            "The file is not UTF-8; it was read as {encoding}, where a name reads "
            '"{ours}", but it may be {other}, where it reads "{theirs}". Check the '
            "names, or save the file as CSV UTF-8 and upload it again.",
            encoding=describe_encoding(chosen.codec),
            ours=ours,
            other=describe_encoding(other.codec),
            theirs=theirs,
        )
        return (_guessed(said, chosen.codec),)
    odd = implausible_word(chosen.text)
    if odd is None:
        return ()
    said = message(
        "The file is not UTF-8; it was read as {encoding}, the best fit, but "
        '"{odd}" is no name: the file may be in another encoding. Check the names, '
        "or save the file as CSV UTF-8 and upload it again.",
        encoding=describe_encoding(chosen.codec),
        odd=odd,
    )
    return (_guessed(said, chosen.codec),)


def _guessed(text: str, encoding: str) -> Issue:
    return Issue.warning(IssueCode.ENCODING_GUESSED, text, value=encoding)


def _first_difference(first: str, second: str) -> tuple[str, str]:
    """The first word that two readings of the same bytes read differently."""
    from userimport._plausibility import words

    for line, other in zip(first.splitlines(), second.splitlines(), strict=False):
        if line != other:
            for word, other_word in zip(words(line), words(other), strict=False):
                if word != other_word:
                    return word, other_word
            return line, other
    return first, second


def _decodes(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def _mixed_encodings(data: bytes, first_error: int, legacy: str) -> Issue | None:
    """``mixed_encodings`` when some rows are UTF-8 and others are not.

    A row is UTF-8 when it holds a UTF-8 multi-byte sequence, decodes as UTF-8,
    and reads more plausibly so than in the legacy encoding chosen for the file
    (a cp1250 row may happen to be valid UTF-8, and then reads worse). Two exports
    pasted together read in one encoding would turn one half into mojibake
    ("JosĂ©"), which nobody would catch in a review of accented names.
    """
    # Decoding with errors ignored keeps exactly the valid UTF-8 sequences: when
    # they are all ASCII, no row can be UTF-8 (a fast test at C speed).
    if data.decode("utf-8", "ignore").isascii():
        return None
    from userimport._plausibility import score

    utf8_rows: list[int] = []
    position = 0
    for _ in range(_MIXED_LINES):
        match = _UTF8_SEQUENCE.search(data, position)
        if match is None or len(utf8_rows) == _MIXED_SHOWN:
            break
        start, end = _line_bounds(data, match.start())
        position = end + 1
        line = data[start:end]
        try:
            as_utf8 = line.decode("utf-8")
        except UnicodeDecodeError:
            continue
        try:
            as_legacy = line.decode(legacy)
        except UnicodeDecodeError:
            utf8_rows.append(start)
            continue
        if score(as_utf8) > score(as_legacy, legacy):
            utf8_rows.append(start)
    if not utf8_rows:
        return None
    other_rows: list[int] = []
    position = _line_bounds(data, first_error)[0]
    while len(other_rows) < _MIXED_SHOWN and position < len(data):
        try:
            data[position:].decode("utf-8")
        except UnicodeDecodeError as error:
            start, end = _line_bounds(data, position + error.start)
            other_rows.append(start)
            position = end + 1
        else:
            break
    utf8, other = _row_numbers(data, utf8_rows), _row_numbers(data, other_rows)
    return Issue.error(
        IssueCode.MIXED_ENCODINGS,
        message(
            "The file mixes two encodings: {utf8} in UTF-8, {other} in another one "
            "(perhaps {encoding}), as when two exports are pasted together. Save the "
            "whole file as CSV UTF-8 and upload it again.",
            utf8=_rows(utf8),
            other=_rows(other),
            encoding=describe_encoding(legacy),
        ),
    )


def _rows(numbers: list[int]) -> str:
    shown = ", ".join(map(str, numbers))
    if len(numbers) == 1:
        return message("row {rows}", rows=shown)
    return message("rows {rows}", rows=shown)


def _line_bounds(data: bytes, at: int) -> tuple[int, int]:
    """The start and end (before the line break) of the line holding ``data[at]``."""
    start = max(data.rfind(b"\n", 0, at), data.rfind(b"\r", 0, at)) + 1
    ends = [e for e in (data.find(b"\n", at), data.find(b"\r", at)) if e >= 0]
    return start, min(ends) if ends else len(data)


def _row_numbers(data: bytes, starts: list[int]) -> list[int]:
    """The spreadsheet row numbers of lines starting at ``starts``.

    Every record is a row, blank ones included; a line break inside quotes does
    not start one (quotes, line breaks and delimiters are ASCII bytes in every
    allowed encoding, never part of a multi-byte character).
    """
    wanted = sorted(set(starts))
    numbers: dict[int, int] = {}
    row, inside, previous = 1, False, 0
    breaks = _LINE_BREAKS.finditer(data, 0, wanted[-1]) if wanted else iter(())
    pending = iter(wanted)
    target = next(pending, None)
    for found in breaks:
        inside ^= data.count(b'"', previous, found.start()) % 2 == 1
        previous = found.end()
        if not inside:
            row += 1
        while target is not None and target <= previous:
            numbers[target] = row
            target = next(pending, None)
    while target is not None:
        numbers[target] = row
        target = next(pending, None)
    return [numbers[start] for start in starts]


def _codec_name(name: str | None) -> str | None:
    """The Python codec name of a chardet answer, or ``None``."""
    # compat_names=True gives chardet 5.x names ("SHIFT_JIS", "Big5"), which
    # Python's codec registry resolves to the plain codecs of the allow-list
    # (chardet 7 otherwise answers supersets such as shift_jis_2004 or big5hkscs).
    if name is None:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _non_ascii_sample(data: bytes) -> bytes:
    """The lines that contain non-ASCII bytes, at most 2 KB of them.

    chardet is fooled by mostly-ASCII files (190 ASCII rows and 10 Cyrillic ones
    read as cp1252), so it only sees the evidence. Each line is cut at 256 bytes
    either side of its first non-ASCII byte, which keeps the search linear; a cut
    falls after a byte below 0x30 (space, punctuation, delimiter) when there is
    one, as no multibyte encoding of the allow-list uses such a byte inside a
    character, so the sample holds whole characters.
    """
    marked = data.translate(_MARK_HIGH)
    parts: list[bytes] = []
    size = 0
    position = 0
    while (at := marked.find(0x80, position)) >= 0:
        start, end = _line_around(data, marked, at)
        size += end - start + 1
        if size > _SAMPLE_BYTES:
            break  # full: lines are kept whole (at most 512 bytes each)
        parts.append(data[start:end])
        position = end
    return b"\n".join(parts)


def _line_around(data: bytes, marked: bytes, at: int) -> tuple[int, int]:
    low = max(0, at - _SAMPLE_REACH)
    start = marked.rfind(b"\n", low, at) + 1
    if start == 0 and low > 0:
        cut = _CUT_BYTE.search(data, low, at)
        start = cut.end() if cut else low
    high = min(len(data), at + _SAMPLE_REACH)
    end = marked.find(b"\n", at, high)
    if end >= 0:
        return start, end
    if high == len(data):
        return start, high
    cuts = [cut.start() for cut in _CUT_BYTE.finditer(data, at, high)]
    return start, cuts[-1] if cuts else high
