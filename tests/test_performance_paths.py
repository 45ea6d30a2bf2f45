"""Every speed-up of issue 7 gives exactly the result of the plain path it replaced.

The plain paths are kept here as oracles: the review as it was written before the
speed-ups (``validate_values`` per row, ``OrgTree.candidates`` per row,
``Actor.may_assign``, ``duplicate_email_issues``, the keys of the users, the example
rows by ``email_key``), ``read_upload`` with its ``Record`` objects, uncached header
matching, and the converters in their plain form. Hypothesis compares them with the
fast paths on generated uploads, trees, stores and options.
"""

from __future__ import annotations

import csv
import gc
import io
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import starmap
from typing import Any

import attrs
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from userimport import (
    Action,
    Actor,
    ImportOptions,
    Issue,
    IssueCode,
    MemoryStore,
    OnExisting,
    Organization,
    OrgTree,
    Preview,
    ReviewRow,
    Role,
    StoredUser,
    StoreError,
    Summary,
    UserRow,
    UserStore,
    commit,
    prepare,
    reading,
)
from userimport._bulk import build, collector_paused
from userimport.flow import _unprotected
from userimport.outputs import MARKER, unprotect_cell
from userimport.reading import Record, read_records, read_upload
from userimport.review import (
    Check,
    ReviewContext,
    _against_store,
    _created,
    _ordinary,
    _RowParser,
    _run_checks,
    blank_values,
    lookup,
    review_rows,
)
from userimport.schema import COLUMNS, EXAMPLE_ROWS, email_key
from userimport.strategies import user_rows
from userimport.validation import (
    ParsedUser,
    _name_column,
    _quick_name,
    duplicate_email_issues,
    validate_fields,
    validate_rows,
    validate_values,
)

# --- the plain review: the code before the speed-ups, as the oracle -----------------


def plain_is_example(parsed: ParsedUser) -> bool:
    """Whether the parsed row is one of the template's example rows."""
    return any(
        parsed.key == email_key(example["email"])
        and parsed.first_name == example["first_name"]
        and parsed.last_name == example["last_name"]
        for example in EXAMPLE_ROWS
    )


def plain_resolve(
    ref: str, ctx: ReviewContext, row: int | None
) -> tuple[str | None, Issue | None]:
    """The organization a cell designates, asking the tree for every row."""
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


def plain_parse_row(
    row: int | None, values: Mapping[str, str], ctx: ReviewContext
) -> tuple[ParsedUser | None, UserRow | None, list[Issue]]:
    """Field validation, organization resolution and role rights of one row."""
    parsed, field_issues = validate_values(values, row=row)
    issues = list(field_issues)
    if parsed is None:
        return None, None, issues
    organization, org_issue = plain_resolve(parsed.organization, ctx, row)
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


def plain_review_rows(
    records: Sequence[tuple[int | None, Mapping[str, str], tuple[Issue, ...]]],
    ctx: ReviewContext,
    store: UserStore,
) -> tuple[list[ReviewRow], dict[str, StoredUser]]:
    """The review as written before the speed-ups."""
    parsed_rows = []
    for row, values, reading_issues in records:
        parsed, user, issues = plain_parse_row(row, values, ctx)
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
        if parsed is not None and plain_is_example(parsed):
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
                ReviewRow(
                    *_against_store(row, values, parsed, user, stored, issues, ctx)
                )
            )
    return reviewed, existing


def plain_summary(rows: Iterable[ReviewRow]) -> Summary:
    """Summary.of as written before the speed-ups."""
    counts = dict.fromkeys(Action, 0)
    for row in rows:
        counts[row.action] += 1
    return Summary(
        total=sum(counts.values()),
        create=counts[Action.CREATE],
        update=counts[Action.UPDATE],
        skip=counts[Action.SKIP],
        invalid=counts[Action.INVALID],
    )


