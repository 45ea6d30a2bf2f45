"""Benchmark the ``confusable_email`` warning: what look-alike emails cost a review.

The warning compares every row's email with the emails of the users the actor may
see, by the likeness (UTS #39 skeleton; ICU through PyICU, the ``confusables``
extra) of their keys. A store with ``find_look_alikes`` (MemoryStore, SQLStore)
keeps each user's likeness in an index and returns only the users of the rows'
likenesses, so the cost follows the upload; a store without it is asked to list
every visible user, whose likenesses the review takes. Measured here, side by side
in one run:

1. ``prepare`` of the 200-row upload of ``bench_validation`` by the company's
   administrator (``bench_prepare``), against MemoryStores of 0, 10,000 and
   100,000 users, all visible: with the warning (the store's look-up), with the
   warning through the listing (the store wrapped so that it has only the three
   methods of ``UserStore``: the fallback of a custom store), and without it (ICU
   taken away for the call, as where the extra is not installed), in CPU time.
   Target: with the look-up, at most 1.25x without, whatever the size.
2. The same ``prepare`` on SQLite files: an empty one, and one holding 100,000
   users in 10,000 organizations (the tree of ``bench_sql``) reviewed by the
   administrator of one country (about 11,000 visible users) and of the root (all
   of them), with and without the warning, in wall time (the database's work
   includes waiting for the disk). The upload's users go to the actor's own
   organization. Same target.

Run ``python benchmarks/bench_confusables.py``; it exits 1 if a target is missed.
"""

from __future__ import annotations

import functools
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from bench_prepare import company
from bench_validation import upload
from common import Figure, print_figures, side_by_side

from userimport import (
    Actor,
    MemoryStore,
    OrgTree,
    Preview,
    StoredUser,
    UserStore,
    UserWrite,
    _confusables,
    prepare,
    visible_users,
)

ROUNDS = 7
SQL_ROUNDS = 5
TRIES = 3
SIZES = (0, 10_000, 100_000)
TARGET = 1.25  # with the warning / without, whatever the number of users
WITH, LISTING, WITHOUT = "with the warning", "through the listing", "without"

#: The company of bench_prepare: its admin and its organizations.
ADMIN, TREE, _ = company()


def staff(count: int) -> list[StoredUser]:
    """``count`` users of the company, spread over its organizations."""
    ids = [org.id for org in TREE]
    return [
        StoredUser(
            str(n),
            f"staff.member{n}@acme-staff.es",
            "Staff",
            f"Member {n}",
            ids[n % len(ids)],
        )
        for n in range(count)
    ]


@contextmanager
def without_icu() -> Iterator[None]:
    """ICU taken away, as where the ``confusables`` extra is not installed."""
    checker = _confusables._checker
    _confusables._checker = lambda: None  # type: ignore[assignment]
    try:
        yield
    finally:
        _confusables._checker = checker


def bare(run: Callable[[], Preview]) -> Preview:
    """``run()`` without ICU."""
    with without_icu():
        return run()


def check(preview: Preview) -> None:
    """Fail loudly unless every row is created (warnings allowed)."""
    if preview.summary.create != preview.summary.total:
        raise AssertionError(f"unexpected review: {preview.issues[:3]}")


class ListingOnly:
    """A store with only the three methods of ``UserStore``: the review lists its
    users for the warning, as for a custom store without ``find_look_alikes``."""

    def __init__(self, store: UserStore) -> None:
        self.store = store

    def find_by_keys(self, keys: Collection[str]) -> Mapping[str, StoredUser]:
        return self.store.find_by_keys(keys)

    def list_users(self, org_ids: Collection[str]) -> Sequence[StoredUser]:
        return self.store.list_users(org_ids)

    def apply(self, writes: Sequence[UserWrite]) -> Sequence[StoredUser]:
        return self.store.apply(writes)


