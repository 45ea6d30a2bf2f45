"""``SQLStore.find_look_alikes`` on every backend: the ``skeleton`` column, its
index, the users written without PyICU, a change of likeness version, and the
upgrade of a database without the column."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from userimport import (
    Actor,
    IssueCode,
    Organization,
    OrgTree,
    StoreError,
    UserRow,
    UserWrite,
    _confusables,
    commit,
    email_key,
    prepare,
)
from userimport.sql import SQLStore, skeleton_version, users

pytest.importorskip("icu")

ORGS = [
    Organization("root", "Acme"),
    Organization("es", "Spain", "root"),
    Organization("fr", "France", "root"),
]
TREE = OrgTree(ORGS)
PAYPAL = "p\u0430ypal@x.com"  # a Cyrillic a
RNIKE = "rnike@x.com"  # "rn" looks like "m"


def likenesses(*emails: str) -> set[str]:
    return {_confusables.likeness(email_key(email)) for email in emails}


def write(store: SQLStore, *users_of: tuple[str, str]) -> None:
    """Create a user of each ``(email, organization)``."""
    store.apply([UserWrite(UserRow("Bo", "Li", email, org)) for email, org in users_of])


def skeletons(store: SQLStore) -> dict[str, str | None]:
    """The ``skeleton`` column, by email."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(users.c.email, users.c.skeleton))
        found: dict[str, str | None] = {}
        for email, skeleton in rows:
            found[email] = skeleton
        return found


def recorded_version(store: SQLStore) -> str | None:
    with store.engine.connect() as conn:
        version: str | None = conn.execute(
            sa.select(skeleton_version.c.version)
        ).scalar_one()
        return version


def previous_version(store: SQLStore) -> None:
    """Turn the store's tables into those of the previous version, users kept:
    without the ``skeleton`` column, its index, its version table and the trigger
    that clears it. (What the previous version's ``create_schema`` made, checked
    against it: the same ``sqlite_master`` and, on PostgreSQL, the same tables,
    columns, indexes, constraints and triggers.)"""
    postgres = store.engine.dialect.name == "postgresql"
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "DROP TRIGGER users_key_changed" + (" ON users" if postgres else "")
        )
        if postgres:
            conn.exec_driver_sql("DROP FUNCTION users_key_changed()")
        conn.exec_driver_sql("DROP INDEX ix_users_skeleton")
        conn.exec_driver_sql("ALTER TABLE users DROP COLUMN skeleton")
        conn.exec_driver_sql("DROP TABLE skeleton_version")


SPAIN_ADMIN = Actor("es")


def confusable_rows(
    data: str, store: SQLStore, actor: Actor = SPAIN_ADMIN
) -> list[int | None]:
    """The rows of ``data`` (CSV) the review of ``actor`` (Spain's admin) warns of."""
    preview = prepare(data.encode(), actor=actor, orgs=TREE, store=store)
    return [i.row for i in preview.issues if i.code is IssueCode.CONFUSABLE_EMAIL]


def test_look_alikes_of_visible_users_only(store: SQLStore) -> None:
    """Spain's admin is warned of the look-alike of a Spanish user, not of a French
    one; the root's admin of both; the rows are created all the same."""
    store.add_organizations(ORGS)
    store.apply(
        [
            UserWrite(UserRow("Bo", "Li", "paypal@x.com", "es")),
            UserWrite(UserRow("Cy", "Xu", "mike@x.com", "fr")),
        ]
    )
    data = f"first_name,last_name,email\r\nAna,Gil,{PAYPAL}\r\nDi,Ng,{RNIKE}\r\n"

    assert [2] == confusable_rows(data, store)
    assert [2, 3] == confusable_rows(data, store, Actor("root"))
    preview = prepare(data.encode(), actor=Actor("es"), orgs=TREE, store=store)
    assert 2 == commit(preview, actor=Actor("es"), orgs=TREE, store=store).created


