"""Benchmark SQLStore (SQLite file, and PostgreSQL if given) with MemoryStore alongside.

1. Commit: ``apply`` of 200 new users (one upload's worth) on a new SQLite file
   store and on a MemoryStore, taking turns, ``COMMIT_ROUNDS`` rounds. Target:
   SQLite <= 10x MemoryStore (the median of the rounds' ratios). The whole public
   ``commit`` of a reviewed upload of 200 new users, which reviews the rows again
   before writing, is shown beside it.
2. The Users screen: ``visible_users`` of one region's admin (111 organizations,
   about 1,100 users) among 10,000 organizations and 100,000 users. Target:
   <= 50 ms (milliseconds, not seconds). A whole country (1,111 organizations,
   about 11,000 users) and MemoryStore's answer, which scans every user in Python,
   are shown for comparison.

3. The Users screen at scale, on the same 100,000 users, side by side in one run
   (ratios are the median of the rounds' ratios):

   - the first page of 50 of a country's admin (11,000 users), vs the whole list:
     <= 1/20 of the time;
   - page 200 (after the 9,950th user's key) vs page 1: <= 1.5x;
   - a search ("nunez", about 2% of the users) in the country, first page, vs the
     first page without search: <= 2x;
   - ``org_tree()`` with the organizations unchanged (a cache hit), vs building it
     (the call after an organization was renamed): <= 1/100.

   With ``USERIMPORT_BENCH_POSTGRES`` set to the URL of an empty PostgreSQL
   database (or schema), the same figures are measured on PostgreSQL too, after
   ``VACUUM ANALYZE`` as autovacuum would leave a real database.

The SQLite file is a real file in a temporary folder, with the store's settings
(WAL, every commit flushed to disk). Times are wall-clock (``perf_counter``): a
database's work includes waiting for the disk, and a server's is done in another
process. Figures are medians.

Run ``python benchmarks/bench_sql.py``; it exits 1 if a target is missed.
"""

from __future__ import annotations

import itertools
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from statistics import median

import sqlalchemy as sa
from common import Figure, print_figures, side_by_side

from userimport import (
    Actor,
    MemoryStore,
    Organization,
    OrgTree,
    Role,
    StoredUser,
    UserRow,
    UserStore,
    UserWrite,
    commit,
    prepare,
    visible_users,
)
from userimport.sql import SQLStore

ROUNDS = 9
COMMIT_ROUNDS = 25
UPLOAD = 200
COUNTRIES, REGIONS, OFFICES = 9, 10, 110  # 1 + 9 + 90 + 9,900 = 10,000 organizations
USERS = 100_000
COMMIT_RATIO_TARGET = 10.0
LIST_TARGET = 0.050  # seconds
PAGE = 50
PAGE_TARGET = 1 / 20  # of the whole list
LATE_PAGE = 200
LATE_PAGE_TARGET = 1.5  # x page 1
SEARCH = "nunez"
SEARCH_TARGET = 2.0  # x the page without search
TREE_HIT_TARGET = 1 / 100  # of building the tree
POSTGRES_URL = os.environ.get("USERIMPORT_BENCH_POSTGRES")

#: Names of the 100,000 users: one surname in 40 is Núñez, so a search for
#: "nunez" fills its first page from about 270 of a country's 11,000 users.
FIRST_NAMES = ("Ana", "José", "María", "Luis", "Carmen", "Javier", "Lucía", "Íñigo")
SURNAMES = (
    "García Martín",
    "Fernández",
    "López",
    "Sánchez",
    "Pérez",
    "Gómez",
    "Díaz",
    "Ruiz",
    "Hernández",
    "Jiménez",
    "Moreno",
    "Álvarez",
    "Muñoz",
    "Romero",
    "Alonso",
    "Gutiérrez",
    "Navarro",
    "Torres",
    "Domínguez",
    "Vázquez",
    "Ramos",
    "Gil",
    "Ramírez",
    "Serrano",
    "Blanco",
    "Molina",
    "Morales",
    "Suárez",
    "Ortega",
    "Delgado",
    "Castro",
    "Ortiz",
    "Rubio",
    "Marín",
    "Sanz",
    "Iglesias",
    "Medina",
    "Garrido",
    "Cortés",
    "Núñez",
)


def organizations() -> list[Organization]:
    """Root, countries, regions, offices: 10,000 organizations."""
    orgs = [Organization("root", "Acme")]
    for c in range(COUNTRIES):
        country = f"c{c}"
        orgs.append(Organization(country, f"Country {c}", "root"))
        for r in range(REGIONS):
            region = f"{country}r{r}"
            orgs.append(Organization(region, f"Region {r}", country))
            orgs.extend(
                Organization(f"{region}o{o}", f"Office {o}", region)
                for o in range(OFFICES)
            )
    return orgs


def upload(tag: str) -> list[UserWrite]:
    """200 creates, as a commit of one upload sends them."""
    return [
        UserWrite(
            UserRow(
                first_name="Ana María",
                last_name=f"García {n}",
                email=f"ana.{tag}.{n}@example.com",
                organization="root",
                role=Role.LEARNER,
                groups=("Ventas", "Madrid"),
                language="es",
            )
        )
        for n in range(UPLOAD)
    ]


