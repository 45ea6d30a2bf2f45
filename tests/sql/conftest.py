"""Fixtures for the SQL adapter: SQLite files and a throwaway PostgreSQL cluster.

The PostgreSQL cluster is made once per test session with ``initdb`` in a temporary
folder, started on 127.0.0.1 at a free port (trust authentication: it accepts only
local connections and lives only as long as the session), and removed at the end.
Each test gets fresh tables: every store lives in a new PostgreSQL schema of its own.

Where PostgreSQL is not installed the PostgreSQL tests are skipped with a message
that says how to get it; under CI (``CI=true``) a PostgreSQL that cannot start is a
failure, never a skip.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest
import sqlalchemy as sa

from userimport.sql import SQLStore

#: How a contributor gets what CI runs (also in docs/sql.md).
INSTALL_HINT = (
    "install PostgreSQL 15 (`apt-get install postgresql-15`) or point "
    "USERIMPORT_PG_BIN at a folder holding initdb and pg_ctl"
)

_DATABASE = "userimport_test"


def _unavailable(reason: str) -> NoReturn:
    """Skip the PostgreSQL tests, or fail them under CI, where they must run."""
    message = f"PostgreSQL tests need a local PostgreSQL: {reason}; {INSTALL_HINT}."
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _pg_bin() -> Path | None:
    """The folder of initdb and pg_ctl: $USERIMPORT_PG_BIN, Debian's newest, or PATH."""
    configured = os.environ.get("USERIMPORT_PG_BIN")
    if configured:
        # Told where to look: look nowhere else.
        candidates = [configured]
    else:
        candidates = sorted(
            glob.glob("/usr/lib/postgresql/*/bin"),
            key=lambda p: (
                int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0
            ),
            reverse=True,
        )
        on_path = shutil.which("pg_ctl")
        if on_path:
            candidates.append(str(Path(on_path).parent))
    for folder in candidates:
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PostgresCluster:
    """A running throwaway cluster: its port and how to reach its test database."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._schemas = itertools.count(1)

    @property
    def conninfo(self) -> str:
        """libpq connection string of the test database (for psycopg directly)."""
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={_DATABASE}"

    def url(self, schema: str | None = None) -> sa.URL:
        """SQLAlchemy URL of the test database, optionally confined to ``schema``."""
        query = {"options": f"-csearch_path={schema}"} if schema else {}
        return sa.URL.create(
            "postgresql+psycopg",
            username="postgres",
            host="127.0.0.1",
            port=self.port,
            database=_DATABASE,
            query=query,
        )

    def fresh_url(self) -> sa.URL:
        """The URL of a new, empty schema: fresh tables for one test."""
        schema = f"t{next(self._schemas)}"
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        return self.url(schema)


def _start_cluster(folder: Path, as_postgres: list[str]) -> PostgresCluster:
    pg_bin = _pg_bin()
    assert pg_bin is not None
    data, log = folder / "data", folder / "server.log"

    def run(*args: str) -> None:
        # From the cluster's folder: the `postgres` user may not be allowed into
        # the working directory (a clone under /root), and initdb needs to be.
        subprocess.run(
            [*as_postgres, *args],
            check=True,
            capture_output=True,
            timeout=120,
            cwd=folder,
        )

    init = [str(pg_bin / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]
    init += ["-E", "UTF8", "--no-sync", "--locale=C.UTF-8"]
    try:
        # A linguistic (ICU) default collation, so that the store's code-point
        # collation is really put to the test; plain libc where ICU is missing.
        run(*init, "--locale-provider=icu", "--icu-locale=en-US")
    except subprocess.CalledProcessError:
        shutil.rmtree(data, ignore_errors=True)
        run(*init)
    port = _free_port()
    # Durability settings off: the cluster dies with the session anyway.
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    run(
        str(pg_bin / "pg_ctl"),
        *("-D", str(data), "-l", str(log), "-w", "-t", "60", "-o", options, "start"),
    )
    cluster = PostgresCluster(port)
    admin = f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {_DATABASE}")
    return cluster


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster for this session (skipped, or failed under CI, if none)."""
    pg_bin = _pg_bin()
    if pg_bin is None:
        _unavailable("initdb and pg_ctl were not found")
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        # initdb refuses to run as root: run the server as the `postgres` user.
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and there is no `postgres` OS user")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    folder = Path(tempfile.mkdtemp(prefix="userimport-pg-"))
    if as_postgres:
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    try:
        try:
            cluster = _start_cluster(folder, as_postgres)
        except (subprocess.SubprocessError, OSError, psycopg.Error) as error:
            detail = getattr(error, "stderr", b"") or b""
            log = folder / "server.log"
            tail = log.read_text(errors="replace")[-500:] if log.exists() else ""
            _unavailable(
                f"the throwaway cluster did not start ({error}; "
                f"{detail.decode(errors='replace').strip()} {tail.strip()})"
            )
        yield cluster
    finally:
        if (folder / "data" / "postmaster.pid").exists():
            subprocess.run(
                [
                    *as_postgres,
                    str(pg_bin / "pg_ctl"),
                    "-D",
                    str(folder / "data"),
                    "-m",
                    "immediate",
                    "stop",
                ],
                capture_output=True,
                timeout=60,
                check=False,
                cwd=folder,
            )
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres: PostgresCluster) -> sa.URL:
    """The URL of a new, empty PostgreSQL schema (tables not created yet)."""
    return postgres.fresh_url()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """The URL of a new SQLite database file (not created yet)."""
    return f"sqlite:///{tmp_path / 'users.db'}"


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def database_url(request: pytest.FixtureRequest) -> str | sa.URL:
    """A fresh database on each backend in turn: a SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        url: str | sa.URL = request.getfixturevalue("sqlite_url")
    else:
        url = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def open_store(
    database_url: str | sa.URL,
) -> Iterator[Callable[[], SQLStore]]:
    """Open stores on this test's database (schema created); all closed after."""
    opened: list[SQLStore] = []

    def make() -> SQLStore:
        store = SQLStore(database_url)
        opened.append(store)
        store.create_schema()
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: Callable[[], SQLStore]) -> SQLStore:
    """An empty store on this test's database, on each backend in turn."""
    return open_store()