def plain_unprotected(values: dict[str, str]) -> dict[str, str]:
    """prepare's undoing of the formula guard, testing every cell."""
    if not any(value.startswith(MARKER) for value in values.values()):
        return values
    return {column: unprotect_cell(value) for column, value in values.items()}


def plain_prepare(
    data: bytes,
    *,
    actor: Actor,
    orgs: OrgTree,
    store: UserStore,
    options: ImportOptions,
) -> Preview:
    """prepare as written before the speed-ups: Records, blank_values, plain review."""
    ctx = ReviewContext(
        actor, orgs, options.on_existing, options.default_role, options.checks
    )
    upload = read_upload(data, max_rows=options.max_rows)
    records = [
        (record.row, plain_unprotected(blank_values(record.values)), record.issues)
        for record in upload.records
    ]
    rows, _ = plain_review_rows(records, ctx, store)
    issues = [*upload.issues]
    for review_row in rows:
        issues.extend(review_row.issues)
    return Preview(
        rows=tuple(rows),
        issues=tuple(issues),
        summary=plain_summary(rows),
        encoding=upload.encoding,
        delimiter=upload.delimiter,
        columns=upload.columns,
        on_existing=options.on_existing,
        default_role=options.default_role,
    )


# --- generated uploads, trees, stores and options ------------------------------------

#: A 4-level tree with a name used three times ("Sales") and a path ("Spain /
#: Madrid"), as in tests/test_flow.py.
ORGS = OrgTree(
    [
        Organization("root", "Acme"),
        Organization("es", "Spain", "root"),
        Organization("mx", "Mexico", "root"),
        Organization("es-mad", "Madrid", "es"),
        Organization("es-bcn", "Barcelona", "es"),
        Organization("mx-cdmx", "Ciudad de México", "mx"),
        Organization("es-mad-sales", "Sales", "es-mad"),
        Organization("es-bcn-sales", "Sales", "es-bcn"),
        Organization("mx-sales", "Sales", "mx-cdmx"),
    ]
)
ACTORS = [
    Actor("root"),
    Actor("es", Role.MANAGER),
    Actor("es-mad", Role.ADMIN),
    Actor("mx", Role.INSTRUCTOR),
    Actor("es-bcn-sales", Role.LEARNER),
]
#: Half of the time the root's admin, who may import every row; else anyone.
actors = st.integers(0, 1).flatmap(
    lambda n: st.just(ACTORS[0]) if n == 0 else st.sampled_from(ACTORS)
)
#: Cell values: ordinary ones (most rows are fine) and odd ones, by column.
ORDINARY = {
    "first_name": ["Ana", "John", "José", "Bo", "Jose\u0301"],
    "last_name": ["García", "Smith", "Li", "Núñez Díaz", "Bad"],
    "email": [
        "ana@acme.example",
        "Ana@ACME.example",
        "bo@acme.example",
        "cy@acme.example",
        "José@acme.example",
        "info@acme.example",
    ],
    "organization": ["", "", "es", "es-mad", "Madrid", "Sales", "Spain / Madrid"],
    "role": ["", "", "learner", "Profesora", "manager", "admin"],
    "groups": ["", "Sales", "Sales; Onboarding"],
    "language": ["", "es", "en-GB"],
}
ODD = {
    "first_name": [" Bo ", "=cmd", "'=cmd", "", "A  B", "x" * 101],
    "last_name": ["Núñez\u00a0Díaz", "", "Ruiz\u200b", "O'Brien"],
    "email": ["ana.garcia@example.com", "not-an-email", "", "ana@acme"],
    "organization": ["madrid", "Madrid / Sales", "mx-cdmx", "Nowhere", "Acme\u202e"],
    "role": ["boss", " ADMIN "],
    "groups": ["A;A;B", ";;", "+x"],
    "language": ["pt_br", "xx"],
}
EMAILS = ORDINARY["email"]
#: A valid row that the root's admin imports.
ORDINARY_ROW = {"first_name": "Ana", "last_name": "Li", "email": "ana@acme.example"}


