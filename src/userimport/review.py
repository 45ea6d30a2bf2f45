"""The review of rows: what would happen to each one, and why.

Field validation (:mod:`userimport.validation`) gives each row's parsed values; this
module adds what needs the organization tree, the actor's rights, the host's checks
and the store: organization resolution, role rights, duplicates within the file,
example rows, existing users under the ``on_existing`` policy, and look-alike
emails. ``prepare``, ``commit`` and ``validate_user`` all review rows through
:func:`review_rows`, so a commit recomputes exactly what the review showed.

It is long because it holds every rule a review adds to a row's fields, and the
order they come in: the review's types, organizations and rights, duplicates,
example rows, host checks, existing users and look-alike emails. The look-alike
warning's own rules (skeletons, how its message names the emails) are in
:mod:`userimport._confusables`; what stays here is which rows and users it
compares.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

import attrs

from userimport import _confusables
from userimport._labels import FIELD_NAMES, ROLE_NAMES
from userimport._messages import listing, message
from userimport.access import Actor
from userimport.exceptions import StoreError, UserImportError
from userimport.hierarchy import Organization, OrgTree
from userimport.issues import Issue, IssueCode
from userimport.persistence import FieldValue, StoredUser, UserStore, diff_fields
from userimport.schema import (
    COLUMNS,
    EXAMPLE_ROWS,
    Role,
    UserRow,
    email_key,
)
from userimport.validation import ParsedUser, RowValidator, duplicate_email_issues

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

#: A host rule: takes a valid user, returns issues built with ``row=None`` (the
#: review fills in the row).
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


def _action(value: Action | str) -> Action:
    # ``Action(member)`` costs as much as the rest of a ReviewRow; the review passes
    # members, a JSON preview passes strings.
    return value if type(value) is Action else Action(value)


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
    action: Action = attrs.field(converter=_action)
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
    on_existing: OnExisting = attrs.field(converter=OnExisting)
    default_role: Role = attrs.field(converter=Role)
    checks: tuple[Check, ...]


def blank_values(values: Mapping[str, str]) -> Mapping[str, str]:
    """Every canonical column of ``values``, ``""`` where it is missing, and no other
    key (``values`` itself when it holds exactly the canonical columns)."""
    if values.keys() == _COLUMN_SET:
        return values
    return {column: values.get(column, "") for column in COLUMNS}


_COLUMN_SET = frozenset(COLUMNS)


#: What identifies the template's example rows: email key and names.
_EXAMPLES: frozenset[tuple[str, str, str]] = frozenset(
    (email_key(example["email"]), example["first_name"], example["last_name"])
    for example in EXAMPLE_ROWS
)
_EXAMPLE_KEYS = frozenset(key for key, _, _ in _EXAMPLES)


def _organization_issue(
    ref: str, found: Sequence[Organization], ctx: ReviewContext, row: int | None
) -> Issue:
    """The issue of a reference that designates no organization, or several.

    An organization outside the subtree gets exactly the message of one that does not
    exist, so existence never leaks. An ambiguous reference names the candidates by
    their paths from the actor's own organization, never above it.

    Both texts are quoted as they are, safely: ``ref`` is a cell that passed the
    hidden-character rule, and the paths are made of names that :class:`OrgTree`
    accepted under the same rule, so neither holds a control, bidirectional or
    zero-width character that would make the message read as something else.
    """
    if not found:
        return Issue.error(
            IssueCode.UNKNOWN_ORGANIZATION,
            message(
                "No organization “{ref}” was found among the organizations you "
                "manage; write its id, its name or its path such as “Parent / Child”.",
                ref=ref,
            ),
            row=row,
            column="organization",
            value=ref,
        )
    within = ctx.actor.org_id
    paths = "; ".join(f"“{ctx.orgs.path_text(org.id, within=within)}”" for org in found)
    return Issue.error(
        IssueCode.AMBIGUOUS_ORGANIZATION,
        message(
            "Several organizations are called “{ref}” ({paths}); write the full path "
            "or the id of the one you mean.",
            ref=ref,
            paths=paths,
        ),
        row=row,
        column="organization",
        value=ref,
    )


class _Rights:
    """The organization and role rules of one review, each answer worked out once.

    A file names a handful of organizations and roles over and over; the tree and
    the actor do not change during a review, so each distinct pair of organization
    reference and role is judged once (:meth:`OrgTree.candidates` inside the
    actor's subtree, :meth:`Actor.may_assign`).
    """

    def __init__(self, ctx: ReviewContext) -> None:
        self.ctx = ctx
        self._known: dict[tuple[str, Role | None], _Verdict] = {}

    def issues(
        self, parsed: ParsedUser, values: Mapping[str, str], row: int | None
    ) -> tuple[str | None, Role, Sequence[Issue]]:
        """The organization id (``None`` if none), the role, and their issues."""
        pair = (parsed.organization, parsed.role)
        verdict = self._known.get(pair)
        if verdict is None:
            verdict = self._known[pair] = self._judge(*pair)
        organization, role, found = verdict
        if organization is not None and role is not None:
            return organization, role, ()
        ctx = self.ctx
        issues = []
        if organization is None:
            issues.append(_organization_issue(parsed.organization, found, ctx, row))
        if role is None:
            role = ctx.default_role if parsed.role is None else parsed.role
            issues.append(
                Issue.error(
                    IssueCode.ROLE_NOT_ALLOWED,
                    message(
                        "You may not give the role “{role}”, which is above your own "
                        "(“{own}”); choose a role up to yours.",
                        role=ROLE_NAMES[role],
                        own=ROLE_NAMES[ctx.actor.role],
                    ),
                    row=row,
                    column="role",
                    value=values.get("role", ""),
                )
            )
        return organization, role, issues

    def _judge(self, ref: str, role: Role | None) -> _Verdict:
        """The organization ``ref`` designates (``None`` for none or several, with
        the candidates), and the role (``None`` if the actor may not give it)."""
        ctx = self.ctx
        organization: str | None = ctx.actor.org_id
        found: tuple[Organization, ...] = ()
        if ref:
            found = ctx.orgs.candidates(ref, within=ctx.actor.org_id)
            organization = found[0].id if len(found) == 1 else None
        given = ctx.default_role if role is None else role
        return organization, (given if ctx.actor.may_assign(given) else None), found


#: What :class:`_Rights` found for one organization reference and role.
_Verdict = tuple[str | None, Role | None, tuple[Organization, ...]]


#: A record to review: its row number, its cells by canonical column, and the issues
#: found while reading it (``wrong_field_count``).
Record = tuple[int | None, Mapping[str, str], tuple[Issue, ...]]


def review_rows(
    records: Sequence[Record], ctx: ReviewContext, store: UserStore
) -> tuple[list[ReviewRow], dict[str, StoredUser]]:
    """Review rows: fields, organizations, rights, duplicates, host checks, store.

    Args:
        records: The rows to review, in file order.
        ctx: Who reviews, against which tree, under which policy.
        store: Where users live (looked up once for every valid row's email).

    Returns:
        One :class:`ReviewRow` per record, in order, and the stored users found by
        email key.

    Issues come in this order in a row: reading, fields, organization, role,
    duplicate, host checks, the store's, a look-alike email.
    """
    validator = RowValidator()
    rights = _Rights(ctx)
    firsts: list[tuple[ParsedUser | None, UserRow | None, list[Issue]]] = []
    for row, values, reading_issues in records:
        parsed, field_issues = validator.validate(values, row=row)
        issues = [*reading_issues, *field_issues]
        user = None
        if parsed is not None:
            organization, role, rights_issues = rights.issues(parsed, values, row)
            if rights_issues:
                issues += rights_issues
            if organization is not None and not (issues and _has_error(issues)):
                user = UserRow(
                    parsed.first_name,
                    parsed.last_name,
                    parsed.email,
                    organization,
                    role,
                    parsed.groups or (),
                    parsed.language,
                )
        firsts.append((parsed, user, issues))
    duplicates = duplicate_email_issues(
        (row, parsed.key, values.get("email", ""))
        for (row, values, _), (parsed, _, _) in zip(records, firsts, strict=True)
        if parsed is not None and row is not None
    )
    existing = lookup(
        store,
        {p.key for p, user, _ in firsts if user is not None and p is not None},
    )
    reviewed = [
        _review(row, values, parsed, user, issues, duplicates, existing, ctx)
        for (row, values, _), (parsed, user, issues) in zip(
            records, firsts, strict=True
        )
    ]
    for index, issue in _look_alikes(records, firsts, ctx, store).items():
        reviewed[index] = attrs.evolve(
            reviewed[index], issues=(*reviewed[index].issues, issue)
        )
    return reviewed, existing


def _review(
    row: int | None,
    values: Mapping[str, str],
    parsed: ParsedUser | None,
    user: UserRow | None,
    issues: list[Issue],
    duplicates: Mapping[int, Issue],
    existing: Mapping[str, StoredUser],
    ctx: ReviewContext,
) -> ReviewRow:
    """The review of one row, once every row's fields and rights are known."""
    if row is not None and row in duplicates:
        issues.append(duplicates[row])
        user = None
    if parsed is not None and _is_example(parsed):
        return ReviewRow(
            row,
            values,
            None,
            Action.SKIP,
            (
                Issue.warning(
                    IssueCode.EXAMPLE_ROW,
                    message(
                        "This is the template's example row; it is skipped. Delete "
                        "it, or replace it with a real user."
                    ),
                    row=row,
                ),
            ),
        )
    if user is not None and ctx.checks:
        issues.extend(_run_checks(user, row, ctx.checks))
        if issues and _has_error(issues):
            user = None
    if parsed is None or user is None:
        return ReviewRow(row, values, None, Action.INVALID, tuple(issues))
    stored = existing.get(parsed.key)
    if stored is None:
        return ReviewRow(row, values, user, Action.CREATE, tuple(issues))
    return _against_store(row, values, parsed, user, stored, issues, ctx)


def _is_example(parsed: ParsedUser) -> bool:
    """Whether a row is one of the template's example rows (email key and names)."""
    return (
        parsed.key in _EXAMPLE_KEYS
        and (parsed.key, parsed.first_name, parsed.last_name) in _EXAMPLES
    )


def _has_error(issues: Sequence[Issue]) -> bool:
    return any(issue.is_error for issue in issues)


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
    email = values.get("email", "")

    def on_email(make: Callable[..., Issue], code: IssueCode, text: str) -> Issue:
        return make(code, text, row=row, column="email", value=email)

    if not ctx.orgs.is_within(stored.organization, ctx.actor.org_id):
        # Always an error, and the message must not reveal the organization.
        issues.append(
            on_email(
                Issue.error,
                IssueCode.EMAIL_TAKEN,
                message(
                    "This email already belongs to a user you cannot manage; use "
                    "another email or ask an administrator above you."
                ),
            )
        )
        return ReviewRow(row, values, None, Action.INVALID, tuple(issues), {})
    if ctx.on_existing is OnExisting.ERROR:
        issues.append(
            on_email(
                Issue.error,
                IssueCode.EMAIL_EXISTS,
                message(
                    "A user with this email already exists; remove the row, or "
                    "import with the option to skip or update existing users."
                ),
            )
        )
        return ReviewRow(row, values, None, Action.INVALID, tuple(issues), {})
    if ctx.on_existing is OnExisting.SKIP:
        issues.append(
            on_email(
                Issue.warning,
                IssueCode.EMAIL_EXISTS,
                message(
                    "A user with this email already exists and will be left unchanged."
                ),
            )
        )
        return ReviewRow(row, values, user, Action.SKIP, tuple(issues), {})
    if not ctx.actor.may_assign(stored.role):
        issues.append(
            Issue.error(
                IssueCode.ROLE_NOT_ALLOWED,
                message(
                    "This user has the role “{role}”, above your own; only an "
                    "administrator of that rank may update them.",
                    role=ROLE_NAMES[stored.role],
                ),
                row=row,
                column="role",
                value=values.get("role", ""),
            )
        )
        return ReviewRow(row, values, None, Action.INVALID, tuple(issues), {})
    merged = _merge(stored, parsed, user)
    changes = diff_fields(stored, merged)
    if not changes:
        issues.append(
            on_email(
                Issue.warning,
                IssueCode.EMAIL_EXISTS,
                message(
                    "A user with this email already exists and nothing would change; "
                    "the row is skipped."
                ),
            )
        )
        return ReviewRow(row, values, merged, Action.SKIP, tuple(issues), {})
    issues.append(
        on_email(
            Issue.warning,
            IssueCode.EMAIL_EXISTS,
            message(
                "A user with this email already exists; their {fields} will be "
                "updated.",
                fields=listing(FIELD_NAMES[name] for name in changes),
            ),
        )
    )
    return ReviewRow(row, values, merged, Action.UPDATE, tuple(issues), changes)


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
            message(
                "The user store failed while looking up emails: {reason}",
                reason=str(exc),
            )
        ) from exc


# --- look-alike emails ----------------------------------------------------------


def _look_alikes(
    records: Sequence[Record],
    firsts: Sequence[tuple[ParsedUser | None, UserRow | None, list[Issue]]],
    ctx: ReviewContext,
    store: UserStore,
) -> dict[int, Issue]:
    """The ``confusable_email`` warning of each row, by index, whose email is not
    the same user as, but looks the same as, another row's or an existing user's
    (:func:`~userimport._confusables.look_alike_issues`).

    The rows compared are those compared for duplicates: every row whose cells are
    valid, whatever the organization, the rights, the host checks or the store say
    of it (a row whose cells have errors takes part once they are fixed), and not
    the template's example rows. The existing users are those the actor may see
    (:func:`~userimport.access.visible_users`): a user outside the actor's subtree
    never gives a warning, so the warning never tells that such a user exists.

    They are found by :func:`~userimport._confusables.look_alike_users`: an
    indexed look-up in a store that keeps the users' skeletons, whose cost follows
    the rows; in any other store a listing of the actor's users and one skeleton
    per user (``benchmarks/bench_confusables.py``). Without PyICU (the
    ``confusables`` extra) there is no skeleton, nothing is looked up and no row
    gets the warning.
    """
    compared = [
        _confusables.Compared(row, parsed.key, parsed.email, values.get("email", ""))
        if parsed is not None and not _is_example(parsed)
        else None
        for (row, values, _), (parsed, _, _) in zip(records, firsts, strict=True)
    ]
    if not any(compared) or not _confusables.available():
        return {}
    known = _confusables.likenesses(row.key for row in compared if row is not None)
    users = _visible(ctx, store, set(known.values()))
    return _confusables.look_alike_issues(compared, users, known)


def _visible(
    ctx: ReviewContext, store: UserStore, likenesses: Collection[str]
) -> Sequence[StoredUser]:
    """The users the actor may see (:func:`~userimport.access.visible_users`,
    without its search and pages) that may have one of ``likenesses``; foreign
    failures are translated into ``StoreError``."""
    try:
        return _confusables.look_alike_users(
            store, likenesses, ctx.orgs.subtree_ids(ctx.actor.org_id)
        )
    except UserImportError:
        raise
    except Exception as exc:
        raise StoreError(
            message(
                "The user store failed while looking for look-alike emails: {reason}",
                reason=str(exc),
            )
        ) from exc
