"""Exceptions: only for misuse and infrastructure, never for bad data (SPEC §4).

Problems in an upload are :class:`~userimport.Issue` values; these exceptions are
for a caller's mistake (committing a preview with errors), for bad organization data
handed to :class:`~userimport.OrgTree`, and for the store.
"""

from __future__ import annotations

__all__ = [
    "CommitBlocked",
    "CommitConflict",
    "HierarchyError",
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
    """The store changed between review and commit; nothing was written.

    A store raises it (with ``keys``) when a create meets an existing email key or an
    update finds the user changed; ``commit`` re-raises it with the spreadsheet
    ``rows`` concerned.

    Attributes:
        rows: Spreadsheet row numbers of the affected rows (may be empty when raised
            by a store, which knows no rows).
        keys: The email keys concerned.
    """

    def __init__(
        self, message: str, rows: tuple[int, ...] = (), keys: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.rows = rows
        self.keys = keys


class StoreError(UserImportError):
    """The store failed (connection lost, disk full, driver error); nothing written."""