def cells(column: str) -> st.SearchStrategy[str]:
    """A cell of ``column``: mostly an ordinary value, else an odd one or any text.

    Most rows are then valid, so a row's review reaches the organizations, the
    rights, the duplicates and the store.
    """
    ordinary = st.sampled_from(ORDINARY[column])
    odd = st.one_of(
        st.sampled_from(ODD[column]),
        st.text(st.characters(exclude_categories=["Cc", "Cs"]), max_size=8),
    )
    return st.integers(0, 9).flatmap(lambda n: odd if n == 0 else ordinary)


ordinary_rows = st.fixed_dictionaries({column: cells(column) for column in COLUMNS})
rows_strategy = st.lists(
    st.integers(0, 9).flatmap(
        lambda n: st.sampled_from(EXAMPLE_ROWS).map(dict) if n == 0 else ordinary_rows
    ),
    min_size=1,
    max_size=10,
)


def to_csv(rows: Sequence[Mapping[str, str]]) -> bytes:
    """The rows as a UTF-8 CSV upload with the canonical header."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([row[column] for column in COLUMNS])
    return out.getvalue().encode()


@st.composite
def stores(draw: st.DrawFn) -> MemoryStore:
    """A store holding some of the generated emails, in any organization."""
    users = []
    seen = set()
    for number, email in enumerate(draw(st.lists(st.sampled_from(EMAILS)))):
        if email_key(email) in seen:
            continue
        seen.add(email_key(email))
        users.append(
            StoredUser(
                id=str(number + 1),
                email=email,
                first_name=draw(st.sampled_from(["Ana", "Old"])),
                last_name="Name",
                organization=draw(st.sampled_from([org.id for org in ORGS])),
                role=draw(st.sampled_from(Role)),
                groups=draw(st.sampled_from([(), ("Sales",)])),
                language=draw(st.sampled_from([None, "es"])),
            )
        )
    return MemoryStore(users)


def reject_bad(user: UserRow) -> list[Issue]:
    """A host check that refuses the last name "Bad"."""
    if user.last_name != "Bad":
        return []
    return [Issue.error(IssueCode.HOST_CHECK, "Bad is not allowed.")]


options_strategy = st.builds(
    ImportOptions,
    max_rows=st.sampled_from([None, 200, 200, 200, 3]),
    default_role=st.sampled_from(Role),
    on_existing=st.sampled_from(OnExisting),
    checks=st.sampled_from([(), (reject_bad,)]),
)


# --- the review ----------------------------------------------------------------------


@given(
    rows=rows_strategy,
    actor=actors,
    store=stores(),
    options=options_strategy,
)
def test_prepare_equals_the_plain_prepare(
    rows: list[dict[str, str]],
    actor: Actor,
    store: MemoryStore,
    options: ImportOptions,
) -> None:
    """prepare's preview equals the one of the plain path, row by row, issue by issue.

    This covers reading without Record objects, the values reviewed without a copy,
    validate_fields, organizations resolved once per reference, the assignable
    roles worked out once, duplicates found in the first pass, users looked up by
    their parsed key, the example rows found in a set, and Summary.of.
    """
    data = to_csv(rows)
    expected = plain_prepare(data, actor=actor, orgs=ORGS, store=store, options=options)
    actual = prepare(data, actor=actor, orgs=ORGS, store=store, options=options)
    assert expected == actual


@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from([None, 2, 3, 3, 4]),
            st.fixed_dictionaries(
                {}, optional={column: cells(column) for column in COLUMNS}
            ),
            st.sampled_from([(), (Issue.error(IssueCode.WRONG_FIELD_COUNT, "x"),)]),
        ),
        max_size=8,
    ),
    actor=actors,
    store=stores(),
    on_existing=st.sampled_from(OnExisting),
    checks=st.sampled_from([(), (reject_bad,)]),
)
def test_review_rows_equals_the_plain_review(
    rows: list[tuple[int | None, dict[str, str], tuple[Issue, ...]]],
    actor: Actor,
    store: MemoryStore,
    on_existing: OnExisting,
    checks: tuple[Check, ...],
) -> None:
    """review_rows equals the plain review on any records, as commit and
    validate_user pass them too: rows without a number, repeated numbers, values
    with missing columns, reading issues."""
    ctx = ReviewContext(actor, ORGS, on_existing, Role.LEARNER, checks)
    expected_rows, expected_existing = plain_review_rows(rows, ctx, store)
    actual_rows, actual_existing = review_rows(rows, ctx, store)
    assert (expected_rows, expected_existing) == (actual_rows, actual_existing)


#: Uploads of ordinary rows only (distinct emails, organizations that exist), which
#: the review decides column by column; a few rows still take the row-by-row path (an
#: ambiguous "Sales", a role above the actor's, an existing user).
ordinary_uploads = st.lists(
    st.fixed_dictionaries(
        {
            "first_name": st.sampled_from(ORDINARY["first_name"]),
            "last_name": st.sampled_from(ORDINARY["last_name"][:4]),
            # Some of them in the generated stores.
            "email": st.sampled_from(
                [*EMAILS[:4], "di@acme.example", "ed@acme.example", "fe@acme.example"]
            ),
            "organization": st.sampled_from(ORDINARY["organization"]),
            "role": st.sampled_from(ORDINARY["role"]),
            "groups": st.sampled_from(ORDINARY["groups"]),
            "language": st.sampled_from(ORDINARY["language"]),
        }
    ),
    min_size=1,
    max_size=6,
    unique_by=lambda row: email_key(row["email"]),
)


@given(rows=ordinary_uploads, actor=actors, store=stores())
def test_ordinary_uploads_equal_the_plain_prepare(
    rows: list[dict[str, str]], actor: Actor, store: MemoryStore
) -> None:
    """The column-by-column review of ordinary uploads equals the plain path."""
    data = to_csv(rows)
    options = ImportOptions()
    expected = plain_prepare(data, actor=actor, orgs=ORGS, store=store, options=options)
    assert expected == prepare(
        data, actor=actor, orgs=ORGS, store=store, options=options
    )


def test_an_ordinary_upload_is_reviewed_column_by_column() -> None:
    """The root admin's upload of two new users takes the column path."""
    records = [
        (2, {**dict.fromkeys(COLUMNS, ""), **ORDINARY_ROW}, ()),
        (
            3,
            {**dict.fromkeys(COLUMNS, ""), **ORDINARY_ROW, "email": "b@acme.example"},
            (),
        ),
    ]
    ctx = ReviewContext(ACTORS[0], ORGS, OnExisting.SKIP, Role.LEARNER, ())
    validated = validate_rows([r[1] for r in records], [2, 3])
    ordinary = _ordinary(records, validated, _RowParser(ctx))
    assert ordinary is not None
    assert (_created(records, ordinary), {}) == plain_review_rows(
        records, ctx, MemoryStore()
    )


