"""Faults in the middle of a commit leave nothing written.

A connection killed by the server, a driver failure at any statement of the
transaction or at ``COMMIT``, a unique-key race or a constraint violation on the
last row: the commit fails with ``StoreError`` or ``CommitConflict``, nothing of
the batch is stored, and the store works again afterwards.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from sql.conftest import PostgresCluster
from userimport import CommitConflict, StoredUser, StoreError, UserRow, UserWrite
from userimport.sql import SQLStore


def row(email: str, first_name: str = "Ana") -> UserRow:
    """A user of the root organization."""
    return UserRow(first_name, "García", email, "root")


@pytest.fixture
def seeded(store: SQLStore) -> tuple[SQLStore, list[StoredUser]]:
    """A store with two users, ``b@`` and ``d@``."""
    return store, list(
        store.apply([UserWrite(row("b@x.com")), UserWrite(row("d@x.com"))])
    )


def mixed_batch(b: StoredUser, d: StoredUser) -> list[UserWrite]:
    """Creates and updates interleaved by key (a, b, c, d, e), so the commit runs
    several statements: three INSERTs and two UPDATEs, in key order."""
    return [
        UserWrite(row("e@x.com")),
        UserWrite(row("d@x.com", "Dee"), expected=d),
        UserWrite(row("c@x.com")),
        UserWrite(row("b@x.com", "Bea"), expected=b),
        UserWrite(row("a@x.com")),
    ]


def snapshot(store: SQLStore) -> list[StoredUser]:
    """Every user of the store, in key order."""
    return list(store.list_users(["root"]))


def driver_error(store: SQLStore) -> Exception:
    """A failure as the store's own driver raises it (disk or connection lost)."""
    if store.engine.dialect.name == "sqlite":
        return sqlite3.OperationalError("disk I/O error")
    return psycopg.OperationalError("connection lost")


@contextlib.contextmanager
def failing(
    engine: sa.Engine, error: Exception, when: Callable[[str, int], bool]
) -> Iterator[list[str]]:
    """While inside: every statement on ``engine`` is recorded, and the ones for
    which ``when(statement, number)`` is true fail inside the driver (SQLAlchemy
    wraps the error as it would a real one)."""
    seen: list[str] = []

    def hook(cursor: Any, statement: str, parameters: Any, context: Any) -> None:
        seen.append(statement)
        if when(statement, len(seen)):
            raise error

    for name in ("do_execute", "do_executemany"):
        event.listen(engine, name, hook)
    try:
        yield seen
    finally:
        for name in ("do_execute", "do_executemany"):
            event.remove(engine, name, hook)


def _nth(k: int, statement: str, number: int) -> bool:
    return number == k


def test_failure_at_any_statement_writes_nothing(
    seeded: tuple[SQLStore, list[StoredUser]],
) -> None:
    """A driver failure injected at the k-th statement of the commit, for every k
    from the first to the last write, raises ``StoreError`` and writes nothing;
    then the same batch commits whole."""
    store, (b, d) = seeded
    before = snapshot(store)
    failed_at: list[int] = []

    for k in range(1, 50):
        with failing(store.engine, driver_error(store), functools.partial(_nth, k)):
            try:
                written = store.apply(mixed_batch(b, d))
            except StoreError:
                failed_at.append(k)
                assert before == snapshot(store)
                continue
        break

    # 2 reads, 3 INSERTs and 2 UPDATEs (and SQLite's BEGIN IMMEDIATE).
    assert list(range(1, len(failed_at) + 1)) == failed_at
    assert len(failed_at) >= 7
    assert ["a@x.com", "b@x.com", "c@x.com", "d@x.com", "e@x.com"] == [
        u.key for u in snapshot(store)
    ]
    assert sorted(written, key=lambda u: u.key) == snapshot(store)


