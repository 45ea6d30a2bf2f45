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
from itertools import repeat
from operator import itemgetter
from typing import NamedTuple, cast

import attrs

from userimport._bulk import build
from userimport.access import Actor
from userimport.exceptions import StoreError, UserImportError
from userimport.hierarchy import Organization, OrgTree
from userimport.issues import Issue, IssueCode
from userimport.persistence import FieldValue, StoredUser, UserStore, diff_fields
from userimport.schema import COLUMNS, EXAMPLE_ROWS, Role, UserRow, email_key
from userimport.validation import (
    ParsedFields,
    ParsedUser,
    duplicate_email_issue,
    validate_rows,
)

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


def blank_values(values: Mapping[str, str]) -> dict[str, str]:
    """Every canonical column of ``values``, ``""`` where it is missing."""
    return {column: values.get(column, "") for column in COLUMNS}


#: What identifies the template's example rows (SPEC §6): email key and names.
_EXAMPLES: frozenset[tuple[str, str, str]] = frozenset(
    (email_key(example["email"]), example["first_name"], example["last_name"])
    for example in EXAMPLE_ROWS
)
_EXAMPLE_KEYS = frozenset(key for key, _, _ in _EXAMPLES)


#: A :class:`UserRow`'s fields, in order, as :func:`userimport._bulk.build` takes them.
_UserFields = tuple[str, str, str, str, Role, tuple[str, ...], str | None]
#: One row after :meth:`_RowParser.resolve`: its fields (``None`` when a field is
#: invalid), its user's fields (``None`` on any error) and its issues so far.
_Resolved = tuple[ParsedFields | None, _UserFields | None, list[Issue]]
#: The same with the row's number and values, as the review keeps it.
_Row = tuple[
    int | None, Mapping[str, str], ParsedFields | None, _UserFields | None, list[Issue]
]
#: A :class:`ReviewRow`'s fields, in order, as :func:`userimport._bulk.build` takes
#: them (the action a member, the issues a tuple, the changes a new mapping).
_ReviewFields = tuple[
    int | None,
    Mapping[str, str],
    UserRow | None,
    Action,
    tuple[Issue, ...],
    Mapping[str, tuple[FieldValue, FieldValue]],
]


def _organization_issue(
    ref: str, found: Sequence[Organization], ctx: ReviewContext, row: int | None
) -> Issue:
    """The issue of a reference that designates no organization, or several.

    An organization outside the subtree gets exactly the message of one that does not
    exist, so existence never leaks (SPEC §5).
    """
    if not found:
        return Issue.error(
            IssueCode.UNKNOWN_ORGANIZATION,
            f"No organization “{ref}” was found among the organizations you manage; "
            "write its id, its name or its path such as “Parent / Child”.",
            row=row,
            column="organization",
            value=ref,
        )
    within = ctx.actor.org_id
    paths = "; ".join(f"“{ctx.orgs.path_text(org.id, within=within)}”" for org in found)
    return Issue.error(
        IssueCode.AMBIGUOUS_ORGANIZATION,
        f"Several organizations are called “{ref}” ({paths}); "
        "write the full path or the id of the one you mean.",
        row=row,
        column="organization",
        value=ref,
    )