def test_a_context_given_strings_reviews_with_members() -> None:
    """A policy and default role given as strings are converted: the users built
    at once hold a Role member, as the constructor's converter would make it."""
    ctx = ReviewContext(ACTORS[0], ORGS, "update", "manager", ())
    records = [(2, {**dict.fromkeys(COLUMNS, ""), **ORDINARY_ROW}, ())]
    (row,), _ = review_rows(records, ctx, MemoryStore())
    assert row.user is not None
    assert Role.MANAGER is row.user.role
    assert OnExisting.UPDATE is ctx.on_existing


# --- validation ---------------------------------------------------------------------


@given(
    st.fixed_dictionaries({}, optional={column: cells(column) for column in COLUMNS})
)
def test_validate_fields_is_validate_values_as_a_tuple(values: dict[str, str]) -> None:
    """validate_fields gives validate_values' user as a tuple of its fields, and the
    same issues; a valid row's key is the email_key of its email (the review looks
    users up by it)."""
    parsed, expected_issues = validate_values(values, row=4)
    fields, issues = validate_fields(values, row=4)
    assert expected_issues == issues
    assert (None if parsed is None else attrs.astuple(parsed)) == fields
    if fields is not None:
        assert email_key(fields[2]) == fields[3]


#: Rows of cells, with or without every column (read_records' have them all).
cell_rows = st.one_of(
    ordinary_rows,
    st.fixed_dictionaries({}, optional={column: cells(column) for column in COLUMNS}),
)


