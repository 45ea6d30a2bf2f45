"""Tests of what ``SQLStore`` promises beyond the store contract.

The contract (tests/sql/test_sql_contract.py) proves it behaves like MemoryStore;
here: persistence across reopening, the schema, organizations, the database-side
filtering and ordering, engines passed in, SQLite locking, PostgreSQL retries and
the translation of driver errors.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import StaticPool

from userimport import (
    Actor,
    CommitConflict,
    HierarchyError,
    Organization,
    Role,
    StoredUser,
    StoreError,
    UserRow,
    UserWrite,
    visible_users,
)
from userimport.schema import email_key
from userimport.sql import SQLStore, users

ORGS = [
    Organization("root", "Acme"),
    Organization("es", "Spain", "root"),
    Organization("mad", "Madrid", "es"),
    Organization("fr", "France", "root"),
]


def row(email: str, organization: str = "root", **fields: Any) -> UserRow:
    """A valid user row; ``fields`` override the other columns."""
    values: dict[str, Any] = {"first_name": "Ana", "last_name": "García"} | fields
    return UserRow(email=email, organization=organization, **values)


def creates(*emails: str, organization: str = "root") -> list[UserWrite]:
    """One create per email."""
    return [UserWrite(row(e, organization)) for e in emails]


def everyone(store: SQLStore) -> list[StoredUser]:
    """Every user of the test organizations, in key order."""
    return list(store.list_users([org.id for org in ORGS]))


# -- persistence and schema ----------------------------------------------------------


def test_data_survives_closing_and_reopening(
    open_store: Callable[[], SQLStore],
) -> None:
    """Users and organizations written by one store are read back, unchanged, by a
    new store opened on the same database after the first one was closed."""
    first = open_store()
    first.add_organizations(ORGS)
    written = first.apply(
        [
            UserWrite(row("Ana@example.com", "mad", groups=("Ventas", "研修"))),
            UserWrite(row("bo@example.com", "fr", role=Role.ADMIN, language="fr")),
        ]
    )
    first.close()

    with SQLStore(first.engine.url) as second:
        assert sorted(written, key=lambda u: u.key) == everyone(second)
        assert ORGS == sorted(second.org_tree(), key=ORGS.index)


def test_create_schema_is_idempotent(store: SQLStore) -> None:
    """Creating the schema again changes nothing and keeps the data."""
    store.add_organizations(ORGS[:1])
    written = store.apply(creates("ana@example.com"))

    store.create_schema()
    store.create_schema()

    assert list(written) == everyone(store)
    assert ORGS[:1] == list(store.org_tree())


def test_schema_has_a_real_unique_index_on_the_key(store: SQLStore) -> None:
    """The database itself refuses a second row with the same email key, whatever
    writes it (stores enforce the key with a real unique index)."""
    store.apply(creates("straße@example.com"))
    values = {
        "email": "STRASSE@example.com",
        "email_key": email_key("STRASSE@example.com"),
        "first_name": "A",
        "last_name": "B",
        "organization": "root",
        "role": "learner",
        "groups": "[]",
    }

    with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as conn:
        conn.execute(sa.insert(users), values)


def test_keys_fold_beyond_ascii(store: SQLStore) -> None:
    """``STRASSE`` and ``straße`` (and final and medial sigma) are one key: the
    store compares the application's full case fold, not SQLite's ASCII-only one."""
    store.apply(creates("straße@example.com", "ὀδυσσεύς@example.com"))

    with pytest.raises(CommitConflict) as info:
        store.apply(creates("STRASSE@example.com", "ὈΔΥΣΣΕΎΣ@example.com"))

    expected = tuple(sorted(["strasse@example.com", email_key("ὀδυσσεύς@example.com")]))
    assert expected == info.value.keys
    assert 2 == len(everyone(store))


def test_missing_tables_are_a_store_error(database_url: str | sa.URL) -> None:
    """Without ``create_schema`` every operation fails with ``StoreError``, whose
    message names the driver's error but none of the users' data."""
    with SQLStore(database_url) as store:
        with pytest.raises(StoreError) as info:
            store.apply(creates("secret@example.com"))
        with pytest.raises(StoreError):
            store.find_by_keys(["ana@example.com"])
        with pytest.raises(StoreError):
            store.list_users(["root"])
        with pytest.raises(StoreError):
            store.org_tree()

    assert "nothing was written" in str(info.value)
    assert "secret" not in str(info.value)


@pytest.mark.parametrize(
    "url", ["not a url", "nosuchdialect://x", "postgresql+nosuchdriver://x/y"]
)
def test_unusable_url_is_a_store_error(url: str) -> None:
    """A malformed URL, or one whose dialect or driver is not installed, raises
    ``StoreError`` at once (the CLI turns it into a one-line message)."""
    with pytest.raises(StoreError, match="Cannot use the database URL"):
        SQLStore(url)


def test_other_databases_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only SQLite and PostgreSQL are supported (their locking and collation are
    what the store relies on): another dialect is a ``StoreError`` at once."""
    engine = sa.create_engine("sqlite://")
    monkeypatch.setattr(engine.dialect, "name", "mysql")

    with pytest.raises(StoreError, match="SQLite and PostgreSQL"):
        SQLStore(engine)


