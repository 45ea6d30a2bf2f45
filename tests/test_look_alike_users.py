"""The look-alike warning is the same whether the store looks the users up
(``find_look_alikes``) or the review lists them all (the fallback)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

pytest.importorskip("icu")

from userimport import (
    Actor,
    IssueCode,
    MemoryStore,
    Organization,
    OrgTree,
    Preview,
    StoredUser,
    UserStore,
    UserWrite,
    commit,
    prepare,
    revise,
)
from userimport.persistence import LookAlikeUserStore

ORGS = OrgTree(
    [
        Organization("root", "Acme"),
        Organization("es", "Spain", "root"),
        Organization("fr", "France", "root"),
        Organization("es-mad", "Madrid", "es"),
    ]
)

#: Letters and look-alikes of them in other scripts, or other letters.
LETTERS = "aаoο0rnm1l"
LOCAL = st.text(alphabet=LETTERS, min_size=1, max_size=3)
DOMAIN = st.sampled_from(("x.com", "х.com", "X.COM"))
EMAIL = st.builds("{}@{}".format, LOCAL, DOMAIN)


class ListingOnly:
    """A store with only the three methods of ``UserStore``: the review lists its
    users (the fallback)."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    def find_by_keys(self, keys: Collection[str]) -> Mapping[str, StoredUser]:
        return self.store.find_by_keys(keys)

    def list_users(self, org_ids: Collection[str]) -> Sequence[StoredUser]:
        return self.store.list_users(org_ids)

    def apply(self, writes: Sequence[UserWrite]) -> Sequence[StoredUser]:
        return self.store.apply(writes)


def upload(emails: Sequence[str]) -> bytes:
    """An upload of one user per email, in rows 2, 3, ..."""
    lines = ["first_name,last_name,email,organization"]
    lines += [f"Ana,Gil {n},{email},es-mad" for n, email in enumerate(emails)]
    return ("\r\n".join(lines) + "\r\n").encode()


def reviewed(preview: Preview) -> list[tuple[object, ...]]:
    """What a reviewer sees of each row."""
    return [(row.row, row.action, row.issues) for row in preview.rows]


def test_the_fallback_store_has_no_look_up() -> None:
    """The premise of the differential: one store looks up, the other lists."""
    store = MemoryStore()

    assert isinstance(store, LookAlikeUserStore)
    assert not isinstance(ListingOnly(store), LookAlikeUserStore)
    assert isinstance(ListingOnly(store), UserStore)


@settings(max_examples=150, deadline=None)
@given(
    users=st.lists(
        st.tuples(EMAIL, st.sampled_from(("root", "es", "fr", "es-mad"))),
        max_size=12,
    ),
    emails=st.lists(EMAIL, min_size=1, max_size=8),
    actor=st.sampled_from(("root", "es", "es-mad", "fr")),
    data=st.data(),
)
def test_the_look_up_warns_as_the_listing_does(
    users: list[tuple[str, str]],
    emails: list[str],
    actor: str,
    data: st.DataObject,
) -> None:
    """For random stores (users in and out of the actor's subtree, look-alikes
    of one another) and uploads, ``prepare``, a ``revise`` that changes an email
    and the ``commit`` give the same rows, actions and warnings with the store's
    look-up as with the listing."""
    seed: dict[str, StoredUser] = {}
    for number, (email, organization) in enumerate(users):
        stored = StoredUser(str(number + 1), email, "Bo", "Li", organization)
        seed.setdefault(stored.key, stored)
    looking, listing = MemoryStore(seed.values()), MemoryStore(seed.values())
    fallback = ListingOnly(listing)
    who = Actor(actor)
    data_bytes = upload(emails)

    first = prepare(data_bytes, actor=who, orgs=ORGS, store=looking)
    assert reviewed(first) == reviewed(
        prepare(data_bytes, actor=who, orgs=ORGS, store=fallback)
    )
    row = data.draw(st.integers(2, len(emails) + 1), label="row")
    edit = {row: {"email": data.draw(EMAIL, label="new email")}}
    looked = revise(first, edits=edit, actor=who, orgs=ORGS, store=looking)
    listed = revise(
        prepare(data_bytes, actor=who, orgs=ORGS, store=fallback),
        edits=edit,
        actor=who,
        orgs=ORGS,
        store=fallback,
    )
    assert reviewed(looked) == reviewed(listed)
    warned = IssueCode.CONFUSABLE_EMAIL in looked.issue_counts
    event("a look-alike warned" if warned else "no look-alike")
    if looked.can_commit:
        done = commit(looked, actor=who, orgs=ORGS, store=looking, skip_invalid=True)
        assert done == commit(
            listed, actor=who, orgs=ORGS, store=fallback, skip_invalid=True
        )
        # The index follows the commit: a second review agrees again.
        again = prepare(data_bytes, actor=who, orgs=ORGS, store=looking)
        assert reviewed(again) == reviewed(
            prepare(data_bytes, actor=who, orgs=ORGS, store=fallback)
        )
