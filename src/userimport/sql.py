"""``SQLStore``: users and organizations in SQL, on SQLAlchemy 2 Core.

SQLite is the embedded default and PostgreSQL the server; both are exercised for
real by the test suite (contract, process concurrency, faults), and no other
database is accepted. A SQLite file opened from a URL uses the write-ahead log
(``journal_mode=WAL``, ``synchronous=NORMAL``), so reviews read while a commit
writes.

How a commit stays atomic and race-free:

* One transaction per :meth:`SQLStore.apply`. Inside it the store re-reads the
  holders of every email key of the batch and the users the batch updates, and
  judges conflicts with :func:`~userimport.persistence.conflicting_keys`, as every
  adapter does; on PostgreSQL the updated rows are read ``FOR UPDATE`` (in id
  order), so they cannot change before the transaction ends.
* The writes then run sorted by email key, so two transactions that touch the same
  keys take their locks in the same order and cannot deadlock each other.
* A real ``UNIQUE`` index on the email key catches the race the re-check cannot see
  (another transaction creating the same key meanwhile): the driver's
  ``IntegrityError`` becomes :class:`~userimport.exceptions.CommitConflict`.
* On SQLite a write transaction starts with ``BEGIN IMMEDIATE``: it takes the
  database's write lock before it reads, waiting up to ``busy_timeout`` seconds for
  it, instead of failing with "database is locked" when two deferred transactions
  both try to upgrade their read lock (https://www.sqlite.org/lang_transaction.html).
* Every other driver failure becomes :class:`~userimport.exceptions.StoreError`;
  the transaction is rolled back, so nothing of the batch was written. A PostgreSQL
  deadlock or serialization failure (SQLSTATE ``40P01`` / ``40001``, only possible
  with other writers of these tables) is retried a few times first.

The email key is computed by the application (:func:`~userimport.schema.email_key`:
the local part NFKC-normalised and case-folded, the domain's IDNA A-label form) and
stored in its own column, because SQLite's ``NOCASE`` and ``lower()`` fold only
ASCII (https://www.sqlite.org/datatype3.html#collation). :meth:`SQLStore.rekey`
recomputes the column when the rule changes.
On PostgreSQL, keys and organization ids use the ``"C"`` collation, so the database
orders them by code point exactly as Python does, whatever the database's locale.

The Users screen (:meth:`SQLStore.search_users`) is paged and searched by the
database. Each user row keeps its search words
(:func:`~userimport.persistence.user_words`, computed in Python when the row is
written, so there is one rule for every store) in the ``search_words`` column, and
one index on ``(organization, email_key, search_words)`` answers a page from its
entries alone: the branch's entries after the previous page's key, searched with
``LIKE``, sorted by key, cut at the limit; only the page's rows are then read.

The review's look-alike warning (:meth:`SQLStore.find_look_alikes`) is an indexed
look-up too. Each user row keeps the likeness of its email key
(:func:`userimport._confusables.likeness`, the UTS #39 skeleton ICU gives, computed
in Python when the key is written) in the ``skeleton`` column, and the one-row
``skeleton_version`` table records the :func:`~userimport._confusables.likeness_version`
(the ICU and Unicode versions) the column was computed with. A writer whose version
is another (or that has no PyICU) writes ``NULL``; the look-up computes those rows'
likenesses itself, and :meth:`SQLStore.refresh_skeletons` (run by
:meth:`SQLStore.create_schema`) fills them in, or computes the whole column again
when the version changed. While the recorded version is not the reader's, or the
database has no column yet (``create_schema`` not run since the upgrade), the
look-up lists the branch's users instead, as for a store without the column. A
trigger clears the skeleton of a row whose key changes without it (a host's own
SQL, an older version's ``rekey``), so no skeleton describes a key the row no
longer has. Any other statement that fails for a table or column an older
version's database lacks raises a :class:`~userimport.exceptions.StoreError` that
says to run :meth:`SQLStore.create_schema`.

The organization tree is cached per store while the organizations are unchanged. A
trigger on ``organizations`` bumps the one row of ``organizations_version`` in the
transaction of any change (the store's own, or a host's SQL), so
:meth:`SQLStore.org_tree` needs one small query to know whether its tree is still
current, in this process or after a change by any other.

It is long because it is a whole adapter on two databases: the tables, the upgrade of
older schemas, the transactions and their retries, the search, the look-alike index
and the cached tree; its rules come from persistence and (likenesses)
_confusables.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import random
import secrets
import sqlite3
import threading
import time
from collections.abc import (
    Callable,
    Collection,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from types import TracebackType
from typing import Any

import attrs

try:
    import sqlalchemy as sa
except ModuleNotFoundError as error:
    if error.name != "sqlalchemy":
        raise
    # SQLAlchemy is not a dependency of the core: it comes with the `sql` extra.
    raise ModuleNotFoundError(
        "userimport.sql needs SQLAlchemy 2, which the 'sql' extra installs:"
        " pip install 'userimport[sql]'",
        name=error.name,
    ) from error
from sqlalchemy import event
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from userimport import _confusables
from userimport._messages import message
from userimport._sqlite_url import sqlite_file
from userimport.exceptions import CommitConflict, StoreError
from userimport.hierarchy import Organization, OrgTree
from userimport.persistence import (
    StoredUser,
    UserWrite,
    conflicting_keys,
    user_words,
)
from userimport.schema import Role, UserRow, email_key

__all__ = [
    "SQLStore",
    "metadata",
    "organizations",
    "organizations_version",
    "skeleton_version",
    "users",
]

#: Keys and ids compare and sort by code point on every backend: SQLite's default
#: ``BINARY`` collation already does; PostgreSQL needs ``COLLATE "C"`` (its default
#: collation follows the locale, which would sort differently from Python).
_CODE_POINT_TEXT = sa.Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")

#: The index of the Users screen, and the one it replaces in older databases.
_PAGE_INDEX = "ix_users_organization_key_words"
_OLD_PAGE_INDEX = "ix_users_organization"

#: The index of the look-alike look-up.
_SKELETON_INDEX = "ix_users_skeleton"

#: ``INTEGER PRIMARY KEY`` is SQLite's rowid alias; elsewhere a 64-bit key.
_USER_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

#: The tables of every :class:`SQLStore`.
metadata = sa.MetaData(
    naming_convention={
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

#: One row per organization; ``parent_id`` is ``NULL`` for a root.
organizations = sa.Table(
    "organizations",
    metadata,
    sa.Column("id", _CODE_POINT_TEXT, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    # Deferred, so a batch may name a parent that comes later in the same statement.
    sa.Column(
        "parent_id",
        _CODE_POINT_TEXT,
        sa.ForeignKey("organizations.id", deferrable=True, initially="DEFERRED"),
        nullable=True,
    ),
)

#: One row per user. ``groups`` is a JSON array of names, in order: groups are part
#: of the user's value, always read and written with it and never queried alone by
#: this library, so one column keeps every write one statement and every read one
#: ``SELECT`` without a join.
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", _USER_ID, primary_key=True, autoincrement=True),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("email_key", _CODE_POINT_TEXT, nullable=False),
    sa.Column("first_name", sa.Text, nullable=False),
    sa.Column("last_name", sa.Text, nullable=False),
    sa.Column("organization", _CODE_POINT_TEXT, nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("groups", sa.Text, nullable=False),
    sa.Column("language", sa.String(35), nullable=True),
    # The user's search words (see _search_text). A row written without them (by
    # an older version, or by hand) gets "" and is found by a search only once
    # SQLStore.create_schema fills them in; listing finds it all along.
    sa.Column("search_words", sa.Text, nullable=False, server_default=""),
    # The likeness of the email key (see _confusables.likeness), computed with the
    # version in skeleton_version; NULL where not known (written without PyICU, by
    # an older version, or by hand): the look-up computes those itself.
    sa.Column("skeleton", _CODE_POINT_TEXT, nullable=True),
    # Two spellings of one address are one user: a real unique index on the key.
    sa.UniqueConstraint("email_key"),
    sa.CheckConstraint(
        sa.column("role").in_([role.value for role in Role]), name="role"
    ),
    # The Users screen: a branch's users in key order, searched, a page at a time,
    # from the index's entries alone (SQLite adds the rowid to every entry).
    sa.Index(_PAGE_INDEX, "organization", "email_key", "search_words"),
    # The look-alike look-up: the users of some likenesses (and those without one).
    sa.Index(_SKELETON_INDEX, "skeleton"),
    # Ids are never reused, even after a host deletes users (a stale preview must
    # not update a newcomer who got a freed id).
    sqlite_autoincrement=True,
)

#: One row: a number that changes in the transaction of every change to
#: ``organizations`` (a trigger bumps it), so a cached tree is known current by
#: reading it. It starts at a random number, so a database dropped and created
#: again never repeats the version of the tree a long-lived store has cached.
organizations_version = sa.Table(
    "organizations_version",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.CheckConstraint(sa.column("id") == 1, name="one_row"),
)

#: One row: the likeness version (:func:`~userimport._confusables.likeness_version`)
#: every non-NULL ``users.skeleton`` was computed with; ``NULL`` before any was.
#: Writers read it (``FOR SHARE`` on PostgreSQL) in the transaction that writes
#: skeletons, and :meth:`SQLStore.refresh_skeletons` changes it first, so no
#: skeleton of another version is written after the column was computed again.
skeleton_version = sa.Table(
    "skeleton_version",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("version", sa.Text, nullable=True),
    sa.CheckConstraint(sa.column("id") == 1, name="one_row"),
)

#: SQLite: one trigger per kind of change, each bumping the version once per row.
_SQLITE_TRIGGERS = tuple(
    f"CREATE TRIGGER IF NOT EXISTS organizations_changed_{change.lower()}"
    f" AFTER {change} ON organizations"
    " BEGIN UPDATE organizations_version SET version = version + 1; END"
    for change in ("INSERT", "UPDATE", "DELETE")
)

#: PostgreSQL: one statement-level trigger (TRUNCATE included), whose function
#: names the version table in the schema of the changed table, whatever the
#: session's search_path.
_POSTGRES_TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION organizations_changed() RETURNS trigger
LANGUAGE plpgsql AS $body$
BEGIN
    EXECUTE 'UPDATE ' || quote_ident(TG_TABLE_SCHEMA)
        || '.organizations_version SET version = version + 1';
    RETURN NULL;
END
$body$
"""
_POSTGRES_TRIGGER = (
    "CREATE TRIGGER organizations_changed"
    " AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON organizations"
    " FOR EACH STATEMENT EXECUTE FUNCTION organizations_changed()"
)

