"""``SQLStore.rekey``: stored email keys recomputed with the current rule, and the
store keying what ``apply`` is given with ``email_key``, on SQLite and PostgreSQL.

A database written before the domain was keyed by its IDNA A-label holds keys
that folded the whole address the Unicode way; the tests write such rows directly.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
import sqlalchemy as sa

from userimport import CommitConflict, StoreError, UserRow, UserWrite
from userimport.schema import email_key
from userimport.sql import SQLStore, users


def old_key(email: str) -> str:
    """The key of earlier versions: the whole address NFKC-normalised, case-folded."""
    return unicodedata.normalize("NFKC", email).casefold()


def insert(store: SQLStore, *rows: tuple[int, str, str]) -> None:
    """Write users ``(id, email, stored key)`` directly, as an old version did."""
    values: list[dict[str, Any]] = [
        {
            "id": user_id,
            "email": email,
            "email_key": key,
            "first_name": "Ana",
            "last_name": "García",
            "organization": "root",
            "role": "learner",
            "groups": "[]",
            "language": None,
        }
        for user_id, email, key in rows
    ]
    with store.engine.begin() as conn:
        conn.execute(sa.insert(users), values)


def stored_keys(store: SQLStore) -> dict[int, str]:
    """Every user's stored key, by id."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(users.c.id, users.c.email_key))
        return {int(user_id): str(key) for user_id, key in rows}


def test_rekey_gives_every_user_the_current_key(store: SQLStore) -> None:
    """Users with an internationalised domain get the A-label key; the others keep
    theirs; the count says how many changed."""
    emails = ["Ana@Bücher.de", "bo@example.com", "x@faß.de", "Σ@σοφος.gr", "ü@ü.de"]
    insert(store, *((i, e, old_key(e)) for i, e in enumerate(emails, start=1)))

    changed = store.rekey()

    expected = {i: email_key(e) for i, e in enumerate(emails, start=1)}
    assert expected == stored_keys(store)
    assert "ana@xn--bcher-kva.de" == expected[1]
    assert 4 == changed


def test_rekey_is_idempotent(store: SQLStore) -> None:
    """A second run (and a run on an up-to-date database) changes nothing."""
    insert(store, (1, "ana@bücher.de", old_key("ana@bücher.de")))
    assert 1 == store.rekey()
    before = stored_keys(store)

    assert 0 == store.rekey()
    assert before == stored_keys(store)


def test_rekey_of_an_empty_database(store: SQLStore) -> None:
    """An empty database has nothing to re-key."""
    assert 0 == store.rekey()


def test_rekey_moves_keys_between_users(store: SQLStore) -> None:
    """A new key that another user holds until its own key changes is no conflict:
    the unique index never sees the same key twice."""
    insert(
        store,
        (1, "x@bücher.de", "x@bücher.de"),
        # A wrong key, which only the first user should have.
        (2, "y@bücher.de", "x@xn--bcher-kva.de"),
    )

    assert 2 == store.rekey()
    assert {1: "x@xn--bcher-kva.de", 2: "y@xn--bcher-kva.de"} == stored_keys(store)


def test_rekey_refuses_users_that_become_one_mailbox(store: SQLStore) -> None:
    """Two users whose addresses are one mailbox (Unicode and Punycode spellings)
    cannot both hold the key: the error names their ids; nothing changes."""
    insert(
        store,
        (1, "x@bücher.de", old_key("x@bücher.de")),
        (2, "x@xn--bcher-kva.de", old_key("x@xn--bcher-kva.de")),
        (3, "z@bücher.de", old_key("z@bücher.de")),
    )
    before = stored_keys(store)

    with pytest.raises(StoreError, match=r"user ids 1, 2\)") as info:
        store.rekey()

    assert "Nothing was changed" in str(info.value)
    assert before == stored_keys(store)


def test_apply_keys_what_it_is_given_with_email_key(store: SQLStore) -> None:
    """A store given ``x@bücher.de`` and then ``x@xn--bcher-kva.de`` directly keeps
    one user: the second create conflicts on the shared key."""
    row = UserRow("Ana", "García", "x@bücher.de", "root")
    (created,) = store.apply([UserWrite(row)])

    other = UserRow("Ana", "García", "x@XN--BCHER-KVA.de", "root")
    with pytest.raises(CommitConflict) as info:
        store.apply([UserWrite(other)])

    assert ("x@xn--bcher-kva.de",) == info.value.keys
    assert {"x@xn--bcher-kva.de": created} == dict(
        store.find_by_keys([email_key("X@Bücher.DE")])
    )


def test_apply_keeps_different_registrable_domains_apart(store: SQLStore) -> None:
    """``x@faß.de`` and ``x@fass.de`` are two users."""
    writes = [
        UserWrite(UserRow("Ana", "García", email, "root"))
        for email in ("x@faß.de", "x@fass.de")
    ]

    stored = store.apply(writes)

    assert ["x@faß.de", "x@fass.de"] == [user.email for user in stored]
    assert 2 == len(stored_keys(store))
