"""Benchmark OrgTree against its targets: build ≤ 1 s, ``is_within`` ≤ 2 µs.

The tree has 100,000 organizations shaped like a real platform: one root, 50
countries, 40 regions each and offices below them, plus one chain 2,000 deep. Build
time is the median of 5 builds; ``is_within`` time is the median, over 5 rounds, of
the mean time per call over 100,000 random pairs (the target), and over 100,000
pairs of an organization and one of its ancestors. A naive ``is_within`` that walks
up the parent pointers is timed on the same pairs, in the same run, for the ratio.
Times are CPU time of this process (the machines are shared).

Run ``python benchmarks/bench_hierarchy.py``; it exits 1 if a target is missed.
"""

from __future__ import annotations

import collections
import itertools
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence

from common import Figure, print_figures

from userimport import Organization, OrgTree

SIZE = 100_000
CHAIN = 2_000
PAIRS = 100_000
ROUNDS = 5
BUILD_TARGET = 1.0  # seconds
IS_WITHIN_TARGET = 2e-6  # seconds per call


def organizations() -> list[Organization]:
    """A wide tree of a few levels plus one deep chain: ``SIZE`` organizations."""
    orgs = [Organization("root", "Acme")]
    offices = (SIZE - 1 - CHAIN) // (50 * 40) - 1
    for c in range(50):
        country = f"c{c}"
        orgs.append(Organization(country, f"Country {c}", "root"))
        for r in range(40):
            region = f"{country}r{r}"
            orgs.append(Organization(region, f"Region {r}", country))
            orgs.extend(
                Organization(f"{region}o{o}", f"Office {o}", region)
                for o in range(offices)
            )
    parent = "root"
    while len(orgs) < SIZE:
        org_id = f"d{len(orgs)}"
        orgs.append(Organization(org_id, f"Level {len(orgs)}", parent))
        parent = org_id
    return orgs


def naive_is_within(parent: dict[str, str | None]) -> Callable[[str, str], bool]:
    """``is_within`` by walking up the parent pointers (the obvious way)."""

    def is_within(org_id: str, ancestor_id: str) -> bool:
        current: str | None = org_id
        while current is not None:
            if current == ancestor_id:
                return True
            current = parent.get(current)
        return False

    return is_within


def _ancestors(tree: OrgTree, org_id: str) -> list[str]:
    """``org_id`` and every organization above it."""
    chain = [org_id]
    org = tree.get(org_id)
    while org is not None and org.parent_id is not None:
        chain.append(org.parent_id)
        org = tree.get(org.parent_id)
    return chain


def per_call(
    check: Callable[[str, str], bool], pairs: Sequence[tuple[str, str]]
) -> float:
    """Median over ``ROUNDS`` of the mean seconds per call over ``pairs``.

    The calls are made by ``itertools.starmap``, so the time is the function's, not
    that of a Python loop around it (as ``timeit`` subtracts its own loop).
    """
    times = []
    for _ in range(ROUNDS):
        start = time.process_time()
        collections.deque(itertools.starmap(check, pairs), maxlen=0)
        times.append((time.process_time() - start) / len(pairs))
    return statistics.median(times)


def figures() -> list[Figure]:
    """Build the tree and time is_within; the figures."""
    orgs = organizations()
    builds = []
    for _ in range(ROUNDS):
        start = time.process_time()
        tree = OrgTree(orgs)
        builds.append(time.process_time() - start)
    build = statistics.median(builds)

    rng = random.Random(3)
    ids = [org.id for org in orgs]
    random_pairs = [(rng.choice(ids), rng.choice(ids)) for _ in range(PAIRS)]
    # Pairs whose answer is true (an organization and one of its ancestors) are the
    # slow case of the naive walk and the common case of an import.
    ancestor_pairs = []
    for org_id, _ in random_pairs:
        chain = _ancestors(tree, org_id)
        ancestor_pairs.append((org_id, rng.choice(chain)))
    naive_check = naive_is_within({o.id: o.parent_id for o in orgs})
    fast = per_call(tree.is_within, random_pairs)
    naive = per_call(naive_check, random_pairs)
    fast_up = per_call(tree.is_within, ancestor_pairs)
    naive_up = per_call(naive_check, ancestor_pairs)
    return [
        Figure(
            f"OrgTree of {len(tree):,} organizations (one chain {CHAIN:,} deep): build",
            f"{build:.3f} s CPU",
            f"<= {BUILD_TARGET:g} s",
            build <= BUILD_TARGET,
        ),
        Figure(
            f"  is_within, {PAIRS:,} random pairs",
            f"{fast * 1e6:.2f} us",
            f"<= {IS_WITHIN_TARGET * 1e6:g} us",
            fast <= IS_WITHIN_TARGET,
        ),
        Figure(
            "  is_within, organization and ancestor pairs; naive parent walk",
            f"{fast_up * 1e6:.2f} us; walk {naive_up / fast_up:.1f}x slower"
            f" ({naive / fast:.1f}x on random pairs)",
        ),
    ]


def main() -> int:
    """Run the benchmark, print the figures, return the exit status."""
    return print_figures(figures())


if __name__ == "__main__":
    sys.exit(main())