def test_failure_at_commit_writes_nothing(
    seeded: tuple[SQLStore, list[StoredUser]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """When ``COMMIT`` itself fails in the driver, the commit raises ``StoreError``
    and the transaction is rolled back."""
    store, (b, d) = seeded
    before = snapshot(store)
    dialect = store.engine.dialect
    error = driver_error(store)

    def broken_commit(dbapi_connection: Any) -> None:
        raise error

    monkeypatch.setattr(dialect, "do_commit", broken_commit)
    with pytest.raises(StoreError, match="nothing was written"):
        store.apply(mixed_batch(b, d))
    monkeypatch.undo()

    assert before == snapshot(store)


def test_unique_race_on_the_last_row_is_a_conflict(
    seeded: tuple[SQLStore, list[StoredUser]], request: pytest.FixtureRequest
) -> None:
    """Another writer takes the key of the batch's last row between the re-check
    and the INSERT: the unique index refuses it, the commit raises
    ``CommitConflict`` naming that key, and nothing of the batch is written. (On
    SQLite the stand-in writer shares the transaction, so its row is rolled back
    too and the conflict names every created key.)"""
    store, (b, d) = seeded
    before = snapshot(store)
    postgres = store.engine.dialect.name == "postgresql"

    def take_last_key(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.startswith("INSERT") or "zz" not in str(args[0]):
            return
        sql = "INSERT INTO users (email, email_key, first_name, last_name, "
        sql += "organization, role, groups) VALUES "
        if postgres:
            # A concurrent transaction that commits first.
            cluster: PostgresCluster = request.getfixturevalue("postgres")
            with psycopg.connect(store_conninfo(store, cluster), autocommit=True) as c:
                c.execute(
                    sql + "('zz@x.com', 'zz@x.com', 'Z', 'Z', 'root', 'learner', '[]')"
                )
        else:
            # SQLite has one writer at a time: the same connection stands in.
            cursor.connection.execute(
                sql + "('zz@x.com', 'zz@x.com', 'Z', 'Z', 'root', 'learner', '[]')"
            )

    event.listen(store.engine, "before_cursor_execute", take_last_key)
    with pytest.raises(CommitConflict) as info:
        store.apply([*mixed_batch(b, d), UserWrite(row("ZZ@x.com"))])
    event.remove(store.engine, "before_cursor_execute", take_last_key)

    assert "zz@x.com" in info.value.keys
    if postgres:
        assert ("zz@x.com",) == info.value.keys
        before = sorted(
            [*before, *store.find_by_keys(["zz@x.com"]).values()], key=lambda u: u.key
        )
    assert before == snapshot(store)


def test_constraint_violation_on_the_last_row_writes_nothing(
    seeded: tuple[SQLStore, list[StoredUser]],
) -> None:
    """A row the database refuses (here a missing first name, which only code that
    bypasses validation can send) fails the whole commit with ``StoreError``."""
    store, (b, d) = seeded
    before = snapshot(store)
    nameless: Any = None

    with pytest.raises(StoreError, match="nothing was written"):
        store.apply([*mixed_batch(b, d), UserWrite(row("zz@x.com", nameless))])

    assert before == snapshot(store)


def store_conninfo(store: SQLStore, cluster: PostgresCluster) -> str:
    """libpq connection string to the store's schema, for a second connection."""
    schema = store.engine.url.query["options"]
    return f"{cluster.conninfo} options={schema}"


@pytest.mark.postgres
@pytest.mark.parametrize("k", [1, 2, 3])
def test_connection_killed_mid_commit_writes_nothing(
    postgres: PostgresCluster, postgres_url: sa.URL, k: int
) -> None:
    """The server terminates the store's connection (``pg_terminate_backend`` from
    another session) right after the k-th INSERT of a commit: ``StoreError``,
    nothing written, and the store reconnects for the next commit."""
    with SQLStore(postgres_url) as store:
        store.create_schema()
        b, d = store.apply([UserWrite(row("b@x.com")), UserWrite(row("d@x.com"))])
        before = snapshot(store)
        inserts: list[str] = []

        def kill_after_kth_insert(
            conn: Any, cursor: Any, statement: str, *_: Any
        ) -> None:
            if statement.startswith("INSERT"):
                inserts.append(statement)
                if len(inserts) == k:
                    pid = conn.connection.dbapi_connection.info.backend_pid
                    with psycopg.connect(postgres.conninfo, autocommit=True) as admin:
                        admin.execute("SELECT pg_terminate_backend(%s, 10000)", [pid])

        event.listen(store.engine, "after_cursor_execute", kill_after_kth_insert)
        with pytest.raises(StoreError, match="nothing was written"):
            store.apply(mixed_batch(b, d))
        event.remove(store.engine, "after_cursor_execute", kill_after_kth_insert)

        assert k == len(inserts)
        assert before == snapshot(store)
        store.apply([UserWrite(row("a@x.com"))])
        assert ["a@x.com", "b@x.com", "d@x.com"] == [u.key for u in snapshot(store)]
