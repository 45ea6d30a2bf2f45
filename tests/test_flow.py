"""The prepare → review → commit flow."""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Mapping, Sequence

import attrs
import cattrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from userimport import (
    Action,
    Actor,
    CommitBlocked,
    CommitConflict,
    ImportOptions,
    Issue,
    IssueCode,
    MemoryStore,
    OnExisting,
    Organization,
    OrgTree,
    Preview,
    PreviewMismatch,
    Role,
    Severity,
    StoredUser,
    StoreError,
    Summary,
    UserImportError,
    UserRow,
    UserWrite,
    commit,
    converter,
    prepare,
    validate_user,
    visible_users,
)
from userimport._messages import say
from userimport.schema import EXAMPLE_ROWS

HEADER = "first_name,last_name,email,organization,role,groups,language"

#: A 4-level tree: root → countries → cities → teams ("Sales" twice).
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
ROOT_ADMIN = Actor("root")
SPAIN_MANAGER = Actor("es", Role.MANAGER)
MADRID_ADMIN = Actor("es-mad", Role.ADMIN)


def csv(*rows: str) -> bytes:
    """A UTF-8 CSV upload with the canonical header."""
    return ("\r\n".join([HEADER, *rows]) + "\r\n").encode()


def stored(
    user_id: str, email: str, organization: str, role: Role = Role.LEARNER, **kw: str
) -> StoredUser:
    """A stored user with plain names."""
    return StoredUser(
        id=user_id,
        email=email,
        first_name=kw.get("first_name", "Old"),
        last_name=kw.get("last_name", "Name"),
        organization=organization,
        role=role,
        groups=(),
        language=kw.get("language"),
    )


def codes(issues: Iterable[Issue]) -> set[IssueCode]:
    """The set of codes of ``issues``."""
    return {issue.code for issue in issues}


# --- prepare --------------------------------------------------------------------


def test_prepare_reviews_valid_rows_as_creates() -> None:
    """Valid new users are creates, with parsed users and resolved organizations."""
    data = csv(
        "Ana,García,ana@acme.example,Madrid,instructor,Sales;Onboarding,es",
        "Bo,Li,bo@acme.example,,,,",
    )
    preview = prepare(data, actor=ROOT_ADMIN, orgs=ORGS, store=MemoryStore())
    assert preview.ok
    assert preview.can_commit
    assert all(row.ok for row in preview.rows)
    assert Summary(total=2, create=2) == preview.summary
    assert [2, 3] == [r.row for r in preview.rows]
    ana = preview.rows[0].user
    assert ana is not None
    assert ("es-mad", Role.INSTRUCTOR, ("Sales", "Onboarding"), "es") == (
        ana.organization,
        ana.role,
        ana.groups,
        ana.language,
    )
    bo = preview.rows[1].user
    assert bo is not None
    assert ("root", Role.LEARNER, (), None) == (
        bo.organization,
        bo.role,
        bo.groups,
        bo.language,
    )
    assert "utf-8" == preview.encoding
    assert "," == preview.delimiter


def test_default_role_option_applies_to_empty_role_cells() -> None:
    """``default_role`` is the role of rows whose role cell is empty."""
    options = ImportOptions(default_role="instructor")
    preview = prepare(
        csv("Bo,Li,bo@acme.example,,,,"),
        actor=ROOT_ADMIN,
        orgs=ORGS,
        store=MemoryStore(),
        options=options,
    )
    assert preview.rows[0].user is not None
    assert Role.INSTRUCTOR == preview.rows[0].user.role


def test_columns_report_matched_and_ignored_headers() -> None:
    """``preview.columns`` maps each header cell as written to its column or None."""
    data = "Nombre,Apellidos,Correo electrónico,Notes\r\nAna,Ruiz,a@x.example,hi\r\n"
    preview = prepare(data.encode(), actor=ROOT_ADMIN, orgs=ORGS, store=MemoryStore())
    assert [
        ("Nombre", "first_name"),
        ("Apellidos", "last_name"),
        ("Correo electrónico", "email"),
        ("Notes", None),
    ] == [(c.header, c.column) for c in preview.columns]
    assert IssueCode.UNKNOWN_COLUMNS in codes(preview.file_issues)


@pytest.mark.parametrize(
    ("locale", "read"), [("cs", "Maňko"), ("lv", "Maņko"), ("en", "Maňko")]
)
def test_the_locale_breaks_a_tie_between_code_pages(locale: str, read: str) -> None:
    """A legacy file that reads as a name in two code pages (Czech "Maňko" in
    cp1250, Latvian "Maņko" in cp1257) is read in the one of the review's
    language; English hints nothing, and the tie is warned about either way."""
    data = f"{HEADER}\r\nAna,Maňko,ana@x.com,,,,\r\n".encode("cp1250")

    preview = prepare(
        data,
        actor=ROOT_ADMIN,
        orgs=ORGS,
        store=MemoryStore(),
        options=ImportOptions(locale=locale),
    )

    assert read == preview.rows[0].values["last_name"]
    assert [IssueCode.ENCODING_GUESSED] == [i.code for i in preview.issues]


