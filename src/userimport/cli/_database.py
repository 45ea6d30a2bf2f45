"""Opening the database named by ``--db``, and the organizations it holds.

The store is :class:`~userimport.sql.SQLStore`. Commands that only read never
change the database: a missing SQLite file is not created, and a database without
the store's tables is left as it is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from userimport._messages import message
from userimport.cli._console import CommandError, reason
from userimport.cli._urls import database_url, shown_url, sqlite_file
from userimport.exceptions import StoreError
from userimport.hierarchy import Organization, OrgTree

if TYPE_CHECKING:
    from userimport.sql import SQLStore

#: The database of every command unless ``--db`` says otherwise.
DEFAULT_DB = "sqlite:///userimport.db"

#: What SQLAlchemy and the SQLite driver raise, rather than one of their own errors,
#: for a URL they cannot use: an option they cannot read (``?timeout=soon``), a NUL
#: character, ``sqlite://?uri=true`` (a URI without a file name).
_MALFORMED = (ValueError, TypeError)

#: The root organization a database without organizations gets, so that an import
#: works with no set-up.
AUTO_ROOT = Organization("root", "My organization")


def _sqlstore_class() -> type[SQLStore]:
    try:
        from userimport.sql import SQLStore
    except ImportError as exc:
        raise CommandError(
            message(
                "The database needs SQLAlchemy, which is not installed; "
                "install it with: pip install 'userimport[sql]'."
            )
        ) from exc
    return SQLStore


def _has_schema(url: str) -> bool:
    """Whether the database holds the store's tables: looked at through a plain
    engine, so a database that does not is left exactly as it is."""
    _sqlstore_class()  # SQLAlchemy is installed
    import sqlalchemy as sa

    from userimport.sql import metadata as tables

    try:
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                names = set(sa.inspect(conn).get_table_names())
        finally:
            engine.dispose()
    except (sa.exc.SQLAlchemyError, ImportError, *_MALFORMED) as exc:
        raise _cannot_open(url, exc) from exc
    return set(tables.tables) <= names


def _cannot_open(url: str, exc: Exception) -> CommandError:
    """The driver's own words (first line) say why."""
    cause = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    return CommandError(
        message(
            "Cannot open the database {url}: {reason}.",
            url=shown_url(url),
            reason=cause,
        )
    )


@contextlib.contextmanager
def writable(url: str) -> Iterator[SQLStore]:
    """The store at ``url`` with its tables created if missing; closed afterwards.

    Raises:
        CommandError: The URL is not one the commands open (see
            :func:`~userimport.cli._urls.database_url`), or the database cannot be
            opened.
    """
    url = database_url(url)
    cls = _sqlstore_class()
    try:
        store = cls(url)
    except _MALFORMED as exc:
        raise _cannot_open(url, exc) from exc
    try:
        try:
            store.create_schema()
        except StoreError as exc:
            raise CommandError(
                message(
                    "Cannot open the database {url}: {reason}",
                    url=shown_url(url),
                    reason=reason(exc),
                )
            ) from exc
        except _MALFORMED as exc:
            raise _cannot_open(url, exc) from exc
        yield store
    finally:
        store.close()


@contextlib.contextmanager
def readable(url: str) -> Iterator[SQLStore | None]:
    """The store at ``url``, or ``None`` when nothing is stored there yet.

    Reading changes nothing: a missing SQLite file is not created (its folder
    must exist, though), and a database without the tables is left as it is.

    Raises:
        CommandError: As :func:`writable`.
    """
    url = database_url(url)
    name = sqlite_file(url)
    if name and not Path(name).exists():
        folder = Path(name).parent
        if not folder.is_dir():
            raise CommandError(
                message(
                    "Cannot open the database {url}: "
                    "the folder {folder} does not exist.",
                    url=shown_url(url),
                    folder=str(folder),
                )
            )
        yield None
        return
    if not _has_schema(url):
        yield None
        return
    store = _sqlstore_class()(url)
    try:
        yield store
    finally:
        store.close()


def stored_tree(store: SQLStore | None) -> tuple[OrgTree, bool]:
    """The organizations, and whether they are stored: a database without any
    has only :data:`AUTO_ROOT`, not stored yet."""
    tree = store.org_tree() if store is not None else OrgTree(())
    return (tree, True) if len(tree) else (OrgTree([AUTO_ROOT]), False)