@given(st.lists(cell_rows, max_size=8))
@example([{"first_name": "Ana", "last_name": "Li", "email": "a@acme.example"}])
@example([{"first_name": "Jose\u0301", "last_name": "Li", "email": "a@acme.example"}])
def test_validate_rows_is_validate_fields_of_each_row(
    rows: list[dict[str, str]],
) -> None:
    """validate_rows, column by column, gives validate_fields of each row."""
    numbers = list(range(2, len(rows) + 2))
    expected = [validate_fields(v, row=n) for v, n in zip(rows, numbers, strict=True)]
    assert expected == validate_rows(rows, numbers)


@given(st.lists(st.text(max_size=6), max_size=6))
@example(["Ana", "A  B"])
@example(["Ana", " "])
@example(["Ana", "=x"])
@example(["Ana", "x" * 101])
@example(["Ana", "Jose\u0301"])
@example(["Ana", "B\u200bo"])
def test_a_column_of_names_is_read_as_each_name(names: list[str]) -> None:
    """The column check of names gives the cell-by-cell fast path's answers."""
    assert [_quick_name(name) for name in names] == _name_column(names)


# --- objects built at once ----------------------------------------------------------


@given(st.lists(user_rows(), max_size=5))
def test_built_users_equal_constructed_ones(users: list[UserRow]) -> None:
    """build gives the constructor's instances, equal field by field and by type."""
    fields = [attrs.astuple(user, recurse=False) for user in users]
    built = build(UserRow, fields)
    assert [UserRow(*f) for f in fields] == built
    assert all(type(user) is UserRow for user in built)


def test_built_review_rows_equal_constructed_ones() -> None:
    """The review's rows: the action a member, a fresh changes mapping each."""
    user = UserRow("Ana", "Li", "a@acme.example", "root")
    fields: list[tuple[Any, ...]] = [
        (2, {"email": "a@acme.example"}, user, Action.CREATE, (), {}),
        (None, {}, None, Action.INVALID, (Issue.error(IssueCode.NO_ROWS, "x"),), {}),
    ]
    built = build(ReviewRow, fields)
    assert [ReviewRow(*f) for f in fields] == built
    assert built[0].changes is not built[1].changes
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built[0].row = 3  # type: ignore[misc]


@attrs.frozen
class Checked:
    """A class whose __init__ does more than store: build must refuse it."""

    value: int = attrs.field(validator=attrs.validators.gt(0))


@attrs.frozen
class PostInit:
    value: int

    def __attrs_post_init__(self) -> None:
        pass


@attrs.frozen(slots=False)
class NotSlotted:
    value: int


@attrs.frozen(cache_hash=True)
class CachedHash:
    value: int


@attrs.frozen(init=False)
class OwnInit:
    value: int

    def __init__(self, value: int) -> None:
        if value < 0:
            raise ValueError("negative")
        self.__attrs_init__(value)


@attrs.frozen
class InheritsCachedHash(CachedHash):
    pass


