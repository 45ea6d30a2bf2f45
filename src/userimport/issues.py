"""Problems found in an upload, returned as data.

An :class:`Issue` has a stable :class:`IssueCode` that frontends switch on (and may
translate), a position (spreadsheet ``row`` and canonical ``column``), the offending
raw ``value`` and one English sentence that tells the user what to fix.
"""

from __future__ import annotations

import enum

import attrs

__all__ = ["FILE_ERROR_CODES", "Issue", "IssueCode", "Severity"]


class Severity(str, enum.Enum):
    """How bad an issue is: errors block the row (or the file), warnings do not."""

    ERROR = "error"
    WARNING = "warning"

    def __str__(self) -> str:
        return self.value


class IssueCode(str, enum.Enum):
    """Stable machine-readable issue codes; the value is the wire form."""

    # File-level errors: any of them blocks the whole import.
    EMPTY_FILE = "empty_file"
    FILE_TOO_LARGE = "file_too_large"
    BINARY_FILE = "binary_file"
    UNDECODABLE = "undecodable"
    MALFORMED_CSV = "malformed_csv"
    MISSING_COLUMNS = "missing_columns"
    DUPLICATE_COLUMNS = "duplicate_columns"
    NO_ROWS = "no_rows"
    TOO_MANY_ROWS = "too_many_rows"
    MIXED_ENCODINGS = "mixed_encodings"
    # File-level warnings.
    UNKNOWN_COLUMNS = "unknown_columns"
    ENCODING_GUESSED = "encoding_guessed"
    # Row-level.
    EXAMPLE_ROW = "example_row"
    LEFT_OUT = "left_out"
    MISSING_VALUE = "missing_value"
    VALUE_TOO_LONG = "value_too_long"
    INVALID_CHARACTERS = "invalid_characters"
    INVALID_EMAIL = "invalid_email"
    DUPLICATE_EMAIL = "duplicate_email"
    CONFUSABLE_EMAIL = "confusable_email"
    EMAIL_EXISTS = "email_exists"
    EMAIL_TAKEN = "email_taken"
    UNKNOWN_ORGANIZATION = "unknown_organization"
    AMBIGUOUS_ORGANIZATION = "ambiguous_organization"
    INVALID_ROLE = "invalid_role"
    ROLE_NOT_ALLOWED = "role_not_allowed"
    INVALID_LANGUAGE = "invalid_language"
    WRONG_FIELD_COUNT = "wrong_field_count"
    HOST_CHECK = "host_check"

    def __str__(self) -> str:
        return self.value

    @property
    def description(self) -> str:
        """What the code means, in one sentence (for documentation and help)."""
        return _DESCRIPTIONS[self]