def test_sqlite_file_uses_the_write_ahead_log(sqlite_url: str) -> None:
    """A SQLite file opened from a URL is in WAL mode with synchronous=NORMAL
    (readers and the writer do not wait for each other)."""
    with SQLStore(sqlite_url) as store, store.engine.connect() as conn:
        mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        synchronous = conn.exec_driver_sql("PRAGMA synchronous").scalar()

    assert ("wal", 1) == (mode, synchronous)


def test_read_only_sqlite_file_keeps_its_journal_mode(tmp_path: Path) -> None:
    """A database opened read-only (``mode=ro``) cannot switch to the write-ahead
    log: the store reads it in its own journal mode, and a write is a
    ``StoreError``."""
    path = tmp_path / "users.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    with SQLStore(engine) as writer:  # a host's engine: no WAL
        writer.create_schema()
        (ana,) = writer.apply(creates("ana@example.com"))
    engine.dispose()

    with SQLStore(f"sqlite:///file:{path}?mode=ro&uri=true") as reader:
        assert [ana] == everyone(reader)
        with pytest.raises(StoreError, match="readonly"):
            reader.apply(creates("bo@example.com"))


def test_repr_hides_the_password() -> None:
    """The store's repr names its database without the password."""
    store = SQLStore("postgresql+psycopg://app:s3cret@db.invalid/users")

    assert "<SQLStore postgresql+psycopg://app:***@db.invalid/users>" == repr(store)


# -- organizations -----------------------------------------------------------------


def test_org_tree_round_trips(store: SQLStore) -> None:
    """Organizations added are loaded back as an ``OrgTree`` with the same data."""
    store.add_organizations(reversed(ORGS))  # children before parents is fine

    tree = store.org_tree()

    assert set(ORGS) == set(tree)
    assert ("Acme", "Spain", "Madrid") == tree.path("mad")
    assert {"es", "mad"} == set(tree.subtree_ids("es"))


def test_empty_store_has_an_empty_tree(store: SQLStore) -> None:
    """A store without organizations loads an empty tree."""
    assert 0 == len(store.org_tree())


def test_add_organizations_renames_and_moves(store: SQLStore) -> None:
    """Adding an organization with a stored id replaces its name and parent;
    the others are kept."""
    store.add_organizations(ORGS)

    store.add_organizations(
        [Organization("mad", "Madrid HQ", "root"), Organization("it", "Italy", "root")]
    )

    tree = store.org_tree()
    assert ("Acme", "Madrid HQ") == tree.path("mad")
    assert {"root", "es", "mad", "fr", "it"} == {org.id for org in tree}