#: A ``users`` row whose key changes while its ``skeleton`` stays as it was (a
#: host's own SQL, the ``rekey`` of a version without the column) loses its
#: skeleton, which described the old key: the look-up then computes the row's
#: likeness itself and :meth:`SQLStore.refresh_skeletons` fills it in. The store's
#: own writes set the key and its skeleton in one statement, so they keep theirs,
#: unless the new key's skeleton is the old one's (``NULL`` then: still right).
#: SQLite: after the update (its triggers cannot change the row being written).
_SQLITE_KEY_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS users_key_changed"
    " AFTER UPDATE OF email_key ON users"
    " WHEN NEW.email_key IS NOT OLD.email_key AND NEW.skeleton IS OLD.skeleton"
    " AND NEW.skeleton IS NOT NULL"
    " BEGIN UPDATE users SET skeleton = NULL WHERE id = NEW.id; END"
)

#: PostgreSQL: before the update, the row itself (no second write of it).
_POSTGRES_KEY_TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION users_key_changed() RETURNS trigger
LANGUAGE plpgsql AS $body$
BEGIN
    NEW.skeleton := NULL;
    RETURN NEW;
END
$body$
"""
_POSTGRES_KEY_TRIGGER = (
    "CREATE TRIGGER users_key_changed BEFORE UPDATE OF email_key ON users"
    " FOR EACH ROW WHEN (NEW.email_key IS DISTINCT FROM OLD.email_key"
    " AND NEW.skeleton IS NOT DISTINCT FROM OLD.skeleton"
    " AND NEW.skeleton IS NOT NULL)"
    " EXECUTE FUNCTION users_key_changed()"
)

#: What :meth:`SQLStore.create_schema` adds to the tables of an older version
#: (a column as ``table.column``): without them some statements fail.
_UPGRADED = frozenset(
    {
        "organizations_version",
        "skeleton_version",
        "users.search_words",
        "users.skeleton",
        _SKELETON_INDEX,
    }
)

#: What the look-up by skeleton needs (SQLite names the index in the query).
_SKELETON_SCHEMA = frozenset({"skeleton_version", "users.skeleton", _SKELETON_INDEX})

#: The names of the tables and indexes the database has and of the ``users``
#: columns (as ``users.name``), among those the store checks; the table and index
#: names are resolved as the store's statements resolve them.
_SCHEMA_NAMES = {
    "sqlite": (
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'index')"
        " UNION ALL SELECT 'users.' || name FROM pragma_table_info('users')"
    ),
    "postgresql": (
        "SELECT name FROM unnest(ARRAY["
        + ", ".join(
            f"'{name}'"
            for name in sorted({"users", *_UPGRADED})
            if not name.startswith("users.")
        )
        + "]) AS names(name) WHERE to_regclass(name) IS NOT NULL"
        " UNION ALL SELECT 'users.' || attname FROM pg_attribute"
        " WHERE attrelid = to_regclass('users') AND attnum > 0 AND NOT attisdropped"
    ),
}

#: How many users' search words ``create_schema`` fills in per statement.
_FILL_BATCH = 10_000

#: Search statements are kept for queries of up to this many words; longer ones
#: (rare, and bounded only by the host's input) are built for the call.
_KEPT_STATEMENT_WORDS = 8

#: The execution option that marks a connection's transaction as a write.
_WRITE_OPTION = "userimport_write"

#: PostgreSQL SQLSTATEs after which the whole transaction may simply be retried
#: (https://www.postgresql.org/docs/15/mvcc-serialization-failure-handling.html).
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})

#: Key of the advisory lock that serializes ``create_schema`` on PostgreSQL.
_SCHEMA_LOCK = 0x75696D70  # "uimp"


def _among(
    column: sa.ColumnElement[Any], dialect: str, name: str = "values"
) -> sa.ColumnElement[bool]:
    """Whether ``column`` is one of the values of the parameter ``name`` (see
    :func:`_values_parameter`).

    One parameter however many values: an ``IN (...)`` with one placeholder per
    value would hit SQLite's limit on variables, and SQLAlchemy re-renders it on
    every call (most of a commit's time, measured).
    """
    if dialect == "postgresql":
        integer = isinstance(column.type, sa.Integer)
        element = sa.BigInteger() if integer else sa.Text()
        values = sa.bindparam(name, type_=postgresql.ARRAY(element))
        return column == sa.any_(values)
    # SQLite: the values as a JSON array, unpacked by the json_each table function
    # (https://www.sqlite.org/json1.html#jeach).
    unpacked: sa.Select[Any] = sa.select(sa.column("value")).select_from(
        sa.func.json_each(sa.bindparam(name))
    )
    return column.in_(unpacked.scalar_subquery())


def _values_parameter(values: Iterable[Any], dialect: str) -> Any:
    """The value of the ``values`` parameter of :func:`_among`."""
    distinct = sorted(set(values))
    return distinct if dialect == "postgresql" else _JSON.encode(distinct)


def _row_id(user_id: str) -> int | None:
    """The integer id behind a store id, or ``None`` for an id no row can have."""
    if not (user_id.isascii() and user_id.isdecimal()):
        return None
    number = int(user_id)
    return number if number < 2**63 else None


#: The ``users`` columns read into a :class:`StoredUser`, in :func:`_stored`'s order.
_USER_FIELDS = (
    users.c.id,
    users.c.email_key,
    users.c.email,
    users.c.first_name,
    users.c.last_name,
    users.c.organization,
    users.c.role,
    users.c.groups,
    users.c.language,
)

_ROLES = {role.value: role for role in Role}

#: The ``groups`` column's encoder, made once (``json.dumps`` with options builds a
#: new encoder per call). Tuples encode as JSON arrays; names keep their accents.
_JSON = json.JSONEncoder(ensure_ascii=False)


def _select_users() -> sa.Select[Any]:
    """``SELECT`` of the columns :func:`_stored` reads."""
    return sa.select(*_USER_FIELDS)


def _stored(row: Sequence[Any]) -> StoredUser:
    """A row of :func:`_select_users` as a :class:`StoredUser`.

    Positional unpacking, a role table and a shortcut for the common empty group
    list keep this at a few microseconds: the Users screen builds thousands.
    """
    user_id, _, email, first_name, last_name, organization, role, groups, lang = row
    return StoredUser(
        id=str(user_id),
        email=email,
        first_name=first_name,
        last_name=last_name,
        organization=organization,
        role=_ROLES[role],
        groups=() if groups == "[]" else json.loads(groups),
        language=lang,
    )


def _likeness(row: Sequence[Any]) -> str:
    """The likeness of a row of :func:`_select_users`: its ``skeleton``, read
    after the other columns, or, where the row has none (or was read without
    it), the likeness of its key."""
    kept = row[len(_USER_FIELDS)] if len(row) > len(_USER_FIELDS) else None
    return _confusables.likeness(row[1]) if kept is None else str(kept)


#: The ``users`` columns a write sets (all but the id).
_USER_COLUMNS: tuple[str, ...] = (
    "email",
    "email_key",
    "first_name",
    "last_name",
    "organization",
    "role",
    "groups",
    "language",
    "search_words",
    "skeleton",
)

#: How a write computes the ``skeleton`` column from a key: the likeness, or
#: ``None`` where it cannot be computed with the recorded version.
_Skeleton = Callable[[str], str | None]


def _no_skeleton(key: str) -> None:
    """The ``skeleton`` of a write that cannot compute it: ``NULL``."""
    del key


def _values(user: UserRow, key: str, skeleton: _Skeleton) -> tuple[Any, ...]:
    """The values of :data:`_USER_COLUMNS` that store ``user``, whose key is ``key``."""
    return (
        user.email,
        key,
        user.first_name,
        user.last_name,
        user.organization,
        user.role.value,
        "[]" if not user.groups else _JSON.encode(user.groups),
        user.language,
        _search_text(user),
        skeleton(key),
    )


def _search_text(user: UserRow | StoredUser) -> str:
    """The ``search_words`` column of a user: each of its
    :func:`~userimport.persistence.user_words` after a space.

    Words hold no space, so "a word starts with ``w``" is "the text contains a
    space followed by ``w``": ``LIKE '% w%'`` (see :func:`_word_pattern`).
    """
    return "".join(" " + word for word in user_words(user))


def _word_pattern(word: str) -> str:
    """The ``LIKE`` pattern (escape character ``\\``) of "a word starts with
    ``word``": its ``%``, ``_`` and ``\\`` stand for themselves, never wildcards."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"% {escaped}%"


@attrs.frozen
class _BulkInsert:
    """The driver-level ``INSERT`` of users for one dialect, compiled once.

    SQLAlchemy's own executemany processes every parameter set in Python, which is
    most of a 200-user commit's time on SQLite; these columns need no conversion,
    so the rows go to the driver's ``executemany`` as they are (events still fire).

    Attributes:
        sql: The statement in the driver's parameter style.
        names: The parameter names, in order if the style is positional.
        positional: Whether parameters are passed as tuples (else as dicts).
    """

    sql: str
    names: tuple[str, ...]
    positional: bool

    @classmethod
    def for_dialect(cls, dialect: sa.Dialect) -> _BulkInsert:
        statement = sa.insert(users).values(
            {name: sa.bindparam(name) for name in _USER_COLUMNS}
        )
        compiled = statement.compile(dialect=dialect)
        names = tuple(compiled.positiontup or _USER_COLUMNS)
        return cls(str(compiled), names, compiled.positional)

    def parameters(self, rows: Iterable[tuple[Any, ...]]) -> list[Any]:
        """The driver parameters for rows of :func:`_values`."""
        if self.positional:
            order = [_USER_COLUMNS.index(name) for name in self.names]
            return [tuple(row[i] for i in order) for row in rows]
        return [dict(zip(_USER_COLUMNS, row, strict=True)) for row in rows]


@functools.lru_cache(maxsize=8)
def _bulk_insert(dialect: sa.Dialect) -> _BulkInsert:
    """The :class:`_BulkInsert` of a dialect (compiled once per dialect)."""
    return _BulkInsert.for_dialect(dialect)


def _message(error: BaseException) -> str:
    """The first line of a driver's message (never the SQL or its parameters,
    which hold users' personal data)."""
    orig = getattr(error, "orig", None)
    text = str(orig if orig is not None else error).strip()
    name = type(orig if orig is not None else error).__name__
    return f"{name}: {text.splitlines()[0]}" if text else name


def _store_error(error: BaseException, *, writing: bool) -> StoreError:
    """The :class:`StoreError` for a driver failure (translated at the boundary)."""
    reason = _message(error)
    if writing:
        return StoreError(
            message(
                "The database failed ({reason}); nothing was written.", reason=reason
            )
        )
    return StoreError(message("The database failed ({reason}).", reason=reason))


def _outdated_error(*, writing: bool) -> StoreError:
    """The :class:`StoreError` of a database whose tables are an older version's:
    ``create_schema`` was not run since the library was upgraded."""
    if writing:
        return StoreError(
            message(
                "The database's tables are from an older version of userimport: "
                "run SQLStore.create_schema() once (it upgrades them in place); "
                "nothing was written."
            )
        )
    return StoreError(
        message(
            "The database's tables are from an older version of userimport: "
            "run SQLStore.create_schema() once (it upgrades them in place)."
        )
    )


def _is_missing_object(error: BaseException) -> bool:
    """Whether the driver refused a statement for a table, column or index that
    does not exist."""
    orig = getattr(error, "orig", None)
    if isinstance(orig, sqlite3.OperationalError):
        text = str(orig)
        return text.startswith("no such ") or " has no column named " in text
    # undefined_table, undefined_column, undefined_object
    return getattr(orig, "sqlstate", None) in {"42P01", "42703", "42704"}


def _is_key_violation(error: BaseException | None) -> bool:
    """Whether the driver refused a row for the unique email key."""
    # PostgreSQL names the constraint, SQLite the column: both contain "email_key".
    return isinstance(error, sa.exc.IntegrityError) and "email_key" in str(error.orig)


def _is_retryable(error: BaseException | None) -> bool:
    """Whether the whole transaction may be run again (PostgreSQL deadlock or
    serialization failure)."""
    orig = getattr(error, "orig", None)
    return getattr(orig, "sqlstate", None) in _RETRYABLE_SQLSTATES


def _is_memory_sqlite(url: sa.URL) -> bool:
    """Whether a SQLite URL names a database that lives in memory (or a temporary
    one): the rule of :func:`userimport._sqlite_url.sqlite_file`."""
    return sqlite_file(url.render_as_string(hide_password=False)) == ""


def _create_engine(url: str | sa.URL, busy_timeout: float) -> Engine:
    """An engine for a URL, configured for this store's transactions."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # A server may have closed idle connections; test each one on checkout.
        return sa.create_engine(parsed, pool_pre_ping=True)
    options: dict[str, Any] = {"connect_args": {"timeout": busy_timeout}}
    if _is_memory_sqlite(parsed):
        # One in-memory database lives in one connection: share it across threads
        # (SQLStore serialises its own use of it with a lock).
        options["poolclass"] = StaticPool
        options["connect_args"]["check_same_thread"] = False
    engine = sa.create_engine(parsed, **options)
    in_memory = _is_memory_sqlite(parsed)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, connection_record: Any) -> None:
        # SQLAlchemy's recipe for SQLite transactions ("Enabling Non-Legacy SQLite
        # Transactional Modes"): the driver emits no BEGIN of its own; SQLStore's
        # "begin" hook emits it.
        dbapi_connection.isolation_level = None
        if in_memory:
            return
        # Write-ahead log: readers (reviews) never wait for a commit, nor a commit
        # for them; with synchronous=NORMAL a commit needs no fsync and the
        # database can never be corrupted, but the last commits before a power cut
        # may be lost (https://www.sqlite.org/wal.html). A database opened
        # read-only keeps its journal mode.
        try:
            (mode,) = dbapi_connection.execute("PRAGMA journal_mode=WAL").fetchone()
        except sqlite3.OperationalError:
            mode = None
        if mode == "wal":
            dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    return engine


def _begin_sqlite(conn: Connection) -> None:
    """Start a SQLite transaction: ``BEGIN IMMEDIATE`` for writes, so the write
    lock is taken (or waited for) before anything is read, ``BEGIN`` for reads."""
    driver = conn.connection.driver_connection
    if driver is not None and driver.in_transaction:
        # The driver already opened one (Python 3.12's autocommit=False mode).
        return
    write = conn.get_execution_options().get(_WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class SQLStore:
    """Users (and optionally organizations) in a SQL database, on SQLAlchemy 2 Core.

    It implements :class:`~userimport.persistence.UserStore`; see the module
    documentation for how a commit stays atomic under concurrency. Call
    :meth:`create_schema` once before use (it is idempotent).

    Args:
        url_or_engine: A database URL (``"sqlite:///users.db"``, ``"sqlite://"`` for
            in-memory, ``"postgresql+psycopg://user@host/db"``) or an
            :class:`~sqlalchemy.engine.Engine` you configured. A given engine is
            not disposed by :meth:`close`; on SQLite the store adds its
            ``BEGIN IMMEDIATE`` hook to a copy of it (``Engine.execution_options()``)
            and leaves the engine itself untouched. An in-memory SQLite engine
            should use :class:`~sqlalchemy.pool.StaticPool`, so that every
            connection sees the one database.
        busy_timeout: For SQLite URLs: how many seconds a write waits for another
            connection's write lock before failing with :class:`StoreError`.
        retries: How many times a PostgreSQL deadlock or serialization failure is
            retried before the commit gives up with :class:`CommitConflict`.

    Raises:
        StoreError: The URL is malformed, its driver is not installed, or it names
            a database other than SQLite or PostgreSQL.

    A store holds a connection pool: create it in the process that uses it (after
    ``fork``, not before), and :meth:`close` it when done, or use it as a context
    manager.
    """

    def __init__(
        self,
        url_or_engine: str | sa.URL | Engine,
        *,
        busy_timeout: float = 30.0,
        retries: int = 3,
    ) -> None:
        if isinstance(url_or_engine, Engine):
            base, self._owns_engine = url_or_engine, False
        else:
            try:
                base = _create_engine(url_or_engine, busy_timeout)
            except (sa.exc.ArgumentError, ImportError) as error:
                reason = _message(error)
                raise StoreError(
                    message("Cannot use the database URL ({reason}).", reason=reason)
                ) from error
            self._owns_engine = True
        if base.dialect.name not in ("sqlite", "postgresql"):
            # Their locking and collations are what the store relies on.
            raise StoreError(
                message(
                    "SQLStore supports SQLite and PostgreSQL databases, not {name}.",
                    name=repr(base.dialect.name),
                )
            )
        self._base = base
        # A copy that shares the pool, so the hooks below stay the store's own.
        self._engine: Engine = base.execution_options()
        self._dialect = base.dialect.name
        if self._dialect == "sqlite":
            event.listen(self._engine, "begin", _begin_sqlite)
        # One in-memory SQLite connection serves every thread: one user at a time.
        self._lock: contextlib.AbstractContextManager[Any] = (
            threading.Lock()
            if isinstance(base.pool, StaticPool)
            else contextlib.nullcontext()
        )
        self._retries = retries
        # The statements, built once (SQLAlchemy caches their compiled form).
        among = functools.partial(_among, dialect=self._dialect)
        self._users_by_key = _select_users().where(among(users.c.email_key))
        self._users_by_org = (
            _select_users()
            .where(among(users.c.organization))
            .order_by(users.c.email_key)
        )
        # In id order, so racing commits lock shared rows in the same order.
        self._users_by_id_locked = (
            _select_users()
            .where(among(users.c.id))
            .order_by(users.c.id)
            .with_for_update()
        )
        self._ids_by_key = sa.select(users.c.email_key, users.c.id).where(
            among(users.c.email_key)
        )
        self._search_statements: dict[tuple[int, bool], sa.Select[Any]] = {}
        # The look-alike look-up: the users of some skeletons and those without
        # one, by the skeleton index alone (named for SQLite, whose planner has no
        # statistics to prefer it). The few users found are kept to the branch
        # in Python, which spares sending a root's thousands of organization ids.
        self._users_by_skeleton = (
            _select_users()
            .add_columns(users.c.skeleton)
            .with_hint(users, f"INDEXED BY {_SKELETON_INDEX}", "sqlite")
            .where(sa.or_(among(users.c.skeleton), users.c.skeleton.is_(None)))
        )
        self._skeleton_version = sa.select(skeleton_version.c.version)
        self._skeleton_version_shared = self._skeleton_version.with_for_update(
            read=True
        )
        self._tree_version = sa.select(organizations_version.c.version)
        # The last tree built, with the version it was read under (see org_tree).
        self._tree: tuple[int, OrgTree] | None = None
        # Whether the database has what the look-up by skeleton needs: checked
        # until it has (a database whose create_schema is yet to run), then known.
        self._skeleton_schema = False

    def __repr__(self) -> str:
        return f"<SQLStore {self._base.url.render_as_string(hide_password=True)}>"

    @property
    def engine(self) -> Engine:
        """The engine the store runs its statements on (a copy of the one given,
        sharing its pool); hosts may add event listeners to it."""
        return self._engine

    # -- life cycle ------------------------------------------------------------

    def close(self) -> None:
        """Close the store's connections (an engine you passed in is left open).

        The data stays in the database: a new store on the same URL finds it. An
        in-memory SQLite database ends here.
        """
        if self._owns_engine:
            self._base.dispose()

    #: The same as :meth:`close`, for readers used to SQLAlchemy's word.
    dispose = close

    def __enter__(self) -> SQLStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @contextlib.contextmanager
    def _transaction(self, *, write: bool) -> Iterator[Connection]:
        """One transaction; driver failures come out as :class:`StoreError`."""
        try:
            with self._lock, self._engine.connect() as conn:
                if write:
                    conn.execution_options(**{_WRITE_OPTION: True})
                with conn.begin():
                    yield conn
        except sa.exc.SQLAlchemyError as error:
            if _is_missing_object(error) and self._outdated():
                raise _outdated_error(writing=write) from error
            raise _store_error(error, writing=write) from error

    def _schema_names(self, conn: Connection) -> frozenset[str]:
        """The tables, indexes and ``users`` columns the database has (see
        :data:`_SCHEMA_NAMES`), read in ``conn``'s transaction."""
        found = conn.exec_driver_sql(_SCHEMA_NAMES[self._dialect]).scalars()
        return frozenset(found)

    def _outdated(self) -> bool:
        """Whether the database holds the tables of an older version: after a
        statement failed for a missing table or column, in a transaction of its
        own (the failed one may be aborted)."""
        try:
            with self._lock, self._engine.connect() as conn, conn.begin():
                names = self._schema_names(conn)
        except sa.exc.SQLAlchemyError:
            return False
        return "users" in names and not _UPGRADED <= names

    def _has_skeletons(self, conn: Connection) -> bool:
        """Whether the database has the ``skeleton`` column, its index and its
        version table: checked in ``conn``'s transaction until it has them (a
        check that cannot fail, so a PostgreSQL transaction is never aborted by a
        missing table)."""
        if not self._skeleton_schema:
            self._skeleton_schema = _SKELETON_SCHEMA <= self._schema_names(conn)
        return self._skeleton_schema

    def create_schema(self) -> None:
        """Create the tables, indexes and triggers that are missing, and bring a
        database made by an older version up to date; a no-op when all is there.

        An older database gets the ``search_words`` column, filled in for every
        user, the Users screen's index (in place of the older one), the
        ``organizations_version`` table and its triggers, and the ``skeleton``
        column, its index, the trigger that clears it when a key changes without
        it, and the ``skeleton_version`` table, filled in by
        :meth:`refresh_skeletons`. Until it runs, a review works (the look-alikes
        found by listing) and what needs the new tables raises a
        :class:`StoreError` saying to run it. Call it at every start: it is cheap when
        nothing is missing (it also fills in the search words and skeletons of
        rows written without them meanwhile, and computes the skeletons again
        after an upgrade of PyICU changed the likeness version).

        Raises:
            StoreError: The database failed; nothing was created.
        """
        with self._transaction(write=True) as conn:
            if self._dialect == "postgresql":
                # Two processes creating the schema at once would both see no table.
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_SCHEMA_LOCK)))
            metadata.create_all(conn)
            self._upgrade_users(conn)
            self._create_version(conn)
            self._create_key_trigger(conn)
            self._refresh_skeletons(conn)

    def refresh_skeletons(self) -> int:
        """Bring the ``skeleton`` column up to date; idempotent.

        With PyICU, fills in the likeness of every user whose ``skeleton`` is
        ``NULL`` (written without PyICU, or by a process whose likeness version
        was another), and, when the version recorded in ``skeleton_version`` is
        not this process's (:func:`~userimport._confusables.likeness_version`: a
        new ICU release brings new Unicode data), computes every user's again
        and records the new version. Without PyICU it does nothing.
        :meth:`create_schema` runs it; a look-up never does (a review does not
        rewrite the column, and processes with different ICU releases would take
        turns at it). It runs in one transaction, in batches of users, which
        waits for the commits in flight and makes later ones wait.

        Returns:
            How many users got a new skeleton (0 on a second run).

        Raises:
            StoreError: The database failed; nothing was changed.
        """
        with self._transaction(write=True) as conn:
            if self._dialect == "postgresql":
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_SCHEMA_LOCK)))
            return self._refresh_skeletons(conn)

    def _refresh_skeletons(self, conn: Connection) -> int:
        """:meth:`refresh_skeletons` inside ``conn``'s transaction (the schema's
        lock held on PostgreSQL)."""
        # The version row first, for update: this waits for the writers that read
        # it (FOR SHARE) and makes the next ones wait, so none of them writes a
        # skeleton of the old version once the new one is recorded.
        row = conn.execute(self._skeleton_version.with_for_update()).first()
        if row is None:
            conn.execute(sa.insert(skeleton_version).values(id=1, version=None))
        if not _confusables.available():
            return 0
        current = _confusables.likeness_version()
        stale = row is None or row[0] != current
        if stale:
            conn.execute(sa.update(skeleton_version).values(version=current))
        # In batches by id, so that a database of millions is never read whole.
        batch = (
            sa.select(users.c.id, users.c.email_key, users.c.skeleton)
            .where(users.c.id > sa.bindparam("last_id"))
            .order_by(users.c.id)
            .limit(_FILL_BATCH)
        )
        if not stale:
            batch = batch.where(users.c.skeleton.is_(None))
        # The key in the condition: a skeleton is written for the key it is of,
        # even if a host's own SQL changed the key meanwhile.
        fill = (
            sa.update(users)
            .where(
                users.c.id == sa.bindparam("user_id"),
                users.c.email_key == sa.bindparam("key"),
            )
            .values(skeleton=sa.bindparam("new_skeleton"))
        )
        likeness = _confusables.likeness
        changed, last_id = 0, 0
        while found := conn.execute(batch, {"last_id": last_id}).all():
            fills = [
                {"user_id": user_id, "key": key, "new_skeleton": new}
                for user_id, key, old in found
                if (new := likeness(key)) != old
            ]
            if fills:
                conn.execute(fill, fills)
            changed += len(fills)
            last_id = found[-1][0]
        return changed

    def rekey(self) -> int:
        """Recompute every user's ``email_key`` with the current rule; idempotent.

        For a database written by a version whose key folded the domain the Unicode
        way (``faß.de`` as ``fass.de``) rather than taking its IDNA2008 A-label form:
        run it once after upgrading, before the next import. Users with an ASCII
        domain keep their key. It runs in one transaction, which waits for (and,
        on PostgreSQL, blocks) other writers but not readers.

        Returns:
            How many users got a new key (0 on a second run).

        Raises:
            StoreError: Two users would share a key under the current rule (their
                addresses are one mailbox, e.g. ``x@bücher.de`` and
                ``x@xn--bcher-kva.de``): the message names their ids, and nothing
                was changed; merge or delete one of them and run it again. Or the
                database failed, and nothing was changed.
        """
        with self._transaction(write=True) as conn:
            # Before the table: the skeleton version is every writer's first lock.
            skeleton = self._skeleton_rule(conn)
            if self._dialect == "postgresql":
                # No commit may create a key this run is about to give, or the
                # reverse, until the new keys are in.
                conn.exec_driver_sql("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
            query = sa.select(users.c.id, users.c.email, users.c.email_key)
            changed = {
                user_id: key
                for user_id, email, old in conn.execute(query)
                if (key := email_key(email)) != old
            }
            if not changed:
                return 0
            holders: dict[str, list[int]] = {}
            for user_id, key in changed.items():
                holders.setdefault(key, []).append(user_id)
            # Unchanged users keep their keys: a new key may already be one of them.
            kept = conn.execute(self._ids_by_key, self._params(holders))
            for key, user_id in kept:
                if user_id not in changed:
                    holders[key].append(user_id)
            shared = sorted(sorted(ids) for ids in holders.values() if len(ids) > 1)
            if shared:
                groups = "; ".join(", ".join(map(str, ids)) for ids in shared)
                raise StoreError(
                    message(
                        "Some users are one mailbox under the current email key "
                        "(user ids {groups}); merge or delete the extra users and "
                        "re-key again. Nothing was changed.",
                        groups=groups,
                    )
                )
            update = (
                sa.update(users)
                .where(users.c.id == sa.bindparam("user_id"))
                .values(
                    email_key=sa.bindparam("new_key"),
                    skeleton=sa.bindparam("new_skeleton"),
                )
            )
            # Two steps, so that no statement sees two rows with one key while
            # keys move between users: first a placeholder no address can have
            # (every address has an "@"), then the new key and its skeleton.
            placeholders = {i: f"rekey {i}" for i in changed}
            for keys, rule in ((placeholders, _no_skeleton), (changed, skeleton)):
                conn.execute(
                    update,
                    [
                        {"user_id": i, "new_key": key, "new_skeleton": rule(key)}
                        for i, key in keys.items()
                    ],
                )
            return len(changed)

    def _upgrade_users(self, conn: Connection) -> None:
        """Add what an older ``users`` table lacks; fill in missing search words."""
        inspector = sa.inspect(conn)
        columns = {column["name"] for column in inspector.get_columns("users")}
        if "search_words" not in columns:
            # With a constant default: no rewrite of the table (PostgreSQL 11+).
            conn.exec_driver_sql(
                "ALTER TABLE users ADD COLUMN search_words TEXT NOT NULL DEFAULT ''"
            )
        if "skeleton" not in columns:
            # NULL in every row, filled in by _refresh_skeletons (no rewrite).
            collate = ' COLLATE "C"' if self._dialect == "postgresql" else ""
            conn.exec_driver_sql(f"ALTER TABLE users ADD COLUMN skeleton TEXT{collate}")
        indexes = {index["name"] for index in inspector.get_indexes("users")}
        if _OLD_PAGE_INDEX in indexes:
            # Its columns lead ours: ours serves everything it served.
            conn.exec_driver_sql(f"DROP INDEX {_OLD_PAGE_INDEX}")
        for name in (_PAGE_INDEX, _SKELETON_INDEX):
            if name not in indexes:
                (index,) = (i for i in users.indexes if i.name == name)
                index.create(conn)
        # In batches by id, so that a database of millions is never read whole.
        batch = (
            sa.select(users.c.id, users.c.first_name, users.c.last_name, users.c.email)
            .where(users.c.search_words == "", users.c.id > sa.bindparam("last_id"))
            .order_by(users.c.id)
            .limit(_FILL_BATCH)
        )
        fill = (
            sa.update(users)
            .where(users.c.id == sa.bindparam("user_id"))
            .values(search_words=sa.bindparam("words"))
        )
        last_id = 0
        while missing := conn.execute(batch, {"last_id": last_id}).all():
            conn.execute(
                fill,
                [
                    {
                        "user_id": user_id,
                        "words": _search_text(
                            StoredUser(str(user_id), email, first, last, "")
                        ),
                    }
                    for user_id, first, last, email in missing
                ],
            )
            last_id = missing[-1][0]

    def _create_version(self, conn: Connection) -> None:
        """The version row and the triggers that bump it, where missing."""
        if conn.execute(self._tree_version).first() is None:
            conn.execute(
                sa.insert(organizations_version).values(
                    id=1, version=secrets.randbelow(2**62)
                )
            )
        if self._dialect == "sqlite":
            for trigger in _SQLITE_TRIGGERS:
                conn.exec_driver_sql(trigger)
            return
        exists = conn.exec_driver_sql(
            "SELECT 1 FROM pg_trigger WHERE tgname = 'organizations_changed'"
            " AND tgrelid = to_regclass('organizations')"
        ).first()
        if exists is None:
            conn.exec_driver_sql(_POSTGRES_TRIGGER_FUNCTION)
            conn.exec_driver_sql(_POSTGRES_TRIGGER)

    def _create_key_trigger(self, conn: Connection) -> None:
        """The trigger that clears a skeleton its key no longer has, where
        missing (see :data:`_SQLITE_KEY_TRIGGER`)."""
        if self._dialect == "sqlite":
            conn.exec_driver_sql(_SQLITE_KEY_TRIGGER)
            return
        exists = conn.exec_driver_sql(
            "SELECT 1 FROM pg_trigger WHERE tgname = 'users_key_changed'"
            " AND tgrelid = to_regclass('users')"
        ).first()
        if exists is None:
            conn.exec_driver_sql(_POSTGRES_KEY_TRIGGER_FUNCTION)
            conn.exec_driver_sql(_POSTGRES_KEY_TRIGGER)

    # -- organizations ---------------------------------------------------------

    def add_organizations(self, orgs: Iterable[Organization]) -> None:
        """Add organizations, or rename and move existing ones (by id).

        The result (the stored organizations with these added or replacing the
        ones of the same id) is validated as an :class:`OrgTree` first, so bad data
        never lands.

        Raises:
            HierarchyError: The result would be inconsistent (unknown parent,
                duplicate id in ``orgs``, cycle, empty id or name) or would hold a
                name with a hidden character or with whitespace around it; nothing
                was written.
            StoreError: The database failed; nothing was written.
        """
        given = list(orgs)
        with self._transaction(write=True) as conn:
            if self._dialect == "postgresql":
                # Two concurrent calls could each add half of a cycle; readers
                # are not blocked by this lock.
                conn.exec_driver_sql(
                    "LOCK TABLE organizations IN SHARE ROW EXCLUSIVE MODE"
                )
            stored = {org.id: org for org in self._organizations(conn)}
            given_ids = {org.id for org in given}
            OrgTree([o for i, o in stored.items() if i not in given_ids] + given)
            inserts = [o for o in given if o.id not in stored]
            updates = [o for o in given if o.id in stored and o != stored[o.id]]
            if inserts:
                conn.execute(
                    sa.insert(organizations),
                    [
                        {"id": o.id, "name": o.name, "parent_id": o.parent_id}
                        for o in inserts
                    ],
                )
            if updates:
                conn.execute(
                    sa.update(organizations)
                    .where(organizations.c.id == sa.bindparam("org_id"))
                    .values(
                        name=sa.bindparam("new_name"),
                        parent_id=sa.bindparam("new_parent_id"),
                    ),
                    [
                        {
                            "org_id": o.id,
                            "new_name": o.name,
                            "new_parent_id": o.parent_id,
                        }
                        for o in updates
                    ],
                )

    def org_tree(self) -> OrgTree:
        """The stored organizations as an :class:`OrgTree` (siblings by id).

        The tree is built once and kept while the organizations are unchanged: a
        call reads the one-row ``organizations_version`` and returns the kept tree
        if it was built under that version. Any change to ``organizations``, by this
        store, another process or a host's own SQL, changes the version in the
        same transaction, so the tree returned is never older than the last
        change committed before the call.

        Raises:
            HierarchyError: The stored data is inconsistent (edited outside the
                store), or holds a name that a tree no longer accepts (a hidden
                character, whitespace around it), stored by an earlier version:
                rename it with :meth:`add_organizations`.
            StoreError: The database failed.
        """
        with self._transaction(write=False) as conn:
            # The version before the organizations: a change committed between
            # the two reads can only make the kept version older than its tree
            # (one needless rebuild later), never newer (a stale tree).
            version = conn.execute(self._tree_version).scalar()
            kept = self._tree
            if kept is not None and kept[0] == version:
                return kept[1]
            tree = OrgTree(self._organizations(conn))
        if version is not None:
            self._tree = (version, tree)
        return tree

    @staticmethod
    def _organizations(conn: Connection) -> list[Organization]:
        rows = conn.execute(sa.select(organizations).order_by(organizations.c.id))
        return [Organization(r.id, r.name, r.parent_id) for r in rows]

    def _params(self, values: Iterable[Any]) -> dict[str, Any]:
        """The parameters of a statement that selects by :func:`_among`."""
        return {"values": _values_parameter(values, self._dialect)}

    # -- reading users ---------------------------------------------------------

    def find_by_keys(self, keys: Collection[str]) -> Mapping[str, StoredUser]:
        """The stored users whose email key is among ``keys``, by key.

        Absent keys are left out; users of every organization are returned.

        Raises:
            StoreError: The database failed.
        """
        with self._transaction(write=False) as conn:
            rows = conn.execute(self._users_by_key, self._params(keys))
            return {row[1]: _stored(row) for row in rows}

    def list_users(self, org_ids: Collection[str]) -> Sequence[StoredUser]:
        """The users of the given organizations, ordered by email key.

        The database filters by organization (an index on ``(organization,
        email_key)``), so the Users screen of one branch among thousands reads only
        that branch's users.

        Raises:
            StoreError: The database failed.
        """
        with self._transaction(write=False) as conn:
            rows = conn.execute(self._users_by_org, self._params(org_ids))
            return [_stored(row) for row in rows]

    def search_users(
        self,
        org_ids: Collection[str],
        *,
        words: Sequence[str] = (),
        after: str | None = None,
        limit: int | None = None,
    ) -> Sequence[StoredUser]:
        """One page of the users of the given organizations, ordered by email key.

        See :meth:`~userimport.persistence.SearchableUserStore.search_users`. The
        database does the work: the Users screen's index gives the branch's
        entries after ``after``, ``LIKE`` on their search words filters them, and
        only the ``limit`` first are read as rows. A page costs a walk over the
        branch's index entries from ``after`` on, never over its rows.

        Raises:
            ValueError: ``limit`` is less than 1.
            StoreError: The database failed.
        """
        if limit is not None and limit < 1:
            raise ValueError(f"A page holds at least one user, not limit={limit!r}.")
        statement = self._search_statement(len(words), limited=limit is not None)
        params = self._params(org_ids)
        # Keys are never empty: "after the empty key" is "from the first".
        params["after"] = "" if after is None else after
        params["limit"] = limit
        for number, word in enumerate(words):
            params[f"word{number}"] = _word_pattern(word)
        with self._transaction(write=False) as conn:
            if self._dialect == "postgresql":
                # A plan for this subtree and this search, never a generic one:
                # the driver prepares a statement run often, and a generic plan
                # cannot tell a branch of 10 organizations from one of 10,000
                # (measured: 4x slower for a country's page).
                conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
            return [_stored(row) for row in conn.execute(statement, params)]

    def find_look_alikes(
        self, likenesses: Collection[str], org_ids: Collection[str]
    ) -> Sequence[StoredUser]:
        """The users of the given organizations whose email key has one of the
        ``likenesses``, each once, in no particular order.

        See :meth:`~userimport.persistence.LookAlikeUserStore.find_look_alikes`.
        The ``skeleton`` index gives the users of those likenesses; the users
        whose likeness is not in the column yet (``NULL``: written without
        PyICU or with another ICU) are read too and their likenesses computed
        here, until :meth:`refresh_skeletons` fills them in. When the column was
        computed with another version than this process's
        (:func:`~userimport._confusables.likeness_version`), or the database
        has no column yet (``create_schema`` not run since the upgrade: checked
        once per store, and at every look-up while it has not), every user of
        the organizations is read and compared, as for a store without the
        index: right, but as slow as that (``create_schema`` computes it).

        Raises:
            ModuleNotFoundError: PyICU is not installed (the ``confusables``
                extra).
            StoreError: The database failed.
        """
        current = _confusables.likeness_version()
        # A frozenset (a subtree's ids) is taken as it is, not copied.
        wanted, branch = frozenset(likenesses), frozenset(org_ids)
        with self._transaction(write=False) as conn:
            if (
                self._has_skeletons(conn)
                and conn.execute(self._skeleton_version).scalar() == current
            ):
                found = conn.execute(self._users_by_skeleton, self._params(wanted))
            else:
                found = conn.execute(self._users_by_org, self._params(branch))
            rows = [row for row in found if row[5] in branch]
        fields = len(_USER_FIELDS)
        return [_stored(row[:fields]) for row in rows if _likeness(row) in wanted]

    def _search_statement(self, words: int, *, limited: bool) -> sa.Select[Any]:
        """The statement of :meth:`search_users` for ``words`` query words."""
        statement = self._search_statements.get((words, limited))
        if statement is not None:
            return statement
        conditions = [
            _among(users.c.organization, self._dialect),
            users.c.email_key > sa.bindparam("after"),
            *(
                users.c.search_words.like(sa.bindparam(f"word{n}"), escape="\\")
                for n in range(words)
            ),
        ]
        if limited:
            # The page's ids from the index alone, then only their rows.
            page = (
                sa.select(users.c.id)
                .where(*conditions)
                .order_by(users.c.email_key)
                .limit(sa.bindparam("limit", type_=sa.Integer))
            )
            conditions = [users.c.id.in_(page.scalar_subquery())]
        statement = _select_users().where(*conditions).order_by(users.c.email_key)
        if words <= _KEPT_STATEMENT_WORDS:
            self._search_statements[(words, limited)] = statement
        return statement

    # -- writing users ---------------------------------------------------------

    def apply(self, writes: Sequence[UserWrite]) -> Sequence[StoredUser]:
        """Apply every write atomically, in one transaction: all of them or none.

        Conflicts are judged by :func:`~userimport.persistence.conflicting_keys`, as in
        every adapter, against the state inside the transaction; the unique index
        on the email key catches a concurrent create of the same key.

        Raises:
            CommitConflict: With the sorted keys of every conflicting write.
                Nothing was written.
            StoreError: The database failed (connection lost, disk full, locked
                longer than the busy timeout). Nothing was written, unless the
                connection was lost during the final ``COMMIT`` itself, whose
                outcome no client can know: prepare again to see the state.

        Returns:
            The stored users, in the order of ``writes``.
        """
        batch = list(writes)
        if not batch:
            return []
        for attempt in itertools.count(1):
            try:
                with self._transaction(write=True) as conn:
                    return self._apply(conn, batch)
            except StoreError as error:
                cause = error.__cause__
                if _is_key_violation(cause):
                    raise CommitConflict(
                        "Another commit created some of these users meanwhile; "
                        "nothing was written.",
                        keys=self._conflicting_keys(batch),
                    ) from cause
                if not _is_retryable(cause):
                    raise
                if attempt > self._retries:
                    raise CommitConflict(
                        "Concurrent commits kept colliding with this one; "
                        "nothing was written.",
                        keys=tuple(sorted({w.key for w in batch})),
                    ) from cause
                # Back off a random while, so that the colliding transactions
                # don't meet again at once.
                time.sleep(random.uniform(0, 0.05 * attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def _apply(self, conn: Connection, writes: Sequence[UserWrite]) -> list[StoredUser]:
        """Re-check, then write in email-key order, inside ``conn``'s transaction."""
        keys = [w.key for w in writes]  # computed once: folding and IDNA cost
        skeleton = self._skeleton_rule(conn)
        conflicts = conflicting_keys(writes, self._involved(conn, writes, keys))
        if conflicts:
            raise CommitConflict(
                "Some users changed since the review; nothing was written.",
                keys=conflicts,
            )
        stored: dict[int, StoredUser] = {}
        order = sorted(range(len(writes)), key=keys.__getitem__)
        # Consecutive creates are one INSERT and consecutive updates one executemany
        # UPDATE: still in key order, row by row.
        for creating, group in itertools.groupby(
            order, key=lambda i: writes[i].expected is None
        ):
            run = list(group)
            run_writes = [(writes[i], keys[i]) for i in run]
            ids = (
                self._insert(conn, run_writes, skeleton)
                if creating
                else self._update(conn, run_writes, skeleton)
            )
            for i, user_id in zip(run, ids, strict=True):
                stored[i] = StoredUser.of(user_id, writes[i].user)
        return [stored[i] for i in range(len(writes))]

    def _insert(
        self,
        conn: Connection,
        creates: Sequence[tuple[UserWrite, str]],
        skeleton: _Skeleton,
    ) -> list[str]:
        """Insert the users of ``creates`` (one executemany); their new ids.

        The ids are read back by key afterwards (the keys are unique, and nobody
        else can write them before this transaction ends): ``INSERT ... RETURNING``
        with the ids in parameter order would be one statement per row on SQLite.
        """
        bulk = _bulk_insert(conn.dialect)
        conn.exec_driver_sql(
            bulk.sql,
            bulk.parameters(_values(w.user, key, skeleton) for w, key in creates),
        )
        query = self._ids_by_key
        found = conn.execute(query, self._params(key for _, key in creates))
        ids = {key: str(user_id) for key, user_id in found}
        return [ids[key] for _, key in creates]

    @staticmethod
    def _update(
        conn: Connection, updates: Sequence[tuple[UserWrite, str]], skeleton: _Skeleton
    ) -> list[str]:
        """Overwrite the users of ``updates`` (rows locked and checked); their ids."""
        ids = [w.expected.id for w, _ in updates if w.expected is not None]
        statement = (
            sa.update(users)
            .where(users.c.id == sa.bindparam("user_id"))
            .values({name: sa.bindparam("new_" + name) for name in _USER_COLUMNS})
        )
        conn.execute(
            statement,
            [
                {
                    "user_id": int(user_id),
                    **{
                        "new_" + name: value
                        for name, value in zip(
                            _USER_COLUMNS, _values(w.user, key, skeleton), strict=True
                        )
                    },
                }
                for user_id, (w, key) in zip(ids, updates, strict=True)
            ],
        )
        return ids

    def _skeleton_rule(self, conn: Connection) -> _Skeleton:
        """How the writes of ``conn``'s transaction fill the ``skeleton`` column:
        the likeness if this process computes it with the recorded version, else
        ``NULL``. The version row is read ``FOR SHARE`` on PostgreSQL, so that
        :meth:`refresh_skeletons` cannot change it before this transaction ends
        (SQLite runs one write transaction at a time)."""
        if not _confusables.available():
            return _no_skeleton
        version = conn.execute(self._skeleton_version_shared).scalar()
        if version != _confusables.likeness_version():
            return _no_skeleton
        return _confusables.likeness

    def _involved(
        self, conn: Connection, writes: Sequence[UserWrite], keys: Iterable[str]
    ) -> list[StoredUser]:
        """The stored users the batch updates (locked on PostgreSQL, in id order, so
        racing commits lock shared rows in the same order) and those holding its
        ``keys``: what :func:`~userimport.persistence.conflicting_keys` judges."""
        ids = sorted(
            {
                number
                for w in writes
                if w.expected is not None
                and (number := _row_id(w.expected.id)) is not None
            }
        )
        involved: list[StoredUser] = []
        if ids:
            locked = conn.execute(self._users_by_id_locked, self._params(ids))
            involved.extend(_stored(row) for row in locked)
        held = conn.execute(self._users_by_key, self._params(keys))
        involved.extend(_stored(row) for row in held)
        return involved

    def _conflicting_keys(self, writes: Sequence[UserWrite]) -> tuple[str, ...]:
        """After a unique-key violation: the keys that conflict now, or, if the
        state shows none (the other transaction is gone), every created key."""
        with self._transaction(write=False) as conn:
            involved = self._involved(conn, writes, [w.key for w in writes])
        return conflicting_keys(writes, involved) or tuple(
            sorted({w.key for w in writes if w.expected is None})
        )
