"""The Users screen and the organization tree on ``SQLStore``, on every backend.

Pages and searches agree with MemoryStore for any tree, users and search; an older
database is brought up to date by ``create_schema``; ``org_tree`` keeps its tree
while the organizations are unchanged, and never serves a stale one, not even
after a change made by another process or by SQL outside the store.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.pool
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from sql.workers import org_name, rename_org
from userimport import (
    Actor,
    MemoryStore,
    Organization,
    OrgTree,
    StoredUser,
    StoreError,
    UserRow,
    UserStore,
    UserWrite,
    visible_users,
)
from userimport.schema import email_key
from userimport.sql import SQLStore, organizations, users
from userimport.strategies import org_trees, user_rows

ORGS = [
    Organization("root", "Acme"),
    Organization("es", "Spain", "root"),
    Organization("mad", "Madrid", "es"),
    Organization("fr", "France", "root"),
]
SPAIN = Actor("es")


def _pages(
    actor: Actor, tree: OrgTree, store: UserStore, search: str | None, limit: int
) -> list[StoredUser]:
    """Every page of ``limit`` users one after the other, concatenated."""
    found: list[StoredUser] = []
    page = visible_users(actor, tree, store, search=search, limit=limit)
    while page:
        found += page
        assert len(found) <= 1000, "the pages never end"
        page = visible_users(
            actor, tree, store, search=search, limit=limit, after=page[-1].key
        )
    return found


def _count_statements(store: SQLStore) -> list[str]:
    """The SQL statements the store runs from now on (BEGIN and COMMIT left out)."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.split()[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    return statements


# -- pages and search --------------------------------------------------------------


