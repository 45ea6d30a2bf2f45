"""The import flow: ``prepare`` → :class:`Preview` (the review) → ``commit`` (SPEC §6).

``prepare`` reads and validates an upload against the organization tree, the actor's
rights and the store, and says what would happen to every row. ``commit`` never trusts
the preview: it recomputes every row from the raw values with the committing actor's
rights and the store as it is now, and writes all rows or none.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, BinaryIO

import attrs

from userimport.access import Actor
from userimport.exceptions import (
    CommitBlocked,
    CommitConflict,
    StoreError,
    UserImportError,
)
from userimport.hierarchy import OrgTree
from userimport.issues import Issue, IssueCode
from userimport.persistence import (
    FieldValue,
    StoredUser,
    UserStore,
    UserWrite,
    diff_fields,
)
from userimport.reading import read_upload
from userimport.schema import (
    COLUMNS,
    EXAMPLE_ROWS,
    ColumnMatch,
    Role,
    UserRow,
    email_key,
)
from userimport.validation import ParsedUser, duplicate_email_issues, validate_values

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
    "visible_users",
]

#: A host rule (SPEC §10): takes a valid user, returns issues built with ``row=None``.
Check = Callable[[UserRow], Iterable[Issue]]

#: Issue codes that come from the store's state: a row that gains one between review
#: and commit means the store changed (``CommitConflict``), not that the row is bad.
_STORE_CODES = frozenset({IssueCode.EMAIL_EXISTS, IssueCode.EMAIL_TAKEN})


class OnExisting(str, enum.Enum):
    """What to do with a row whose email belongs to an existing user the actor sees."""

    SKIP = "skip"
    UPDATE = "update"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value


class Action(str, enum.Enum):
    """What commit would do with a row."""

    CREATE = "create"
    UPDATE = "update"
    SKIP = "skip"
    INVALID = "invalid"

    def __str__(self) -> str:
        return self.value


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

    max_rows: int | None = attrs.field(default=200, validator=_at_least_one)
    max_bytes: int = attrs.field(default=2 * 1024 * 1024, validator=_at_least_one)
    encoding: str | None = None
    delimiter: str | None = None
    default_role: Role = attrs.field(default=Role.LEARNER, converter=Role)
    on_existing: OnExisting = attrs.field(default=OnExisting.SKIP, converter=OnExisting)
    checks: tuple[Check, ...] = attrs.field(default=(), converter=_checks)


@attrs.frozen
class ReviewRow:
    """What would happen to one uploaded row (or to one user, for ``validate_user``).

    Attributes:
        row: The spreadsheet row number, or ``None`` for ``validate_user``.
        values: The raw cell strings by canonical column (``""`` when absent).
        user: The parsed user, or ``None`` when the row has errors.
        action: What commit would do.
        issues: The row's issues, errors and warnings.
        changes: For an update, each field that would change: ``{field: (old, new)}``.
    """

    row: int | None
    values: Mapping[str, str]
    user: UserRow | None
    action: Action = attrs.field(converter=Action)
    issues: tuple[Issue, ...] = ()
    changes: Mapping[str, tuple[FieldValue, FieldValue]] = attrs.field(factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the row has no error."""
        return not any(issue.is_error for issue in self.issues)


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
        counts = dict.fromkeys(Action, 0)
        for row in rows:
            counts[row.action] += 1
        return cls(
            total=sum(counts.values()),
            create=counts[Action.CREATE],
            update=counts[Action.UPDATE],
            skip=counts[Action.SKIP],
            invalid=counts[Action.INVALID],
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
        on_existing: The policy the rows were reviewed under (commit uses it too).
        default_role: The role given to rows with an empty ``role`` cell.
    """

    rows: tuple[ReviewRow, ...]
    issues: tuple[Issue, ...]
    summary: Summary
    encoding: str | None
    delimiter: str | None
    columns: tuple[ColumnMatch, ...] = ()
    on_existing: OnExisting = attrs.field(default=OnExisting.SKIP, converter=OnExisting)
    default_role: Role = attrs.field(default=Role.LEARNER, converter=Role)

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
    """

    created: int = 0
    updated: int = 0
    skipped: int = 0
    invalid: int = 0
    users: tuple[StoredUser, ...] = ()


# --- the review of rows ------------------------------------------------------------


@attrs.frozen
class _Context:
    actor: Actor
    orgs: OrgTree
    on_existing: OnExisting
    default_role: Role
    checks: tuple[Check, ...]


def _blank_values(values: Mapping[str, str]) -> dict[str, str]:
    return {column: values.get(column, "") for column in COLUMNS}


def _is_example(parsed: ParsedUser) -> bool:
    return any(
        parsed.key == email_key(example["email"])
        and parsed.first_name == example["first_name"]
        and parsed.last_name == example["last_name"]
        for example in EXAMPLE_ROWS
    )


def _resolve_organization(
    ref: str, ctx: _Context, row: int | None
) -> tuple[str | None, Issue | None]:
    """The organization id a cell designates inside the actor's subtree (SPEC §5).

    An organization outside the subtree gets exactly the message of one that does not
    exist, so existence never leaks.
    """
    if not ref:
        return ctx.actor.org_id, None
    found = ctx.orgs.candidates(ref, within=ctx.actor.org_id)
    if len(found) == 1:
        return found[0].id, None
    if not found:
        return None, Issue.error(
            IssueCode.UNKNOWN_ORGANIZATION,
            f"No organization “{ref}” was found among the organizations you manage; "
            "write its id, its name or its path such as “Parent / Child”.",
            row=row,
            column="organization",
            value=ref,
        )
    within = ctx.actor.org_id
    paths = "; ".join(f"“{ctx.orgs.path_text(org.id, within=within)}”" for org in found)
    return None, Issue.error(
        IssueCode.AMBIGUOUS_ORGANIZATION,
        f"Several organizations are called “{ref}” ({paths}); "
        "write the full path or the id of the one you mean.",
        row=row,
        column="organization",
        value=ref,
    )


def _parse_row(
    row: int | None, values: Mapping[str, str], ctx: _Context
) -> tuple[ParsedUser | None, UserRow | None, list[Issue]]:
    """Field validation, organization resolution and role rights of one row."""
    parsed, field_issues = validate_values(values, row=row)
    issues = list(field_issues)
    if parsed is None:
        return None, None, issues
    organization, org_issue = _resolve_organization(parsed.organization, ctx, row)
    if org_issue is not None:
        issues.append(org_issue)
    role = parsed.role if parsed.role is not None else ctx.default_role
    if not ctx.actor.may_assign(role):
        issues.append(
            Issue.error(
                IssueCode.ROLE_NOT_ALLOWED,
                f"You may not give the role “{role.value}”, which is above your own "
                f"(“{ctx.actor.role.value}”); choose a role up to yours.",
                row=row,
                column="role",
                value=values.get("role", ""),
            )
        )
    if organization is None or any(issue.is_error for issue in issues):
        return parsed, None, issues
    user = UserRow(
        first_name=parsed.first_name,
        last_name=parsed.last_name,
        email=parsed.email,
        organization=organization,
        role=role,
        groups=parsed.groups or (),
        language=parsed.language,
    )
    return parsed, user, issues


def _run_checks(user: UserRow, row: int | None, checks: Sequence[Check]) -> list[Issue]:
    return [attrs.evolve(issue, row=row) for check in checks for issue in check(user)]


def _merge(stored: StoredUser, parsed: ParsedUser, user: UserRow) -> UserRow:
    """The user after an update: an empty optional cell keeps the stored value."""
    return attrs.evolve(
        user,
        organization=user.organization if parsed.organization else stored.organization,
        role=user.role if parsed.role is not None else stored.role,
        groups=user.groups if parsed.groups is not None else stored.groups,
        language=user.language if parsed.language is not None else stored.language,
    )


def _against_store(
    row: int | None,
    values: Mapping[str, str],
    parsed: ParsedUser,
    user: UserRow,
    stored: StoredUser,
    issues: list[Issue],
    ctx: _Context,
) -> ReviewRow:
    """The review of a valid row whose email key already belongs to a stored user."""
    if not ctx.orgs.is_within(stored.organization, ctx.actor.org_id):
        # SPEC §4: always an error, and the message must not reveal the organization.
        issues.append(
            Issue.error(
                IssueCode.EMAIL_TAKEN,
                "This email already belongs to a user you cannot manage; "
                "use another email or ask an administrator above you.",
                row=row,
                column="email",
                value=values.get("email", ""),
            )
        )
        return ReviewRow(row, values, None, Action.INVALID, tuple(issues))
    if ctx.on_existing is OnExisting.ERROR:
        issues.append(
            Issue.error(
                IssueCode.EMAIL_EXISTS,
                "A user with this email already exists; remove the row, or import "
                "with the option to skip or update existing users.",
                row=row,
                column="email",
                value=values.get("email", ""),
            )
        )
        return ReviewRow(row, values, None, Action.INVALID, tuple(issues))
    if ctx.on_existing is OnExisting.SKIP:
        issues.append(
            Issue.warning(
                IssueCode.EMAIL_EXISTS,
                "A user with this email already exists and will be left unchanged.",
                row=row,
                column="email",
                value=values.get("email", ""),
            )
        )
        return ReviewRow(row, values, user, Action.SKIP, tuple(issues))
    if not ctx.actor.may_assign(stored.role):
        issues.append(
            Issue.error(
                IssueCode.ROLE_NOT_ALLOWED,
                f"This user has the role “{stored.role.value}”, above your own; "
                "only an administrator of that rank may update them.",
                row=row,
                column="role",
                value=values.get("role", ""),
            )
        )
        return ReviewRow(row, values, None, Action.INVALID, tuple(issues))
    merged = _merge(stored, parsed, user)
    changes = diff_fields(stored, merged)
    if not changes:
        issues.append(
            Issue.warning(
                IssueCode.EMAIL_EXISTS,
                "A user with this email already exists and nothing would change; "
                "the row is skipped.",
                row=row,
                column="email",
                value=values.get("email", ""),
            )
        )
        return ReviewRow(row, values, merged, Action.SKIP, tuple(issues))
    fields = ", ".join(name.replace("_", " ") for name in changes)
    issues.append(
        Issue.warning(
            IssueCode.EMAIL_EXISTS,
            f"A user with this email already exists; their {fields} will be updated.",
            row=row,
            column="email",
            value=values.get("email", ""),
        )
    )
    return ReviewRow(row, values, merged, Action.UPDATE, tuple(issues), changes)


def _review(
    records: Sequence[tuple[int | None, Mapping[str, str], tuple[Issue, ...]]],
    ctx: _Context,
    store: UserStore,
) -> tuple[list[ReviewRow], dict[str, StoredUser]]:
    """Review rows: fields, duplicates, organizations, rights, host checks, store."""
    parsed_rows: list[tuple[ParsedUser | None, UserRow | None, list[Issue]]] = []
    for row, values, reading_issues in records:
        parsed, user, issues = _parse_row(row, values, ctx)
        parsed_rows.append((parsed, user, [*reading_issues, *issues]))

    duplicates = duplicate_email_issues(
        (row, parsed.key, values.get("email", ""))
        for (row, values, _), (parsed, _, _) in zip(records, parsed_rows, strict=True)
        if parsed is not None and row is not None
    )
    keys = {
        user.key
        for _, user, issues in parsed_rows
        if user is not None and not any(issue.is_error for issue in issues)
    }
    existing = _store_lookup(store, keys)

    reviewed: list[ReviewRow] = []
    pairs = zip(records, parsed_rows, strict=True)
    for (row, values, _), (parsed, user, issues) in pairs:
        if row is not None and row in duplicates:
            issues.append(duplicates[row])
        if parsed is not None and _is_example(parsed):
            issues = [
                Issue.warning(
                    IssueCode.EXAMPLE_ROW,
                    "This is the template's example row; it is skipped. "
                    "Delete it, or replace it with a real user.",
                    row=row,
                )
            ]
            reviewed.append(ReviewRow(row, values, None, Action.SKIP, tuple(issues)))
            continue
        if user is not None and not any(issue.is_error for issue in issues):
            issues.extend(_run_checks(user, row, ctx.checks))
        if parsed is None or user is None or any(issue.is_error for issue in issues):
            reviewed.append(ReviewRow(row, values, None, Action.INVALID, tuple(issues)))
            continue
        stored = existing.get(user.key)
        if stored is None:
            reviewed.append(ReviewRow(row, values, user, Action.CREATE, tuple(issues)))
        else:
            reviewed.append(
                _against_store(row, values, parsed, user, stored, issues, ctx)
            )
    return reviewed, existing


def _store_lookup(store: UserStore, keys: Iterable[str]) -> dict[str, StoredUser]:
    """``store.find_by_keys`` with foreign failures translated into ``StoreError``."""
    keys = sorted(keys)
    if not keys:
        return {}
    try:
        return dict(store.find_by_keys(keys))
    except UserImportError:
        raise
    except Exception as exc:
        raise StoreError(
            f"The user store failed while looking up emails: {exc}"
        ) from exc


def _context(
    actor: Actor,
    orgs: OrgTree,
    on_existing: OnExisting,
    default_role: Role,
    checks: Sequence[Check],
) -> _Context:
    if actor.org_id not in orgs:
        raise UserImportError(
            f"The actor's organization {actor.org_id!r} is not in the tree."
        )
    return _Context(actor, orgs, on_existing, default_role, tuple(checks))


# --- the public flow ---------------------------------------------------------------


def prepare(
    data: bytes | BinaryIO,
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
    upload = read_upload(
        data,
        max_bytes=options.max_bytes,
        max_rows=options.max_rows,
        encoding=options.encoding,
        delimiter=options.delimiter,
    )
    records = [
        (record.row, _blank_values(record.values), tuple(record.issues))
        for record in upload.records
    ]
    rows, _ = _review(records, ctx, store)
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
    rows, _ = _review([(None, _blank_values(values), ())], ctx, store)
    return rows[0]


def visible_users(actor: Actor, orgs: OrgTree, store: UserStore) -> list[StoredUser]:
    """The users of the actor's organization and every organization under it."""
    return list(store.list_users(orgs.subtree_ids(actor.org_id)))


def _row_label(rows: Iterable[int | None]) -> str:
    numbers = [str(row) for row in rows if row is not None]
    shown = ", ".join(numbers[:10])
    return shown + (f" and {len(numbers) - 10} more" if len(numbers) > 10 else "")


def commit(
    preview: Preview,
    *,
    actor: Actor,
    orgs: OrgTree,
    store: UserStore,
    skip_invalid: bool = False,
    checks: Sequence[Check] = (),
) -> ImportResult:
    """Write the reviewed rows: all of them or none, in one atomic store call.

    Nothing in the preview is trusted: every row is recomputed from its raw values
    with the committing actor's rights and the store as it is now.

    Args:
        preview: The reviewed upload (from :func:`prepare`, maybe through JSON).
        actor: The committing administrator (rights are checked again).
        orgs: The organization tree.
        store: Where users live.
        skip_invalid: Leave invalid rows out instead of refusing the commit.
        checks: Host rules to run again (pass the ones given to ``prepare``, so a
            tampered preview cannot skip them).

    Raises:
        CommitBlocked: The preview has file-level errors, or invalid rows and
            ``skip_invalid`` is false. Nothing was written.
        CommitConflict: The store changed since the review (an email was created,
            a user changed); ``rows`` names the rows. Nothing was written.
        StoreError: The store failed. Nothing was written.
    """
    if any(issue.is_error for issue in preview.file_issues):
        raise CommitBlocked("The file has errors that block the whole import.")
    ctx = _context(
        actor, orgs, preview.on_existing, preview.default_role, tuple(checks)
    )
    # Issues found while reading (wrong_field_count) are not in the values: keep them.
    records = [
        (
            r.row,
            _blank_values(r.values),
            tuple(i for i in r.issues if i.code is IssueCode.WRONG_FIELD_COUNT),
        )
        for r in preview.rows
    ]
    rows, existing = _review(records, ctx, store)

    conflicts: list[int | None] = []
    invalid: list[ReviewRow] = []
    for before, now in zip(preview.rows, rows, strict=True):
        if now.action is Action.INVALID:
            store_made = any(i.code in _STORE_CODES and i.is_error for i in now.issues)
            if before.action is not Action.INVALID and store_made:
                conflicts.append(now.row)
            else:
                invalid.append(now)
        elif now.action is not before.action or now.changes != before.changes:
            conflicts.append(now.row)
    if conflicts:
        raise CommitConflict(
            f"The users changed since the review (rows {_row_label(conflicts)}); "
            "review the file again.",
            rows=tuple(row for row in conflicts if row is not None),
        )
    if invalid and not skip_invalid:
        raise CommitBlocked(
            f"Rows {_row_label(r.row for r in invalid)} have errors; fix them, or "
            "commit with skip_invalid to leave them out.",
            rows=tuple(r.row for r in invalid if r.row is not None),
        )

    writes = [
        UserWrite(row.user, existing.get(row.user.key))
        for row in rows
        if row.user is not None and row.action in (Action.CREATE, Action.UPDATE)
    ]
    stored = _apply(store, writes, rows)
    summary = Summary.of(rows)
    return ImportResult(
        created=summary.create,
        updated=summary.update,
        skipped=summary.skip,
        invalid=summary.invalid,
        users=tuple(stored),
    )


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
            f"The users changed since the review (rows {_row_label(conflicting)}); "
            "nothing was written; review the file again.",
            rows=conflicting,
            keys=exc.keys,
        ) from exc
    except UserImportError:
        raise
    except Exception as exc:
        raise StoreError(f"The user store failed; nothing was written: {exc}") from exc