def test_file_level_errors_give_no_rows_and_block_commit() -> None:
    """A file-level error leaves no rows to review, and commit refuses it."""
    store = MemoryStore()
    preview = prepare(b"", actor=ROOT_ADMIN, orgs=ORGS, store=store)
    assert () == preview.rows
    assert {IssueCode.EMPTY_FILE} == codes(preview.issues)
    assert not preview.ok
    assert not preview.can_commit
    with pytest.raises(CommitBlocked):
        commit(preview, actor=ROOT_ADMIN, orgs=ORGS, store=store)


def test_issues_are_file_level_first_then_by_row() -> None:
    """``preview.issues`` lists file-level issues first, then rows in file order."""
    data = (
        b"first_name,last_name,email,extra\r\n"
        b"Ana,,ana@x.example,1\r\n"
        b",Li,bo@x.example,2\r\n"
    )
    preview = prepare(data, actor=ROOT_ADMIN, orgs=ORGS, store=MemoryStore())
    assert [None, 2, 3] == [issue.row for issue in preview.issues]


# --- organizations and rights ----------------------------------------------------


@pytest.mark.parametrize("ref", ["mx", "Mexico", "root", "Acme", "Atlantis", "zz"])
def test_organizations_outside_the_subtree_read_as_unknown(ref: str) -> None:
    """A sibling, a parent and a non-existent organization get the same message.

    Only the reference itself differs, so existence never leaks.
    """
    preview = prepare(
        csv(f"Ana,Ruiz,ana@x.example,{ref},,,"),
        actor=SPAIN_MANAGER,
        orgs=ORGS,
        store=MemoryStore(),
    )
    (issue,) = preview.rows[0].issues
    assert IssueCode.UNKNOWN_ORGANIZATION == issue.code
    generic = issue.message.replace(ref, "REF")
    unknown = prepare(
        csv("Ana,Ruiz,ana@x.example,Nowhere,,,"),
        actor=SPAIN_MANAGER,
        orgs=ORGS,
        store=MemoryStore(),
    ).rows[0]
    assert unknown.issues[0].message.replace("Nowhere", "REF") == generic


def test_ambiguous_organization_lists_candidates_inside_the_subtree_only() -> None:
    """ "Sales" is ambiguous for the root admin, but not from inside Madrid."""
    row = "Ana,Ruiz,ana@x.example,Sales,,,"
    preview = prepare(csv(row), actor=SPAIN_MANAGER, orgs=ORGS, store=MemoryStore())
    (issue,) = preview.rows[0].issues
    assert IssueCode.AMBIGUOUS_ORGANIZATION == issue.code
    assert "Spain / Madrid / Sales" in issue.message
    assert "Mexico" not in issue.message
    madrid = prepare(csv(row), actor=MADRID_ADMIN, orgs=ORGS, store=MemoryStore())
    assert madrid.rows[0].user is not None
    assert "es-mad-sales" == madrid.rows[0].user.organization


def test_a_manager_cannot_import_an_admin() -> None:
    """A role above the actor's own is ``role_not_allowed``; up to its own is fine."""
    preview = prepare(
        csv("Ana,Ruiz,ana@x.example,,admin,,", "Bo,Li,bo@x.example,,manager,,"),
        actor=SPAIN_MANAGER,
        orgs=ORGS,
        store=MemoryStore(),
    )
    assert [Action.INVALID, Action.CREATE] == [r.action for r in preview.rows]
    assert {IssueCode.ROLE_NOT_ALLOWED} == codes(preview.rows[0].issues)


def test_actor_outside_the_tree_is_misuse() -> None:
    """An actor whose organization is not in the tree is a caller's mistake."""
    with pytest.raises(UserImportError):
        prepare(csv(), actor=Actor("nope"), orgs=ORGS, store=MemoryStore())


def test_visible_users_lists_exactly_the_actor_subtree() -> None:
    """The Users screen shows the actor's organization and those under it, only."""
    store = MemoryStore(
        [
            stored("1", "r@x.example", "root"),
            stored("2", "s@x.example", "es"),
            stored("3", "m@x.example", "es-mad-sales"),
            stored("4", "x@x.example", "mx-sales"),
        ]
    )
    assert ["m@x.example", "s@x.example"] == sorted(
        u.email for u in visible_users(SPAIN_MANAGER, ORGS, store)
    )
    assert ["m@x.example"] == [
        u.email for u in visible_users(MADRID_ADMIN, ORGS, store)
    ]
    assert 4 == len(visible_users(ROOT_ADMIN, ORGS, store))


