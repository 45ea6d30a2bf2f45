"""``MemoryStore``: the thread-safe reference implementation of ``UserStore``.

It keeps users in dictionaries behind one lock, with each user's email key and
search words computed once, when the user is written, and, once the review first
looks for look-alike emails, an index of the users by the likeness of their key.
:meth:`MemoryStore.apply` checks the whole batch against the current state, builds
the new state on copies and swaps it in only when every write succeeded, so a
failure at any point leaves the old state.
Every other adapter proves it behaves the same with :mod:`userimport.testing`.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence

from userimport import _confusables
from userimport.exceptions import CommitConflict, StoreError
from userimport.persistence import (
    StoredUser,
    UserWrite,
    conflicting_keys,
    page_of,
    user_words,
)

__all__ = ["MemoryStore"]


class MemoryStore:
    """Users in memory, for tests, demos and hosts that keep their own persistence.

    It implements :class:`~userimport.persistence.UserStore`, pages and searches
    the Users screen itself (:class:`~userimport.persistence.SearchableUserStore`),
    scanning its users in memory, and finds look-alike emails through an index
    (:class:`~userimport.persistence.LookAlikeUserStore`). Ids are decimal strings
    handed out in order (``"1"``, ``"2"``, ...), skipping ids already in use, so
    examples and tests are deterministic. A batch that fails hands out no id.

    Args:
        users: Users to start with (for example a fixture, or a snapshot of another
            store). Their ids and email keys must be unique.

    Raises:
        ValueError: Two seed users share an id or an email key.
    """

    def __init__(self, users: Iterable[StoredUser] = ()) -> None:
        by_id: dict[str, StoredUser] = {}
        ids_by_key: dict[str, str] = {}
        for user in users:
            if user.id in by_id:
                raise ValueError(f"Two seed users have the id {user.id!r}.")
            if user.key in ids_by_key:
                raise ValueError(f"Two seed users have the email key {user.key!r}.")
            by_id[user.id] = user
            ids_by_key[user.key] = user.id
        self._lock = threading.Lock()
        self._by_id = by_id
        self._ids_by_key = ids_by_key
        # What a search reads of each user, by id: its key and its search words.
        self._search: dict[str, tuple[str, tuple[str, ...]]] = {
            user_id: (key, user_words(by_id[user_id]))
            for key, user_id in ids_by_key.items()
        }
        # The ids of the users by the likeness of their key: built by the first
        # find_look_alikes (never without PyICU), then kept up by apply.
        self._alike: dict[str, frozenset[str]] | None = None
        self._last_id = 0

    def __repr__(self) -> str:
        with self._lock:
            return f"<MemoryStore with {len(self._by_id)} users>"

    def find_by_keys(self, keys: Collection[str]) -> Mapping[str, StoredUser]:
        """The stored users whose email key is among ``keys``, by key.

        Absent keys are left out; users of every organization are returned.
        """
        with self._lock:
            return {
                key: self._by_id[self._ids_by_key[key]]
                for key in keys
                if key in self._ids_by_key
            }

    def list_users(self, org_ids: Collection[str]) -> Sequence[StoredUser]:
        """The users of the given organizations, ordered by email key."""
        wanted = set(org_ids)
        with self._lock:
            users = [u for u in self._by_id.values() if u.organization in wanted]
        return sorted(users, key=lambda u: u.key)

    def search_users(
        self,
        org_ids: Collection[str],
        *,
        words: Sequence[str] = (),
        after: str | None = None,
        limit: int | None = None,
    ) -> Sequence[StoredUser]:
        """One page of the users of the given organizations, ordered by email key.

        See :meth:`~userimport.persistence.SearchableUserStore.search_users`; the
        store scans its users, whose keys and search words it keeps.
        """
        wanted = set(org_ids)
        with self._lock:
            search = self._search
            entries = [
                (*search[user.id], user)
                for user in self._by_id.values()
                if user.organization in wanted
            ]
        return page_of(entries, words=words, after=after, limit=limit)

    def find_look_alikes(
        self, likenesses: Collection[str], org_ids: Collection[str]
    ) -> Sequence[StoredUser]:
        """The users of the given organizations whose email key has one of the
        ``likenesses``, ordered by email key.

        See :meth:`~userimport.persistence.LookAlikeUserStore.find_look_alikes`.
        The first call takes the likeness of every user's key (about 2 µs a
        user) into an index that :meth:`apply` keeps up; later calls look the
        likenesses up.

        Raises:
            ModuleNotFoundError: PyICU is not installed (the ``confusables``
                extra).
        """
        wanted = frozenset(org_ids)  # a subtree's frozenset is not copied
        with self._lock:
            alike = self._alike
            if alike is None:
                alike = self._alike = _index(
                    (_confusables.likeness(key), user_id)
                    for key, user_id in self._ids_by_key.items()
                )
            users = [
                user
                for likeness in set(likenesses)
                for user_id in alike.get(likeness, ())
                if (user := self._by_id[user_id]).organization in wanted
            ]
        return sorted(users, key=lambda u: u.key)

    def apply(self, writes: Sequence[UserWrite]) -> Sequence[StoredUser]:
        """Apply every write atomically: all of them or none.

        A write conflicts when it creates a key that exists, updates a user that is
        missing or no longer equal to its ``expected`` state, moves a user to a key
        another user holds, or shares its key or its user with another write of the
        batch. Keys are judged against the state *before* the batch: a key that one
        update of the batch gives up cannot be taken by another write of it.

        Raises:
            CommitConflict: With the keys of every conflicting write, sorted.
                Nothing was written.
            StoreError: A write failed; nothing was written.

        Returns:
            The stored users, in the order of ``writes``.
        """
        with self._lock:
            conflicts = self._conflicts(writes)
            if conflicts:
                raise CommitConflict(
                    "Some users changed since the review; nothing was written.",
                    keys=conflicts,
                )
            by_id = dict(self._by_id)
            ids_by_key = dict(self._ids_by_key)
            search = dict(self._search)
            alike = self._alike
            if alike is not None and not _confusables.available():
                alike = None  # PyICU is gone: built again if it comes back
            alike = None if alike is None else dict(alike)
            fresh = self._fresh_ids(by_id)
            stored: list[StoredUser] = []
            last_id = self._last_id
            try:
                for write in writes:
                    if write.expected is None:
                        last_id, user_id = next(fresh)
                    else:
                        user_id = write.expected.id
                        del ids_by_key[write.expected.key]
                        if alike is not None:
                            _move(alike, write.expected.key, user_id, add=False)
                    user = StoredUser.of(user_id, write.user)
                    self._put(by_id, user)
                    ids_by_key[write.key] = user.id
                    search[user.id] = (write.key, user_words(user))
                    if alike is not None:
                        _move(alike, write.key, user_id, add=True)
                    stored.append(user)
            except (CommitConflict, StoreError):
                raise
            except Exception as error:
                raise StoreError(
                    f"The memory store failed ({error!r}); nothing was written."
                ) from error
            # Every write succeeded: swap the new state in (the old one was untouched).
            self._by_id, self._ids_by_key = by_id, ids_by_key
            self._search, self._last_id = search, last_id
            self._alike = alike
            return stored

    def _put(self, users: dict[str, StoredUser], user: StoredUser) -> None:
        """Write one user into ``users`` (a copy of the state, by id).

        Every write of :meth:`apply` goes through here, one call per write, so a test
        can override it to make the k-th write fail and check that nothing of the
        batch was written.
        """
        users[user.id] = user

    def _conflicts(self, writes: Sequence[UserWrite]) -> tuple[str, ...]:
        """The sorted keys of the writes that conflict with the state or each other."""
        ids = {w.expected.id for w in writes if w.expected is not None}
        ids.update(self._ids_by_key[w.key] for w in writes if w.key in self._ids_by_key)
        return conflicting_keys(
            writes, [self._by_id[i] for i in ids if i in self._by_id]
        )

    def _fresh_ids(self, taken: Mapping[str, object]) -> Iterator[tuple[int, str]]:
        """Yield ``(counter, id)`` for ids after the last one handed out, unused."""
        number = self._last_id
        while True:
            number += 1
            if str(number) not in taken:
                yield number, str(number)


def _index(pairs: Iterable[tuple[str, str]]) -> dict[str, frozenset[str]]:
    """The ids of each likeness, from ``(likeness, id)`` pairs."""
    index: dict[str, set[str]] = {}
    for likeness, user_id in pairs:
        index.setdefault(likeness, set()).add(user_id)
    return {likeness: frozenset(ids) for likeness, ids in index.items()}


def _move(
    index: dict[str, frozenset[str]], key: str, user_id: str, *, add: bool
) -> None:
    """Add ``user_id`` under the likeness of ``key`` in ``index`` (a copy of the
    state), or take it away; the sets are replaced, never changed, so the index
    the copy came from stays as it was."""
    likeness = _confusables.likeness(key)
    ids = index.get(likeness, frozenset())
    ids = ids | {user_id} if add else ids - {user_id}
    if ids:
        index[likeness] = ids
    else:
        index.pop(likeness, None)