class _RowParser:
    """Field validation, organization resolution and role rights, row by row.

    One parser serves one review. A file names a handful of organizations and roles
    over and over, so each distinct reference is resolved once per review (the tree
    does not change meanwhile) and the roles the actor may assign are worked out
    once; ``tests/test_performance_paths.py`` checks that this gives exactly the
    answers of :meth:`OrgTree.candidates` and :meth:`Actor.may_assign`.
    """

    def __init__(self, ctx: ReviewContext) -> None:
        self.ctx = ctx
        # A tuple: ``in`` finds a member by identity, where a set would call the
        # enum's __hash__, written in Python.
        self.assignable = tuple(role for role in Role if ctx.actor.may_assign(role))
        self.found: dict[str, tuple[Organization, ...]] = {}

    def candidates(self, ref: str) -> tuple[Organization, ...]:
        """``ctx.orgs.candidates(ref)`` inside the actor's subtree, memoised."""
        found = self.found.get(ref)
        if found is None:
            found = self.ctx.orgs.candidates(ref, within=self.ctx.actor.org_id)
            self.found[ref] = found
        return found

    def organization(self, ref: str) -> str | None:
        """The id of the one organization ``ref`` designates (the actor's own for
        ``""``), or ``None`` when it designates none or several."""
        if not ref:
            return self.ctx.actor.org_id
        found = self.candidates(ref)
        return found[0].id if len(found) == 1 else None

    def resolve(
        self,
        row: int | None,
        values: Mapping[str, str],
        reading_issues: tuple[Issue, ...],
        validated: tuple[ParsedFields | None, tuple[Issue, ...]],
    ) -> _Resolved:
        """The parsed fields, the user's fields (``None`` on any error), the issues.

        Args:
            row: The row number.
            values: The row's cells.
            reading_issues: The issues found while reading it (``wrong_field_count``).
            validated: ``validate_fields(values, row=row)``.

        Issues come in this order: reading, fields, organization, role.
        """
        fields, field_issues = validated
        issues = [*reading_issues, *field_issues]
        if fields is None:
            return None, None, issues
        first_name, last_name, email, _, ref, role, groups, language = fields
        ctx = self.ctx
        organization = self.organization(ref)
        if organization is None:
            issues.append(_organization_issue(ref, self.candidates(ref), ctx, row))
        if role is None:
            role = ctx.default_role
        if role not in self.assignable:
            issues.append(
                Issue.error(
                    IssueCode.ROLE_NOT_ALLOWED,
                    f"You may not give the role “{role.value}”, which is above your "
                    f"own (“{ctx.actor.role.value}”); choose a role up to yours.",
                    row=row,
                    column="role",
                    value=values.get("role", ""),
                )
            )
        if organization is None or (issues and _has_error(issues)):
            return fields, None, issues
        user = (
            first_name,
            last_name,
            email,
            organization,
            role,
            groups or (),
            language,
        )
        return fields, user, issues


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
) -> _ReviewFields:
    """The review of a valid row whose email key already belongs to a stored user."""
    email = values.get("email", "")

    def on_email(make: Callable[..., Issue], code: IssueCode, message: str) -> Issue:
        return make(code, message, row=row, column="email", value=email)

    if not ctx.orgs.is_within(stored.organization, ctx.actor.org_id):
        # SPEC §4: always an error, and the message must not reveal the organization.
        issues.append(
            on_email(
                Issue.error,
                IssueCode.EMAIL_TAKEN,
                "This email already belongs to a user you cannot manage; "
                "use another email or ask an administrator above you.",
            )
        )
        return row, values, None, Action.INVALID, tuple(issues), {}
    if ctx.on_existing is OnExisting.ERROR:
        issues.append(
            on_email(
                Issue.error,
                IssueCode.EMAIL_EXISTS,
                "A user with this email already exists; remove the row, or import "
                "with the option to skip or update existing users.",
            )
        )
        return row, values, None, Action.INVALID, tuple(issues), {}
    if ctx.on_existing is OnExisting.SKIP:
        issues.append(
            on_email(
                Issue.warning,
                IssueCode.EMAIL_EXISTS,
                "A user with this email already exists and will be left unchanged.",
            )
        )
        return row, values, user, Action.SKIP, tuple(issues), {}
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
        return row, values, None, Action.INVALID, tuple(issues), {}
    merged = _merge(stored, parsed, user)
    changes = diff_fields(stored, merged)
    if not changes:
        issues.append(
            on_email(
                Issue.warning,
                IssueCode.EMAIL_EXISTS,
                "A user with this email already exists and nothing would change; "
                "the row is skipped.",
            )
        )
        return row, values, merged, Action.SKIP, tuple(issues), {}
    fields = ", ".join(name.replace("_", " ") for name in changes)
    issues.append(
        on_email(
            Issue.warning,
            IssueCode.EMAIL_EXISTS,
            f"A user with this email already exists; their {fields} will be updated.",
        )
    )
    return row, values, merged, Action.UPDATE, tuple(issues), changes


def review_rows(
    records: Sequence[tuple[int | None, Mapping[str, str], tuple[Issue, ...]]],
    ctx: ReviewContext,
    store: UserStore,
) -> tuple[list[ReviewRow], dict[str, StoredUser]]:
    """Review rows: fields, duplicates, organizations, rights, host checks, store.

    The fields of all rows are validated at once (:func:`validate_rows`) and the
    :class:`UserRow` and :class:`ReviewRow` objects are built at once
    (:func:`userimport._bulk.build`). An upload of ordinary rows only, none of them
    an existing user, is reviewed column by column too (:func:`_ordinary`,
    :func:`_created`); any other goes row by row (:func:`_review_each`).
    """
    validated = validate_rows([r[1] for r in records], [r[0] for r in records])
    parser = _RowParser(ctx)
    ordinary = _ordinary(records, validated, parser)
    existing = None
    if ordinary is not None:
        existing = lookup(store, ordinary.keys)
        if not existing:
            return _created(records, ordinary), existing
    return _review_each(records, validated, parser, store, existing)


class _Ordinary(NamedTuple):
    """The rows of an upload of ordinary rows only, as :func:`_created` needs them.

    Attributes:
        fields: Each row's parsed fields.
        keys: The email keys, one per row.
        organizations: Each row's organization id.
        roles: Each row's role, the default one for an empty cell.
    """

    fields: list[ParsedFields]
    keys: set[str]
    organizations: list[str]
    roles: list[Role]


