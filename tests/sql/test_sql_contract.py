"""``SQLStore`` passes the shipped store contract on every backend we ship for."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import ClassVar

import pytest
import sqlalchemy as sa

from sql.conftest import PostgresCluster
from userimport import UserStore
from userimport.sql import SQLStore
from userimport.testing import UserStoreContract


class _SQLContract(UserStoreContract):
    """Makes each store on a fresh database from ``_urls``, with its schema.

    The contract makes a store per test (and per hypothesis example); making the
    next one closes the previous one, so idle connections never pile up.
    """

    _urls: ClassVar[Iterator[str | sa.URL]]
    _stores: ClassVar[list[SQLStore]]

    def make_store(self) -> UserStore:
        self._close_stores()
        store = SQLStore(next(self._urls))
        store.create_schema()
        self._empty(store)
        self._stores.append(store)
        return store

    def _empty(self, store: SQLStore) -> None:
        """Empty a store whose database an earlier test may have used."""

    @classmethod
    def _close_stores(cls) -> None:
        while cls._stores:
            cls._stores.pop().close()

    @pytest.fixture(autouse=True, scope="class")
    @classmethod
    def _store_list(cls) -> Iterator[None]:
        cls._stores = []
        yield
        cls._close_stores()


class TestSQLiteFileContract(_SQLContract):
    """SQLStore on a SQLite file passes the contract."""

    @pytest.fixture(autouse=True, scope="class")
    @classmethod
    def _databases(cls, tmp_path_factory: pytest.TempPathFactory) -> None:
        folder = tmp_path_factory.mktemp("sqlite-contract")
        cls._urls = (f"sqlite:///{folder / f'{n}.db'}" for n in itertools.count())


class TestSQLiteMemoryContract(_SQLContract):
    """SQLStore on an in-memory SQLite database (one shared connection) passes."""

    _urls = itertools.repeat("sqlite://")


@pytest.mark.postgres
class TestPostgresContract(_SQLContract):
    """SQLStore on PostgreSQL passes the contract."""

    @pytest.fixture(autouse=True, scope="class")
    @classmethod
    def _databases(cls, postgres: PostgresCluster) -> None:
        # One schema, emptied for every store: much faster than a schema each.
        cls._urls = itertools.repeat(postgres.fresh_url())

    def _empty(self, store: SQLStore) -> None:
        with store.engine.begin() as conn:
            conn.exec_driver_sql("TRUNCATE users, organizations RESTART IDENTITY")
