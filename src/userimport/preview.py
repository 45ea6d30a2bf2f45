"""What a review says and what Done did: the options, the preview, the result.

:class:`ImportOptions` says how an upload is read and reviewed; a :class:`Preview`
holds the review of every row and what it is bound to (the actor, the options'
fingerprint, the upload's digest); an :class:`ImportResult` says what a commit
wrote and what it left out. They are frozen values that round-trip through JSON
(:data:`userimport.converter`).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from userimport._messages import language
from userimport.access import Actor
from userimport.decoding import DEFAULT_MAX_BYTES
from userimport.issues import Issue, IssueCode
from userimport.persistence import StoredUser
from userimport.reading import DEFAULT_MAX_ROWS
from userimport.review import Action, Check, OnExisting, ReviewRow
from userimport.schema import COLUMNS, ColumnMatch, Role

__all__ = ["ImportOptions", "ImportResult", "Preview", "Summary"]


def _at_least_one(
    instance: object, attribute: attrs.Attribute[Any], value: int | None
) -> None:
    if value is not None and value < 1:
        raise ValueError(f"{attribute.name} must be at least 1, not {value}")


def _checks(value: Iterable[Check]) -> tuple[Check, ...]:
    return tuple(value)


def _columns(value: Mapping[str, str | None] | None) -> dict[str, str | None]:
    """The header mapping, checked: header cells to canonical columns or ``None``."""
    mapping = dict(value or {})
    for header, column in mapping.items():
        if not isinstance(header, str):
            raise TypeError(f"a header cell is text, not {header!r}")
        if column is not None and column not in COLUMNS:
            raise ValueError(
                f"columns maps {header!r} to {column!r}, which is not a column; "
                f"use one of {', '.join(COLUMNS)}, or None to ignore it"
            )
    return mapping


@attrs.frozen
class ImportOptions:
    """How an upload is read and what the import does.

    Attributes:
        max_rows: The most data rows a file may hold (``None`` lifts the limit;
            ``max_bytes`` still applies).
        max_bytes: The most bytes read from the upload.
        encoding: Force this encoding (a Python codec name) instead of detecting it.
        delimiter: Force this delimiter instead of detecting it.
        default_role: The role of rows whose ``role`` cell is empty.
        on_existing: What to do with rows whose email belongs to an existing user.
        checks: Host rules run on every otherwise valid row.
        columns: How to read header cells, for a frontend's "map your columns"
            step: a header cell as written mapped to its canonical column, or to
            ``None`` to ignore it. It overrides the automatic matching for the
            cells it names; the others are matched as usual.
        locale: The language of the messages (``"en"`` or ``"es"``; a region such
            as ``"es-MX"`` falls back to its language, and a language without a
            catalog to English).
    """

    max_rows: int | None = attrs.field(
        default=DEFAULT_MAX_ROWS, validator=_at_least_one
    )
    max_bytes: int = attrs.field(default=DEFAULT_MAX_BYTES, validator=_at_least_one)
    encoding: str | None = None
    delimiter: str | None = None
    default_role: Role = attrs.field(default=Role.LEARNER, converter=Role)
    on_existing: OnExisting = attrs.field(default=OnExisting.SKIP, converter=OnExisting)
    checks: tuple[Check, ...] = attrs.field(default=(), converter=_checks)
    columns: Mapping[str, str | None] = attrs.field(
        factory=dict, converter=_columns, hash=False
    )
    locale: str = attrs.field(default="en", validator=attrs.validators.instance_of(str))

    @property
    def fingerprint(self) -> str:
        """A digest of every option that shapes the review's outcome.

        A preview records the fingerprint of the options it was prepared with, and
        ``commit`` refuses options with another one. Host checks count by their
        qualified names (``module.function``), so two lambdas of one module look
        alike: give checks names.

        >>> default = ImportOptions().fingerprint
        >>> default == ImportOptions(on_existing="skip").fingerprint
        True
        >>> default == ImportOptions(on_existing="update").fingerprint
        False
        """
        shaping = [
            self.max_rows,
            self.max_bytes,
            self.encoding,
            self.delimiter,
            self.default_role.value,
            self.on_existing.value,
            [_check_name(check) for check in self.checks],
            sorted(self.columns.items(), key=lambda pair: pair[0]),
            language(self.locale),
        ]
        text = json.dumps(shaping, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256(text.encode("ascii")).hexdigest()


def _check_name(check: Check) -> str:
    module = getattr(check, "__module__", None) or type(check).__module__
    name = getattr(check, "__qualname__", None) or type(check).__qualname__
    return f"{module}.{name}"


@attrs.frozen
class Summary:
    """How many rows would be created, updated, skipped and left out as invalid."""

    total: int = 0
    create: int = 0
    update: int = 0
    skip: int = 0
    invalid: int = 0

    @classmethod
    def of(cls, rows: Iterable[ReviewRow]) -> Summary:
        """Count the actions of ``rows``."""
        # list.count finds the members by identity; a dict of counts would call the
        # enum's __hash__, written in Python, once per row.
        actions = [row.action for row in rows]
        return cls(
            total=len(actions),
            create=actions.count(Action.CREATE),
            update=actions.count(Action.UPDATE),
            skip=actions.count(Action.SKIP),
            invalid=actions.count(Action.INVALID),
        )


@attrs.frozen
class Preview:
    """The review step: what the upload holds and what commit would do with it.

    A preview round-trips through JSON with :data:`userimport.converter`, so a
    stateless frontend can keep it between the review and Done.

    Attributes:
        rows: One :class:`ReviewRow` per non-blank data row, in file order.
        issues: Every issue, file-level first, then by row.
        summary: The counts per action.
        encoding: The Python codec name the file was read with (``None`` if unread).
        delimiter: The delimiter (``None`` if the file could not be parsed).
        columns: How each header cell was understood (matched or ignored).
        on_existing: The policy the rows were reviewed under.
        default_role: The role given to rows with an empty ``role`` cell.
        actor: The administrator the review was made for; ``commit`` refuses any
            other (``None``: bound to no one, so never committed).
        options_fingerprint: :attr:`ImportOptions.fingerprint` of the options the
            review was made with; ``commit`` refuses any other options.
        upload_sha256: The SHA-256 of the uploaded bytes (hexadecimal), ``None``
            when the file was empty or over the size limit.
        locale: The language its messages are in (and its error report's).
        format: ``"xlsx"`` when the upload was an Excel workbook (``encoding`` and
            ``delimiter`` are then ``None``), ``"csv"`` otherwise.
    """

    rows: tuple[ReviewRow, ...]
    issues: tuple[Issue, ...]
    summary: Summary
    encoding: str | None
    delimiter: str | None
    columns: tuple[ColumnMatch, ...] = ()
    on_existing: OnExisting = attrs.field(default=OnExisting.SKIP, converter=OnExisting)
    default_role: Role = attrs.field(default=Role.LEARNER, converter=Role)
    actor: Actor | None = None
    options_fingerprint: str = ""
    upload_sha256: str | None = None
    locale: str = "en"
    format: str = "csv"

    @property
    def file_issues(self) -> tuple[Issue, ...]:
        """The issues about the file as a whole (``row`` is ``None``)."""
        return tuple(issue for issue in self.issues if issue.row is None)

    @property
    def ok(self) -> bool:
        """Whether there is no error at all: commit would write every row."""
        return not any(issue.is_error for issue in self.issues)

    @property
    def missing_columns(self) -> tuple[str, ...]:
        """The canonical columns the file lacks, optional ones included, in template
        order (empty when the header could not be read).

        A file without ``organization`` puts every user in the actor's own
        organization; a reviewer should be told.
        """
        if not self.columns:
            return ()
        found = {match.column for match in self.columns}
        return tuple(column for column in COLUMNS if column not in found)

    @property
    def issue_counts(self) -> Mapping[IssueCode, int]:
        """How many rows have each issue code (a row counts once per code), for
        "12 invalid emails, 3 unknown organizations" summaries and filters."""
        return dict(
            Counter(code for row in self.rows for code in {i.code for i in row.issues})
        )

    @property
    def can_commit(self) -> bool:
        """Whether commit can go ahead, maybe with ``skip_invalid=True``.

        True when no file-level error blocks the import and at least one row is
        valid; when :attr:`ok` is false too, only ``skip_invalid=True`` commits.
        """
        blocked = any(issue.is_error for issue in self.file_issues)
        return not blocked and self.summary.invalid < self.summary.total


@attrs.frozen
class ImportResult:
    """What a commit did.

    Attributes:
        created: Users created.
        updated: Users updated.
        skipped: Rows left as they were (existing users, unchanged or example rows).
        invalid: Invalid rows left out under ``skip_invalid``.
        users: The stored users written, in row order.
        left_out: The rows not written because they were invalid at review, as
            reviewed, in row order: what the administrator still has to fix
            (``error_report(result)`` gives them back as a file).
        delimiter: The upload's delimiter, for that report.
        locale: The language its rows' messages are in (and that report's).
    """

    created: int = 0
    updated: int = 0
    skipped: int = 0
    invalid: int = 0
    users: tuple[StoredUser, ...] = ()
    left_out: tuple[ReviewRow, ...] = ()
    delimiter: str | None = None
    locale: str = "en"