def test_email_taken_does_not_reveal_where_the_user_lives() -> None:
    """An existing user outside the subtree is ``email_taken``, whatever the policy."""
    store = MemoryStore([stored("9", "x@x.example", "mx-sales")])
    for policy in OnExisting:
        preview = prepare(
            csv("Ana,Ruiz,X@x.example,,,,"),
            actor=SPAIN_MANAGER,
            orgs=ORGS,
            store=store,
            options=ImportOptions(on_existing=policy),
        )
        (issue,) = preview.rows[0].issues
        assert (IssueCode.EMAIL_TAKEN, Severity.ERROR) == (issue.code, issue.severity)
        for secret in ("mx", "Mexico", "Sales", "México"):
            assert secret not in issue.message


# --- existing users ---------------------------------------------------------------


def test_existing_user_is_skipped_by_default() -> None:
    """Under ``skip`` an existing visible user is left untouched, with a warning."""
    store = MemoryStore([stored("1", "ana@x.example", "es")])
    preview = prepare(
        csv("Ana,Ruiz,ANA@x.example,,,,"), actor=SPAIN_MANAGER, orgs=ORGS, store=store
    )
    row = preview.rows[0]
    assert Action.SKIP == row.action
    assert [(IssueCode.EMAIL_EXISTS, Severity.WARNING)] == [
        (i.code, i.severity) for i in row.issues
    ]


def test_existing_user_is_an_error_under_error_policy() -> None:
    """Under ``error`` an existing user makes the row invalid."""
    store = MemoryStore([stored("1", "ana@x.example", "es")])
    preview = prepare(
        csv("Ana,Ruiz,ana@x.example,,,,"),
        actor=SPAIN_MANAGER,
        orgs=ORGS,
        store=store,
        options=ImportOptions(on_existing="error"),
    )
    assert Action.INVALID == preview.rows[0].action
    assert [(IssueCode.EMAIL_EXISTS, Severity.ERROR)] == [
        (i.code, i.severity) for i in preview.rows[0].issues
    ]


def test_update_reports_changes_and_keeps_values_of_empty_cells() -> None:
    """Under ``update`` the row lists each changed field; empty cells keep values."""
    old = attrs.evolve(
        stored("1", "ana@x.example", "es-mad", Role.INSTRUCTOR, language="es"),
        groups=("Sales",),
    )
    store = MemoryStore([old])
    preview = prepare(
        csv("Ana,Ruiz,ana@x.example,,,,"),
        actor=SPAIN_MANAGER,
        orgs=ORGS,
        store=store,
        options=ImportOptions(on_existing=OnExisting.UPDATE),
    )
    row = preview.rows[0]
    assert Action.UPDATE == row.action
    assert {"first_name": ("Old", "Ana"), "last_name": ("Name", "Ruiz")} == dict(
        row.changes
    )
    assert row.user is not None
    assert ("es-mad", Role.INSTRUCTOR, ("Sales",), "es") == (
        row.user.organization,
        row.user.role,
        row.user.groups,
        row.user.language,
    )
    result = commit(
        preview,
        actor=SPAIN_MANAGER,
        orgs=ORGS,
        store=store,
        options=ImportOptions(on_existing=OnExisting.UPDATE),
    )
    assert (0, 1) == (result.created, result.updated)
    (now,) = store.find_by_keys(["ana@x.example"]).values()
    assert ("1", "Ana", "Ruiz", "es-mad") == (
        now.id,
        now.first_name,
        now.last_name,
        now.organization,
    )


def test_update_that_changes_nothing_is_a_skip() -> None:
    """A row identical to the stored user is skipped, never a pointless update."""
    store = MemoryStore([stored("1", "ana@x.example", "es", first_name="Ana")])
    preview = prepare(
        csv("Ana,Name,ana@x.example,,,,"),
        actor=SPAIN_MANAGER,
        orgs=ORGS,
        store=store,
        options=ImportOptions(on_existing="update"),
    )
    assert Action.SKIP == preview.rows[0].action
    assert {} == dict(preview.rows[0].changes)


def test_a_manager_cannot_update_an_admin() -> None:
    """Updating a stored user whose role is above the actor's is refused."""
    store = MemoryStore([stored("1", "boss@x.example", "es", Role.ADMIN)])
    preview = prepare(
        csv("Boss,Changed,boss@x.example,,,,"),
        actor=SPAIN_MANAGER,
        orgs=ORGS,
        store=store,
        options=ImportOptions(on_existing="update"),
    )
    assert Action.INVALID == preview.rows[0].action
    assert {IssueCode.ROLE_NOT_ALLOWED} == codes(preview.rows[0].issues)


# --- within the file --------------------------------------------------------------


def test_duplicate_emails_name_the_first_row() -> None:
    """The second row with the same case-folded email is invalid and names row 2."""
    preview = prepare(
        csv("Ana,Ruiz,ana@x.example,,,,", "Ana,Bis,ANA@X.example,,,,"),
        actor=ROOT_ADMIN,
        orgs=ORGS,
        store=MemoryStore(),
    )
    assert [Action.CREATE, Action.INVALID] == [r.action for r in preview.rows]
    (issue,) = preview.rows[1].issues
    assert IssueCode.DUPLICATE_EMAIL == issue.code
    assert "2" in issue.message


