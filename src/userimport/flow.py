"""The import flow: ``prepare`` → :class:`Preview` (the review) → ``commit`` (SPEC §6).

``prepare`` reads and validates an upload against the organization tree, the actor's
rights and the store, and says what would happen to every row. ``commit`` never trusts
the preview: it recomputes every row from the raw values with the committing actor's
rights and the store as it is now, and writes all rows or none.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from userimport.access import Actor
from userimport.decoding import DEFAULT_MAX_BYTES, Readable
from userimport.exceptions import (
    CommitBlocked,
    CommitConflict,
    PreviewMismatch,
    StoreError,
    UserImportError,
)
from userimport.formulas import unprotect_values
from userimport.hierarchy import OrgTree
from userimport.issues import Issue, IssueCode
from userimport.persistence import StoredUser, UserStore, UserWrite
from userimport.reading import DEFAULT_MAX_ROWS, read_records
from userimport.review import (
    Action,
    Check,
    OnExisting,
    ReviewContext,
    ReviewRow,
    blank_values,
    review_rows,
)
from userimport.schema import COLUMNS, ColumnMatch, Role

__all__ = [
    "Action",
    "Check",
    "ImportOptions",
    "ImportResult",
    "OnExisting",
    "Preview",
    "ReviewRow",
    "Summary",
    "commit",
    "prepare",
    "validate_user",
]


def _at_least_one(
    instance: object, attribute: attrs.Attribute[Any], value: int | None
) -> None:
    if value is not None and value < 1:
        raise ValueError(f"{attribute.name} must be at least 1, not {value}")


def _checks(value: Iterable[Check]) -> tuple[Check, ...]:
    return tuple(value)


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
        checks: Host rules run on every otherwise valid row (SPEC §10).
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

    @property
    def file_issues(self) -> tuple[Issue, ...]:
        """The issues about the file as a whole (``row`` is ``None``)."""
        return tuple(issue for issue in self.issues if issue.row is None)

    @property
    def ok(self) -> bool:
        """Whether there is no error at all: commit would write every row."""
        return not any(issue.is_error for issue in self.issues)

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
    """

    created: int = 0
    updated: int = 0
    skipped: int = 0
    invalid: int = 0
    users: tuple[StoredUser, ...] = ()
    left_out: tuple[ReviewRow, ...] = ()
    delimiter: str | None = None


def _context(
    actor: Actor,
    orgs: OrgTree,
    on_existing: OnExisting,
    default_role: Role,
    checks: Sequence[Check],
) -> ReviewContext:
    if actor.org_id not in orgs:
        raise UserImportError(
            f"The actor's organization {actor.org_id!r} is not in the tree."
        )
    return ReviewContext(actor, orgs, on_existing, default_role, tuple(checks))


# --- the public flow ---------------------------------------------------------------


def prepare(
    data: bytes | Readable,
    *,
    actor: Actor,
    orgs: OrgTree,
    store: UserStore,
    options: ImportOptions | None = None,
) -> Preview:
    """Read and validate an upload and say what would happen to every row.

    Problems in the data are returned in the preview, never raised.

    Args:
        data: The uploaded file, as bytes or a binary file object (read at most
            ``options.max_bytes`` bytes).
        actor: The importing administrator.
        orgs: The organization tree.
        store: Where users live (looked up, never written).
        options: How to read and import; defaults to :class:`ImportOptions`.

    Raises:
        UserImportError: The actor's organization is not in ``orgs`` (misuse).
        StoreError: The store failed.
    """
    options = options if options is not None else ImportOptions()
    ctx = _context(
        actor, orgs, options.on_existing, options.default_role, options.checks
    )
    # The records' values hold every canonical column: they are reviewed as they
    # are, without blank_values' copy.
    upload, records = read_records(
        data,
        max_bytes=options.max_bytes,
        max_rows=options.max_rows,
        encoding=options.encoding,
        delimiter=options.delimiter,
    )
    # A re-uploaded error report: undo the formula guard the library itself added
    # (formulas.protect_cell), so the values come back exactly as first uploaded.
    unprotected = [(r, unprotect_values(v), found) for r, v, found in records]
    rows, _ = review_rows(unprotected, ctx, store)
    issues = [*upload.issues]
    for review_row in rows:
        issues.extend(review_row.issues)
    return Preview(
        rows=tuple(rows),
        issues=tuple(issues),
        summary=Summary.of(rows),
        encoding=upload.encoding,
        delimiter=upload.delimiter,
        columns=upload.columns,
        on_existing=options.on_existing,
        default_role=options.default_role,
        actor=actor,
        options_fingerprint=options.fingerprint,
        upload_sha256=upload.sha256,
    )


