"""Tests of ``visible_users``: the Users screen, searched and paged."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from test_persistence import ListOnlyStore
from userimport import (
    Actor,
    MemoryStore,
    Organization,
    OrgTree,
    StoredUser,
    UserRow,
    UserStore,
    UserWrite,
    visible_users,
)
from userimport.persistence import matches_search, search_words, user_words
from userimport.strategies import org_trees, user_rows

TREE = OrgTree(
    [
        Organization("acme", "Acme"),
        Organization("es", "Spain", "acme"),
        Organization("mad", "Madrid", "es"),
        Organization("fr", "France", "acme"),
    ]
)


def _seeded(store: UserStore) -> dict[str, StoredUser]:
    rows = [
        UserRow("José", "Núñez", "jose.nunez@example.com", "mad"),
        UserRow("Ana", "García", "ana@example.com", "es"),
        UserRow("Bea", "Nuñez", "bea@example.com", "es"),
        UserRow("Carl", "Núñez", "carl@example.fr", "fr"),
        UserRow("Dee", "Li", "dee@example.com", "acme"),
    ]
    return {user.first_name: user for user in store.apply([UserWrite(r) for r in rows])}


def all_pages(
    actor: Actor, tree: OrgTree, store: UserStore, search: str | None, limit: int
) -> list[list[StoredUser]]:
    """Every page of ``limit`` users, each after the last key of the one before."""
    pages: list[list[StoredUser]] = []
    after = None
    while not pages or len(pages[-1]) == limit:
        pages.append(
            visible_users(actor, tree, store, search=search, limit=limit, after=after)
        )
        after = pages[-1][-1].key if pages[-1] else None
        assert len(pages) < 100, "the pages never end"
    return pages


@pytest.mark.parametrize("make_store", [MemoryStore, ListOnlyStore])
def test_search_finds_the_start_of_words_ignoring_case_and_accents(
    make_store: type[UserStore],
) -> None:
    """A search for "nunez" finds the Núñez and the Nuñez of Spain, in email-key
    order, not the one in France; "gar an" finds Ana García; "unez" nobody."""
    store = make_store()
    users = _seeded(store)
    spain = Actor("es")

    assert [users["Bea"], users["José"]] == visible_users(
        spain, TREE, store, search="nunez"
    )
    assert [users["Ana"]] == visible_users(spain, TREE, store, search="gar an")
    assert [] == visible_users(spain, TREE, store, search="unez")
    assert [users["Carl"]] == visible_users(Actor("fr"), TREE, store, search="NÚÑEZ")


@pytest.mark.parametrize("make_store", [MemoryStore, ListOnlyStore])
def test_pages_follow_the_key_of_the_last_user(make_store: type[UserStore]) -> None:
    """Pages of two, each after the previous page's last key, list everyone once."""
    store = make_store()
    users = _seeded(store)
    everyone = visible_users(Actor("acme"), TREE, store)

    pages = all_pages(Actor("acme"), TREE, store, None, 2)

    assert [everyone[0:2], everyone[2:4], everyone[4:5]] == pages
    assert sorted(users.values(), key=lambda u: u.key) == everyone


def test_a_search_without_letters_or_digits_lists_everyone() -> None:
    """A search of spaces or punctuation only has no words: it filters nothing."""
    store = MemoryStore()
    _seeded(store)
    everyone = visible_users(Actor("es"), TREE, store)

    for search in ("", "  ", "%", "_", ".@"):
        assert everyone == visible_users(Actor("es"), TREE, store, search=search)


def test_a_limit_below_one_is_refused() -> None:
    """``limit=0`` is a mistake of the caller: ``ValueError``."""
    with pytest.raises(ValueError, match="at least one user"):
        visible_users(Actor("es"), TREE, MemoryStore(), limit=0)


@given(data=st.data())
def test_a_search_never_reaches_outside_the_subtree(data: st.DataObject) -> None:
    """For any tree, users, actor, search and page size: the pages give exactly the
    users of the actor's subtree that match the search, in key order, each once,
    with a store that searches itself and with one that only lists."""
    tree = data.draw(org_trees(max_size=6), label="tree")
    rows = data.draw(
        st.lists(user_rows(tree), max_size=10, unique_by=lambda r: r.key),
        label="rows",
    )
    actor = Actor(data.draw(st.sampled_from([org.id for org in tree])))
    names = [part for row in rows for part in (row.first_name, row.email)]
    search = data.draw(
        st.one_of(st.none(), st.text(max_size=4), st.sampled_from(names or [""])),
        label="search",
    )
    limit = data.draw(st.integers(1, 4), label="limit")
    subtree = tree.subtree_ids(actor.org_id)
    words = search_words(search) if search else ()

    for store in (MemoryStore(), ListOnlyStore()):
        stored = store.apply([UserWrite(row) for row in rows]) if rows else []
        expected = sorted(
            (
                user
                for user in stored
                if user.organization in subtree
                and matches_search(user_words(user), words)
            ),
            key=lambda u: u.key,
        )

        pages = all_pages(actor, tree, store, search, limit)

        assert expected == [user for page in pages for user in page]
        assert expected == visible_users(actor, tree, store, search=search)
