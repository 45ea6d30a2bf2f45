"""The review of rows: what would happen to each one, and why (SPEC §5, §6).

Field validation (:mod:`userimport.validation`) gives each row's parsed values; this
module adds what needs the organization tree, the actor's rights, the host's checks
and the store: organization resolution, role rights, duplicates within the file,
example rows, and existing users under the ``on_existing`` policy. ``prepare`` and
``commit`` both review rows through :func:`review_rows`, so a commit recomputes
exactly what the review showed.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence

import attrs

from userimport.access import Actor
from userimport.exceptions import StoreError, UserImportError
from userimport.hierarchy import OrgTree
from userimport.issues import Issue, IssueCode
from userimport.persistence import FieldValue, StoredUser, UserStore, diff_fields
from userimport.schema import COLUMNS, EXAMPLE_ROWS, Role, UserRow, email_key
from userimport.validation import ParsedUser, duplicate_email_issues, validate_values

__all__ = [
    "Action",
    "Check",
    "OnExisting",
    "ReviewContext",
    "ReviewRow",
    "blank_values",
    "lookup",
    "review_rows",
]

#: A host rule (SPEC §10): takes a valid user, returns issues built with ``row=None``.
Check = Callable[[UserRow], Iterable[Issue]]


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
class ReviewContext:
    """Who reviews, against which tree, under which policy and host checks."""

    actor: Actor
    orgs: OrgTree
    on_existing: OnExisting
    default_role: Role
    checks: tuple[Check, ...]


def blank_values(values: Mapping[str, str]) -> dict[str, str]:
    return {column: values.get(column, "") for column in COLUMNS}


def _is_example(parsed: ParsedUser) -> bool:
    return any(
        parsed.key == email_key(example["email"])
        and parsed.first_name == example["first_name"]
        and parsed.last_name == example["last_name"]
        for example in EXAMPLE_ROWS
    )


def _resolve_organization(
    ref: str, ctx: ReviewContext, row: int | None
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
    row: int | None, values: Mapping[str, str], ctx: ReviewContext
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
    ctx: ReviewContext,
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


def review_rows(
    records: Sequence[tuple[int | None, Mapping[str, str], tuple[Issue, ...]]],
    ctx: ReviewContext,
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
    existing = lookup(store, keys)

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


def lookup(store: UserStore, keys: Iterable[str]) -> dict[str, StoredUser]:
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
