"""Concurrent imports in real processes, on a SQLite file and on PostgreSQL.

Eight processes (``spawn``: separate interpreters, separate connections) import at
the same moment: first the same 200-row file; then overlapping files with rows in
shuffled order and emails in Unicode case variants of one another; then the same
directly through ``store.apply``. Whatever the interleaving: no key is stored twice,
every import lands whole or not at all, and every loser gets ``CommitConflict``
(never a deadlock or a "database is locked" error).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.pool
import random
from collections import defaultdict
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from sql.workers import ROOT, Outcome, Round, run_round, start_worker
from userimport import Organization
from userimport.schema import email_key
from userimport.sql import SQLStore, users

PROCESSES = 8

#: Local parts whose case variants differ beyond ASCII (ß/SS, final sigma, Turkish
#: dotted İ, the Dž digraph's three cases), so SQLite's NOCASE would not catch them.
_BASES = ("straße", "ὀδυσσεύς", "çelik", "ñandú", "øre", "ǆemal", "émile", "İlkay")


def _variant(email: str, rng: random.Random) -> str:
    """One random spelling of ``email`` with the same key."""
    local, domain = email.split("@")
    local = rng.choice([local, local.upper(), local.title(), local.casefold()])
    return f"{local}@{rng.choice([domain, domain.upper()])}"


def _overlapping(
    prefix: str, rng: random.Random, *, pool: int, size: int, through_flow: bool
) -> list[Round]:
    """One round per process: ``size`` emails out of a shared pool of ``pool``,
    each process in its own row order and spellings."""
    emails = [f"{_BASES[n % len(_BASES)]}.{prefix}{n}@example.com" for n in range(pool)]
    return [
        Round(
            tag=f"{prefix}P{process}",
            emails=tuple(_variant(e, rng) for e in rng.sample(emails, size)),
            through_flow=through_flow,
        )
        for process in range(PROCESSES)
    ]


@pytest.fixture(scope="module")
def importers() -> Iterator[multiprocessing.pool.Pool]:
    """8 worker processes (``spawn``), started once for every backend's test."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    with context.Pool(PROCESSES, start_worker, (barrier,)) as pool:
        yield pool


def _run(
    pool: multiprocessing.pool.Pool, url: str | sa.URL, rounds: list[list[Round]]
) -> list[Outcome]:
    """Run each round on every worker at once (one ``Round`` per worker)."""
    outcomes: list[Outcome] = []
    for round_ in rounds:
        tasks = [(url, worker_round) for worker_round in round_]
        try:
            outcomes += pool.starmap_async(run_round, tasks, chunksize=1).get(120)
        except multiprocessing.TimeoutError:  # pragma: no cover - a failure
            pytest.fail(f"workers hung; outcomes so far: {outcomes}")
    return outcomes


def _stored_by_tag(url: str | sa.URL) -> dict[str, list[tuple[str, str]]]:
    """Every stored user's (key, id), grouped by first name (the round's tag),
    read straight from the table."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(users.c.first_name, users.c.email_key, users.c.id)
            ).all()
    finally:
        engine.dispose()
    by_tag: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for tag, key, user_id in rows:
        by_tag[tag].append((key, str(user_id)))
    return by_tag


def test_concurrent_imports_land_whole_or_not_at_all(
    importers: multiprocessing.pool.Pool, database_url: str | sa.URL
) -> None:
    """8 processes import at once, in three rounds (the same 200-row file;
    overlapping shuffled files in Unicode case variants; overlapping batches
    through ``apply``): 0 duplicates, 0 partial imports, every loser gets
    ``CommitConflict``, no other error escapes."""
    with SQLStore(database_url) as store:
        store.create_schema()
        store.add_organizations([Organization(ROOT, "Acme")])
    rng = random.Random(4)
    same = tuple(f"user{n:03}@example.com" for n in range(200))
    rounds = [
        [Round("Same", same, through_flow=True)] * PROCESSES,
        _overlapping("F", rng, pool=120, size=40, through_flow=True),
        _overlapping("S", rng, pool=120, size=40, through_flow=False),
    ]

    outcomes = _run(importers, database_url, rounds)
    stored = _stored_by_tag(database_url)

    assert [] == [o for o in outcomes if o.kind == "error"]
    # Round 1: one winner wrote all 200 rows; the seven others wrote nothing.
    same_outcomes = [o for o in outcomes if o.tag == "Same"]
    (winner,) = [o for o in same_outcomes if o.kind == "ok"]
    assert PROCESSES - 1 == sum(o.kind == "conflict" for o in same_outcomes)
    assert sorted(winner.ids) == sorted(user_id for _, user_id in stored["Same"])
    assert sorted(email_key(e) for e in same) == sorted(k for k, _ in stored["Same"])
    # Rounds 2 and 3: each batch is whole (the winners) or absent (the losers).
    plan_of = {r.tag: r for r in rounds[1] + rounds[2]}
    for outcome in outcomes:
        if outcome.tag == "Same":
            continue
        landed = stored.get(outcome.tag, [])
        if outcome.kind == "ok":
            wanted = sorted(email_key(e) for e in plan_of[outcome.tag].emails)
            assert wanted == sorted(k for k, _ in landed)
            assert sorted(outcome.ids) == sorted(i for _, i in landed)
        else:
            assert [] == landed
            if plan_of[outcome.tag].through_flow:
                assert outcome.rows  # the flow names the rows concerned
    for prefix in ("F", "S"):
        assert any(o.kind == "ok" for o in outcomes if o.tag.startswith(prefix))
    keys = [k for rows in stored.values() for k, _ in rows]
    assert len(keys) == len(set(keys))