def test_adding_the_same_organizations_again_changes_nothing(store: SQLStore) -> None:
    """Organizations are keyed by id: adding them twice stores them once."""
    store.add_organizations(ORGS)

    store.add_organizations(ORGS)
    store.add_organizations([])

    assert ORGS == list(store.org_tree())  # pre-order, siblings by id


@pytest.mark.parametrize(
    "bad",
    [
        [Organization("x", "X", "nowhere")],
        [Organization("x", "X", "root"), Organization("x", "Y", "root")],
        [Organization("root", "Acme", "mad")],  # the root under its own grandchild
        [Organization("ok", "Fine", "root"), Organization("", "No id", "root")],
    ],
    ids=["unknown-parent", "duplicate-id", "cycle", "empty-id"],
)
def test_bad_organizations_never_land(store: SQLStore, bad: list[Organization]) -> None:
    """Organization data that would make the stored hierarchy inconsistent raises
    ``HierarchyError`` and writes nothing, not even the valid part of it."""
    store.add_organizations(ORGS)

    with pytest.raises(HierarchyError):
        store.add_organizations(bad)

    assert set(ORGS) == set(store.org_tree())


@pytest.mark.parametrize(
    "name",
    ["Sales\u202eslx.exe", "Sa\u200bles", "Sales\x1b[2J", "Sales\nHQ", " Sales"],
    ids=["rtl-override", "zero-width", "terminal-escape", "line-break", "space"],
)
def test_a_hostile_organization_name_never_lands(store: SQLStore, name: str) -> None:
    """A batch with a name holding a hidden character (or whitespace around it) is
    refused with a ``HierarchyError`` naming that organization, and nothing of the
    batch is written: neither the new organizations nor the rename."""
    store.add_organizations(ORGS)
    batch = [
        Organization("it", "Italy", "root"),
        Organization("es", "España", "root"),
        Organization("sales", name, "es"),
    ]

    with pytest.raises(HierarchyError) as caught:
        store.add_organizations(batch)

    assert ("sales",) == caught.value.ids
    assert f"Organization 'sales' has the name {name!r}," in str(caught.value)
    assert ORGS == list(store.org_tree())


# -- reading in the database ---------------------------------------------------------

# Code-point order differs from most locales' order here (accents, case, ß, CJK).
_SPELLINGS = ["zed", "Álvaro", "émile", "bo", "Ärger", "straße", "李", "ana", "Zoë"]


def test_list_users_orders_by_key_in_code_point_order(store: SQLStore) -> None:
    """Users come in Python's order of their keys on every backend, whatever the
    database's locale (the test cluster's default collation is ICU en-US)."""
    store.apply(creates(*(f"{s}@example.com" for s in _SPELLINGS)))

    listed = [u.key for u in store.list_users(["root"])]

    assert sorted(email_key(f"{s}@example.com") for s in _SPELLINGS) == listed


def test_list_users_filters_by_organization(store: SQLStore) -> None:
    """Only users of the organizations asked for are listed."""
    store.apply(creates("a@example.com", "b@example.com", organization="es"))
    store.apply(creates("c@example.com", organization="fr"))
    store.apply(creates("d@example.com", organization="mad"))

    listed = store.list_users(["es", "mad", "nowhere"])

    assert ["a@example.com", "b@example.com", "d@example.com"] == [
        u.key for u in listed
    ]
    assert [] == list(store.list_users([]))


def test_visible_users_reads_only_the_actors_branch(store: SQLStore) -> None:
    """The Users screen on a SQLStore lists exactly the actor's subtree,
    and the database does the filtering: the one query names the organizations."""
    store.add_organizations(ORGS)
    for org in ORGS:
        store.apply(
            creates(
                f"{org.id}1@example.com", f"{org.id}2@example.com", organization=org.id
            )
        )
    statements: list[str] = []
    event.listen(
        store.engine, "before_cursor_execute", lambda *a: statements.append(a[2])
    )

    visible = visible_users(Actor("es"), store.org_tree(), store)

    assert [
        "es1@example.com",
        "es2@example.com",
        "mad1@example.com",
        "mad2@example.com",
    ] == [u.key for u in visible]
    (listing,) = [s for s in statements if "FROM users" in s]
    assert "WHERE users.organization" in listing


