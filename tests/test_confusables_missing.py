"""Without PyICU (the ``confusables`` extra) the library works, without the
``confusable_email`` warning."""

from __future__ import annotations

import sys
from collections.abc import Collection, Iterator, Sequence

import pytest

from userimport import (
    Actor,
    IssueCode,
    MemoryStore,
    Organization,
    OrgTree,
    StoredUser,
    _confusables,
    commit,
    prepare,
)

ORGS = OrgTree([Organization("root", "Acme")])


class CountingStore(MemoryStore):
    """A MemoryStore that counts the listings of its users."""

    listings = 0

    def list_users(self, org_ids: Collection[str]) -> Sequence[StoredUser]:
        self.listings += 1
        return super().list_users(org_ids)

    def search_users(
        self,
        org_ids: Collection[str],
        *,
        words: Sequence[str] = (),
        after: str | None = None,
        limit: int | None = None,
    ) -> Sequence[StoredUser]:
        self.listings += 1
        return super().search_users(org_ids, words=words, after=after, limit=limit)


@pytest.fixture
def without_icu(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``import icu`` fails, as where the extra is not installed; the checker made
    with ICU is forgotten for the test and again after it."""
    _confusables._checker.cache_clear()
    monkeypatch.setitem(sys.modules, "icu", None)  # None: the import fails
    yield
    monkeypatch.undo()
    _confusables._checker.cache_clear()


def data() -> bytes:
    return "first_name,last_name,email\r\nAna,Gil,pаypal@x.com\r\n".encode()


@pytest.mark.usefixtures("without_icu")
def test_without_icu_the_review_gives_no_warning_and_lists_no_users() -> None:
    """No skeleton, no warning: the look-alike row is created as any other, and the
    store's users are not listed for nothing."""
    store = CountingStore([StoredUser("1", "paypal@x.com", "Bo", "Li", "root")])

    assert not _confusables.available()
    preview = prepare(data(), actor=Actor("root"), orgs=ORGS, store=store)
    result = commit(preview, actor=Actor("root"), orgs=ORGS, store=store)

    assert preview.issues == ()
    assert store.listings == 0
    assert result.created == 1


@pytest.mark.usefixtures("without_icu")
def test_without_icu_a_skeleton_says_which_extra_to_install() -> None:
    """Asking for a skeleton without the extra names it."""
    with pytest.raises(ModuleNotFoundError, match=r"userimport\[confusables\]"):
        _confusables.skeleton("paypal@x.com")


def test_with_icu_the_same_review_warns() -> None:
    """The counterpart: with ICU the same review warns (and ICU is back after the
    tests that take it away)."""
    pytest.importorskip("icu")
    store = MemoryStore([StoredUser("1", "paypal@x.com", "Bo", "Li", "root")])

    preview = prepare(data(), actor=Actor("root"), orgs=ORGS, store=store)

    assert [issue.code for issue in preview.issues] == [IssueCode.CONFUSABLE_EMAIL]