def validate_user(
    values: Mapping[str, str],
    *,
    actor: Actor,
    orgs: OrgTree,
    store: UserStore,
    options: ImportOptions | None = None,
) -> ReviewRow:
    """Apply the import's rules to one user, for a "create a new user" form.

    Args:
        values: Raw strings by canonical column (missing columns are empty).
        actor: The administrator.
        orgs: The organization tree.
        store: Where users live.
        options: ``default_role``, ``on_existing`` and ``checks`` apply.

    Returns:
        A :class:`ReviewRow` whose ``row`` is ``None``, with every problem found.
    """
    options = options if options is not None else ImportOptions()
    ctx = _context(
        actor, orgs, options.on_existing, options.default_role, options.checks
    )
    rows, _ = review_rows([(None, blank_values(values), ())], ctx, store)
    return rows[0]


def commit(
    preview: Preview,
    *,
    actor: Actor,
    orgs: OrgTree,
    store: UserStore,
    skip_invalid: bool = False,
    options: ImportOptions | None = None,
) -> ImportResult:
    """Write exactly the reviewed rows, all of them or none, in one store call.

    Nothing in the preview is trusted. It must have been made for this actor and
    these options, and every row is recomputed from its raw values with the tree,
    the actor's rights and the store as they are now: any row whose outcome differs
    from the reviewed one in any way (its action, any field of its user, the
    changes of an update, or a valid row that is invalid now) makes the whole
    commit a :class:`CommitConflict`. The store gets the writes in email-key order
    and checks, in its transaction, that the users it updates are still those
    reviewed.

    Args:
        preview: The reviewed upload (from :func:`prepare`; a preview kept by a
            client comes back through :func:`userimport.unseal`).
        actor: The committing administrator: the one the review was made for.
        orgs: The organization tree.
        store: Where users live.
        skip_invalid: Leave out the rows that were invalid at review instead of
            refusing the commit. A row valid at review is never left out.
        options: The server's options, the ones ``prepare`` was given (default
            :class:`ImportOptions`); never options that came from a client.

    Raises:
        PreviewMismatch: The preview was made for another actor or other options,
            or holds more rows than ``options.max_rows``. Nothing was written.
        CommitBlocked: The preview has file-level errors, or invalid rows and
            ``skip_invalid`` is false. Nothing was written.
        CommitConflict: Some rows would not be written as reviewed; ``rows`` and
            ``reasons`` say which and why. Nothing was written.
        StoreError: The store failed. Nothing was written.
    """
    options = options if options is not None else ImportOptions()
    _check_binding(preview, actor, options)
    if any(issue.is_error for issue in preview.file_issues):
        raise CommitBlocked("The file has errors that block the whole import.")
    ctx = _context(
        actor, orgs, options.on_existing, options.default_role, options.checks
    )
    # Issues found while reading (wrong_field_count) are not in the values: keep them.
    records = [
        (
            r.row,
            blank_values(r.values),
            tuple(i for i in r.issues if i.code is IssueCode.WRONG_FIELD_COUNT),
        )
        for r in preview.rows
    ]
    rows, existing = review_rows(records, ctx, store)

    reasons: dict[int | None, str] = {}
    left_out: list[ReviewRow] = []
    for index, (before, now) in enumerate(zip(preview.rows, rows, strict=True)):
        if before.action is Action.INVALID:
            # A row the review showed as invalid is never written, even if it
            # passes now.
            rows[index] = before
            left_out.append(before)
            continue
        reason = _difference(before, now)
        if reason is not None:
            reasons[now.row] = reason
    if reasons:
        numbers = tuple(row for row in reasons if row is not None)
        raise CommitConflict(
            f"{_rows_label(list(reasons))} would not be imported as reviewed, so "
            "nothing was written ("
            + "; ".join(f"row {row}: {reason}" for row, reason in reasons.items())
            + "); review the file again.",
            rows=numbers,
            reasons={row: reasons[row] for row in numbers},
        )
    if left_out and not skip_invalid:
        raise CommitBlocked(
            f"{_rows_label([r.row for r in left_out])} "
            f"{'has' if len(left_out) == 1 else 'have'} errors; fix them, or import "
            "only the valid rows.",
            rows=tuple(r.row for r in left_out if r.row is not None),
        )

    writes = [
        UserWrite(row.user, existing.get(row.user.key))
        for row in rows
        if row.user is not None and row.action in (Action.CREATE, Action.UPDATE)
    ]
    # The store gets the batch in key order, so that concurrent imports touching the
    # same users lock them in the same order and never deadlock; the result lists
    # the users in row order.
    order = sorted(range(len(writes)), key=lambda index: writes[index].key)
    stored = _apply(store, [writes[index] for index in order], rows)
    in_rows: list[StoredUser | None] = [None] * len(writes)
    for index, user in zip(order, stored, strict=True):
        in_rows[index] = user
    summary = Summary.of(rows)
    return ImportResult(
        created=summary.create,
        updated=summary.update,
        skipped=summary.skip,
        invalid=summary.invalid,
        users=tuple(user for user in in_rows if user is not None),
        left_out=tuple(left_out),
        delimiter=preview.delimiter,
    )


