"""Tests of the persistence port's own rules: search words, matching, pages."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Mapping, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from userimport import MemoryStore, StoredUser, UserRow, UserStore, UserWrite
from userimport.persistence import (
    SearchableUserStore,
    matches_search,
    page_of,
    search_words,
    user_words,
    users_page,
)
from userimport.testing import UserStoreContract


class ListOnlyStore:
    """A store with the three required methods only (no ``search_users``)."""

    def __init__(self) -> None:
        self._store = MemoryStore()

    def find_by_keys(self, keys: Collection[str]) -> Mapping[str, StoredUser]:
        return self._store.find_by_keys(keys)

    def list_users(self, org_ids: Collection[str]) -> Sequence[StoredUser]:
        return self._store.list_users(org_ids)

    def apply(self, writes: Sequence[UserWrite]) -> Sequence[StoredUser]:
        return self._store.apply(writes)


class TestListOnlyStore(UserStoreContract):
    """A store without ``search_users`` passes the whole contract, pages and search
    included: ``users_page`` filters its ``list_users`` in Python."""

    def make_store(self) -> UserStore:
        return ListOnlyStore()


def test_only_stores_with_search_users_are_searchable() -> None:
    """``MemoryStore`` has the optional method; a store with the three required
    methods is a ``UserStore`` but not a ``SearchableUserStore``."""
    assert isinstance(MemoryStore(), SearchableUserStore)
    assert isinstance(ListOnlyStore(), UserStore)
    assert not isinstance(ListOnlyStore(), SearchableUserStore)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Núñez", ("nunez",)),
        ("NUNEZ", ("nunez",)),
        ("\uff2e\uff35\uff2e\uff25\uff3a", ("nunez",)),  # full-width letters
        ("Nu\u0303n\u0303ez", ("nunez",)),  # decomposed accents
        ("Straße", ("strasse",)),
        ("José María García", ("jose", "maria", "garcia")),
        ("ana.garcia@example.com", ("ana", "garcia", "example", "com")),
        ("O'Neil", ("o", "neil")),
        ("Jean-Luc", ("jean", "luc")),
        ("İlkay", ("ilkay",)),
        ("Ǆemal", ("dzemal",)),
        ("李小龙", ("李小龙",)),
        ("x_y 100% back\\slash", ("x", "y", "100", "back", "slash")),
        ("ana ANA Ána", ("ana",)),
        ("", ()),
        (" .@_% ", ()),
    ],
)
def test_search_words(text: str, expected: tuple[str, ...]) -> None:
    """Words are runs of letters and digits, case-folded, without accents, each
    once; everything else separates them."""
    assert expected == search_words(text)


def test_search_words_of_several_texts() -> None:
    """The words of several texts are those of each, in order, each once."""
    assert ("ana", "garcia", "example", "com") == search_words(
        "Ana", "García", "ana.garcia@example.com"
    )


def test_user_words_are_those_of_names_and_email() -> None:
    """A user's words come from its first name, last name and email only."""
    user = UserRow("José", "Núñez", "jn@example.com", "madrid", groups=("Ventas",))

    assert ("jose", "nunez", "jn", "example", "com") == user_words(user)


@given(st.text())
def test_search_words_are_stable(text: str) -> None:
    """Searching for the words of a text finds those words: folding them again
    changes nothing, and no word holds a space or punctuation."""
    words = search_words(text)

    assert words == search_words(" ".join(words))
    assert all(word and word == "".join(search_words(word)) for word in words)


@given(st.text(), st.sampled_from(["NFC", "NFD", "NFKC", "NFKD"]))
def test_search_words_ignore_how_text_is_encoded(text: str, form: str) -> None:
    """Canonically or compatibly equivalent texts (composed or decomposed accents,
    full-width letters, ligatures) have the same words."""
    normalized = unicodedata.normalize(form, text)  # type: ignore[arg-type]

    assert search_words(text) == search_words(normalized)


@given(st.text(alphabet=st.characters(codec="ascii")))
def test_search_words_ignore_ascii_case(text: str) -> None:
    """Upper and lower case give the same words."""
    assert search_words(text.lower()) == search_words(text.upper())


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("", True),
        ("nu", True),
        ("nunez jo", True),
        ("jo nunez", True),
        ("unez", False),
        ("nunez x", False),
        ("nunezz", False),
    ],
)
def test_matches_search(search: str, expected: bool) -> None:
    """Every query word must start one of the user's words, in any order."""
    assert expected == matches_search(("jose", "nunez"), search_words(search))


def test_page_of_orders_filters_and_limits() -> None:
    """``page_of`` sorts candidates by key, keeps those after ``after`` that match,
    and cuts at ``limit``."""
    users = {
        name: StoredUser(str(n), f"{name}@x.com", name.title(), "Núñez", "o")
        for n, name in enumerate(["dee", "ana", "carl", "bo"])
    }
    entries = [(f"{n}@x.com", user_words(u), u) for n, u in users.items()]

    assert [users["ana"], users["bo"]] == page_of(entries, limit=2)
    assert [users["carl"], users["dee"]] == page_of(entries, after="bo@x.com")
    assert [users["carl"]] == page_of(entries, words=["car", "nu"], limit=5)
    assert [] == page_of(entries, words=["zed"], limit=5)


def test_users_page_refuses_a_limit_below_one() -> None:
    """``limit=0`` is a caller's mistake, not an empty page."""
    with pytest.raises(ValueError, match="at least one user"):
        users_page(ListOnlyStore(), ["o"], limit=0)