def test_example_rows_left_in_the_upload_are_skipped() -> None:
    """The template's example rows are skipped with ``example_row``."""
    example = ",".join(
        f'"{EXAMPLE_ROWS[0][c]}"'
        for c in ("first_name", "last_name", "email", "organization", "role")
    )
    preview = prepare(
        csv(example + ",,", "Bo,Li,bo@x.example,,,,"),
        actor=ROOT_ADMIN,
        orgs=ORGS,
        store=MemoryStore(),
    )
    assert [Action.SKIP, Action.CREATE] == [r.action for r in preview.rows]
    assert {IssueCode.EXAMPLE_ROW} == codes(preview.rows[0].issues)
    assert preview.ok


def test_host_checks_add_issues_with_the_row_filled_in() -> None:
    """``ImportOptions.checks`` issues appear like the library's own."""

    def acme_only(user: UserRow) -> Iterable[Issue]:
        if not user.email.endswith("@acme.com"):
            yield Issue.error(
                IssueCode.HOST_CHECK,
                "Emails must end in @acme.com.",
                column="email",
                value=user.email,
            )

    preview = prepare(
        csv("Ana,Ruiz,ana@acme.com,,,,", "Bo,Li,bo@gmail.com,,,,"),
        actor=ROOT_ADMIN,
        orgs=ORGS,
        store=MemoryStore(),
        options=ImportOptions(checks=[acme_only]),
    )
    assert [Action.CREATE, Action.INVALID] == [r.action for r in preview.rows]
    (issue,) = preview.rows[1].issues
    assert (IssueCode.HOST_CHECK, 3, "email") == (issue.code, issue.row, issue.column)


# --- validate_user --------------------------------------------------------------


def test_validate_user_reports_every_problem() -> None:
    """The single-user form gets every problem at once, with ``row`` None."""
    review = validate_user(
        {"first_name": "", "email": "not-an-email", "role": "boss", "language": "zz"},
        actor=ROOT_ADMIN,
        orgs=ORGS,
        store=MemoryStore(),
    )
    assert review.row is None
    assert Action.INVALID == review.action
    assert {
        IssueCode.MISSING_VALUE,
        IssueCode.INVALID_EMAIL,
        IssueCode.INVALID_ROLE,
        IssueCode.INVALID_LANGUAGE,
    } <= codes(review.issues)
    assert all(issue.row is None for issue in review.issues)


def test_validate_user_accepts_a_valid_user() -> None:
    """A valid form gives a create with the parsed user."""
    review = validate_user(
        {"first_name": " Ana ", "last_name": "Ruiz", "email": "ana@x.example"},
        actor=MADRID_ADMIN,
        orgs=ORGS,
        store=MemoryStore(),
    )
    assert Action.CREATE == review.action
    assert review.user is not None
    assert ("Ana", "es-mad") == (review.user.first_name, review.user.organization)


# --- commit -----------------------------------------------------------------------


def test_commit_counts_equal_the_summary_and_users_are_visible() -> None:
    """A successful commit's counts equal the preview's summary."""
    store = MemoryStore([stored("1", "old@x.example", "es")])
    preview = prepare(
        csv(
            "Ana,Ruiz,ana@x.example,Madrid,,,",
            "Old,Name,old@x.example,,,,",
            "Bo,Li,bo@x.example,Barcelona,,,",
        ),
        actor=SPAIN_MANAGER,
        orgs=ORGS,
        store=store,
    )
    result = commit(preview, actor=SPAIN_MANAGER, orgs=ORGS, store=store)
    assert (
        preview.summary.create,
        preview.summary.update,
        preview.summary.skip,
        preview.summary.invalid,
    ) == (result.created, result.updated, result.skipped, result.invalid)
    assert (2, 0, 1, 0) == (result.created, result.updated, result.skipped, 0)
    assert {"ana@x.example", "bo@x.example", "old@x.example"} == {
        u.email for u in visible_users(SPAIN_MANAGER, ORGS, store)
    }


def test_invalid_rows_block_the_commit_unless_skipped() -> None:
    """Invalid rows raise ``CommitBlocked``; ``skip_invalid`` leaves them out."""
    store = MemoryStore()
    preview = prepare(
        csv("Ana,Ruiz,ana@x.example,,,,", "Bo,,bo@x.example,,,,"),
        actor=ROOT_ADMIN,
        orgs=ORGS,
        store=store,
    )
    assert not preview.ok
    assert preview.can_commit
    with pytest.raises(CommitBlocked) as blocked:
        commit(preview, actor=ROOT_ADMIN, orgs=ORGS, store=store)
    assert (3,) == blocked.value.rows
    assert [] == visible_users(ROOT_ADMIN, ORGS, store)
    result = commit(
        preview, actor=ROOT_ADMIN, orgs=ORGS, store=store, skip_invalid=True
    )
    assert (1, 1) == (result.created, result.invalid)