def timings(rounds: int, run: Callable[[], object]) -> list[float]:
    """Seconds of each of ``rounds`` calls of ``run``."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return times


def commit_times(folder: Path) -> tuple[list[float], list[float]]:
    """Seconds of ``apply`` of one upload, per round: (SQLite file, MemoryStore).

    Each store is long-lived, as in a server: one warm-up upload first (SQLAlchemy
    compiles its statements once per engine), then a new upload per round. The two
    stores take turns, round by round, so both meet the same machine load.
    """
    times: dict[str, list[float]] = {"sqlite": [], "memory": []}
    with SQLStore(f"sqlite:///{folder / 'commit.db'}") as sqlite:
        sqlite.create_schema()
        stores: dict[str, UserStore] = {"sqlite": sqlite, "memory": MemoryStore()}
        for store in stores.values():
            store.apply(upload("warm-up"))
        for number in range(COMMIT_ROUNDS):
            for name, store in stores.items():
                writes = upload(str(number))
                start = time.perf_counter()
                store.apply(writes)
                times[name].append(time.perf_counter() - start)
    return times["sqlite"], times["memory"]


def fill(store: SQLStore, tree: OrgTree) -> list[StoredUser]:
    """Create the schema, the organizations and the same 100,000 users in offices."""
    rng = random.Random(4)
    offices = [org.id for org in tree if org.id.count("o") == 1 and "r" in org.id]
    store.create_schema()
    store.add_organizations(tree)
    stored: list[StoredUser] = []
    for start in range(0, USERS, 10_000):
        batch = [
            UserWrite(
                UserRow(
                    rng.choice(FIRST_NAMES),
                    f"{rng.choice(SURNAMES)} {n}",
                    f"user{n}@example.com",
                    rng.choice(offices),
                )
            )
            for n in range(start, start + 10_000)
        ]
        stored.extend(store.apply(batch))
    return stored


def populated(folder: Path, tree: OrgTree) -> tuple[SQLStore, MemoryStore]:
    """A SQLite store and a MemoryStore holding the same 100,000 users."""
    store = SQLStore(f"sqlite:///{folder / 'users.db'}")
    return store, MemoryStore(fill(store, tree))


def screen_figures(store: SQLStore, tree: OrgTree, backend: str) -> list[Figure]:
    """The Users screen's and the tree's figures on one populated store."""
    actor = Actor("c4")
    everyone = visible_users(actor, tree, store)
    after = everyone[(LATE_PAGE - 1) * PAGE - 1].key
    names = itertools.cycle(["Office 0 (renamed)", "Office 0"])
    store.org_tree()

    def rename() -> None:
        store.add_organizations([Organization("c0r0o0", next(names), "c0r0")])

    timed = side_by_side(
        {
            "list": lambda: visible_users(actor, tree, store),
            "page 1": lambda: visible_users(actor, tree, store, limit=PAGE),
            "late page": lambda: visible_users(
                actor, tree, store, limit=PAGE, after=after
            ),
            "search": lambda: visible_users(
                actor, tree, store, limit=PAGE, search=SEARCH
            ),
            "tree kept": store.org_tree,
            "tree built": store.org_tree,
        },
        rounds=ROUNDS,
        before={"tree built": rename},
        clock=time.perf_counter_ns,
    )
    found = len(visible_users(actor, tree, store, search=SEARCH))
    ms = {name: seconds * 1000 for name, seconds in timed.seconds.items()}
    first = timed.ratio("page 1", "list")
    late = timed.ratio("late page", "page 1")
    search = timed.ratio("search", "page 1")
    kept = timed.ratio("tree kept", "tree built")
    return [
        Figure(
            f"{backend}: first page of {PAGE} of a country ({len(everyone):,}"
            " users), vs the whole list",
            f"1/{1 / first:.0f} ({ms['page 1']:.2f} ms / {ms['list']:.0f} ms)",
            f"<= 1/{1 / PAGE_TARGET:.0f}",
            first <= PAGE_TARGET,
        ),
        Figure(
            f"  {backend}: page {LATE_PAGE} vs page 1",
            f"{late:.2f}x ({ms['late page']:.2f} ms)",
            f"<= {LATE_PAGE_TARGET:g}x",
            late <= LATE_PAGE_TARGET,
        ),
        Figure(
            f"  {backend}: search {SEARCH!r} ({found:,} found), first page,"
            " vs without search",
            f"{search:.2f}x ({ms['search']:.2f} ms)",
            f"<= {SEARCH_TARGET:g}x",
            search <= SEARCH_TARGET,
        ),
        Figure(
            f"  {backend}: org_tree() unchanged vs building it ({len(tree):,} orgs)",
            f"1/{1 / kept:.0f} ({ms['tree kept']:.3f} ms / {ms['tree built']:.1f} ms)",
            f"<= 1/{1 / TREE_HIT_TARGET:.0f}",
            kept <= TREE_HIT_TARGET,
        ),
    ]


def postgres_figures(tree: OrgTree) -> list[Figure]:
    """The Users screen's figures on PostgreSQL, if a database is given."""
    if not POSTGRES_URL:
        return []
    with SQLStore(POSTGRES_URL) as store:
        fill(store, tree)
        autocommit = store.engine.execution_options(isolation_level="AUTOCOMMIT")
        with autocommit.connect() as conn:
            conn.execute(sa.text("VACUUM ANALYZE users"))
        return screen_figures(store, tree, "PostgreSQL")