def test_many_organizations_and_keys_are_read_at_once(store: SQLStore) -> None:
    """1,200 organizations and keys (more than SQLite's oldest limit of 999
    variables) are read by one query each, in one key order."""
    orgs = [f"org{n:04}" for n in range(1200)]
    writes = [
        # Keys in the reverse order of organizations, so every chunk interleaves.
        UserWrite(row(f"user{1199 - n:04}@example.com", org))
        for n, org in enumerate(orgs)
    ]
    store.apply(writes)

    listed = store.list_users(orgs)
    found = store.find_by_keys([w.key for w in writes] + ["absent@example.com"])

    assert sorted(w.key for w in writes) == [u.key for u in listed]
    assert {w.key for w in writes} == set(found)


# -- engines passed in ------------------------------------------------------------


@pytest.fixture
def memory_engine() -> Iterator[sa.Engine]:
    """An in-memory SQLite engine as a host would configure it."""
    engine = sa.create_engine(
        "sqlite://",
        poolclass=StaticPool,
        connect_args={"check_same_thread": False},
    )
    yield engine
    engine.dispose()


def test_a_given_engine_is_left_open_and_unchanged(memory_engine: sa.Engine) -> None:
    """A store on a host's engine uses ``BEGIN IMMEDIATE`` for its own writes only:
    the host's transactions on that engine are untouched, and closing the store
    leaves the engine (here, its in-memory database) open."""
    statements: list[str] = []

    @event.listens_for(memory_engine, "before_cursor_execute")
    def record(*args: Any) -> None:
        statements.append(args[2])

    with SQLStore(memory_engine) as store:
        store.create_schema()
        store.apply(creates("ana@example.com"))
    by_store = list(statements)
    statements.clear()
    with memory_engine.begin() as conn:
        conn.execute(sa.select(users.c.email))

    assert "BEGIN IMMEDIATE" in by_store
    assert ["SELECT users.email \nFROM users"] == statements
    with SQLStore(memory_engine) as again:
        assert ["ana@example.com"] == [u.key for u in everyone(again)]


def test_reads_do_not_take_the_write_lock(sqlite_url: str) -> None:
    """On SQLite, reads begin a deferred transaction and writes an immediate one."""
    statements: list[str] = []
    with SQLStore(sqlite_url) as store:
        store.create_schema()
        event.listen(
            store.engine,
            "before_cursor_execute",
            lambda *args: statements.append(args[2]),
        )
        store.apply(creates("ana@example.com"))
        store.find_by_keys(["ana@example.com"])

    assert "BEGIN IMMEDIATE" == statements[0]
    assert ["BEGIN IMMEDIATE", "BEGIN"] == [s for s in statements if "BEGIN" in s]