def _ordinary(
    records: Sequence[tuple[int | None, Mapping[str, str], tuple[Issue, ...]]],
    validated: Sequence[tuple[ParsedFields | None, tuple[Issue, ...]]],
    parser: _RowParser,
) -> _Ordinary | None:
    """The rows, if every one is ordinary, decided column by column; else ``None``.

    Ordinary: valid fields and no issue, an organization found once and a role the
    actor may give, no email twice, no example row, and no host check to run. Each
    test runs once over a column (a set, a ``map``), not once per row.
    """
    ctx = parser.ctx
    if (
        not records
        or ctx.checks
        or any(map(itemgetter(1), validated))
        or any(map(itemgetter(2), records))
    ):
        return None
    fields = list(map(itemgetter(0), validated))
    if None in fields:
        return None
    parsed = cast("list[ParsedFields]", fields)
    keys = set(map(itemgetter(3), parsed))
    if len(keys) != len(parsed) or not _EXAMPLE_KEYS.isdisjoint(keys):
        return None
    refs = list(map(itemgetter(4), parsed))
    organizations = {ref: parser.organization(ref) for ref in set(refs)}
    if None in organizations.values():
        return None
    # A role is a member or None. ``in`` a tuple finds a member by identity, where a
    # set would call the enum's __hash__, written in Python.
    roles = [role or ctx.default_role for role in map(itemgetter(5), parsed)]
    if not all(map(parser.assignable.__contains__, roles)):
        return None
    ids = cast("list[str]", list(map(organizations.__getitem__, refs)))
    return _Ordinary(parsed, keys, ids, roles)


def _created(
    records: Sequence[tuple[int | None, Mapping[str, str], tuple[Issue, ...]]],
    ordinary: _Ordinary,
) -> list[ReviewRow]:
    """The review of ordinary rows none of whose users exists: every row created."""
    first, last, email, _, _, _, groups, language = zip(*ordinary.fields, strict=True)
    users = build(
        UserRow,
        zip(
            first,
            last,
            email,
            ordinary.organizations,
            ordinary.roles,
            [names or () for names in groups],
            language,
            strict=True,
        ),
    )
    count = len(users)
    return build(
        ReviewRow,
        zip(
            map(itemgetter(0), records),
            map(itemgetter(1), records),
            users,
            repeat(Action.CREATE, count),
            repeat((), count),
            [{} for _ in range(count)],
            strict=True,
        ),
    )


def _review_each(
    records: Sequence[tuple[int | None, Mapping[str, str], tuple[Issue, ...]]],
    validated: Sequence[tuple[ParsedFields | None, tuple[Issue, ...]]],
    parser: _RowParser,
    store: UserStore,
    existing: dict[str, StoredUser] | None,
) -> tuple[list[ReviewRow], dict[str, StoredUser]]:
    """The review row by row; ``existing``: the users already found, if looked up."""
    ctx = parser.ctx
    resolve = parser.resolve
    parsed: list[_Row] = []
    keys: set[str] = set()
    # SPEC §4: a key seen in an earlier row makes a row a duplicate (as
    # duplicate_email_issues finds them, in the same pass).
    first_rows: dict[str, int] = {}
    duplicates: dict[int, Issue] = {}
    for (row, values, reading_issues), result in zip(records, validated, strict=True):
        fields, user_fields, issues = resolve(row, values, reading_issues, result)
        if fields is not None:
            key = fields[3]
            if user_fields is not None:
                keys.add(key)  # a valid row so far: its user may exist
            if row is not None:
                first = first_rows.setdefault(key, row)
                if first != row:
                    raw = values.get("email", "")
                    duplicates[row] = duplicate_email_issue(row, first, raw)
        parsed.append((row, values, fields, user_fields, issues))
    if existing is None:
        existing = lookup(store, keys)
    # The users of the rows that have one, in the order of ``parsed``.
    users = iter(build(UserRow, [p[3] for p in parsed if p[3] is not None]))

    reviewed: list[_ReviewFields] = []
    for row, values, fields, user_fields, issues in parsed:
        user = None if user_fields is None else next(users)
        if duplicates and row is not None and row in duplicates:
            issues.append(duplicates[row])
        if (
            fields is not None
            and fields[3] in _EXAMPLE_KEYS
            and (fields[3], fields[0], fields[1]) in _EXAMPLES
        ):
            issues = [
                Issue.warning(
                    IssueCode.EXAMPLE_ROW,
                    "This is the template's example row; it is skipped. "
                    "Delete it, or replace it with a real user.",
                    row=row,
                )
            ]
            reviewed.append((row, values, None, Action.SKIP, tuple(issues), {}))
            continue
        # Most rows have no issue at all: the tests on issues are skipped for them.
        if user is not None and issues and _has_error(issues):
            user = None
        if user is not None and ctx.checks:
            issues.extend(_run_checks(user, row, ctx.checks))
            if _has_error(issues):
                user = None
        if fields is None or user is None:
            reviewed.append((row, values, None, Action.INVALID, tuple(issues), {}))
            continue
        stored = existing.get(fields[3]) if existing else None
        if stored is None:
            reviewed.append((row, values, user, Action.CREATE, tuple(issues), {}))
        else:
            reviewed.append(
                _against_store(
                    row, values, ParsedUser(*fields), user, stored, issues, ctx
                )
            )
    return build(ReviewRow, reviewed), existing


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