_DESCRIPTIONS: dict[IssueCode, str] = {
    IssueCode.EMPTY_FILE: "The upload holds no bytes, or only blank lines.",
    IssueCode.FILE_TOO_LARGE: "The upload is larger than `max_bytes`; "
    "reading stopped at the limit.",
    IssueCode.BINARY_FILE: "The upload is not text: an Excel workbook, a PDF, "
    "an image or another binary file.",
    IssueCode.UNDECODABLE: "The text cannot be decoded in the forced encoding, "
    "or in any accepted one.",
    IssueCode.MALFORMED_CSV: "The CSV structure is broken, for example "
    "a quote that is never closed.",
    IssueCode.MISSING_COLUMNS: "A required column (first name, last name, email) "
    "is not in the header.",
    IssueCode.DUPLICATE_COLUMNS: "Two header cells name the same column.",
    IssueCode.NO_ROWS: "The file has a header but no user rows.",
    IssueCode.TOO_MANY_ROWS: "The file has more rows than `max_rows` "
    "(200 by default); nothing is imported.",
    IssueCode.MIXED_ENCODINGS: "Some rows are UTF-8 and others are in another "
    "encoding, as when two exports are pasted together.",
    IssueCode.UNKNOWN_COLUMNS: "Some header cells name no known column; "
    "those columns are ignored (warning).",
    IssueCode.ENCODING_GUESSED: "The encoding was guessed; check that accented "
    "names look right (warning).",
    IssueCode.LEFT_OUT: "The reviewer left the row out of the import; it is skipped.",
    IssueCode.EXAMPLE_ROW: "The template's example row was left in the file; "
    "it is skipped (warning).",
    IssueCode.MISSING_VALUE: "A required value is empty.",
    IssueCode.VALUE_TOO_LONG: "A value is longer than its column allows.",
    IssueCode.INVALID_CHARACTERS: "A value holds control, invisible or "
    "bidirectional characters, or starts like a spreadsheet formula.",
    IssueCode.INVALID_EMAIL: "The email address is not valid.",
    IssueCode.DUPLICATE_EMAIL: "The same email appears in an earlier row "
    "(compared without case).",
    IssueCode.CONFUSABLE_EMAIL: "The email looks the same as another row's or as "
    "the email of a user you manage (a look-alike letter, such as a Cyrillic a) but "
    "is a different user (warning; with the `confusables` extra).",
    IssueCode.EMAIL_EXISTS: "A user you manage already has this email; "
    "its severity follows `on_existing`.",
    IssueCode.EMAIL_TAKEN: "A user outside the organizations you manage "
    "has this email.",
    IssueCode.UNKNOWN_ORGANIZATION: "No organization you manage matches the "
    "reference (the same whether it exists elsewhere or not).",
    IssueCode.AMBIGUOUS_ORGANIZATION: "Several organizations you manage match "
    "the reference.",
    IssueCode.INVALID_ROLE: "The role is not one of learner, instructor, "
    "manager, admin.",
    IssueCode.ROLE_NOT_ALLOWED: "The role is above the importing administrator's own.",
    IssueCode.INVALID_LANGUAGE: "The language is not an ISO 639-1 code, "
    "optionally with a region (`es`, `pt-BR`).",
    IssueCode.WRONG_FIELD_COUNT: "The row has more cells than the header, "
    "and the extra cells are not empty.",
    IssueCode.HOST_CHECK: "A rule of the host application failed.",
}


#: The codes that describe the file as a whole; an error among them blocks the import.
FILE_ERROR_CODES = frozenset(
    {
        IssueCode.EMPTY_FILE,
        IssueCode.FILE_TOO_LARGE,
        IssueCode.BINARY_FILE,
        IssueCode.UNDECODABLE,
        IssueCode.MALFORMED_CSV,
        IssueCode.MISSING_COLUMNS,
        IssueCode.DUPLICATE_COLUMNS,
        IssueCode.NO_ROWS,
        IssueCode.TOO_MANY_ROWS,
        IssueCode.MIXED_ENCODINGS,
    }
)


@attrs.frozen
class Issue:
    """One problem in the upload, or in one row of it.

    Attributes:
        code: What kind of problem; stable, switch on this (never on ``message``).
        severity: :attr:`Severity.ERROR` blocks the row (or the file for file-level
            codes); :attr:`Severity.WARNING` is shown but does not block.
        row: The spreadsheet row number (the first record of the file is row 1), or
            ``None`` for a file-level issue or a single user (``validate_user``).
        column: The canonical column concerned (``"email"``, ...) or ``None``.
        value: The offending raw value, or ``None``.
        message: One English sentence telling the user what to fix.
    """

    code: IssueCode = attrs.field(converter=IssueCode)
    severity: Severity = attrs.field(converter=Severity)
    message: str
    row: int | None = None
    column: str | None = None
    value: str | None = None

    @property
    def is_error(self) -> bool:
        """Whether this issue blocks its row (or the file)."""
        return self.severity is Severity.ERROR

    @classmethod
    def error(
        cls,
        code: IssueCode | str,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
        value: str | None = None,
    ) -> Issue:
        """An issue of severity error."""
        return cls(code, Severity.ERROR, message, row=row, column=column, value=value)

    @classmethod
    def warning(
        cls,
        code: IssueCode | str,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
        value: str | None = None,
    ) -> Issue:
        """An issue of severity warning."""
        return cls(code, Severity.WARNING, message, row=row, column=column, value=value)