def test_commit_twice_never_duplicates() -> None:
    """The second commit of the same preview raises ``CommitConflict``."""
    store = MemoryStore()
    preview = prepare(
        csv("Ana,Ruiz,ana@x.example,,,,"), actor=ROOT_ADMIN, orgs=ORGS, store=store
    )
    commit(preview, actor=ROOT_ADMIN, orgs=ORGS, store=store)
    with pytest.raises(CommitConflict) as conflict:
        commit(preview, actor=ROOT_ADMIN, orgs=ORGS, store=store)
    assert (2,) == conflict.value.rows
    assert 1 == len(visible_users(ROOT_ADMIN, ORGS, store))


def test_reimporting_the_same_file_creates_nothing_twice() -> None:
    """Re-importing with ``on_existing=skip`` skips everyone already imported."""
    store = MemoryStore()
    data = csv("Ana,Ruiz,ana@x.example,,,,", "Bo,Li,bo@x.example,,,,")
    first = prepare(data, actor=ROOT_ADMIN, orgs=ORGS, store=store)
    commit(first, actor=ROOT_ADMIN, orgs=ORGS, store=store)
    again = prepare(data, actor=ROOT_ADMIN, orgs=ORGS, store=store)
    assert Summary(total=2, skip=2) == again.summary
    result = commit(again, actor=ROOT_ADMIN, orgs=ORGS, store=store)
    assert (0, 2) == (result.created, result.skipped)
    assert 2 == len(visible_users(ROOT_ADMIN, ORGS, store))


def test_drift_between_review_and_commit_is_a_conflict() -> None:
    """A user created meanwhile makes commit raise, and nothing is written."""
    store = MemoryStore()
    preview = prepare(
        csv("Ana,Ruiz,ana@x.example,,,,", "Bo,Li,bo@x.example,,,,"),
        actor=ROOT_ADMIN,
        orgs=ORGS,
        store=store,
    )
    store.apply([UserWrite(UserRow("B", "L", "BO@x.example", "mx"))])
    with pytest.raises(CommitConflict) as conflict:
        commit(preview, actor=ROOT_ADMIN, orgs=ORGS, store=store)
    assert (3,) == conflict.value.rows
    assert ["BO@x.example"] == [u.email for u in visible_users(ROOT_ADMIN, ORGS, store)]


def test_drift_into_an_invisible_organization_is_a_conflict() -> None:
    """A user created meanwhile outside the actor's subtree is a conflict too."""
    store = MemoryStore()
    preview = prepare(
        csv("Ana,Ruiz,ana@x.example,,,,"), actor=SPAIN_MANAGER, orgs=ORGS, store=store
    )
    store.apply([UserWrite(UserRow("A", "R", "ana@x.example", "mx"))])
    with pytest.raises(CommitConflict):
        commit(preview, actor=SPAIN_MANAGER, orgs=ORGS, store=store)


def test_an_updated_user_changed_meanwhile_is_a_conflict() -> None:
    """An update whose user changed since the review raises ``CommitConflict``."""
    store = MemoryStore([stored("1", "ana@x.example", "es")])
    preview = prepare(
        csv("Ana,Ruiz,ana@x.example,,,,"),
        actor=SPAIN_MANAGER,
        orgs=ORGS,
        store=store,
        options=ImportOptions(on_existing="update"),
    )
    (current,) = store.find_by_keys(["ana@x.example"]).values()
    changed = UserRow("Someone", "Else", "ana@x.example", "es")
    store.apply([UserWrite(changed, current)])
    with pytest.raises(CommitConflict):
        commit(
            preview,
            actor=SPAIN_MANAGER,
            orgs=ORGS,
            store=store,
            options=ImportOptions(on_existing="update"),
        )


def test_commit_refuses_a_preview_made_for_another_actor() -> None:
    """A review made by the root administrator cannot be committed by a manager of
    Spain, nor by the same organization with another role: nothing is written."""
    store = MemoryStore()
    preview = prepare(
        csv("Bo,Li,bo@x.example,Madrid,,,"), actor=ROOT_ADMIN, orgs=ORGS, store=store
    )
    assert preview.ok
    for other in (SPAIN_MANAGER, Actor("root", Role.MANAGER)):
        with pytest.raises(PreviewMismatch):
            commit(preview, actor=other, orgs=ORGS, store=store)
    assert [] == visible_users(ROOT_ADMIN, ORGS, store)


def test_rights_lost_since_the_review_are_a_conflict_even_leaving_rows_out() -> None:
    """A row valid at review that the actor may no longer import is a conflict that
    names it, never a row silently left out, even under ``skip_invalid``."""
    store = MemoryStore()
    moved = OrgTree(
        [
            attrs.evolve(org, parent_id="mx") if org.id == "es-mad" else org
            for org in ORGS
        ]
    )
    preview = prepare(
        csv("Ana,Ruiz,ana@x.example,Spain,,,", "Bo,Li,bo@x.example,Madrid,,,"),
        actor=SPAIN_MANAGER,
        orgs=ORGS,
        store=store,
    )
    assert preview.ok
    for skip_invalid in (False, True):
        with pytest.raises(CommitConflict) as conflict:
            commit(
                preview,
                actor=SPAIN_MANAGER,
                orgs=moved,
                store=store,
                skip_invalid=skip_invalid,
            )
        assert (3,) == conflict.value.rows
        assert "be invalid" in conflict.value.reasons[3]
    assert [] == visible_users(ROOT_ADMIN, ORGS, store)