@contextmanager
def without_icu(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``import icu`` fails meanwhile, as where the extra is not installed."""
    _confusables._checker.cache_clear()
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "icu", None)
        yield
    _confusables._checker.cache_clear()


def test_a_look_alike_is_found_among_ten_thousand_users(store: SQLStore) -> None:
    """Among 10,000 users the look-up returns the look-alikes of the branch asked
    for, never a user of another branch; the review warns Spain's admin of the
    Spanish look-alike only."""
    store.add_organizations(ORGS)
    write(
        store,
        *((f"staff{n}@x.com", "es" if n % 2 else "fr") for n in range(10_000)),
        ("paypal@x.com", "es"),
        ("mike@x.com", "fr"),
    )

    spain = store.find_look_alikes(likenesses(PAYPAL, RNIKE), ["es"])
    everyone = store.find_look_alikes(likenesses(PAYPAL, RNIKE), ["root", "es", "fr"])
    data = f"first_name,last_name,email\r\nAna,Gil,{PAYPAL}\r\nDi,Ng,{RNIKE}\r\n"
    preview = prepare(data.encode(), actor=Actor("es"), orgs=TREE, store=store)

    assert ["paypal@x.com"] == [user.email for user in spain]
    assert ["mike@x.com", "paypal@x.com"] == sorted(u.email for u in everyone)
    assert [] == list(store.find_look_alikes(likenesses(RNIKE), ["es", "root"]))
    assert [2] == [
        issue.row
        for issue in preview.issues
        if issue.code is IssueCode.CONFUSABLE_EMAIL
    ]


def test_users_written_without_pyicu_are_found_then_filled_in(
    store: SQLStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user written without PyICU has no skeleton; the look-up finds it all the
    same, and ``refresh_skeletons`` (or ``create_schema``) fills it in, once."""
    write(store, ("ana@x.com", "es"))
    with without_icu(monkeypatch):
        write(store, ("paypal@x.com", "es"))
        write(store, ("mike@x.com", "es"))

    found = store.find_look_alikes(likenesses(PAYPAL), ["es"])
    before = skeletons(store)
    filled = store.refresh_skeletons()
    write(store, ("bo@x.com", "es"))
    with without_icu(monkeypatch):
        write(store, ("cy@x.com", "es"))
    store.create_schema()

    assert ["paypal@x.com"] == [user.email for user in found]
    assert before["paypal@x.com"] is None
    assert before["ana@x.com"] == _confusables.likeness("ana@x.com")
    assert 2 == filled
    assert 0 == store.refresh_skeletons()
    assert {
        email: _confusables.likeness(email_key(email)) for email in skeletons(store)
    } == skeletons(store)
    assert ["paypal@x.com"] == [
        u.email for u in store.find_look_alikes(likenesses(PAYPAL), ["es"])
    ]


def test_a_new_likeness_version_computes_the_column_again(store: SQLStore) -> None:
    """Skeletons recorded with another ICU are not trusted: the look-up compares
    the branch's users itself (still right), writes leave the skeleton out, and
    ``refresh_skeletons`` computes every one again and records the version."""
    write(store, ("paypal@x.com", "es"), ("ana@x.com", "fr"))
    with store.engine.begin() as conn:
        conn.execute(sa.update(skeleton_version).values(version="ICU 1.0"))
        conn.execute(sa.update(users).values(skeleton="stale"))

    found = store.find_look_alikes(likenesses(PAYPAL), ["es", "fr"])
    write(store, ("mike@x.com", "es"))
    written = skeletons(store)["mike@x.com"]
    recomputed = store.refresh_skeletons()

    assert ["paypal@x.com"] == [user.email for user in found]
    assert written is None
    assert 3 == recomputed
    assert _confusables.likeness_version() == recorded_version(store)
    assert 0 == store.refresh_skeletons()
    assert ["paypal@x.com"] == [
        u.email for u in store.find_look_alikes(likenesses(PAYPAL), ["es", "fr"])
    ]


def test_rekey_moves_the_skeleton_with_the_key(store: SQLStore) -> None:
    """A user whose key ``rekey`` changes gets the skeleton of its new key."""
    write(store, ("x@fass.de", "es"))
    with store.engine.begin() as conn:
        conn.execute(
            sa.update(users).values(email="x@faß.de", skeleton="of the old key")
        )

    assert 1 == store.rekey()
    assert {"x@faß.de": _confusables.likeness(email_key("x@faß.de"))} == skeletons(
        store
    )


def test_create_schema_adds_and_fills_the_column(
    store: SQLStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database of the previous version (no ``skeleton`` column, index or
    version table) gets them from ``create_schema``, filled for every user a
    batch at a time; a second call changes nothing."""
    write(store, ("paypal@x.com", "es"), ("ana@x.com", "es"), ("mike@x.com", "fr"))
    previous_version(store)
    monkeypatch.setattr("userimport.sql._FILL_BATCH", 1)

    store.create_schema()
    store.create_schema()
    inspector = sa.inspect(store.engine)

    assert "ix_users_skeleton" in {i["name"] for i in inspector.get_indexes("users")}
    assert _confusables.likeness_version() == recorded_version(store)
    assert {
        email: _confusables.likeness(email_key(email)) for email in skeletons(store)
    } == skeletons(store)
    assert ["paypal@x.com"] == [
        u.email for u in store.find_look_alikes(likenesses(PAYPAL), ["es"])
    ]


def test_a_schema_made_without_pyicu_is_filled_in_with_it(
    database_url: str | sa.URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Created and written without PyICU: no version, no skeleton; the look-up
    with PyICU lists instead, and the next ``create_schema`` fills it all in."""
    with SQLStore(database_url) as store:
        with without_icu(monkeypatch):
            store.create_schema()
            write(store, ("paypal@x.com", "es"))
            assert None is recorded_version(store)
        found = store.find_look_alikes(likenesses(PAYPAL), ["es"])
        store.create_schema()

        assert ["paypal@x.com"] == [user.email for user in found]
        assert _confusables.likeness_version() == recorded_version(store)
        assert {"paypal@x.com": _confusables.likeness("paypal@x.com")} == skeletons(
            store
        )


OUTDATED = (
    "The database's tables are from an older version of userimport: run "
    "SQLStore.create_schema() once (it upgrades them in place)"
)


@pytest.mark.parametrize("icu", [True, False], ids=["pyicu", "no-pyicu"])
def test_a_database_of_the_previous_version_is_reviewed_before_create_schema(
    database_url: str | sa.URL, monkeypatch: pytest.MonkeyPatch, icu: bool
) -> None:
    """A host that upgrades the library and has not run ``create_schema`` yet
    can review (the look-alikes found by listing the branch); a commit says what
    to do and writes nothing; after
    ``create_schema`` all works, the look-up by skeleton included."""
    with SQLStore(database_url) as old:
        old.create_schema()
        old.add_organizations(ORGS)
        write(old, ("paypal@x.com", "es"), ("ana@x.com", "fr"))
        previous_version(old)
    data = f"first_name,last_name,email\r\nAna,Gil,{PAYPAL}\r\nDi,Ng,cy@x.com\r\n"
    with SQLStore(database_url) as store, monkeypatch.context() as patch:
        if not icu:
            _confusables._checker.cache_clear()
            patch.setitem(sys.modules, "icu", None)
        warned = confusable_rows(data, store)
        preview = prepare(data.encode(), actor=Actor("es"), orgs=TREE, store=store)
        with pytest.raises(StoreError) as committing:
            commit(preview, actor=Actor("es"), orgs=TREE, store=store)
        _confusables._checker.cache_clear()
        listed = [u.email for u in store.list_users(["es", "fr"])]
    with SQLStore(database_url) as store:
        store.create_schema()
        statements: list[str] = []
        event.listen(
            store.engine, "before_cursor_execute", lambda *a: statements.append(a[2])
        )
        upgraded = store.find_look_alikes(likenesses(PAYPAL), ["es"])
        warned_after = confusable_rows(data, store)
        result = commit(
            prepare(data.encode(), actor=Actor("es"), orgs=TREE, store=store),
            actor=Actor("es"),
            orgs=TREE,
            store=store,
        )
        written = skeletons(store)

    assert ([2] if icu else []) == warned
    assert f"{OUTDATED}; nothing was written." == str(committing.value)
    assert ["ana@x.com", "paypal@x.com"] == sorted(listed)
    assert ["paypal@x.com"] == [user.email for user in upgraded]
    assert any("users.skeleton" in s.partition("WHERE")[2] for s in statements)
    assert [2] == warned_after
    assert 2 == result.created
    assert {
        email: _confusables.likeness(email_key(email)) for email in written
    } == written


def test_a_read_of_a_missing_table_says_to_run_create_schema(
    database_url: str | sa.URL,
) -> None:
    """A read that needs what the previous version lacks (the skeleton version, for
    ``refresh_skeletons``) says what to do too; a store whose tables do not exist
    at all keeps the driver's reason."""
    with SQLStore(database_url) as old:
        old.create_schema()
        previous_version(old)
    with SQLStore(database_url) as store:
        with pytest.raises(StoreError) as refreshing:
            store.refresh_skeletons()
        with store.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE users")
        with pytest.raises(StoreError) as listing:
            store.list_users(["es"])

    assert f"{OUTDATED}; nothing was written." == str(refreshing.value)
    assert "users" in str(listing.value)
    assert "create_schema" not in str(listing.value)


def test_a_key_changed_by_sql_loses_its_skeleton(store: SQLStore) -> None:
    """A key changed by a host's own SQL (or an older version's ``rekey``) clears
    the row's skeleton, so the look-up computes its likeness and warns at once;
    ``refresh_skeletons`` fills it in. The store's own writes keep theirs."""
    store.add_organizations(ORGS)
    write(store, ("vis@x.com", "es"), ("bo@x.com", "es"))
    with store.engine.begin() as conn:
        conn.execute(
            sa.update(users)
            .where(users.c.email == "vis@x.com")
            .values(email="paypal@x.com", email_key="paypal@x.com")
        )
    cleared = skeletons(store)
    warned = confusable_rows(f"first_name,last_name,email\r\nA,B,{PAYPAL}\r\n", store)
    filled = store.refresh_skeletons()
    (bo,) = store.find_by_keys(["bo@x.com"]).values()
    store.apply([UserWrite(UserRow("Bo", "Li", "cy@x.com", "es"), expected=bo)])

    assert cleared == {
        "paypal@x.com": None,
        "bo@x.com": _confusables.likeness("bo@x.com"),
    }
    assert [2] == warned
    assert 1 == filled
    assert {
        "paypal@x.com": _confusables.likeness("paypal@x.com"),
        "cy@x.com": _confusables.likeness("cy@x.com"),
    } == skeletons(store)


#: Addresses whose keys look alike, and keys of other forms of them.
_ADDRESSES = ["paypal@x.com", PAYPAL, "mike@x.com", RNIKE, "x@faß.de", "x@fass.de"]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["apply", "sql", "sql key", "rekey"]),
            st.sampled_from(_ADDRESSES),
        ),
        max_size=6,
    )
)
def test_a_skeleton_is_of_its_key_or_null(
    store: SQLStore, changes: list[tuple[str, str]]
) -> None:
    """Whatever changes the key (the store's writes, ``rekey``, SQL that sets the
    email and its key, or the key alone), the row's skeleton is its key's
    likeness or ``NULL``, never another key's; so the look-up finds it."""
    with store.engine.begin() as conn:
        conn.execute(sa.delete(users))
    write(store, ("ana@x.com", "es"))
    for change, email in changes:
        if change == "apply":
            (user,) = store.list_users(["es"])
            store.apply([UserWrite(UserRow("Bo", "Li", email, "es"), expected=user)])
        elif change == "rekey":
            store.rekey()
        else:
            values = {"email_key": email_key(email)}
            if change == "sql":
                values["email"] = email
            with store.engine.begin() as conn:
                conn.execute(sa.update(users).values(values))
    with store.engine.connect() as conn:
        ((key, skeleton),) = conn.execute(
            sa.select(users.c.email_key, users.c.skeleton)
        )
    found = store.find_look_alikes({_confusables.likeness(key)}, ["es"])

    assert skeleton in (None, _confusables.likeness(key))
    assert 1 == len(found)