def _check_binding(preview: Preview, actor: Actor, options: ImportOptions) -> None:
    """Refuse a preview made for another actor or other options, or too long."""
    if preview.actor != actor:
        raise PreviewMismatch(
            "This review was made for another administrator (or altered); "
            "upload the file again."
        )
    if preview.options_fingerprint != options.fingerprint:
        raise PreviewMismatch(
            "This review was made with other import options (or altered); "
            "upload the file again."
        )
    if options.max_rows is not None and len(preview.rows) > options.max_rows:
        raise PreviewMismatch(
            f"This review holds {len(preview.rows)} rows, more than the limit of "
            f"{options.max_rows}; it was altered. Upload the file again."
        )


#: The user fields a commit compares with the review, with their names for people.
_FIELD_NAMES = {column: column.replace("_", " ") for column in COLUMNS}


def _difference(before: ReviewRow, now: ReviewRow) -> str | None:
    """What would be written differently for a row than was reviewed, or ``None``."""
    if now.action is not before.action:
        return f"it was to {_verb(before.action)} and would now {_verb(now.action)}"
    if before.user != now.user:
        if before.user is None or now.user is None:
            return "its user differs from the review"
        fields = [
            name
            for column, name in _FIELD_NAMES.items()
            if getattr(before.user, column) != getattr(now.user, column)
        ]
        return f"its {', '.join(fields)} would differ from the review"
    if dict(before.changes) != dict(now.changes):
        return "the changes of its update differ from the review"
    return None


def _verb(action: Action) -> str:
    return {
        Action.CREATE: "create a user",
        Action.UPDATE: "update a user",
        Action.SKIP: "be skipped",
        Action.INVALID: "be invalid",
    }[action]


def _rows_label(rows: Sequence[int | None]) -> str:
    """``Row 2``, ``Rows 2, 5 and 9``, or ``Rows 2, 3, ... and 40 more``."""
    numbers = [str(row) for row in rows if row is not None]
    if not numbers:
        return "The user"
    if len(numbers) == 1:
        return f"Row {numbers[0]}"
    if len(numbers) <= 10:
        return f"Rows {', '.join(numbers[:-1])} and {numbers[-1]}"
    return f"Rows {', '.join(numbers[:10])} and {len(numbers) - 10} more"


def _apply(
    store: UserStore, writes: Sequence[UserWrite], rows: Sequence[ReviewRow]
) -> Sequence[StoredUser]:
    if not writes:
        return ()
    try:
        return store.apply(writes)
    except CommitConflict as exc:
        keys = set(exc.keys)
        conflicting = tuple(
            row.row
            for row in rows
            if row.user is not None and row.user.key in keys and row.row is not None
        )
        raise CommitConflict(
            f"{_rows_label(conflicting)}: the users changed since the review; "
            "nothing was written; review the file again.",
            rows=conflicting,
            keys=exc.keys,
        ) from exc
    except UserImportError:
        raise
    except Exception as exc:
        raise StoreError(f"The user store failed; nothing was written: {exc}") from exc