def _driver_opens_transactions(engine: sa.Engine) -> None:
    """Make every new connection of ``engine`` already be in a transaction, as
    Python 3.12's ``sqlite3.connect(autocommit=False)`` does."""

    @event.listens_for(engine, "connect")
    def begin_at_once(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.execute("BEGIN")


def test_driver_that_opened_a_transaction_is_used_as_is(tmp_path: Path) -> None:
    """When the driver already opened a transaction, the store emits no ``BEGIN``
    of its own (that would fail) and still commits its writes."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'users.db'}")
    _driver_opens_transactions(engine)
    store = SQLStore(engine)
    store.create_schema()

    (ana,) = store.apply(creates("ana@example.com"))

    assert {"ana@example.com": ana} == dict(store.find_by_keys(["ana@example.com"]))
    engine.dispose()
    with SQLStore(f"sqlite:///{tmp_path / 'users.db'}") as reopened:
        assert [ana] == everyone(reopened)


@pytest.mark.skipif(sys.version_info < (3, 12), reason="sqlite3 autocommit is 3.12+")
def test_sqlite3_autocommit_false_mode_works(tmp_path: Path) -> None:
    """An engine in Python 3.12's PEP 249 mode (``autocommit=False``) works."""
    engine = sa.create_engine(
        f"sqlite:///{tmp_path / 'users.db'}", connect_args={"autocommit": False}
    )
    store = SQLStore(engine)
    store.create_schema()

    (ana,) = store.apply(creates("ana@example.com"))

    assert [ana] == everyone(store)
    engine.dispose()


# -- SQLite locking -----------------------------------------------------------------


def test_sqlite_write_waits_for_the_lock_then_fails_cleanly(sqlite_url: str) -> None:
    """While another connection holds the write lock, reads go on, and a commit
    waits ``busy_timeout`` seconds, then fails with ``StoreError``; nothing of it
    is written."""
    with SQLStore(sqlite_url, busy_timeout=0.2) as store:
        store.create_schema()
        (ana,) = store.apply(creates("ana@example.com"))
        holder = sqlite3.connect(sa.make_url(sqlite_url).database or "", timeout=0)
        holder.isolation_level = None
        holder.execute("BEGIN IMMEDIATE")
        try:
            assert [ana] == everyone(store)
            with pytest.raises(StoreError, match="locked"):
                store.apply(creates("bo@example.com"))
        finally:
            holder.execute("ROLLBACK")
            holder.close()

        assert [ana] == everyone(store)


# -- PostgreSQL retries ---------------------------------------------------------------


def _fail_statements(
    engine: sa.Engine, error: Callable[[], Exception], times: int
) -> list[str]:
    """Make the first ``times`` INSERTs on ``engine`` fail with ``error()``
    inside the driver (so SQLAlchemy wraps it as it would a real one)."""
    failed: list[str] = []

    def maybe_fail(cursor: Any, statement: str, parameters: Any, context: Any) -> None:
        if statement.startswith("INSERT") and len(failed) < times:
            failed.append(statement)
            raise error()

    event.listen(engine, "do_execute", maybe_fail)
    event.listen(engine, "do_executemany", maybe_fail)
    return failed


@pytest.mark.postgres
@pytest.mark.parametrize(
    "error", [psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure]
)
def test_postgres_deadlock_is_retried(
    postgres_url: sa.URL, error: Callable[[], Exception]
) -> None:
    """A deadlock or serialization failure (which only other writers of the tables
    can cause) is retried: the commit then succeeds, written once."""
    with SQLStore(postgres_url, retries=2) as store:
        store.create_schema()
        failed = _fail_statements(store.engine, error, times=2)

        written = store.apply(creates("ana@example.com", "bo@example.com"))

        assert 2 == len(failed)
        assert list(written) == everyone(store)


@pytest.mark.postgres
def test_postgres_endless_deadlocks_become_a_conflict(postgres_url: sa.URL) -> None:
    """When every retry collides again, the commit gives up with ``CommitConflict``
    naming every key of the batch; nothing is written."""
    with SQLStore(postgres_url, retries=2) as store:
        store.create_schema()
        failed = _fail_statements(store.engine, psycopg.errors.DeadlockDetected, 99)

        with pytest.raises(CommitConflict) as info:
            store.apply(creates("bo@example.com", "ana@example.com"))

        assert 3 == len(failed)
        assert ("ana@example.com", "bo@example.com") == info.value.keys
        assert [] == everyone(store)


def test_other_driver_errors_are_not_retried(sqlite_url: str) -> None:
    """An ordinary driver failure (here, a full disk) is a ``StoreError`` at once."""
    with SQLStore(sqlite_url) as store:
        store.create_schema()
        failed = _fail_statements(
            store.engine,
            lambda: sqlite3.OperationalError("database or disk is full"),
            9,
        )

        with pytest.raises(StoreError, match="disk is full"):
            store.apply(creates("ana@example.com"))

        assert 1 == len(failed)
        assert [] == everyone(store)
