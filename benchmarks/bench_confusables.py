"""Benchmark the ``confusable_email`` warning: what look-alike emails cost a review.

The warning compares every row's email with the emails of every user the actor may
see, by their UTS #39 skeletons (ICU through PyICU, the ``confusables`` extra). So
each ``prepare`` lists the actor's users and takes one skeleton per user: its cost
grows with the users the actor sees, not with the upload. Measured here:

1. ``prepare`` of the 200-row upload of ``bench_validation`` by the company's
   administrator (``bench_prepare``), against MemoryStores of 0, 1,000 (as in
   ``bench_prepare``), 10,000 and 100,000 users, all visible, with the warning
   and without it (ICU taken away for the call, as where the extra is not
   installed: no skeleton, no listing), side by side, in CPU time. Targets: with
   no user, the warning (200 skeletons) adds at most 25%; at 100,000 users it
   costs at most 3 µs per visible user (the difference of the medians, divided by
   the users).
2. What that per-user cost is made of, at 100,000 users: listing them
   (``list_users`` of the actor's subtree), their email keys, and their
   likenesses (skeletons; ASCII keys take a shortcut that is a third of ICU's
   time).
3. The same ``prepare`` on a SQLite file holding 100,000 users in 10,000
   organizations (the tree of ``bench_sql``), by the administrator of one region
   (about 1,100 users), of one country (about 11,000) and of the root (all of them),
   with and without the warning, in wall time (the database's work includes
   waiting for the disk). The upload's users go to the actor's own organization.

Run ``python benchmarks/bench_confusables.py``; it exits 1 if a target is missed.
"""

from __future__ import annotations

import functools
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
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
    _confusables,
    prepare,
    visible_users,
)

ROUNDS = 7
SQL_ROUNDS = 5
TRIES = 3
SIZES = (0, 1_000, 10_000, 100_000)
EMPTY_TARGET = 1.25  # with / without, no user in the store
PER_USER_TARGET = 3e-6  # seconds of CPU per visible user
WITH, WITHOUT = "with the warning", "without"

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


def memory_figures(*, rounds: int = ROUNDS) -> list[Figure]:
    """prepare against MemoryStores of 0, 10,000 and 100,000 visible users."""
    data = upload()
    figures: list[Figure] = []
    for size in SIZES:
        store = MemoryStore(staff(size))
        run = functools.partial(prepare, data, actor=ADMIN, orgs=TREE, store=store)
        check(run())
        timed = side_by_side(
            {WITH: run, WITHOUT: functools.partial(bare, run)},
            rounds=rounds,
            tries=TRIES,
        )
        with_s, without_s = timed.seconds[WITH], timed.seconds[WITHOUT]
        ratio = timed.ratio(WITH, WITHOUT)
        value = f"{with_s * 1e3:.2f} / {without_s * 1e3:.2f} ms ({ratio:.2f}x)"
        if size == 0:
            figures.append(
                Figure(
                    "prepare, 200 rows, no user in the store: with / without",
                    value,
                    f"<= {EMPTY_TARGET:g}x",
                    ratio <= EMPTY_TARGET,
                )
            )
            continue
        per_user = (with_s - without_s) / size
        figures.append(Figure(f"  {size:,} visible users: with / without", value))
        if size == max(SIZES):
            figures.append(
                Figure(
                    f"  the warning's cost per visible user, at {size:,}",
                    f"{per_user * 1e6:.2f} µs CPU",
                    f"<= {PER_USER_TARGET * 1e6:g} µs",
                    per_user <= PER_USER_TARGET,
                )
            )
            figures += parts(store, size, rounds=rounds)
    return figures


def parts(store: MemoryStore, size: int, *, rounds: int) -> list[Figure]:
    """What the per-user cost is made of: listing the users (``list_users`` of the
    actor's subtree, as the review does), their keys, and their likenesses."""
    subtree = TREE.subtree_ids(ADMIN.org_id)
    users = store.list_users(subtree)
    keys = [user.key for user in users]

    def key_all() -> None:
        for user in users:
            user.key  # noqa: B018 (the property is what is timed)

    def likeness_all() -> None:
        for key in keys:
            _confusables.likeness(key)

    timed = side_by_side(
        {
            "list": functools.partial(store.list_users, subtree),
            "keys": key_all,
            "likeness": likeness_all,
        },
        rounds=rounds,
        tries=1,
    )
    each = " / ".join(
        f"{timed.seconds[name] / size * 1e6:.2f}"
        for name in ("list", "keys", "likeness")
    )
    return [
        Figure(
            "    of which list_users / keys / likenesses, per user",
            f"{each} µs CPU",
        )
    ]


def sql_figures(*, rounds: int = SQL_ROUNDS) -> list[Figure]:
    """prepare on a SQLite file of 100,000 users, by a region, a country, the root."""
    # SQLAlchemy is imported only now (see run.py: large imports run before it).
    from bench_sql import USERS, fill, organizations

    from userimport.sql import SQLStore

    tree = OrgTree(organizations())
    # New users in the actor's own organization (an empty cell).
    lines = ["first_name,last_name,email,organization"]
    lines += [f"Ana,García {n},ana.new{n}@example.org," for n in range(200)]
    data = ("\r\n".join(lines) + "\r\n").encode()
    figures = [Figure(f"prepare, 200 rows, SQLite file of {USERS:,} users:", "")]
    with tempfile.TemporaryDirectory(prefix="bench-confusables-") as name:
        store = SQLStore(f"sqlite:///{Path(name) / 'users.db'}")
        try:
            fill(store, tree)
            for label, actor in (
                ("one region", Actor("c4r5")),
                ("one country", Actor("c4")),
                ("the root", Actor("root")),
            ):
                figures.append(sql_figure(data, tree, store, label, actor, rounds))
        finally:
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
    return Figure(
        f"  {label} ({visible:,} visible users): with / without",
        f"{with_s * 1e3:.0f} / {without_s * 1e3:.0f} ms"
        f" ({timed.ratio(WITH, WITHOUT):.1f}x)",
    )


def figures() -> list[Figure]:
    """Every figure of this benchmark."""
    return [*memory_figures(), *sql_figures()]


def main() -> int:
    """Run every measurement, print the table; 1 if a target is missed."""
    return print_figures(figures())


if __name__ == "__main__":
    sys.exit(main())
