"""Tests of ``MemoryStore``: the shipped contract, plus what only it promises."""

from __future__ import annotations

import contextlib
import doctest
import io
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from userimport import (
    CommitConflict,
    MemoryStore,
    Role,
    StoredUser,
    StoreError,
    UserRow,
    UserStore,
    UserWrite,
)
from userimport.persistence import conflicting_keys
from userimport.testing import ORGANIZATIONS, UserStoreContract


class TestMemoryStore(UserStoreContract):
    """MemoryStore passes the contract every adapter must pass."""

    def make_store(self) -> UserStore:
        return MemoryStore()


class _Fault(Exception):
    """The failure injected into a write."""


class FailingStore(MemoryStore):
    """A MemoryStore whose write number ``fail_at`` (0-based) raises ``error``."""

    def __init__(
        self,
        users: list[StoredUser],
        fail_at: int | None,
        error: Exception | None = None,
    ) -> None:
        super().__init__(users)
        self.fail_at = fail_at
        self.error = error if error is not None else _Fault("disk full")
        self.puts = 0

    def _put(self, users: dict[str, StoredUser], user: StoredUser) -> None:
        if self.puts == self.fail_at:
            self.puts += 1
            raise self.error
        self.puts += 1
        super()._put(users, user)


ANA = StoredUser(
    id="1",
    email="ana@example.com",
    first_name="Ana",
    last_name="García",
    organization="root",
)
BO = StoredUser(
    id="7",
    email="Bo@example.com",
    first_name="Bo",
    last_name="Berg",
    organization="a",
    role=Role.MANAGER,
    groups=("Ventas",),
    language="es",
)


def _row(email: str, organization: str = "root", **fields: str) -> UserRow:
    return UserRow(
        first_name=fields.get("first_name", "New"),
        last_name="User",
        email=email,
        organization=organization,
    )


def _batch(size: int) -> list[UserWrite]:
    """Creates, with the two updates of the seed users in the middle."""
    writes = [UserWrite(_row(f"user{i}@example.com")) for i in range(size)]
    writes.insert(size // 2, UserWrite(_row("ana@example.com", "b"), expected=ANA))
    writes.insert(size // 3, UserWrite(_row("bo@example.com", "b"), expected=BO))
    return writes


def _everything(store: MemoryStore) -> list[StoredUser]:
    return list(store.list_users(ORGANIZATIONS))


def test_seeded_users_are_found() -> None:
    """Users passed to the constructor are stored as given, ids included."""
    store = MemoryStore([BO, ANA])

    assert _everything(store) == [ANA, BO]
    assert dict(store.find_by_keys(["bo@example.com"])) == {"bo@example.com": BO}


def test_new_ids_skip_seeded_ids() -> None:
    """Ids are handed out in order, skipping the ids of seeded users."""
    store = MemoryStore([ANA])

    created = store.apply(
        [UserWrite(_row("x@example.com")), UserWrite(_row("y@x.org"))]
    )

    assert [u.id for u in created] == ["2", "3"]


@pytest.mark.parametrize(
    ("users", "message"),
    [
        ([ANA, StoredUser("1", "zed@example.com", "Z", "Z", "root")], "id '1'"),
        ([ANA, StoredUser("2", "ANA@example.com", "A", "A", "root")], "email key"),
    ],
)
def test_seed_with_duplicates_is_refused(users: list[StoredUser], message: str) -> None:
    """Seeding two users with one id or one email key is a ValueError."""
    with pytest.raises(ValueError, match=message):
        MemoryStore(users)


def test_repr_counts_users() -> None:
    """The repr says how many users the store holds."""
    assert repr(MemoryStore([ANA, BO])) == "<MemoryStore with 2 users>"


@pytest.mark.parametrize("fail_at", range(8))
def test_failure_at_any_write_leaves_nothing_written(fail_at: int) -> None:
    """A failure at the k-th write, for every k, surfaces as StoreError (caused by
    the original error) and leaves the store exactly as it was, ids included."""
    writes = _batch(6)
    store = FailingStore([ANA, BO], fail_at=fail_at)

    with pytest.raises(StoreError) as info:
        store.apply(writes)

    assert isinstance(info.value.__cause__, _Fault)
    assert _everything(store) == [ANA, BO]
    store.fail_at = None
    assert list(MemoryStore([ANA, BO]).apply(writes)) == list(store.apply(writes))


@given(size=st.integers(0, 12), data=st.data())
def test_failure_at_a_random_write_leaves_nothing_written(
    size: int, data: st.DataObject
) -> None:
    """For batches of any size and a failure at any of their writes, nothing of the
    batch is written."""
    writes = _batch(size)
    fail_at = data.draw(st.integers(0, len(writes) - 1))
    store = FailingStore([ANA, BO], fail_at=fail_at)

    with pytest.raises(StoreError):
        store.apply(writes)

    assert _everything(store) == [ANA, BO]
    assert fail_at + 1 == store.puts


@pytest.mark.parametrize(
    "error",
    [CommitConflict("raced", keys=("x@example.com",)), StoreError("backend gone")],
)
def test_library_errors_from_a_write_pass_through(error: Exception) -> None:
    """CommitConflict and StoreError raised by a write reach the caller unwrapped."""
    store = FailingStore([ANA], fail_at=0, error=error)

    with pytest.raises(type(error)) as info:
        store.apply([UserWrite(_row("x@example.com"))])

    assert error is info.value
    assert _everything(store) == [ANA]


def test_conflict_checks_happen_before_any_write() -> None:
    """A conflicting batch never reaches the write hook."""
    store = FailingStore([ANA], fail_at=None)

    with pytest.raises(CommitConflict):
        store.apply(
            [UserWrite(_row("x@example.com")), UserWrite(_row("ANA@example.com"))]
        )

    assert store.puts == 0


def test_list_users_returns_a_snapshot() -> None:
    """Lists and look-ups returned earlier do not change with later writes."""
    store = MemoryStore([ANA])
    listed = store.list_users(["root"])
    found = store.find_by_keys(["ana@example.com"])

    store.apply([UserWrite(_row("ana@example.com", first_name="Ann"), expected=ANA)])

    assert list(listed) == [ANA]
    assert dict(found) == {"ana@example.com": ANA}


def test_conflicting_keys_ignores_unrelated_users() -> None:
    """Users the batch does not touch change nothing; an updated id that the
    adapter did not pass in counts as missing."""
    zed = StoredUser("9", "zed@example.com", "Zed", "Z", "b")
    writes = [
        UserWrite(_row("new@example.com")),
        UserWrite(_row("ana@example.com", first_name="Ann"), expected=ANA),
    ]

    assert conflicting_keys(writes, [ANA, zed]) == ()
    assert conflicting_keys(writes, [zed]) == ("ana@example.com",)


def _run_docs() -> dict[str, Any]:
    """Run the examples and code blocks of docs/stores.md; return their namespace.

    The page claims its example store passes the contract; running its code here
    and collecting its test classes below makes that claim a test.
    """
    text = (Path(__file__).parents[1] / "docs" / "stores.md").read_text("utf-8")
    namespace: dict[str, Any] = {"__name__": "docs_stores"}
    for example in doctest.DocTestParser().get_examples(text):
        with contextlib.redirect_stdout(io.StringIO()):
            exec(example.source, namespace)
    for block in re.findall(r"^```python\n(.*?)^```", text, re.MULTILINE | re.DOTALL):
        exec(block, namespace)
    return namespace


_DOCS = _run_docs()
TestDocumentedSQLiteStore = _DOCS["TestSQLiteStore"]
TestDocumentedSQLiteFileStore = _DOCS["TestSQLiteFileStore"]
