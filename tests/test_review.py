"""Tests for the review's rules that no other module owns: what a review may reveal,
when it can be committed, the order of writes, and what it leaves alone."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from userimport import (
    Action,
    Actor,
    ImportOptions,
    Issue,
    IssueCode,
    MemoryStore,
    Organization,
    OrgTree,
    Role,
    StoredUser,
    UserRow,
    UserWrite,
    commit,
    prepare,
    validate_user,
)

#: Every organization has a name of its own, except the three called "Ventas": one
#: above the importer's branch's level (under the root), two inside it.
TREE = OrgTree(
    [
        Organization("acme", "Acme Holding"),
        Organization("ventas-hq", "Ventas", "acme"),
        Organization("es", "Spain", "acme"),
        Organization("es-ventas", "Ventas", "es"),
        Organization("es-mad", "Madrid", "es"),
        Organization("es-mad-ventas", "Ventas", "es-mad"),
        Organization("fr", "France", "acme"),
        Organization("fr-ventas", "Ventas", "fr"),
    ]
)
SPAIN = Actor("es", Role.MANAGER)
HEADER = "first_name,last_name,email,organization,role\r\n"


def csv(*rows: str) -> bytes:
    """An upload with the header and these data lines."""
    return (HEADER + "".join(row + "\r\n" for row in rows)).encode()


def test_an_ambiguous_organization_is_named_only_within_the_importers_branch() -> None:
    """The message of an ambiguous reference lists the candidates by their paths from
    the importer's own organization: no organization above it or beside it is
    named."""
    preview = prepare(
        csv("Ana,Gil,ana@x.example,Ventas,"),
        actor=SPAIN,
        orgs=TREE,
        store=MemoryStore(),
    )
    (issue,) = preview.rows[0].issues
    assert IssueCode.AMBIGUOUS_ORGANIZATION == issue.code
    assert "(“Spain / Ventas”; “Spain / Madrid / Ventas”)" in issue.message
    for outside in ("Acme", "Holding", "France"):
        assert outside not in issue.message


@given(st.sampled_from(["Ventas", "ventas", " VENTAS ", "Spain / Ventas"]))
def test_an_unknown_and_an_outside_organization_read_the_same(ref: str) -> None:
    """For an importer in Madrid, "Ventas" designates only Madrid's own: the others,
    above or beside, are never considered, whatever the spelling."""
    madrid = Actor("es-mad", Role.ADMIN)
    row = validate_user(
        {"first_name": "Ana", "last_name": "Gil", "email": "a@x.example"}
        | {"organization": ref},
        actor=madrid,
        orgs=TREE,
        store=MemoryStore(),
    )
    if ref.strip().casefold() == "ventas":
        assert row.user is not None
        assert "es-mad-ventas" == row.user.organization
    else:
        assert [IssueCode.UNKNOWN_ORGANIZATION] == [i.code for i in row.issues]
        assert "Spain" in row.issues[0].message  # the reference as written, only


def test_a_preview_whose_every_row_is_invalid_cannot_be_committed() -> None:
    """With no valid row, there is nothing to commit, even leaving invalid rows out."""
    preview = prepare(
        csv("Ana,Gil,not-an-email,,", ",Gil,bo@x.example,,"),
        actor=SPAIN,
        orgs=TREE,
        store=MemoryStore(),
    )
    assert [Action.INVALID, Action.INVALID] == [row.action for row in preview.rows]
    assert not preview.can_commit


class SpyStore(MemoryStore):
    """A MemoryStore that records the keys of every batch it is given."""

    def __init__(self, users: Sequence[StoredUser] = ()) -> None:
        super().__init__(users)
        self.batches: list[list[str]] = []

    def apply(self, writes: Sequence[UserWrite]) -> list[StoredUser]:
        self.batches.append([write.key for write in writes])
        return list(super().apply(writes))


@given(
    st.lists(
        st.from_regex(r"[a-zA-Z]{1,6}", fullmatch=True),
        min_size=1,
        max_size=12,
        unique_by=str.casefold,
    )
)
def test_a_store_receives_the_writes_in_key_order(locals_: list[str]) -> None:
    """Commit hands the store one batch sorted by email key, whatever the file's
    order: two imports that touch the same users lock them in the same order, which
    keeps concurrent imports on PostgreSQL from deadlocking."""
    store = SpyStore([StoredUser("1", f"{locals_[0]}@x.example", "Old", "Name", "es")])
    rows = [f"Ana,Gil,{local}@x.example,," for local in locals_]
    options = ImportOptions(on_existing="update")
    preview = prepare(csv(*rows), actor=SPAIN, orgs=TREE, store=store, options=options)
    commit(preview, actor=SPAIN, orgs=TREE, store=store, options=options)
    (batch,) = store.batches
    assert sorted(batch) == batch
    assert len(locals_) == len(batch)


#: What the host check below saw: whether the garbage collector was enabled.
SEEN: list[bool] = []


def collector_seen(user: UserRow) -> list[Issue]:
    """A host check that records whether the collector is enabled as rows are
    reviewed."""
    SEEN.append(gc.isenabled())
    return []


@pytest.fixture
def collector() -> Iterator[None]:
    """The collector restored as it was after the test."""
    was_enabled = gc.isenabled()
    SEEN.clear()
    yield
    if was_enabled:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.usefixtures("collector")
@pytest.mark.parametrize("enabled", [True, False])
def test_prepare_and_commit_leave_the_garbage_collector_alone(enabled: bool) -> None:
    """The collector stays as the host set it, during and after prepare and commit:
    the library never changes process-wide state."""
    if enabled:
        gc.enable()
    else:
        gc.disable()
    options = ImportOptions(checks=[collector_seen])
    store = MemoryStore()
    preview = prepare(
        csv("Ana,Gil,ana@x.example,,"),
        actor=SPAIN,
        orgs=TREE,
        store=store,
        options=options,
    )
    commit(preview, actor=SPAIN, orgs=TREE, store=store, options=options)
    assert [enabled, enabled] == SEEN
    assert enabled == gc.isenabled()


@pytest.mark.parametrize("data", ["first_name,last_name,email\r\n", 42, None])
def test_prepare_of_anything_but_bytes_or_a_binary_file_is_a_type_error(
    data: object,
) -> None:
    """Text, or no file at all, is a misuse, said as such."""
    with pytest.raises(TypeError, match="bytes or a binary file"):
        prepare(data, actor=SPAIN, orgs=TREE, store=MemoryStore())  # type: ignore[arg-type]


def test_a_row_with_errors_in_every_step_reports_them_in_order() -> None:
    """A row's issues come in the order of the review's steps: fields first, then
    organization, then role."""
    row = validate_user(
        {
            "first_name": "=Ana",
            "last_name": "Gil",
            "email": "ana@x.example",
            "organization": "Nowhere",
            "role": "admin",
        },
        actor=SPAIN,
        orgs=TREE,
        store=MemoryStore(),
    )
    assert [IssueCode.INVALID_CHARACTERS] == [i.code for i in row.issues]
    row = validate_user(
        {
            "first_name": "Ana",
            "last_name": "Gil",
            "email": "ana@x.example",
            "organization": "Nowhere",
            "role": "admin",
        },
        actor=SPAIN,
        orgs=TREE,
        store=MemoryStore(),
    )
    assert [IssueCode.UNKNOWN_ORGANIZATION, IssueCode.ROLE_NOT_ALLOWED] == [
        i.code for i in row.issues
    ]