def test_a_renamed_organization_is_a_conflict_naming_the_field() -> None:
    """If a reference resolves to another organization at Done (a rename gave
    another organization the reviewed name), the row is a conflict naming the
    organization; nothing is written."""
    store = MemoryStore()
    preview = prepare(
        csv("Ana,Ruiz,ana@x.example,Madrid,,,"),
        actor=ROOT_ADMIN,
        orgs=ORGS,
        store=store,
    )
    renamed = OrgTree(
        [
            attrs.evolve(org, name="Old Madrid")
            if org.id == "es-mad"
            else attrs.evolve(org, name="Madrid")
            if org.id == "mx"
            else org
            for org in ORGS
        ]
    )
    with pytest.raises(CommitConflict) as conflict:
        commit(preview, actor=ROOT_ADMIN, orgs=renamed, store=store)
    assert {2: "its organization would differ from the review"} == dict(
        conflict.value.reasons
    )
    assert [] == visible_users(ROOT_ADMIN, ORGS, store)


def test_commit_recomputes_tampered_users_and_refuses_them() -> None:
    """A preview whose parsed user was edited is refused as a conflict: what the
    values say differs from what the preview claims."""
    store = MemoryStore()
    preview = prepare(
        csv("Ana,Ruiz,ana@x.example,Madrid,,,"),
        actor=ROOT_ADMIN,
        orgs=ORGS,
        store=store,
    )
    row = preview.rows[0]
    assert row.user is not None
    forged = attrs.evolve(row, user=attrs.evolve(row.user, role=Role.ADMIN))
    with pytest.raises(CommitConflict) as conflict:
        commit(
            attrs.evolve(preview, rows=(forged,)),
            actor=ROOT_ADMIN,
            orgs=ORGS,
            store=store,
        )
    assert {2: "its role would differ from the review"} == dict(conflict.value.reasons)
    assert [] == visible_users(ROOT_ADMIN, ORGS, store)


def test_commit_refuses_options_other_than_the_reviews() -> None:
    """The server's options must be those of the review: other checks, another
    policy or another default role are a PreviewMismatch; nothing is written."""

    def no_bo(user: UserRow) -> Iterable[Issue]:
        if user.first_name == "Bo":
            yield Issue.error(IssueCode.HOST_CHECK, "No Bo allowed.")

    store = MemoryStore()
    preview = prepare(
        csv("Bo,Li,bo@x.example,,,,"), actor=ROOT_ADMIN, orgs=ORGS, store=store
    )
    for options in (
        ImportOptions(checks=[no_bo]),
        ImportOptions(on_existing="update"),
        ImportOptions(default_role="manager"),
        ImportOptions(max_rows=None),
    ):
        with pytest.raises(PreviewMismatch):
            commit(preview, actor=ROOT_ADMIN, orgs=ORGS, store=store, options=options)
    assert [] == visible_users(ROOT_ADMIN, ORGS, store)


def test_commit_applies_the_row_limit_again() -> None:
    """A preview holding more rows than the server's limit was altered: refused."""
    store = MemoryStore()
    preview = prepare(
        csv("Ana,Ruiz,ana@x.example,,,,"), actor=ROOT_ADMIN, orgs=ORGS, store=store
    )
    many = tuple(
        attrs.evolve(preview.rows[0], row=2 + n, values={**preview.rows[0].values})
        for n in range(201)
    )
    with pytest.raises(PreviewMismatch, match="201 rows"):
        commit(
            attrs.evolve(preview, rows=many), actor=ROOT_ADMIN, orgs=ORGS, store=store
        )
    assert [] == visible_users(ROOT_ADMIN, ORGS, store)


def test_a_preview_bound_to_no_one_is_never_committed() -> None:
    """A preview without the actor it was made for (an old or hand-made one) is
    refused."""
    store = MemoryStore()
    preview = prepare(
        csv("Ana,Ruiz,ana@x.example,,,,"), actor=ROOT_ADMIN, orgs=ORGS, store=store
    )
    with pytest.raises(PreviewMismatch):
        commit(
            attrs.evolve(preview, actor=None), actor=ROOT_ADMIN, orgs=ORGS, store=store
        )


class RacingStore(MemoryStore):
    """A MemoryStore where someone else writes just before each ``apply``."""

    def __init__(self) -> None:
        super().__init__()
        self.race: list[UserWrite] = []

    def apply(self, writes: Sequence[UserWrite]) -> Sequence[StoredUser]:
        """Let the racing writes land first, then apply ``writes``."""
        racing, self.race = self.race, []
        if racing:
            super().apply(racing)
        return super().apply(writes)