def list_times(
    store: UserStore, tree: OrgTree, actor: Actor
) -> tuple[list[float], int]:
    """Seconds of ``visible_users`` per round, and how many users it lists."""
    count = len(visible_users(actor, tree, store))
    return timings(ROUNDS, lambda: visible_users(actor, tree, store)), count


def commit_flow_times(folder: Path) -> tuple[list[float], list[float]]:
    """Seconds of the public ``commit`` of 200 new users: (SQLite file, MemoryStore).

    Each round reviews a new upload with ``prepare`` (untimed) for each store,
    then times its ``commit``, which reviews the rows again and applies them.
    """
    tree = OrgTree([Organization("root", "Acme")])
    actor = Actor("root")
    times: dict[str, list[float]] = {"sqlite": [], "memory": []}
    with SQLStore(f"sqlite:///{folder / 'flow.db'}") as sqlite:
        sqlite.create_schema()
        sqlite.add_organizations(tree)
        stores: dict[str, UserStore] = {"sqlite": sqlite, "memory": MemoryStore()}
        for number in range(-1, COMMIT_ROUNDS):  # round -1 warms up
            for name, store in stores.items():
                data = upload_csv(f"{name}{number}")
                preview = prepare(data, actor=actor, orgs=tree, store=store)
                start = time.perf_counter()
                commit(preview, actor=actor, orgs=tree, store=store)
                if number >= 0:
                    times[name].append(time.perf_counter() - start)
    return times["sqlite"], times["memory"]


def upload_csv(tag: str) -> bytes:
    """200 new users as an upload, with emails unique to ``tag``."""
    lines = ["first_name,last_name,email,organization,role,groups,language"]
    lines += [
        f"Ana María,García {n},ana.{tag}.{n}@example.org,,learner,Ventas;Madrid,es"
        for n in range(UPLOAD)
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


def ratio(numerators: Sequence[float], denominators: Sequence[float]) -> float:
    """The median of the rounds' ratios."""
    return median(a / b for a, b in zip(numerators, denominators, strict=True))


def figures() -> list[Figure]:
    """Every figure of this benchmark."""
    with tempfile.TemporaryDirectory(prefix="bench-sql-") as name:
        folder = Path(name)
        sqlite_apply, memory_apply = commit_times(folder)
        sqlite_commit, memory_commit = commit_flow_times(folder)

        tree = OrgTree(organizations())
        store, memory = populated(folder, tree)
        region_admin, country_admin = Actor("c4r5"), Actor("c4")
        region = len(tree.subtree_ids(region_admin.org_id))
        country = len(tree.subtree_ids(country_admin.org_id))
        region_sql, region_users = list_times(store, tree, region_admin)
        region_memory, _ = list_times(memory, tree, region_admin)
        country_sql, country_users = list_times(store, tree, country_admin)
        country_memory, _ = list_times(memory, tree, country_admin)
        screen = screen_figures(store, tree, "SQLite")
        store.close()
    screen += postgres_figures(tree)

    apply_ratio = ratio(sqlite_apply, memory_apply)
    region_ms = median(region_sql) * 1000
    return [
        Figure(
            f"SQLite file apply of {UPLOAD} new users, vs MemoryStore",
            f"{apply_ratio:.1f}x ({median(sqlite_apply) * 1000:.1f} ms"
            f" / {median(memory_apply) * 1000:.2f} ms)",
            f"<= {COMMIT_RATIO_TARGET:g}x",
            apply_ratio <= COMMIT_RATIO_TARGET,
        ),
        Figure(
            f"  commit() of {UPLOAD} new users, SQLite file vs MemoryStore",
            f"{ratio(sqlite_commit, memory_commit):.1f}x"
            f" ({median(sqlite_commit) * 1000:.1f} ms"
            f" / {median(memory_commit) * 1000:.1f} ms)",
        ),
        Figure(
            f"visible_users on SQLite, one region ({region} of {len(tree):,}"
            f" orgs, {region_users:,} of {USERS:,} users)",
            f"{region_ms:.1f} ms",
            f"<= {LIST_TARGET * 1000:g} ms",
            region_ms <= LIST_TARGET * 1000,
        ),
        Figure(
            f"  same, one country ({country:,} orgs, {country_users:,} users)",
            f"{median(country_sql) * 1000:.1f} ms",
        ),
        Figure(
            "  MemoryStore (a scan of every user): region / country",
            f"{median(region_memory) * 1000:.1f} / "
            f"{median(country_memory) * 1000:.1f} ms",
        ),
        *screen,
    ]


def main() -> int:
    """Run the benchmark, print the figures, return the exit status."""
    return print_figures(figures())


if __name__ == "__main__":
    sys.exit(main())