@pytest.mark.parametrize(
    "cls", [Checked, PostInit, NotSlotted, CachedHash, OwnInit, InheritsCachedHash]
)
def test_build_refuses_classes_whose_init_matters(cls: type[object]) -> None:
    with pytest.raises(TypeError, match="cannot be skipped"):
        build(cls, [(1,)])


def test_build_of_nothing_and_of_short_rows() -> None:
    assert [] == build(UserRow, [])
    with pytest.raises(ValueError, match="zip"):
        build(UserRow, [("Ana", "Li")])


# --- reading ------------------------------------------------------------------------


#: Header lines, valid or not, that uploads share.
HEADERS = [
    "first_name,last_name,email\r\n",
    "Nombre;Apellidos;Correo\n",
    "email\n",
    "first_name,email,email\n",
    '"a",b\n',
    "",
]
#: Short texts of CSV-ish pieces: delimiters, quotes, line breaks, header names.
texts = st.lists(
    st.sampled_from([*'ab,;\t|"\r\n é', "email", "Nombre", "Rol", "first_name"]),
    max_size=30,
).map("".join)


@given(st.one_of(texts.map(str.encode), rows_strategy.map(to_csv)))
def test_read_records_are_read_upload_records(data: bytes) -> None:
    """read_records gives exactly read_upload's records, as tuples, and the same
    upload otherwise."""
    upload = read_upload(data)
    bare, records = read_records(data)
    assert upload.records == tuple(starmap(Record, records))
    assert attrs.evolve(upload, records=()) == bare


@given(st.lists(st.sampled_from(HEADERS).flatmap(lambda h: texts.map(h.__add__))))
def test_cached_header_reading_equals_uncached(contents: list[str]) -> None:
    """Reading uploads one after another, with the header caches warm, gives what
    reading each with the caches cleared gives."""
    uploads = [text.encode() for text in contents]
    cold = []
    for data in uploads:
        reading._cached_split_scores.cache_clear()
        reading._cached_header_match.cache_clear()
        cold.append(read_upload(data))
    assert cold == [read_upload(data) for data in uploads]


def test_long_headers_are_matched_without_the_cache() -> None:
    """A header longer than the cached length is matched all the same."""
    header = ["first_name", "last_name", "email", *(f"note {i:04}" for i in range(200))]
    data = (",".join(header) + "\r\nAna,Ruiz,a@x.example\r\n").encode()
    upload = read_upload(data)
    assert "," == upload.delimiter
    assert [2] == [record.row for record in upload.records]
    assert 203 == len(upload.columns)


# --- the formula guard of re-uploaded reports ----------------------------------------


@given(
    st.fixed_dictionaries(
        {
            column: st.sampled_from(["", "Ana", "O'Brien", "'=cmd", "''+1", "x'"])
            for column in COLUMNS
        }
    )
)
def test_unprotected_equals_the_plain_test_of_every_cell(
    values: dict[str, str],
) -> None:
    """The search for an apostrophe in the joined cells skips exactly the rows the
    test of every cell skips, and gives the same values (the very same dict when
    nothing changes)."""
    expected = plain_unprotected(values)
    actual = _unprotected(values)
    assert expected == actual
    assert (expected is values) == (actual is values)


# --- converters ---------------------------------------------------------------------


def plain_groups(value: Iterable[str]) -> tuple[str, ...]:
    """UserRow's groups converter in its plain form."""
    return tuple(dict.fromkeys(g for g in value if g))


group_names = st.lists(st.sampled_from(["", "A", "B", "Sales"]), max_size=5)


@given(group_names)
def test_groups_converter_equals_the_plain_one(names: list[str]) -> None:
    """UserRow's groups are deduplicated, without empty names, in order, for tuples,
    lists and one-pass iterables alike."""
    for value in (tuple(names), names, iter(names)):
        assert (
            plain_groups(names)
            == UserRow("A", "B", "a@x.example", "o", groups=value).groups
        )