def test_a_race_inside_the_store_is_a_conflict_naming_rows() -> None:
    """A create that loses a race in the store's own re-check names its row."""
    store = RacingStore()
    preview = prepare(
        csv("Ana,Ruiz,ana@x.example,,,,", "Bo,Li,bo@x.example,,,,"),
        actor=ROOT_ADMIN,
        orgs=ORGS,
        store=store,
    )
    store.race = [UserWrite(UserRow("B", "L", "bo@X.example", "mx"))]
    with pytest.raises(CommitConflict) as conflict:
        commit(preview, actor=ROOT_ADMIN, orgs=ORGS, store=store)
    assert ((3,), ("bo@x.example",)) == (conflict.value.rows, conflict.value.keys)
    assert ["bo@X.example"] == [u.email for u in visible_users(ROOT_ADMIN, ORGS, store)]


class BrokenLookupStore(MemoryStore):
    """A MemoryStore whose look-ups fail like a lost connection."""

    def find_by_keys(self, keys: Collection[str]) -> Mapping[str, StoredUser]:
        """Fail like a broken driver would."""
        raise ConnectionError("connection reset")


def test_foreign_lookup_failures_surface_as_store_error() -> None:
    """A look-up failure is translated into ``StoreError`` by prepare, its message
    sayable in the review's language."""
    with pytest.raises(StoreError) as failed:
        prepare(
            csv("Ana,Ruiz,ana@x.example,,,,"),
            actor=ROOT_ADMIN,
            orgs=ORGS,
            store=BrokenLookupStore(),
        )

    (said,) = failed.value.args
    assert "The user store failed while looking up emails: connection reset" == said
    assert say(said, "es") == (
        "El almacén de usuarios falló al buscar los correos electrónicos: "
        "connection reset"
    )


def test_options_accept_strings_and_refuse_nonsense() -> None:
    """Options take enum members or their values; limits below 1 are misuse."""
    options = ImportOptions(on_existing="update", default_role="manager")
    assert (OnExisting.UPDATE, Role.MANAGER) == (
        options.on_existing,
        options.default_role,
    )
    assert "update" == str(OnExisting.UPDATE)
    assert "create" == str(Action.CREATE)
    assert ImportOptions(max_rows=None).max_rows is None
    with pytest.raises(ValueError, match="max_rows"):
        ImportOptions(max_rows=0)
    with pytest.raises(ValueError, match="max_bytes"):
        ImportOptions(max_bytes=0)
    with pytest.raises(ValueError, match="bogus"):
        ImportOptions(on_existing="bogus")


def test_an_empty_preview_commits_nothing() -> None:
    """A preview whose rows are all skipped commits without touching the store."""
    store = MemoryStore([stored("1", "ana@x.example", "root")])
    preview = prepare(
        csv("Ana,Ruiz,ana@x.example,,,,"), actor=ROOT_ADMIN, orgs=ORGS, store=store
    )
    result = commit(preview, actor=ROOT_ADMIN, orgs=ORGS, store=store)
    assert (0, 1, ()) == (result.created, result.skipped, result.users)


def test_converter_refuses_a_bad_field_value() -> None:
    """A tampered ``changes`` value that is no user field fails to load."""
    preview = prepare(
        csv("Ana,Ruiz,ana@x.example,,,,"),
        actor=ROOT_ADMIN,
        orgs=ORGS,
        store=MemoryStore([stored("1", "ana@x.example", "root")]),
        options=ImportOptions(on_existing="update"),
    )
    data = converter.unstructure(preview)
    data["rows"][0]["changes"] = {"first_name": [{"x": 1}, "Ana"]}
    with pytest.raises(cattrs.BaseValidationError) as failed:
        converter.structure(data, Preview)
    # cattrs groups the failures; transform_error would hide our message.
    leaves: list[BaseException] = []
    pending: list[BaseException] = [failed.value]
    while pending:
        exc = pending.pop()
        nested = getattr(exc, "exceptions", None)
        if nested:
            pending.extend(nested)
        else:
            leaves.append(exc)
    assert any("not a user field value" in str(exc) for exc in leaves)


class FailingStore(MemoryStore):
    """A MemoryStore whose ``apply`` fails with a foreign exception."""

    def apply(self, writes: Sequence[UserWrite]) -> Sequence[StoredUser]:
        """Fail like a broken driver would."""
        raise OSError("disk on fire")