def memory_figures(*, rounds: int = ROUNDS) -> list[Figure]:
    """prepare against MemoryStores of 0, 10,000 and 100,000 visible users."""
    data = upload()
    figures = [
        Figure(
            "prepare, 200 rows, MemoryStore: with / through the listing / without",
            "",
        )
    ]
    for size in SIZES:
        store = MemoryStore(staff(size))
        run = functools.partial(prepare, data, actor=ADMIN, orgs=TREE, store=store)
        listed = functools.partial(
            prepare, data, actor=ADMIN, orgs=TREE, store=ListingOnly(store)
        )
        check(run())  # also builds the store's index of likenesses
        check(listed())
        timed = side_by_side(
            {WITH: run, LISTING: listed, WITHOUT: functools.partial(bare, run)},
            rounds=rounds,
            tries=TRIES,
        )
        ratio = timed.ratio(WITH, WITHOUT)
        figures.append(
            Figure(
                f"  {size:,} visible users",
                " / ".join(
                    f"{timed.seconds[name] * 1e3:.2f}"
                    for name in (WITH, LISTING, WITHOUT)
                )
                + f" ms ({ratio:.2f}x; listing {timed.ratio(LISTING, WITHOUT):.1f}x)",
                f"<= {TARGET:g}x",
                ratio <= TARGET,
            )
        )
    return figures


def sql_figures(*, rounds: int = SQL_ROUNDS) -> list[Figure]:
    """prepare on an empty SQLite file, and on one of 100,000 users by a country
    and by the root."""
    # SQLAlchemy is imported only now (see run.py: large imports run before it).
    from bench_sql import USERS, fill, organizations

    from userimport.sql import SQLStore

    tree = OrgTree(organizations())
    # New users in the actor's own organization (an empty cell).
    lines = ["first_name,last_name,email,organization"]
    lines += [f"Ana,García {n},ana.new{n}@example.org," for n in range(200)]
    data = ("\r\n".join(lines) + "\r\n").encode()
    figures = [
        Figure(f"prepare, 200 rows, SQLite file of 0 or {USERS:,} users:", ""),
    ]
    with tempfile.TemporaryDirectory(prefix="bench-confusables-") as name:
        empty = SQLStore(f"sqlite:///{Path(name) / 'empty.db'}")
        store = SQLStore(f"sqlite:///{Path(name) / 'users.db'}")
        try:
            empty.create_schema()
            empty.add_organizations(tree)
            figures.append(
                sql_figure(data, tree, empty, "empty", Actor("root"), rounds)
            )
            fill(store, tree)
            for label, actor in (
                ("one country", Actor("c4")),
                ("the root", Actor("root")),
            ):
                figures.append(sql_figure(data, tree, store, label, actor, rounds))
        finally:
            empty.close()
            store.close()
    return figures


def sql_figure(
    data: bytes, tree: OrgTree, store: UserStore, label: str, actor: Actor, rounds: int
) -> Figure:
    """prepare by ``actor`` with and without the warning, in wall time."""
    visible = len(visible_users(actor, tree, store))
    run = functools.partial(prepare, data, actor=actor, orgs=tree, store=store)
    check(run())
    timed = side_by_side(
        {WITH: run, WITHOUT: functools.partial(bare, run)},
        rounds=rounds,
        tries=1,
        clock=time.perf_counter_ns,
    )
    with_s, without_s = timed.seconds[WITH], timed.seconds[WITHOUT]
    ratio = timed.ratio(WITH, WITHOUT)
    return Figure(
        f"  {label} ({visible:,} visible users): with / without",
        f"{with_s * 1e3:.1f} / {without_s * 1e3:.1f} ms ({ratio:.2f}x)",
        f"<= {TARGET:g}x",
        ratio <= TARGET,
    )


def figures() -> list[Figure]:
    """Every figure of this benchmark."""
    return [*memory_figures(), *sql_figures()]


def main() -> int:
    """Run every measurement, print the table; 1 if a target is missed."""
    return print_figures(figures())


if __name__ == "__main__":
    sys.exit(main())