@pytest.fixture
def empty_users(store: SQLStore) -> Callable[[], None]:
    """Empties the users table of the test's store (one store for all examples)."""

    def empty() -> None:
        with store.engine.begin() as conn:
            conn.execute(sa.delete(users))

    return empty


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_pages_and_search_agree_with_memory_store(
    store: SQLStore, empty_users: Callable[[], None], data: st.DataObject
) -> None:
    """For any tree, users, actor, search and page size, the pages of a SQLStore are
    those of a MemoryStore holding the same users: exactly the users of the actor's
    subtree that match, in key order, each once; a search never reaches outside the
    subtree."""
    empty_users()
    tree = data.draw(org_trees(max_size=6), label="tree")
    rows = data.draw(
        st.lists(user_rows(tree), max_size=12, unique_by=lambda r: r.key),
        label="rows",
    )
    actor = Actor(data.draw(st.sampled_from([org.id for org in tree]), label="actor"))
    pieces = [p for r in rows for p in (r.first_name, r.last_name, r.email)]
    search = data.draw(
        st.one_of(
            st.none(),
            st.sampled_from(pieces or ["x"]).map(lambda p: p[: len(p) // 2 + 1]),
            st.sampled_from(pieces or ["x"]).map(str.upper),
            st.text(max_size=5),
        ),
        label="search",
    )
    limit = data.draw(st.integers(1, 5), label="limit")
    memory = MemoryStore()
    if rows:
        memory.apply([UserWrite(r) for r in rows])
        store.apply([UserWrite(r) for r in rows])
    subtree = tree.subtree_ids(actor.org_id)

    expected = visible_users(actor, tree, memory, search=search)
    paged = _pages(actor, tree, store, search, limit)

    assert [u.key for u in expected] == [u.key for u in paged]
    assert [u.key for u in expected] == [
        u.key for u in visible_users(actor, tree, store, search=search)
    ]
    assert all(u.organization in subtree for u in paged)


def test_a_page_is_read_by_the_database(store: SQLStore) -> None:
    """A searched page is one query whose SQL filters by organization, key and
    search words, and limits: the branch is never read into Python."""
    store.add_organizations(ORGS)
    emails = [f"jose{n}@example.com" for n in range(30)]
    store.apply([UserWrite(UserRow("José", "Núñez", e, "mad")) for e in emails])
    statements = _count_statements(store)

    page = visible_users(SPAIN, store.org_tree(), store, search="NUÑ", limit=10)

    assert sorted(emails)[:10] == [u.email for u in page]
    (query,) = [s for s in statements if "FROM users" in s]
    for part in ("users.organization", "users.email_key >", "LIKE", "LIMIT"):
        assert part in query


def test_search_words_are_written_with_every_user(store: SQLStore) -> None:
    """Creates and updates store the user's search words: an update that renames
    a user is found by the new name only."""
    (ana,) = store.apply([UserWrite(UserRow("Ana", "García", "ana@example.com", "es"))])
    store.apply([UserWrite(UserRow("Ana", "Núñez", "ana@example.com", "es"), ana)])
    tree = OrgTree(ORGS)

    assert [] == visible_users(SPAIN, tree, store, search="garcia")
    assert ["ana@example.com"] == [
        u.email for u in visible_users(SPAIN, tree, store, search="nunez")
    ]


# -- an older database -------------------------------------------------------------


def _old_schema(url: str | sa.URL) -> None:
    """The tables as the previous version created them: no search words, the
    older Users screen index, no organization version or triggers; with users and
    organizations in them."""
    old = sa.MetaData()
    sa.Table(
        "organizations",
        old,
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("parent_id", sa.Text, sa.ForeignKey("organizations.id")),
    )
    old_users = sa.Table(
        "users",
        old,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("email_key", sa.Text, nullable=False, unique=True),
        sa.Column("first_name", sa.Text, nullable=False),
        sa.Column("last_name", sa.Text, nullable=False),
        sa.Column("organization", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("groups", sa.Text, nullable=False),
        sa.Column("language", sa.String(35)),
        sa.Index("ix_users_organization", "organization", "email_key"),
    )
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        old.create_all(conn)
        conn.execute(
            sa.insert(old.tables["organizations"]),
            [{"id": o.id, "name": o.name, "parent_id": o.parent_id} for o in ORGS],
        )
        conn.execute(
            sa.insert(old_users),
            [
                {
                    "email": email,
                    "email_key": email_key(email),
                    "first_name": first,
                    "last_name": last,
                    "organization": "mad",
                    "role": "learner",
                    "groups": "[]",
                }
                for first, last, email in [
                    ("José", "Núñez", "jose@example.com"),
                    ("Ana", "García", "ana@example.com"),
                ]
            ],
        )
    engine.dispose()


def test_create_schema_brings_an_older_database_up_to_date(
    database_url: str | sa.URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``create_schema`` on a database of the previous version adds the search
    words (filled in for the users already there, a batch at a time), swaps the
    Users screen's index, and adds the organization version with its triggers; a
    second call changes nothing."""
    _old_schema(database_url)
    monkeypatch.setattr("userimport.sql._FILL_BATCH", 1)

    with SQLStore(database_url) as store:
        store.create_schema()
        store.create_schema()
        tree = store.org_tree()
        found = visible_users(SPAIN, tree, store, search="nunez")
        also_found = visible_users(SPAIN, tree, store, search="garcia")
        inspector = sa.inspect(store.engine)
        indexes = {index["name"] for index in inspector.get_indexes("users")}
        with store.engine.begin() as conn:
            conn.execute(
                sa.update(organizations)
                .where(organizations.c.id == "mad")
                .values(name="Madrid Centro")
            )
        renamed = store.org_tree()

    assert ["jose@example.com"] == [u.email for u in found]
    assert ["ana@example.com"] == [u.email for u in also_found]
    assert "ix_users_organization" not in indexes
    assert "ix_users_organization_key_words" in indexes
    assert ("Acme", "Spain", "Madrid") == tree.path("mad")
    assert ("Acme", "Spain", "Madrid Centro") == renamed.path("mad")


def test_an_older_database_says_to_run_create_schema(
    database_url: str | sa.URL,
) -> None:
    """Before ``create_schema``, what needs the newer tables (the organization
    version, the search words) says what to do, reads and writes alike; what the
    older tables hold is read as before."""
    _old_schema(database_url)
    outdated = (
        "The database's tables are from an older version of userimport: run "
        "SQLStore.create_schema() once (it upgrades them in place)"
    )

    with SQLStore(database_url) as store:
        with pytest.raises(StoreError) as tree:
            store.org_tree()
        with pytest.raises(StoreError) as search:
            store.search_users(["mad"], words=["nunez"])
        with pytest.raises(StoreError) as write:
            store.apply([UserWrite(UserRow("Bea", "Gil", "bea@example.com", "mad"))])
        listed = [user.email for user in store.list_users(["mad"])]

    assert f"{outdated}." == str(tree.value)
    assert f"{outdated}." == str(search.value)
    assert f"{outdated}; nothing was written." == str(write.value)
    assert ["ana@example.com", "jose@example.com"] == listed


def test_create_schema_fills_in_search_words_written_without_them(
    store: SQLStore,
) -> None:
    """A user inserted by SQL that does not know the search words (an older
    version, a host's script) is listed at once and found by a search after the
    next ``create_schema``."""
    values = {
        "email": "bea@example.com",
        "email_key": "bea@example.com",
        "first_name": "Bea",
        "last_name": "Nuñez",
        "organization": "es",
        "role": "learner",
        "groups": "[]",
    }
    with store.engine.begin() as conn:
        conn.execute(sa.insert(users), values)
    tree = OrgTree(ORGS)
    listed = visible_users(SPAIN, tree, store)
    before = visible_users(SPAIN, tree, store, search="nunez")

    store.create_schema()

    assert ["bea@example.com"] == [u.email for u in listed]
    assert [] == before
    assert listed == visible_users(SPAIN, tree, store, search="nunez")


# -- the organization tree ---------------------------------------------------------


def test_org_tree_is_kept_while_the_organizations_are_unchanged(
    store: SQLStore,
) -> None:
    """A second ``org_tree()`` returns the same tree after one small query, which
    reads no organization."""
    store.add_organizations(ORGS)
    first = store.org_tree()
    statements = _count_statements(store)

    second = store.org_tree()

    assert first is second
    assert 1 == len(statements)
    assert "organizations_version" in statements[0]


def test_org_tree_follows_the_store_s_own_changes(store: SQLStore) -> None:
    """Adding, renaming and moving organizations gives a new tree at once."""
    store.add_organizations(ORGS)
    before = store.org_tree()

    store.add_organizations(
        [Organization("mad", "Madrid Centro", "root"), Organization("it", "Italy")]
    )
    after = store.org_tree()

    assert ("Acme", "Spain", "Madrid") == before.path("mad")
    assert ("Acme", "Madrid Centro") == after.path("mad")
    assert ("Italy",) == after.path("it")


@pytest.mark.parametrize(
    "change",
    [
        sa.update(organizations).where(organizations.c.id == "fr").values(name="FR"),
        sa.delete(organizations).where(organizations.c.id == "fr"),
        sa.insert(organizations).values(id="it", name="Italy", parent_id="root"),
    ],
    ids=["update", "delete", "insert"],
)
def test_org_tree_follows_changes_made_by_sql_outside_the_store(
    store: SQLStore, change: sa.Executable
) -> None:
    """A host's own SQL on ``organizations``, in its own transaction, changes the
    version too (a trigger): the next ``org_tree()`` reads the organizations again."""
    store.add_organizations(ORGS)
    before = store.org_tree()
    engine = sa.create_engine(store.engine.url)
    with engine.begin() as conn:
        conn.execute(change)
        expected = sorted(
            (r.id, r.name, r.parent_id) for r in conn.execute(sa.select(organizations))
        )
    engine.dispose()

    after = store.org_tree()

    assert before is not after
    assert expected == sorted((o.id, o.name, o.parent_id) for o in after)


def test_two_stores_never_serve_a_stale_tree(
    open_store: Callable[[], SQLStore],
) -> None:
    """Two stores on one database (two web servers): each sees the other's rename
    on its next call, though both keep their trees."""
    first, second = open_store(), open_store()
    first.add_organizations(ORGS)
    assert "Spain" == second.org_tree().path("es")[-1]

    first.add_organizations([Organization("es", "España", "root")])
    seen_by_second = second.org_tree().path("es")
    second.add_organizations([Organization("es", "Spanien", "root")])
    seen_by_first = first.org_tree().path("es")

    assert ("Acme", "España") == seen_by_second
    assert ("Acme", "Spanien") == seen_by_first


def test_a_missing_version_row_means_no_kept_tree(store: SQLStore) -> None:
    """Without its version row (deleted by hand) the store still answers right: it
    reads the organizations every time, until ``create_schema`` puts it back."""
    store.add_organizations(ORGS)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM organizations_version")
    first = store.org_tree()

    second = store.org_tree()
    store.create_schema()
    third, fourth = store.org_tree(), store.org_tree()

    assert first is not second
    assert list(first) == list(second) == list(third)
    assert third is fourth


@pytest.fixture(scope="module")
def other_process() -> Iterator[multiprocessing.pool.Pool]:
    """One worker process (``spawn``: its own interpreter and connections), whose
    stores keep their trees across calls."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        yield pool


def test_no_stale_tree_after_another_process_renames(
    open_store: Callable[[], SQLStore],
    database_url: str | sa.URL,
    other_process: multiprocessing.pool.Pool,
) -> None:
    """This process and another one each keep a tree; whichever renames an
    organization, the other's next ``org_tree()`` has the new name, every time."""
    store = open_store()
    store.add_organizations(ORGS)

    for number in range(3):
        assert store.org_tree().get("es") is not None
        other_process.apply(rename_org, (database_url, "es", f"Spain {number}"))
        seen_here = store.org_tree().path("es")[-1]
        store.add_organizations([Organization("es", f"España {number}", "root")])
        seen_there = other_process.apply(org_name, (database_url, "es"))

        assert (f"Spain {number}", f"España {number}") == (seen_here, seen_there)
