"""Tests for fixing a review in place: ``revise``, column mapping, and the counts a
reviewer filters by."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from userimport import (
    Action,
    Actor,
    ImportOptions,
    IssueCode,
    MemoryStore,
    Organization,
    OrgTree,
    Preview,
    PreviewMismatch,
    Role,
    commit,
    error_report,
    prepare,
    revise,
    seal,
    unseal,
)
from userimport.reading import MAX_CELL_LENGTH
from userimport.schema import COLUMNS

TREE = OrgTree(
    [
        Organization("acme", "Acme"),
        Organization("es", "Spain", "acme"),
        Organization("mx", "Mexico", "acme"),
    ]
)
ADMIN = Actor("acme")
SPAIN = Actor("es", Role.MANAGER)


def upload(
    *rows: str, header: str = "first_name,last_name,email,organization"
) -> bytes:
    """A CSV upload with ``header`` and ``rows``."""
    return "\r\n".join([header, *rows]).encode()


def review(data: bytes, actor: Actor = ADMIN, **options: object) -> Preview:
    """``prepare`` of ``data`` against the tree and an empty store."""
    return prepare(
        data,
        actor=actor,
        orgs=TREE,
        store=MemoryStore(),
        options=ImportOptions(**options),  # type: ignore[arg-type]
    )


def again(preview: Preview, actor: Actor = ADMIN, **kwargs: object) -> Preview:
    """``revise`` against the tree and an empty store."""
    return revise(preview, actor=actor, orgs=TREE, store=MemoryStore(), **kwargs)  # type: ignore[arg-type]


def test_an_edit_fixes_a_row_and_keeps_its_number() -> None:
    """Fixing an invalid email in the review makes the row a create; row numbers
    and the other rows stay as they were."""
    preview = review(upload("Ana,Gil,ana@x.example,", "Bo,Li,bo@@x,"))
    assert [Action.CREATE, Action.INVALID] == [r.action for r in preview.rows]
    fixed = again(preview, edits={3: {"email": "bo@x.example"}})
    assert [2, 3] == [r.row for r in fixed.rows]
    assert [Action.CREATE, Action.CREATE] == [r.action for r in fixed.rows]
    assert "bo@x.example" == fixed.rows[1].values["email"]
    assert fixed.ok
    assert (preview.actor, preview.options_fingerprint) == (
        fixed.actor,
        fixed.options_fingerprint,
    )


def test_an_edit_can_create_and_clear_a_duplicate_elsewhere() -> None:
    """The whole review is recomputed: editing row 2 to row 3's email makes row 3 a
    duplicate; editing it back clears it."""
    preview = review(upload("Ana,Gil,ana@x.example,", "Bo,Li,bo@x.example,"))
    clash = again(preview, edits={2: {"email": "BO@x.example"}})
    assert [Action.CREATE, Action.INVALID] == [r.action for r in clash.rows]
    assert [IssueCode.DUPLICATE_EMAIL] == [i.code for i in clash.rows[1].issues]
    cleared = again(clash, edits={2: {"email": "ana@x.example"}})
    assert cleared.ok


def test_a_dropped_row_is_skipped_and_is_nobodys_duplicate() -> None:
    """Leaving row 2 out skips it with ``left_out`` and frees its email, so row 3,
    its duplicate, becomes valid; the rows left out come back when no longer
    listed."""
    preview = review(upload("Ana,Gil,ana@x.example,", "Ana,Gil,ana@x.example,"))
    assert [Action.CREATE, Action.INVALID] == [r.action for r in preview.rows]
    dropped = again(preview, drop=[2])
    assert [Action.SKIP, Action.CREATE] == [r.action for r in dropped.rows]
    assert [IssueCode.LEFT_OUT] == [i.code for i in dropped.rows[0].issues]
    assert dropped.ok
    assert dropped == again(dropped, edits={3: {"first_name": "Ana"}})
    restored = again(dropped, drop=[])
    assert [Action.CREATE, Action.INVALID] == [r.action for r in restored.rows]


def test_commit_leaves_dropped_rows_out_and_hands_them_back() -> None:
    """A revised review commits as any other: the dropped rows are not written and
    come back in ``left_out`` (and in the error report of the result)."""
    store = MemoryStore()
    preview = prepare(
        upload("Ana,Gil,ana@x.example,", "Bo,Li,bo@x.example,"),
        actor=ADMIN,
        orgs=TREE,
        store=store,
    )
    revised = revise(preview, drop=[3], actor=ADMIN, orgs=TREE, store=store)
    result = commit(revised, actor=ADMIN, orgs=TREE, store=store)
    assert (1, 1) == (result.created, result.skipped)
    assert [3] == [row.row for row in result.left_out]
    assert ["ana@x.example"] == [u.email for u in store.list_users(["acme"])]


def test_a_revised_review_survives_a_seal() -> None:
    """``seal`` and ``unseal`` carry a revised review like any other."""
    preview = again(review(upload("Ana,Gil,ana@x,")), edits={2: {"email": "a@x.io"}})
    assert preview == unseal(seal(preview, "secret"), "secret")


@pytest.mark.parametrize(
    ("edits", "drop", "message"),
    [
        ({9: {"email": "x@x.io"}}, None, "no row 9"),
        ({2: {"mail": "x@x.io"}}, None, "no column 'mail'"),
        (None, [1], "no row 1"),
        ({2: {"email": "x" * (MAX_CELL_LENGTH + 1)}}, None, "at most"),
        ({2: {"first_name": "Ana\ud800"}}, None, "not text a file can hold"),
    ],
)
def test_edits_of_rows_or_columns_that_do_not_exist_are_refused(
    edits: dict[int, dict[str, str]] | None, drop: list[int] | None, message: str
) -> None:
    """A forged row number, an unknown column or an over-long cell is a
    ValueError, and nothing is revised."""
    preview = review(upload("Ana,Gil,ana@x.example,"))
    with pytest.raises(ValueError, match=message):
        again(preview, edits=edits, drop=drop)


def test_a_revise_for_another_actor_or_options_is_refused() -> None:
    """A review is revised only for the actor and options it was made for."""
    preview = review(upload("Ana,Gil,ana@x.example,"))
    with pytest.raises(PreviewMismatch):
        again(preview, actor=SPAIN)
    with pytest.raises(PreviewMismatch):
        revise(
            preview,
            actor=ADMIN,
            orgs=TREE,
            store=MemoryStore(),
            options=ImportOptions(on_existing="update"),
        )


#: Cells an administrator might type into the review: valid, hidden characters,
#: formula-like, over-long, other organizations.
edit_values = st.one_of(
    st.sampled_from(
        [
            "",
            "Ana",
            '=HYPERLINK("http://x")',
            "Ana\u202eLi",
            "a" * 101,
            "bo@x.example",
            "Mexico",
            "Nowhere",
            "admin",
            "es-MX",
        ]
    ),
    # No NUL: a CSV file cannot carry one (a NUL in an edit is invalid_characters).
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20),
)


@given(
    st.dictionaries(
        st.sampled_from([2, 3]),
        st.dictionaries(st.sampled_from(COLUMNS), edit_values, max_size=3),
        max_size=2,
    ),
    st.lists(st.sampled_from([2, 3]), max_size=2),
)
def test_a_revised_review_is_the_review_of_the_edited_file(
    edits: dict[int, dict[str, str]], drop: list[int]
) -> None:
    """Editing cells in the review gives exactly the review of a file written with
    those cells (same validation, same limits, same issues), the dropped rows aside:
    edits are untrusted input like the upload."""
    rows = {2: dict.fromkeys(COLUMNS, ""), 3: dict.fromkeys(COLUMNS, "")}
    rows[2].update(first_name="Ana", last_name="Gil", email="ana@x.example")
    rows[3].update(first_name="Bo", last_name="Li", email="bo@y.example")
    preview = review(_csv(rows), actor=SPAIN)
    revised = again(preview, actor=SPAIN, edits=edits)
    for number, cells in edits.items():
        rows[number].update(cells)
    # A row emptied in the review stays there with its missing values, where a file
    # skips a blank record: such edits are compared in another test.
    assume(all("".join(cells.values()).strip() for cells in rows.values()))
    written = review(_csv(rows), actor=SPAIN)
    # A file of control characters is refused whole (binary_file) before its rows
    # are read; edited cells get invalid_characters instead.
    assume(not any(issue.is_error for issue in written.file_issues))
    assert _comparable(written) == _comparable(revised)
    if drop:
        dropped = again(revised, actor=SPAIN, drop=drop)
        for row in dropped.rows:
            if row.row in drop:
                assert (Action.SKIP, [IssueCode.LEFT_OUT]) == (
                    row.action,
                    [i.code for i in row.issues],
                )


def test_a_row_emptied_in_the_review_stays_with_its_missing_values() -> None:
    """Emptying every cell of a row leaves the row in the review, invalid, so the
    reviewer sees it (drop it to leave it out)."""
    preview = review(upload("Ana,Gil,ana@x.example,"))
    emptied = again(preview, edits={2: dict.fromkeys(COLUMNS, "")})
    assert [(2, Action.INVALID)] == [(r.row, r.action) for r in emptied.rows]
    assert IssueCode.MISSING_VALUE in emptied.issue_counts


def _csv(rows: dict[int, dict[str, str]]) -> bytes:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for number in sorted(rows):
        writer.writerow([rows[number][column] for column in COLUMNS])
    return buffer.getvalue().encode()


def _comparable(preview: Preview) -> object:
    """What a review says about its rows (a file written anew may differ in the
    bytes' digest and in file-level warnings)."""
    return [
        (row.row, dict(row.values), row.user, row.action, row.issues)
        for row in preview.rows
    ]


# --- mapping columns by hand, and what the reviewer filters by ---------------------


def test_a_mapping_names_the_columns_automatic_matching_cannot() -> None:
    """``ImportOptions.columns`` maps a header cell as written to a column, or to
    None to ignore it; the other cells are matched as usual."""
    data = upload(
        "Ana,Gil,ana@x.example,Spain,ignored",
        header="Vorname,Nachname,email,Abteilung,Notes",
    )
    mapping = {
        "Vorname": "first_name",
        "Nachname": "last_name",
        "Abteilung": "organization",
        "Notes": None,
    }
    preview = review(data, columns=mapping)
    assert preview.ok
    assert "es" == preview.rows[0].user.organization  # type: ignore[union-attr]
    assert [("Vorname", "first_name"), ("Notes", None)] == [
        (m.header, m.column)
        for m in preview.columns
        if m.header in ("Vorname", "Notes")
    ]
    assert [] == [i for i in preview.issues if i.code is IssueCode.UNKNOWN_COLUMNS]


def test_a_mapping_to_a_column_that_does_not_exist_is_refused() -> None:
    """Options mapping a header to an unknown column are a ValueError at once."""
    with pytest.raises(ValueError, match="not a column"):
        ImportOptions(columns={"Vorname": "vorname"})


def test_a_mapping_is_part_of_the_options_fingerprint() -> None:
    """A review made with one mapping is not committed with another."""
    assert (
        ImportOptions(columns={"A": "email"}).fingerprint
        != ImportOptions(columns={"A": None}).fingerprint
    )
    assert ImportOptions(columns={}).fingerprint == ImportOptions().fingerprint


def test_missing_columns_names_the_optional_ones_too() -> None:
    """A file without ``organization`` puts everyone in the actor's organization:
    ``missing_columns`` says so, optional columns included."""
    preview = review(upload("Ana,Gil,ana@x.example", header="Nombre,Apellidos,Correo"))
    assert ("organization", "role", "groups", "language") == preview.missing_columns
    assert () == review(b"").missing_columns


def test_issue_counts_count_rows_per_code() -> None:
    """``issue_counts`` counts the rows having each code, once per row."""
    preview = review(
        upload(
            "Ana,Gil,not-an-email,Nowhere",
            "Bo,Li,also@@bad,Nowhere",
            "Cy,Xu,cy@x.example,",
        )
    )
    assert {IssueCode.INVALID_EMAIL: 2} == {
        code: count
        for code, count in preview.issue_counts.items()
        if code is IssueCode.INVALID_EMAIL
    }
    assert 3 == preview.summary.total
    assert attrs.evolve(preview, rows=()).issue_counts == {}


def test_the_report_of_a_result_lists_the_rows_left_out() -> None:
    """``error_report`` of a commit's result gives back the rows still to fix."""
    store = MemoryStore()
    preview = prepare(
        upload("Ana,Gil,ana@x.example,", "Bo,Li,bo@@x,"),
        actor=ADMIN,
        orgs=TREE,
        store=store,
    )
    result = commit(preview, actor=ADMIN, orgs=TREE, store=store, skip_invalid=True)
    report = error_report(result).decode("utf-8-sig")
    assert "bo@@x" in report
    assert "ana@x.example" not in report