@pytest.mark.parametrize("value", [*Role, *(role.value for role in Role)])
def test_role_converter_equals_role(value: Role | str) -> None:
    """UserRow's role converter gives Role(value), and is that very member."""
    assert Role(value) is UserRow("A", "B", "a@x.example", "o", role=value).role


def test_role_converter_refuses_unknown_roles() -> None:
    """An unknown role is refused as Role refuses it."""
    with pytest.raises(ValueError, match="boss"):
        UserRow("A", "B", "a@x.example", "o", role="boss")


@pytest.mark.parametrize("value", [*Action, *(action.value for action in Action)])
def test_action_converter_equals_action(value: Action | str) -> None:
    """ReviewRow's action converter gives Action(value), and is that very member."""
    assert Action(value) is ReviewRow(None, {}, None, value).action


@given(st.lists(st.sampled_from(Action)))
def test_summary_counts_equal_the_plain_counts(actions: list[Action]) -> None:
    """Summary.of counts like the plain dictionary of counts."""
    rows = [ReviewRow(None, {}, None, action) for action in actions]
    assert plain_summary(rows) == Summary.of(rows)


# --- the collector paused -------------------------------------------------------------


def collector_seen(user: UserRow) -> list[Issue]:
    """A host check that records whether the collector runs while rows are reviewed."""
    SEEN.append(gc.isenabled())
    return []


SEEN: list[bool] = []


@pytest.fixture
def collector() -> Iterator[None]:
    """The collector enabled, as in any process, and restored after the test."""
    was_enabled = gc.isenabled()
    gc.enable()
    SEEN.clear()
    yield
    if not was_enabled:
        gc.disable()


@pytest.mark.usefixtures("collector")
def test_prepare_and_commit_pause_the_collector_and_restore_it() -> None:
    data = to_csv([{**dict.fromkeys(COLUMNS, ""), **ORDINARY_ROW}])
    options = ImportOptions(checks=(collector_seen,))
    store = MemoryStore()
    preview = prepare(data, actor=ACTORS[0], orgs=ORGS, store=store, options=options)
    assert gc.isenabled()
    commit(preview, actor=ACTORS[0], orgs=ORGS, store=store, options=options)
    assert gc.isenabled()
    assert [False, False] == SEEN


@pytest.mark.usefixtures("collector")
def test_a_disabled_collector_stays_disabled() -> None:
    gc.disable()
    data = to_csv([{**dict.fromkeys(COLUMNS, ""), **ORDINARY_ROW}])
    prepare(data, actor=ACTORS[0], orgs=ORGS, store=MemoryStore())
    assert not gc.isenabled()


class FailingStore(MemoryStore):
    """A store whose look-up fails."""

    def find_by_keys(self, keys: Iterable[str]) -> Mapping[str, StoredUser]:
        raise OSError("disk on fire")


@pytest.mark.usefixtures("collector")
def test_the_collector_is_restored_when_prepare_fails() -> None:
    data = to_csv([{**dict.fromkeys(COLUMNS, ""), **ORDINARY_ROW}])
    with pytest.raises(StoreError):
        prepare(data, actor=ACTORS[0], orgs=ORGS, store=FailingStore())
    assert gc.isenabled()


@pytest.mark.usefixtures("collector")
def test_overlapping_pauses_share_one() -> None:
    """Blocks that overlap, as in two threads, leave the collector off until the
    last one ends, and then on, as it was before the first."""
    first, second = collector_paused(), collector_paused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()


@pytest.mark.usefixtures("collector")
def test_a_pause_in_a_thread_ends_when_every_thread_is_done() -> None:
    entered, release = threading.Event(), threading.Event()

    def hold() -> None:
        with collector_paused():
            entered.set()
            release.wait()

    thread = threading.Thread(target=hold)
    thread.start()
    entered.wait()
    with collector_paused():
        pass
    assert not gc.isenabled()
    release.set()
    thread.join()
    assert gc.isenabled()
