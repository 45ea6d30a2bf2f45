"""The import flow: ``prepare`` → :class:`Preview` (the review) → ``commit``.

``prepare`` reads and validates an upload against the organization tree, the actor's
rights and the store, and says what would happen to every row; ``revise`` applies the
reviewer's edits and drops and reviews every row again. ``commit`` never trusts the
preview: it must be bound to the committing actor and the server's options, every
row is recomputed from its raw values with the tree, the rights and the store as
they are now, and all rows are written as reviewed, or none.

It is long because it holds the four public steps of the flow (prepare, revise, commit,
validate_user) and the comparison that makes commit write exactly what was reviewed;
splitting them would separate commit from the rules it checks.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence

import attrs

from userimport._labels import FIELD_NAMES
from userimport._messages import language, listing, message, say
from userimport.access import Actor
from userimport.decoding import Readable
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
from userimport.preview import ImportOptions, ImportResult, Preview, Summary
from userimport.reading import MAX_CELL_LENGTH, read_records
from userimport.review import (
    Action,
    Check,
    OnExisting,
    ReviewContext,
    ReviewRow,
    blank_values,
    review_rows,
)
from userimport.schema import COLUMNS, Role

__all__ = ["commit", "prepare", "revise", "validate_user"]


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
        columns=options.columns,
        locale=options.locale,
    )
    # A re-uploaded error report: undo the formula guard the library itself added
    # (formulas.protect_cell), so the values come back exactly as first uploaded.
    unprotected = [(r, unprotect_values(v), found) for r, v, found in records]
    reviewed, _ = review_rows(unprotected, ctx, store)
    rows = _said(reviewed, options.locale)
    issues = [*_said_issues(upload.issues, options.locale)]
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
        format=upload.format,
        locale=language(options.locale),
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
    return _said(rows, options.locale)[0]


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
        raise CommitBlocked(
            say(
                message("The file has errors that block the whole import."),
                options.locale,
            )
        )
    ctx = _context(
        actor, orgs, options.on_existing, options.default_role, options.checks
    )
    dropped = {row.row for row in preview.rows if _is_left_out(row)}
    rows, existing = _review_again(preview.rows, dropped, ctx, store)

    reasons: dict[int | None, str] = {}
    left_out: list[ReviewRow] = []
    for index, (before, now) in enumerate(zip(preview.rows, rows, strict=True)):
        if before.row in dropped:
            left_out.append(now)
            continue
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
        each = [
            message("row {row}: {reason}", row=row, reason=reason)
            for row, reason in reasons.items()
        ]
        text = message(
            "{rows} would not be imported as reviewed, so nothing was written "
            "({reasons}); review the file again.",
            rows=_rows_label(list(reasons)),
            reasons=listing(each, "; "),
        )
        raise CommitConflict(
            say(text, options.locale),
            rows=numbers,
            reasons={row: say(reasons[row], options.locale) for row in numbers},
        )
    invalid = [row for row in left_out if row.row not in dropped]
    if invalid and not skip_invalid:
        label = _rows_label([r.row for r in invalid])
        text = (
            message(
                "{rows} has errors; fix it, or import only the valid rows.", rows=label
            )
            if len(invalid) == 1
            else message(
                "{rows} have errors; fix them, or import only the valid rows.",
                rows=label,
            )
        )
        raise CommitBlocked(
            say(text, options.locale),
            rows=tuple(r.row for r in invalid if r.row is not None),
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
    stored = _apply(store, [writes[index] for index in order], rows, options.locale)
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
        # The rows left out by the reviewer were reviewed again: said again.
        left_out=tuple(_said(left_out, options.locale)),
        delimiter=preview.delimiter,
        locale=language(options.locale),
    )


def revise(
    preview: Preview,
    *,
    edits: Mapping[int, Mapping[str, str]] | None = None,
    drop: Iterable[int] | None = None,
    actor: Actor,
    orgs: OrgTree,
    store: UserStore,
    options: ImportOptions | None = None,
) -> Preview:
    """The review again, after the reviewer fixed cells and left rows out.

    Every row is reviewed again through the one review path, so an edit can create
    or clear a duplicate elsewhere, and the organizations, rights and store are
    those of now. Row numbers never change. The result is bound like the preview
    it revises, so :func:`commit` and :func:`userimport.seal` take it.

    Edits are untrusted input like the upload: the same validation applies to them
    (length, hidden characters, formula-like names), and no edited cell may be
    longer than the reader accepts in a cell. A row whose cells are all emptied
    stays in the review with its missing values (a file would skip a blank
    record); leave it out with ``drop``.

    Args:
        preview: The review to revise, as the server made it (or unsealed it).
        edits: New raw values by spreadsheet row number, then canonical column.
        drop: The rows to leave out (action ``skip``, warning ``left_out``): all
            of them, so a row left out before and not listed comes back. ``None``
            keeps the rows left out as they are.
        actor: The administrator: the one the preview was made for.
        orgs: The organization tree.
        store: Where users live (looked up, never written).
        options: The server's options: those of the preview.

    Raises:
        PreviewMismatch: The preview was made for another actor or other options.
        ValueError: An edit or a drop names a row the preview does not have, an
            edit names a column that does not exist, or an edited cell is too long
            or holds a lone surrogate (no file can).
        TypeError: An edited value is not text.
    """
    options = options if options is not None else ImportOptions()
    _check_binding(preview, actor, options)
    numbers = {row.row for row in preview.rows if row.row is not None}
    edits = dict(edits or {})
    for number, cells in edits.items():
        if number not in numbers:
            raise ValueError(f"The review has no row {number!r} to edit.")
        for column, value in cells.items():
            if column not in COLUMNS:
                raise ValueError(
                    f"Row {number} has no column {column!r}; edit one of "
                    f"{', '.join(COLUMNS)}."
                )
            if not isinstance(value, str):
                raise TypeError(f"An edited value is text, not {value!r}.")
            if not _encodable(value):
                raise ValueError(
                    f"The edit of row {number}, column {column}, is not text a file "
                    "can hold (it has a lone surrogate code point)."
                )
            if len(value) > MAX_CELL_LENGTH:
                raise ValueError(
                    f"The edit of row {number}, column {column}, is "
                    f"{len(value):,} characters long; a cell holds at most "
                    f"{MAX_CELL_LENGTH:,}."
                )
    if drop is None:
        dropped = {row.row for row in preview.rows if _is_left_out(row)}
    else:
        dropped = set(drop)
        unknown = sorted(map(repr, dropped - numbers))
        if unknown:
            raise ValueError(f"The review has no row {', '.join(unknown)} to drop.")
    ctx = _context(
        actor, orgs, options.on_existing, options.default_role, options.checks
    )
    edited = [
        attrs.evolve(row, values={**blank_values(row.values), **edits[row.row]})
        if row.row in edits
        else row
        for row in preview.rows
    ]
    reviewed, _ = _review_again(edited, dropped, ctx, store)
    rows = _said(reviewed, options.locale)
    issues = [*preview.file_issues, *(issue for row in rows for issue in row.issues)]
    return attrs.evolve(
        preview, rows=tuple(rows), issues=tuple(issues), summary=Summary.of(rows)
    )


def _encodable(text: str) -> bool:
    """Whether ``text`` can be written in UTF-8 (it holds no lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _said(rows: Sequence[ReviewRow], locale: str) -> list[ReviewRow]:
    """The rows with their issues said in the language of ``locale``."""
    if language(locale) == "en":
        return list(rows)
    return [
        attrs.evolve(row, issues=_said_issues(row.issues, locale))
        if row.issues
        else row
        for row in rows
    ]


def _said_issues(issues: Sequence[Issue], locale: str) -> tuple[Issue, ...]:
    if language(locale) == "en":
        return tuple(issues)
    return tuple(attrs.evolve(i, message=say(i.message, locale)) for i in issues)


def _is_left_out(row: ReviewRow) -> bool:
    return any(issue.code is IssueCode.LEFT_OUT for issue in row.issues)


def _review_again(
    rows: Sequence[ReviewRow],
    dropped: Collection[int | None],
    ctx: ReviewContext,
    store: UserStore,
) -> tuple[list[ReviewRow], dict[str, StoredUser]]:
    """Review rows again from their raw values; the ``dropped`` ones are left out.

    A row left out takes no part in the review (it is nobody's duplicate); it is
    skipped with the warning ``left_out``.
    """
    kept = [row for row in rows if row.row not in dropped]
    # Issues found while reading (wrong_field_count) are not in the values: keep them.
    records = [
        (
            row.row,
            blank_values(row.values),
            tuple(i for i in row.issues if i.code is IssueCode.WRONG_FIELD_COUNT),
        )
        for row in kept
    ]
    reviewed, existing = review_rows(records, ctx, store)
    again = iter(reviewed)
    return [
        _left_out(row) if row.row in dropped else next(again) for row in rows
    ], existing


def _left_out(row: ReviewRow) -> ReviewRow:
    return ReviewRow(
        row.row,
        row.values,
        None,
        Action.SKIP,
        (
            Issue.warning(
                IssueCode.LEFT_OUT,
                message(
                    "You left this row out of the import; it will not be imported."
                ),
                row=row.row,
            ),
        ),
    )


def _check_binding(preview: Preview, actor: Actor, options: ImportOptions) -> None:
    """Refuse a preview made for another actor or other options, or too long."""
    if preview.actor != actor:
        raise PreviewMismatch(
            say(
                message(
                    "This review was made for another administrator (or altered); "
                    "upload the file again."
                ),
                options.locale,
            )
        )
    if preview.options_fingerprint != options.fingerprint:
        raise PreviewMismatch(
            say(
                message(
                    "This review was made with other import options (or altered); "
                    "upload the file again."
                ),
                options.locale,
            )
        )
    if options.max_rows is not None and len(preview.rows) > options.max_rows:
        raise PreviewMismatch(
            say(
                message(
                    "This review holds {count} rows, more than the limit of {limit}; "
                    "it was altered. Upload the file again.",
                    count=len(preview.rows),
                    limit=options.max_rows,
                ),
                options.locale,
            )
        )


def _difference(before: ReviewRow, now: ReviewRow) -> str | None:
    """What would be written differently for a row than was reviewed, or ``None``."""
    if before.action is Action.CREATE and any(
        issue.code in _STORE_CODES for issue in now.issues
    ):
        return message("its email now belongs to a user created since the review")
    if now.action is not before.action:
        return message(
            "it was to {before} and would now {now}",
            before=_VERBS[before.action],
            now=_VERBS[now.action],
        )
    if before.user != now.user:
        if before.user is None or now.user is None:
            return message("its user differs from the review")
        fields = [
            name
            for column, name in FIELD_NAMES.items()
            if getattr(before.user, column) != getattr(now.user, column)
        ]
        return message(
            "its {fields} would differ from the review", fields=listing(fields)
        )
    if dict(before.changes) != dict(now.changes):
        return message("the changes of its update differ from the review")
    return None


#: The issues that come from the store: a user created since the review.
_STORE_CODES = frozenset({IssueCode.EMAIL_EXISTS, IssueCode.EMAIL_TAKEN})

_VERBS = {
    Action.CREATE: message("create a user"),
    Action.UPDATE: message("update a user"),
    Action.SKIP: message("be skipped"),
    Action.INVALID: message("be invalid"),
}


def _rows_label(rows: Sequence[int | None]) -> str:
    """``Row 2``, ``Rows 2, 5 and 9``, or ``Rows 2, 3, ... and 40 more``."""
    numbers = [str(row) for row in rows if row is not None]
    if not numbers:
        return message("The user")
    if len(numbers) == 1:
        return message("Row {row}", row=numbers[0])
    if len(numbers) <= 10:
        return message(
            "Rows {rows} and {last}", rows=", ".join(numbers[:-1]), last=numbers[-1]
        )
    return message(
        "Rows {rows} and {more} more",
        rows=", ".join(numbers[:10]),
        more=len(numbers) - 10,
    )


def _apply(
    store: UserStore,
    writes: Sequence[UserWrite],
    rows: Sequence[ReviewRow],
    locale: str,
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
            say(
                message(
                    "{rows}: the users changed since the review; nothing was "
                    "written; review the file again.",
                    rows=_rows_label(conflicting),
                ),
                locale,
            ),
            rows=conflicting,
            keys=exc.keys,
        ) from exc
    except UserImportError:
        raise
    except Exception as exc:
        failed = message(
            "The user store failed; nothing was written: {reason}", reason=str(exc)
        )
        raise StoreError(say(failed, locale)) from exc
