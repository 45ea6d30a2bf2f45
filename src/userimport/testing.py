"""The contract test suite for ``UserStore`` adapters.

Every adapter (the shipped ones and yours) proves it behaves like the reference
:class:`~userimport.stores.memory.MemoryStore` by subclassing one abstract pytest
class and implementing one hook::

    from userimport.persistence import UserStore
    from userimport.testing import UserStoreContract

    class TestMyStore(UserStoreContract):
        def make_store(self) -> UserStore:
            return MyStore(...)  # a NEW, EMPTY store for every call

pytest then runs every test of the contract against your store. This module needs
the ``testing`` extra (pytest and hypothesis).

The stable public surface of this module:

- :class:`UserStoreContract` and its one hook ``make_store(self) -> UserStore``,
  called once per test (several times in the property test), each time for a new,
  empty store.
- :data:`ORGANIZATIONS`: the organization ids the contract writes users into. A
  store that enforces organization foreign keys creates these organizations inside
  ``make_store``; stores are not asked to know the hierarchy, because the library
  checks organizations (:class:`~userimport.OrgTree`) before it writes.

The name has no ``Test`` prefix, so pytest does not collect the abstract class
itself, only your subclass. A subclass may prepare shared resources (a database
server, a temporary folder) with its own fixtures, autouse ones included, and keep
them on ``self`` for ``make_store``.

What the contract checks, beyond round-tripping every field:

- keys are :func:`~userimport.schema.email_key` values (NFKC, then casefold);
  the stored email keeps the spelling it was written with;
- ``list_users`` filters by organization and orders by key;
- ``apply`` is all or nothing, and raises ``CommitConflict`` with the sorted keys of
  *every* conflicting write: a create of an existing key, a key twice in the batch,
  an update whose user is missing (whatever its id looks like), differs from
  ``expected`` or is updated twice, and an update onto a key another user holds.
  Keys are judged against the state before the batch;
- concurrent batches (threads sharing one store) have one winner per key, and
  each batch wins or loses whole;
- the Users screen's pages and search, through
  :func:`~userimport.persistence.users_page`: the store's own ``search_users`` if it
  has one, else the fallback that filters ``list_users``. Pages follow each other
  in key order and together give every matching user once; a search ignores case
  and accents, matches the start of words only, takes ``%``, ``_`` and ``\\``
  literally, and never reaches outside the organizations asked for;
- look-alike emails, for a store with ``find_look_alikes``
  (:class:`~userimport.persistence.LookAlikeUserStore`; skipped for a store
  without it, and where PyICU is not installed): it returns exactly the users
  of the organizations asked for whose key has one of the likenesses asked for
  (``userimport._confusables.likeness``), after any creates, updates and
  refused batches.

It runs threads against one store; adapters that serialise across processes add
their own process tests.

It is long because it is the store contract suite: one test per rule a store must
follow, each short.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping, Sequence

import attrs
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from userimport import _confusables
from userimport.exceptions import CommitConflict
from userimport.persistence import (
    LookAlikeUserStore,
    StoredUser,
    UserStore,
    UserWrite,
    conflicting_keys,
    matches_search,
    search_words,
    user_words,
    users_page,
)
from userimport.schema import Role, UserRow, email_key

__all__ = ["ORGANIZATIONS", "UserStoreContract"]

#: The organization ids the contract writes users into.
ORGANIZATIONS: tuple[str, ...] = ("root", "a", "b")

# Emails of the property test: few keys, several spellings of each, so that creates
# collide and case variants meet.
_EMAILS = (
    "ana@example.com",
    "ANA@example.com",
    "Ana@Example.COM",
    "bo@example.com",
    "bo@example.org",
    "çelik@example.com",
    "ÇELIK@EXAMPLE.com",
)
_NAMES = ("Ana", "Bo", "Çelik", "José María", "李", "O'Neil", "Núñez", "García")
_GROUPS = ("Ventas", "Équipe B", "研修", "staff")
_LANGUAGES = (None, "es", "pt-BR")
#: The health checks the store properties turn off: each store's subclass runs the
#: suite's tests (differing executors), a subclass's function-scoped fixtures (its
#: database) serve every example of a test, and a real database is slow.
_STORE_HEALTH_CHECKS = (
    HealthCheck.differing_executors,
    HealthCheck.function_scoped_fixture,
    HealthCheck.too_slow,
)


def _row(
    email: str,
    *,
    organization: str = "root",
    first_name: str = "Ana",
    last_name: str = "García",
    role: Role = Role.LEARNER,
    groups: Sequence[str] = (),
    language: str | None = None,
) -> UserRow:
    return UserRow(
        first_name=first_name,
        last_name=last_name,
        email=email,
        organization=organization,
        role=role,
        groups=tuple(groups),
        language=language,
    )


def _fields(user: UserRow | StoredUser) -> tuple[object, ...]:
    """The user's fields without the store's id, to compare rows with stored users."""
    return (
        user.email,
        user.first_name,
        user.last_name,
        user.organization,
        user.role,
        user.groups,
        user.language,
    )


_ROWS = st.builds(
    UserRow,
    first_name=st.sampled_from(_NAMES),
    last_name=st.sampled_from(_NAMES),
    email=st.sampled_from(_EMAILS),
    organization=st.sampled_from(ORGANIZATIONS),
    role=st.sampled_from(Role),
    groups=st.lists(st.sampled_from(_GROUPS), max_size=3, unique=True).map(tuple),
    language=st.sampled_from(_LANGUAGES),
)


# Emails of the look-alike property: local parts of letters that look like others
# (Cyrillic a, Greek omicron, "rn" and "m", "1" and "l", "0" and "o") in two cases, at
# a domain and at a look-alike of it.
_ALIKE_ROWS = st.builds(
    UserRow,
    first_name=st.just("Ana"),
    last_name=st.just("Gil"),
    email=st.builds(
        "{}@{}".format,
        st.text(alphabet="a\u0430rnmM1lL\u03bfo0", min_size=1, max_size=3),
        st.sampled_from(("x.com", "\u0445.com")),
    ),
    organization=st.sampled_from(ORGANIZATIONS),
)


# The users and searches of the search property: names and emails with accents,
# apostrophes, full-width letters and LIKE's special characters; searches made of
# pieces of them in other cases and spellings, and of arbitrary text.
_SEARCH_LOCALS = ("ana", "jose.nunez", "o'neil", "li", "x_y", "100%", "back\\slash")
_SEARCH_ROWS = st.builds(
    UserRow,
    first_name=st.sampled_from((*_NAMES, "\uff2e\u00fa\u00f1ez", "Ana_María")),
    last_name=st.sampled_from((*_NAMES, "Núñez García", "50%")),
    email=st.builds(
        "{}{}@{}".format,
        st.sampled_from(_SEARCH_LOCALS),
        st.integers(0, 30),
        st.sampled_from(("example.com", "ejemplo.es")),
    ),
    organization=st.sampled_from(ORGANIZATIONS),
)
_SEARCHES = st.one_of(
    st.none(),
    st.sampled_from(
        (
            "nunez",
            "NÚÑ",
            "gar an",
            "jose maria",
            "o'n",
            "neil",
            "celik",
            "ÇEL",
            "li",
            "李",
            "ejemplo",
            "x_y",
            "100%",
            "50",
            "%",
            "_",
            "\\",
            "",
            "   ",
        )
    ),
    st.text(alphabet="aAnNñÑúçÇ李%_\\ .@'0", max_size=6),
)


def _key(user: StoredUser) -> str:
    return user.key


def _row_key(row: UserRow) -> str:
    return row.key


class UserStoreContract:
    """The behaviour every :class:`~userimport.persistence.UserStore` must have.

    Subclass it in a test module under a ``Test`` name and implement
    :meth:`make_store`; see the module documentation.
    """

    def make_store(self) -> UserStore:
        """Return a new, empty store that accepts users of :data:`ORGANIZATIONS`."""
        raise NotImplementedError(
            "Subclasses of UserStoreContract implement make_store()."
        )

    # -- helpers -------------------------------------------------------------

    def _snapshot(self, store: UserStore) -> list[StoredUser]:
        return list(store.list_users(ORGANIZATIONS))

    def _seed(self, store: UserStore, *rows: UserRow) -> list[StoredUser]:
        return list(store.apply([UserWrite(row) for row in rows]))

    # -- reading ---------------------------------------------------------------

    def test_new_store_is_empty(self) -> None:
        """A new store finds no key and lists no user."""
        store = self.make_store()

        assert dict(store.find_by_keys(["ana@example.com"])) == {}
        assert list(store.list_users(ORGANIZATIONS)) == []

    def test_is_a_user_store(self) -> None:
        """The store has the three methods of the ``UserStore`` protocol."""
        assert isinstance(self.make_store(), UserStore)

    def test_create_then_find_by_key(self) -> None:
        """A created user is found by the key of any spelling of its email.

        ``ÁLVARO@example.com``, ``álvaro@EXAMPLE.com`` and a spelling with a
        full-width ``L`` (U+FF2C) share one key (NFKC, then casefold); the stored email
        keeps the case it was written with.
        """
        store = self.make_store()
        row = _row("ÁLVARO@example.com", first_name="Álvaro")

        (created,) = store.apply([UserWrite(row)])

        assert _fields(row) == _fields(created)
        assert isinstance(created.id, str)
        assert created.id != ""
        for spelling in ("álvaro@EXAMPLE.com", "Á\uff2cVARO@example.com"):
            key = email_key(spelling)
            assert {key: created} == dict(store.find_by_keys([key]))
        assert created.email == "ÁLVARO@example.com"

    def test_find_by_keys_leaves_out_absent_keys(self) -> None:
        """Only present keys are in the result; absent ones are simply missing."""
        store = self.make_store()
        ana, bo = self._seed(store, _row("ana@example.com"), _row("bo@example.com"))

        found = store.find_by_keys(
            ["ana@example.com", "nobody@example.com", "bo@example.com"]
        )

        assert {"ana@example.com": ana, "bo@example.com": bo} == dict(found)
        assert dict(store.find_by_keys([])) == {}
        assert dict(store.find_by_keys(["nobody@example.com"])) == {}

    def test_find_by_keys_sees_every_organization(self) -> None:
        """Look-ups ignore organizations: the caller applies visibility."""
        store = self.make_store()
        users = self._seed(
            store,
            _row("ana@example.com", organization="a"),
            _row("bo@example.com", organization="b"),
        )

        found = store.find_by_keys(["ana@example.com", "bo@example.com"])

        assert {u.key: u for u in users} == dict(found)

    def test_list_users_by_organizations_ordered_by_key(self) -> None:
        """Only users of the given organizations are listed, ordered by email key."""
        store = self.make_store()
        users = self._seed(
            store,
            _row("Zoe@example.com", organization="a"),
            _row("bo@example.com", organization="b"),
            _row("ANA@example.com", organization="a"),
            _row("carl@example.com", organization="root"),
        )
        by_email = {u.email: u for u in users}

        assert [by_email["ANA@example.com"], by_email["Zoe@example.com"]] == list(
            store.list_users(["a"])
        )
        assert [
            by_email["ANA@example.com"],
            by_email["bo@example.com"],
            by_email["Zoe@example.com"],
        ] == list(store.list_users({"a", "b", "nowhere"}))
        assert list(store.list_users([])) == []
        assert list(store.list_users(["nowhere"])) == []

    # -- writing ---------------------------------------------------------------

    def test_apply_returns_stored_users_in_write_order(self) -> None:
        """``apply`` returns one stored user per write, in order, with distinct ids."""
        store = self.make_store()
        rows = [_row(f"user{i}@example.com", first_name=f"U{i}") for i in range(5)]

        stored = store.apply([UserWrite(row) for row in rows])

        assert [_fields(r) for r in rows] == [_fields(u) for u in stored]
        assert len(rows) == len({u.id for u in stored})
        assert sorted(stored, key=lambda u: u.key) == self._snapshot(store)

    def test_empty_batch_writes_nothing(self) -> None:
        """An empty batch succeeds and returns nothing."""
        store = self.make_store()
        self._seed(store, _row("ana@example.com"))
        before = self._snapshot(store)

        assert list(store.apply([])) == []
        assert before == self._snapshot(store)

    def test_update_with_matching_expected(self) -> None:
        """An update whose ``expected`` is current overwrites the user, same id."""
        store = self.make_store()
        (ana,) = self._seed(store, _row("ana@example.com"))
        new = _row(
            "ana@example.com",
            first_name="Ana María",
            organization="a",
            role=Role.MANAGER,
            groups=["Ventas"],
            language="es",
        )

        (updated,) = store.apply([UserWrite(new, expected=ana)])

        assert ana.id == updated.id
        assert _fields(new) == _fields(updated)
        assert {"ana@example.com": updated} == dict(
            store.find_by_keys(["ana@example.com"])
        )
        assert [updated] == self._snapshot(store)

    def test_update_may_change_the_case_of_the_email(self) -> None:
        """An update to another spelling of the same key stores the new spelling."""
        store = self.make_store()
        (ana,) = self._seed(store, _row("ana@example.com"))

        (updated,) = store.apply([UserWrite(_row("ANA@Example.com"), expected=ana)])

        assert updated.email == "ANA@Example.com"
        assert [updated] == self._snapshot(store)

    def test_update_may_move_a_user_to_a_free_key(self) -> None:
        """An update to an unused email frees the old key and takes the new one."""
        store = self.make_store()
        (ana,) = self._seed(store, _row("ana@example.com"))

        (moved,) = store.apply([UserWrite(_row("ana@example.org"), expected=ana)])

        assert ana.id == moved.id
        assert {"ana@example.org": moved} == dict(
            store.find_by_keys(["ana@example.com", "ana@example.org"])
        )

    def test_creates_and_updates_in_one_batch(self) -> None:
        """A batch may mix creates and updates; each is applied."""
        store = self.make_store()
        ana, bo = self._seed(store, _row("ana@example.com"), _row("bo@example.com"))
        writes = [
            UserWrite(_row("carl@example.com")),
            UserWrite(_row("bo@example.com", role=Role.ADMIN), expected=bo),
            UserWrite(_row("dee@example.com")),
        ]

        carl, bo2, dee = store.apply(writes)

        assert bo.id == bo2.id
        assert bo2.role == Role.ADMIN
        assert len({ana.id, bo.id, carl.id, dee.id}) == 4
        assert sorted([ana, bo2, carl, dee], key=lambda u: u.key) == self._snapshot(
            store
        )

    def test_optional_fields_round_trip(self) -> None:
        """Empty groups and a ``None`` language come back as ``()`` and ``None``;
        several groups come back in order, with their accents."""
        store = self.make_store()
        bare = _row("bare@example.com", groups=(), language=None)
        full = _row(
            "full@example.com",
            first_name="José María",
            last_name="李 O'Neil",
            groups=["研修", "Équipe B", "Ventas"],
            language="pt-BR",
        )

        stored = store.apply([UserWrite(bare), UserWrite(full)])
        found = store.find_by_keys(["bare@example.com", "full@example.com"])

        assert [_fields(bare), _fields(full)] == [_fields(u) for u in stored]
        assert [_fields(bare), _fields(full)] == [
            _fields(found["bare@example.com"]),
            _fields(found["full@example.com"]),
        ]
        assert found["bare@example.com"].groups == ()
        assert found["bare@example.com"].language is None

    @pytest.mark.parametrize("role", list(Role))
    def test_role_round_trips_as_the_enum(self, role: Role) -> None:
        """Every role comes back as the ``Role`` member that was written."""
        store = self.make_store()
        self._seed(store, _row("ana@example.com", role=role))

        found = store.find_by_keys(["ana@example.com"])["ana@example.com"]

        assert role == found.role
        assert isinstance(found.role, Role)

    def test_big_batch_in_one_apply(self) -> None:
        """500 users are written by one ``apply`` (2.5 uploads' worth)."""
        store = self.make_store()
        rows = [
            _row(f"user{i:03}@example.com", organization=ORGANIZATIONS[i % 3])
            for i in range(500)
        ]

        stored = store.apply([UserWrite(row) for row in rows])

        assert [_fields(r) for r in rows] == [_fields(u) for u in stored]
        assert len(self._snapshot(store)) == 500
        assert len(store.find_by_keys([r.key for r in rows])) == 500

    # -- conflicts: nothing is written -----------------------------------------

    def test_create_of_an_existing_key_conflicts(self) -> None:
        """Creating a key that exists (in any spelling) raises ``CommitConflict``
        with that key, and no other write of the batch happens."""
        store = self.make_store()
        self._seed(store, _row("ana@example.com"))
        before = self._snapshot(store)

        with pytest.raises(CommitConflict) as info:
            store.apply(
                [UserWrite(_row("new@example.com")), UserWrite(_row("ANA@example.com"))]
            )

        assert info.value.keys == ("ana@example.com",)
        assert before == self._snapshot(store)
        assert dict(store.find_by_keys(["new@example.com"])) == {}

    def test_duplicate_key_in_one_batch_conflicts(self) -> None:
        """Two writes of one batch with the same key (any spelling) conflict."""
        store = self.make_store()

        with pytest.raises(CommitConflict) as info:
            store.apply(
                [
                    UserWrite(_row("Ana@example.com")),
                    UserWrite(_row("new@example.com")),
                    UserWrite(_row("ana@EXAMPLE.com")),
                ]
            )

        assert info.value.keys == ("ana@example.com",)
        assert self._snapshot(store) == []

    def test_stale_expected_conflicts(self) -> None:
        """An update whose ``expected`` is no longer the stored user conflicts
        (someone changed the user since the review)."""
        store = self.make_store()
        ana, bo = self._seed(store, _row("ana@example.com"), _row("bo@example.com"))
        store.apply(
            [UserWrite(_row("ana@example.com", first_name="Ann"), expected=ana)]
        )
        before = self._snapshot(store)

        with pytest.raises(CommitConflict) as info:
            store.apply(
                [
                    UserWrite(_row("bo@example.com", role=Role.ADMIN), expected=bo),
                    UserWrite(_row("ana@example.com", role=Role.ADMIN), expected=ana),
                    UserWrite(_row("new@example.com")),
                ]
            )

        assert info.value.keys == ("ana@example.com",)
        assert before == self._snapshot(store)

    @pytest.mark.parametrize("missing_id", ["no-such-user", "999999999"])
    def test_update_of_a_missing_user_conflicts(self, missing_id: str) -> None:
        """An update of an id the store does not hold conflicts, whatever the id
        looks like (a preview kept by a web client may come back tampered with)."""
        store = self.make_store()
        (ana,) = self._seed(store, _row("ana@example.com"))
        ghost = StoredUser(
            id=missing_id,
            email="ghost@example.com",
            first_name="G",
            last_name="Host",
            organization="root",
        )
        before = self._snapshot(store)

        with pytest.raises(CommitConflict) as info:
            store.apply(
                [
                    UserWrite(_row("ana@example.com", first_name="Ann"), expected=ana),
                    UserWrite(_row("ghost@example.com"), expected=ghost),
                ]
            )

        assert info.value.keys == ("ghost@example.com",)
        assert before == self._snapshot(store)

    def test_update_to_the_key_of_another_user_conflicts(self) -> None:
        """An update cannot move a user onto a key another user holds."""
        store = self.make_store()
        ana, _ = self._seed(store, _row("ana@example.com"), _row("bo@example.com"))
        before = self._snapshot(store)

        with pytest.raises(CommitConflict) as info:
            store.apply([UserWrite(_row("BO@example.com"), expected=ana)])

        assert info.value.keys == ("bo@example.com",)
        assert before == self._snapshot(store)

    def test_same_user_updated_twice_in_one_batch_conflicts(self) -> None:
        """Two updates of one user in one batch conflict, even to different keys."""
        store = self.make_store()
        (ana,) = self._seed(store, _row("ana@example.com"))
        before = self._snapshot(store)

        with pytest.raises(CommitConflict) as info:
            store.apply(
                [
                    UserWrite(_row("ana@example.org"), expected=ana),
                    UserWrite(_row("ana@example.net"), expected=ana),
                ]
            )

        assert info.value.keys == ("ana@example.net", "ana@example.org")
        assert before == self._snapshot(store)

    def test_a_key_given_up_in_a_batch_is_still_taken_in_it(self) -> None:
        """Keys are judged against the state before the batch: moving Ana off her
        key and creating that key in the same batch conflict, and so does a swap
        of two users' emails (a unique index checked per statement agrees)."""
        store = self.make_store()
        ana, bo = self._seed(store, _row("ana@example.com"), _row("bo@example.com"))
        before = self._snapshot(store)

        with pytest.raises(CommitConflict) as moved:
            store.apply(
                [
                    UserWrite(_row("ana@example.org"), expected=ana),
                    UserWrite(_row("ana@example.com")),
                ]
            )
        with pytest.raises(CommitConflict) as swapped:
            store.apply(
                [
                    UserWrite(_row("bo@example.com"), expected=ana),
                    UserWrite(_row("ana@example.com"), expected=bo),
                ]
            )

        assert moved.value.keys == ("ana@example.com",)
        assert swapped.value.keys == ("ana@example.com", "bo@example.com")
        assert before == self._snapshot(store)

    def test_conflict_reports_every_key_sorted(self) -> None:
        """One ``CommitConflict`` names the keys of all conflicting writes, sorted,
        whatever kind of conflict each one is."""
        store = self.make_store()
        _, bo = self._seed(store, _row("ana@example.com"), _row("bo@example.com"))
        store.apply([UserWrite(_row("bo@example.com", first_name="Bob"), expected=bo)])
        before = self._snapshot(store)

        with pytest.raises(CommitConflict) as info:
            store.apply(
                [
                    UserWrite(_row("zed@example.com")),
                    UserWrite(_row("Zed@example.com")),
                    UserWrite(_row("free@example.com")),
                    UserWrite(_row("bo@example.com"), expected=bo),
                    UserWrite(_row("ANA@example.com")),
                ]
            )

        assert info.value.keys == (
            "ana@example.com",
            "bo@example.com",
            "zed@example.com",
        )
        assert before == self._snapshot(store)

    # -- concurrency -----------------------------------------------------------

    def test_concurrent_batches_have_one_winner_per_key(self) -> None:
        """8 threads apply overlapping batches of creates to one store at once.

        Every batch either wins whole or fails whole with ``CommitConflict`` naming
        keys another batch won; no key is ever written twice.
        """
        store = self.make_store()
        threads, batches, size = 8, 4, 4
        rng = random.Random(7)
        pool = [f"user{i}@example.com" for i in range(24)]
        plans = [
            [rng.sample(pool, size) for _ in range(batches)] for _ in range(threads)
        ]
        outcomes: list[tuple[str, list[UserRow], object]] = []
        lock = threading.Lock()
        barrier = threading.Barrier(threads)

        def work(thread: int) -> None:
            barrier.wait(timeout=30)
            for number, emails in enumerate(plans[thread]):
                tag = f"t{thread}b{number}"
                # Odd threads shout, so that racing writes differ in spelling only.
                rows = [
                    _row(e.upper() if thread % 2 else e, first_name=tag) for e in emails
                ]
                outcome: object
                try:
                    outcome = list(store.apply([UserWrite(r) for r in rows]))
                except Exception as error:  # recorded, asserted on below
                    outcome = error
                with lock:
                    outcomes.append((tag, rows, outcome))

        workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)

        assert threads * batches == len(outcomes)
        unexpected = [
            repr(o)
            for _, _, o in outcomes
            if isinstance(o, BaseException) and not isinstance(o, CommitConflict)
        ]
        assert unexpected == []
        final = {u.key: u for u in self._snapshot(store)}
        won: list[StoredUser] = []
        for tag, rows, outcome in outcomes:
            owners = [r.key in final and final[r.key].first_name == tag for r in rows]
            if isinstance(outcome, CommitConflict):
                assert [False] * size == owners
                assert outcome.keys
                assert set(outcome.keys) <= {r.key for r in rows}
                assert set(outcome.keys) <= set(final)
            else:
                assert isinstance(outcome, list)
                assert [True] * size == owners
                won.extend(outcome)
        assert won  # the first batch to arrive meets an empty store and wins
        assert sorted(won, key=lambda u: u.key) == list(final.values())

    # -- the Users screen: pages and search --------------------------------------

    def _seed_screen(self, store: UserStore) -> dict[str, StoredUser]:
        """Six users in the three organizations, by first name."""
        users = self._seed(
            store,
            _row("jose.nunez@example.com", first_name="José", last_name="Núñez"),
            _row("ana.garcia@example.com", first_name="Ana", last_name="García"),
            _row("zoe@example.com", first_name="Zoë", last_name="O'Neil"),
            _row(
                "bo@example.org", first_name="Bo", last_name="Nunes", organization="a"
            ),
            _row(
                "carl@example.com", first_name="Carl", last_name="Li", organization="a"
            ),
            _row(
                "dee@example.com", first_name="Dee", last_name="Núñez", organization="b"
            ),
        )
        return {user.first_name: user for user in users}

    def _pages(
        self, store: UserStore, org_ids: Sequence[str], words: Sequence[str], limit: int
    ) -> list[list[StoredUser]]:
        """Every page of ``limit`` users, each starting after the previous one."""
        pages: list[list[StoredUser]] = []
        after = None
        for _ in range(len(self._snapshot(store)) + 2):
            page = list(
                users_page(store, org_ids, words=words, after=after, limit=limit)
            )
            pages.append(page)
            if len(page) < limit:
                return pages
            after = page[-1].key
        raise AssertionError(f"the pages never end: {pages}")

    def test_pages_follow_each_other_in_key_order(self) -> None:
        """Pages of two users, each after the last key of the previous one, give
        every user of the organizations once, in key order; the last page is short
        (here empty)."""
        store = self.make_store()
        users = self._seed_screen(store)
        everyone = sorted(users.values(), key=_key)

        pages = self._pages(store, ORGANIZATIONS, (), 2)

        assert [everyone[0:2], everyone[2:4], everyone[4:6], []] == pages
        assert everyone == list(users_page(store, ORGANIZATIONS))

    def test_a_page_starts_after_any_key(self) -> None:
        """``after`` need not be a stored key: the page starts at the next key."""
        store = self.make_store()
        users = self._seed_screen(store)

        page = users_page(store, ORGANIZATIONS, after="bz", limit=2)

        assert [users["Carl"], users["Dee"]] == list(page)
        assert [] == list(users_page(store, ORGANIZATIONS, after="zzz"))

    def test_pages_stay_in_the_organizations(self) -> None:
        """A page lists only users of the organizations asked for."""
        store = self.make_store()
        users = self._seed_screen(store)

        page = users_page(store, ["a"], limit=10)

        assert [users["Bo"], users["Carl"]] == list(page)
        assert [] == list(users_page(store, [], limit=10))
        assert [] == list(users_page(store, ["nowhere"], words=["ana"]))

    def test_search_ignores_case_and_accents(self) -> None:
        """A search for "nunez", "NÚÑEZ" or "Nuñez" finds José Núñez and Dee Núñez
        (and not Bo Nunes)."""
        store = self.make_store()
        users = self._seed_screen(store)
        expected = [users["Dee"], users["José"]]

        for search in ("nunez", "NÚÑEZ", "Nuñez", "ＮＵÑＥＺ"):
            words = search_words(search)
            assert expected == list(users_page(store, ORGANIZATIONS, words=words))

    def test_search_matches_the_start_of_any_word(self) -> None:
        """Each query word must start a word of the first name, last name or email,
        in any order; the middle of a word is not a match."""
        store = self.make_store()
        self._seed_screen(store)

        def found(search: str) -> list[str]:
            words = search_words(search)
            page = users_page(store, ORGANIZATIONS, words=words)
            return [user.first_name for user in page]

        assert ["Ana"] == found("gar an")
        assert ["Ana"] == found("ana.garcia@example.com")
        assert ["Bo"] == found("org")
        assert ["Zoë"] == found("neil")
        assert ["Zoë"] == found("zoe")
        assert [] == found("unez")
        assert [] == found("ana x")
        assert ["Bo", "Dee", "José"] == found("nun")

    def test_search_takes_like_wildcards_literally(self) -> None:
        """Query words holding ``%``, ``_`` or ``\\`` match only those characters,
        which no search word holds: they find nobody, never everybody."""
        store = self.make_store()
        self._seed_screen(store)

        for word in ("%", "_", "\\", "n%", "n_nez", "%nunez"):
            assert [] == list(users_page(store, ORGANIZATIONS, words=[word]))

    def test_search_pages_and_stays_in_the_organizations(self) -> None:
        """A search is paged like the full list and never lists a matching user of
        another organization."""
        store = self.make_store()
        users = self._seed_screen(store)
        words = search_words("n")

        first = list(users_page(store, ["root", "b"], words=words, limit=1))
        rest = users_page(store, ["root", "b"], words=words, after=first[-1].key)

        assert [users["Dee"]] == first
        assert [users["José"], users["Zoë"]] == list(rest)

    @pytest.mark.parametrize("limit", [0, -1])
    def test_a_page_holds_at_least_one_user(self, limit: int) -> None:
        """A limit below 1 is a mistake of the caller: ``ValueError``."""
        store = self.make_store()

        with pytest.raises(ValueError, match="at least one user"):
            users_page(store, ORGANIZATIONS, limit=limit)

    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=_STORE_HEALTH_CHECKS,
    )
    @given(data=st.data())
    def test_pages_of_a_search_give_the_whole_search(self, data: st.DataObject) -> None:
        """For any users, organizations, search text and page size, the pages one
        after the other give exactly the users of those organizations that match
        the search (by :func:`~userimport.persistence.matches_search`), in key
        order, each once; and so does one call without a limit."""
        store = self.make_store()
        rows = data.draw(st.lists(_SEARCH_ROWS, max_size=12, unique_by=_row_key))
        stored = self._seed(store, *rows) if rows else []
        org_ids = sorted(data.draw(st.sets(st.sampled_from(ORGANIZATIONS))))
        search = data.draw(_SEARCHES, label="search")
        limit = data.draw(st.integers(1, 5), label="limit")
        words = search_words(search) if search else ()
        expected = sorted(
            (
                user
                for user in stored
                if user.organization in org_ids
                and matches_search(user_words(user), words)
            ),
            key=_key,
        )

        pages = self._pages(store, org_ids, words, limit)

        assert expected == [user for page in pages for user in page]
        assert all(len(page) == limit for page in pages[:-1])
        assert expected == list(users_page(store, org_ids, words=words))
        event("search found some" if expected else "search found none")

    # -- look-alike emails ------------------------------------------------------

    def _look_alike_store(self) -> LookAlikeUserStore:
        """A new store, if it finds look-alikes itself and PyICU is there."""
        store = self.make_store()
        if not isinstance(store, LookAlikeUserStore):
            pytest.skip("the store has no find_look_alikes (the review lists users)")
        if not _confusables.available():
            pytest.skip("look-alikes need PyICU (the confusables extra)")
        return store

    def _look_alikes(
        self,
        store: LookAlikeUserStore,
        emails: Sequence[str],
        org_ids: Sequence[str],
    ) -> list[StoredUser]:
        """``find_look_alikes`` for the likenesses of ``emails``, by key."""
        likenesses = {_confusables.likeness(email_key(email)) for email in emails}
        found = list(store.find_look_alikes(likenesses, org_ids))
        assert len(found) == len({user.id for user in found}), "a user twice"
        return sorted(found, key=_key)

    def test_look_alikes_are_the_users_of_a_likeness(self) -> None:
        """The users whose key looks like one asked for, in the organizations
        asked for: a Cyrillic "a" looks like a Latin one, "rn" like "m"; others not."""
        store = self._look_alike_store()
        users = self._seed(
            store,
            _row("paypal@x.com"),
            _row("rnike@x.com", organization="a"),
            _row("Mike@x.com", organization="b"),
            _row("ana@x.com"),
        )
        paypal, rnike, mike, _ = users

        found = self._look_alikes(
            store, ["p\u0430ypal@x.com", "mike@x.com"], ORGANIZATIONS
        )

        assert sorted([paypal, rnike, mike], key=_key) == found
        assert [paypal, rnike] == self._look_alikes(
            store, ["p\u0430ypal@x.com", "mike@x.com"], ["root", "a"]
        )
        assert [] == self._look_alikes(store, ["mike@x.com"], ["root"])
        assert [] == self._look_alikes(store, ["bo@x.com"], ORGANIZATIONS)
        assert [] == self._look_alikes(store, [], ORGANIZATIONS)

    def test_look_alikes_follow_updates_and_refused_batches(self) -> None:
        """A user moved to another email is found by its new likeness only; a
        refused batch changes nothing of what is found."""
        store = self._look_alike_store()
        (paypal,) = self._seed(store, _row("paypal@x.com"))
        self._look_alikes(store, ["paypal@x.com"], ORGANIZATIONS)  # any index built

        (moved,) = store.apply([UserWrite(_row("mike@x.com"), expected=paypal)])
        with pytest.raises(CommitConflict):
            store.apply(
                [
                    UserWrite(_row("paypal@x.com", organization="a")),
                    UserWrite(_row("rnike@x.com"), expected=paypal),  # stale
                ]
            )

        assert [] == self._look_alikes(store, ["p\u0430ypal@x.com"], ORGANIZATIONS)
        assert [moved] == self._look_alikes(store, ["rnike@x.com"], ORGANIZATIONS)

    @settings(
        max_examples=20,
        deadline=None,
        suppress_health_check=_STORE_HEALTH_CHECKS,
    )
    @given(data=st.data())
    def test_look_alikes_are_those_of_the_listing(self, data: st.DataObject) -> None:
        """Differential: after random batches, ``find_look_alikes`` returns exactly
        the users of ``list_users`` whose likeness is one of those asked for."""
        store = self._look_alike_store()
        model: dict[str, StoredUser] = {}
        for _ in range(data.draw(st.integers(1, 3), label="batches")):
            rows = data.draw(st.lists(_ALIKE_ROWS, max_size=6, unique_by=_row_key))
            users = sorted(model.values(), key=_key)
            writes = [
                UserWrite(row, expected=model.pop(users[n].key, None))
                if n < len(users) and data.draw(st.booleans(), label="update")
                else UserWrite(row)
                for n, row in enumerate(rows)
            ]
            try:
                stored = store.apply(writes)
            except CommitConflict:
                event("batch conflicted")
                model = {user.key: user for user in self._snapshot(store)}
                continue
            model = {user.key: user for user in self._snapshot(store)}
            assert {user.key for user in stored} <= set(model)
        emails = data.draw(st.lists(_ALIKE_ROWS.map(lambda row: row.email)))
        org_ids = sorted(data.draw(st.sets(st.sampled_from(ORGANIZATIONS))))
        wanted = {_confusables.likeness(email_key(email)) for email in emails}
        expected = [
            user
            for user in store.list_users(org_ids)
            if _confusables.likeness(user.key) in wanted
        ]

        assert sorted(expected, key=_key) == self._look_alikes(store, emails, org_ids)
        event("found some" if expected else "found none")

    # -- against a model ---------------------------------------------------------

    @settings(
        max_examples=25,
        deadline=None,
        # Expected here: the same test runs on every subclass (one executor each);
        # a subclass may set a store up with function-scoped fixtures (make_store
        # still gives each example a new store); a store may be slow to make.
        suppress_health_check=_STORE_HEALTH_CHECKS,
    )
    @given(data=st.data())
    def test_behaves_like_a_dictionary_model(self, data: st.DataObject) -> None:
        """Random batches of creates and (stale, missing, conflicting) updates give
        the same results and state as a plain dictionary model, and the conflicts
        :func:`~userimport.persistence.conflicting_keys` predicts for it."""
        store = self.make_store()
        model: dict[str, StoredUser] = {}
        for _ in range(data.draw(st.integers(1, 6), label="batches")):
            writes = self._draw_batch(data, model)
            conflicts = conflicting_keys(writes, model.values())
            if conflicts:
                with pytest.raises(CommitConflict) as info:
                    store.apply(writes)
                assert conflicts == info.value.keys
                event("batch conflicted")
            else:
                stored = list(store.apply(writes))
                assert [_fields(w.user) for w in writes] == [_fields(u) for u in stored]
                for write, user in zip(writes, stored, strict=True):
                    if write.expected is None:
                        assert user.id not in model
                    else:
                        assert write.expected.id == user.id
                    model[user.id] = user
                assert len(writes) == len({u.id for u in stored})
                if any(w.expected is not None for w in writes):
                    event("batch with updates applied")
            expected = sorted(model.values(), key=lambda u: u.key)
            assert expected == self._snapshot(store)
            keys = {email_key(e) for e in _EMAILS}
            assert {u.key: u for u in expected} == dict(store.find_by_keys(keys))

    def _draw_batch(
        self, data: st.DataObject, model: Mapping[str, StoredUser]
    ) -> list[UserWrite]:
        """Draw a batch for the model test, biased towards batches that succeed."""
        users = sorted(model.values(), key=lambda u: u.id)
        kinds = (
            ("create", "update", "update", "update", "stale", "missing")
            if users
            else ("create",)
        )
        writes = []
        for _ in range(data.draw(st.sampled_from((1, 1, 2, 3, 0)), label="size")):
            kind = data.draw(st.sampled_from(kinds), label="kind")
            row = data.draw(_ROWS, label="row")
            if kind == "create":
                writes.append(UserWrite(row))
                continue
            target = data.draw(st.sampled_from(users), label="target")
            if data.draw(st.sampled_from((True, True, False)), label="same email"):
                row = attrs.evolve(row, email=target.email)
            expected = {
                "update": target,
                "stale": attrs.evolve(target, first_name=target.first_name + "!"),
                "missing": attrs.evolve(target, id="missing-" + target.id),
            }[kind]
            writes.append(UserWrite(row, expected=expected))
        return writes
