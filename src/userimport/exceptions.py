"""Exceptions: only for misuse and infrastructure, never for bad data.

Problems in an upload are :class:`~userimport.Issue` values; these exceptions are
for a caller's mistake (committing a preview with errors), for bad organization data
handed to :class:`~userimport.OrgTree`, and for the store.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "CommitBlocked",
    "CommitConflict",
    "HierarchyError",
    "PreviewMismatch",
    "SealError",
    "StoreError",
    "UserImportError",
]


class UserImportError(Exception):
    """Base class of every exception raised by userimport."""


class HierarchyError(UserImportError, ValueError):
    """The organization data is inconsistent (unknown parent, duplicate id, cycle).

    Attributes:
        ids: The offending organization ids.
    """

    def __init__(self, message: str, ids: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.ids = ids


class CommitBlocked(UserImportError):
    """``commit`` was asked to write a preview that has errors.

    Raised when the preview has file-level errors, or invalid rows and
    ``skip_invalid`` is false. Nothing was written.

    Attributes:
        rows: The spreadsheet row numbers of the invalid rows (empty for a
            file-level error).
    """

    def __init__(self, message: str, rows: tuple[int, ...] = ()) -> None:
        super().__init__(message)
        self.rows = rows


class CommitConflict(UserImportError):
    """Some rows would not be written as they were reviewed; nothing was written.

    ``commit`` raises it when a row's outcome recomputed now differs from the
    review's (an organization renamed or moved, rights changed, an email created
    meanwhile); a store raises it (with ``keys``) when a create meets an existing
    email key or an update finds the user changed, and ``commit`` re-raises it with
    the spreadsheet ``rows`` concerned.

    Attributes:
        rows: Spreadsheet row numbers of the affected rows (may be empty when raised
            by a store, which knows no rows).
        keys: The email keys concerned.
        reasons: What changed, by row number, one clause each (for the rows
            ``commit`` found; empty for a store's conflict).
    """

    def __init__(
        self,
        message: str,
        rows: tuple[int, ...] = (),
        keys: tuple[str, ...] = (),
        reasons: Mapping[int, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.rows = rows
        self.keys = keys
        self.reasons: Mapping[int, str] = dict(reasons or {})


class PreviewMismatch(UserImportError):
    """The preview was made for another actor or other options, or was altered.

    ``commit`` refuses such a preview before looking at its rows; nothing was
    written. Prepare the file again for this administrator and these options.
    """


class SealError(UserImportError):
    """A sealed preview was altered, has expired, or was signed with an unknown key.

    Raised by :func:`userimport.unseal`; the token must not be used.
    """


class StoreError(UserImportError):
    """The store failed (connection lost, disk full, driver error); nothing written."""