def test_foreign_store_failures_surface_as_store_error() -> None:
    """An adapter's foreign exception is translated into ``StoreError``, said in
    the review's language."""
    store = FailingStore()
    data = csv("Ana,Ruiz,ana@x.example,,,,")
    preview = prepare(data, actor=ROOT_ADMIN, orgs=ORGS, store=store)
    es = ImportOptions(locale="es")
    spanish = prepare(data, actor=ROOT_ADMIN, orgs=ORGS, store=store, options=es)
    with pytest.raises(StoreError) as failed:
        commit(preview, actor=ROOT_ADMIN, orgs=ORGS, store=store)
    with pytest.raises(StoreError) as failed_in_spanish:
        commit(spanish, actor=ROOT_ADMIN, orgs=ORGS, store=store, options=es)

    assert "The user store failed; nothing was written: disk on fire" == str(
        failed.value
    )
    assert "El almacén de usuarios falló; no se escribió nada: disk on fire" == str(
        failed_in_spanish.value
    )


def test_concurrent_commits_sharing_emails_have_one_winner_per_email() -> None:
    """Threads committing overlapping previews: each email is created exactly once."""
    store = MemoryStore()
    emails = [f"user{i}@x.example" for i in range(20)]
    previews = [
        prepare(
            csv(*(f"U,{n},{e}" + ",,,," for e in emails[n : n + 10])),
            actor=ROOT_ADMIN,
            orgs=ORGS,
            store=store,
        )
        for n in range(0, 11, 2)
    ]
    outcomes: list[str] = []
    barrier = threading.Barrier(len(previews))

    def run(preview: Preview) -> None:
        barrier.wait()
        try:
            commit(preview, actor=ROOT_ADMIN, orgs=ORGS, store=store)
            outcomes.append("ok")
        except CommitConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=run, args=(p,)) for p in previews]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    users = visible_users(ROOT_ADMIN, ORGS, store)
    assert len(users) == len({u.key for u in users})
    assert len(previews) == len(outcomes)
    assert outcomes.count("ok") >= 1
    # Every winner's whole batch is there: no partial import.
    winners = {u.last_name for u in users}
    for name in winners:
        n = int(name)
        assert {u.email for u in users if u.last_name == name} == set(
            emails[n : n + 10]
        )


# --- JSON round trip --------------------------------------------------------------


def test_preview_round_trips_through_json() -> None:
    """A preview survives the exported converter's JSON and comes back equal."""
    store = MemoryStore([stored("1", "old@x.example", "es")])
    preview = prepare(
        csv(
            "Ana,Ruiz,ana@x.example,Madrid,instructor,A;B,pt-br",
            "Old,Other,old@x.example,,,,",
            "Bad,,bad,,,,",
        ),
        actor=SPAIN_MANAGER,
        orgs=ORGS,
        store=store,
        options=ImportOptions(on_existing="update"),
    )
    text = converter.dumps(preview)
    assert preview == converter.loads(text, Preview)
    again = converter.loads(text, Preview)
    result = commit(
        again,
        actor=SPAIN_MANAGER,
        orgs=ORGS,
        store=store,
        skip_invalid=True,
        options=ImportOptions(on_existing="update"),
    )
    assert (1, 1, 1) == (result.created, result.updated, result.invalid)
    assert [4] == [row.row for row in result.left_out]


# NUL cannot travel in a CSV file (csv.writer refuses it on Python 3.11+).
_cell = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\0"), max_size=12
)


@given(st.lists(st.lists(_cell, min_size=7, max_size=7), min_size=1, max_size=5))
def test_any_preview_round_trips_through_json(rows: list[list[str]]) -> None:
    """Whatever the rows hold, the preview's JSON comes back equal."""
    import csv as csv_module
    import io

    buffer = io.StringIO()
    writer = csv_module.writer(buffer)
    writer.writerow(HEADER.split(","))
    writer.writerows(rows)
    preview = prepare(
        buffer.getvalue().encode(), actor=ROOT_ADMIN, orgs=ORGS, store=MemoryStore()
    )
    assert preview == converter.loads(converter.dumps(preview), Preview)


def test_rows_invalid_in_the_review_are_left_out_and_returned() -> None:
    """Rows a host check refused at review are never written; under
    ``skip_invalid`` the others are, and the result hands the refused rows back."""

    def no_bo(user: UserRow) -> Iterable[Issue]:
        if user.first_name == "Bo":
            yield Issue.error(IssueCode.HOST_CHECK, "No Bo allowed.")

    store = MemoryStore()
    options = ImportOptions(checks=[no_bo])
    preview = prepare(
        csv("Ana,Ruiz,ana@x.example,,,,", "Bo,Li,bo@x.example,,,,"),
        actor=ROOT_ADMIN,
        orgs=ORGS,
        store=store,
        options=options,
    )
    with pytest.raises(CommitBlocked):
        commit(preview, actor=ROOT_ADMIN, orgs=ORGS, store=store, options=options)
    result = commit(
        preview,
        actor=ROOT_ADMIN,
        orgs=ORGS,
        store=store,
        skip_invalid=True,
        options=options,
    )
    assert (1, 1) == (result.created, result.invalid)
    assert [preview.rows[1]] == list(result.left_out)
    assert ["ana@x.example"] == [
        u.email for u in visible_users(ROOT_ADMIN, ORGS, store)
    ]
