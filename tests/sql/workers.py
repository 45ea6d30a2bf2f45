"""The worker processes of the concurrency tests.

They live in an importable module (not in a test module) because the ``spawn``
start method imports the worker's functions by name in a brand-new interpreter.
"""

from __future__ import annotations

from typing import Any

import attrs
import sqlalchemy as sa

from userimport import Actor, CommitConflict, UserRow, UserWrite, commit, prepare
from userimport.sql import SQLStore

#: The organization every worker imports into, as its admin.
ROOT = "root"


@attrs.frozen
class Round:
    """One round of a worker: what it writes once every worker is ready.

    Attributes:
        tag: The first name of every user the round writes, so that the test can
            tell whose rows landed.
        emails: The emails, in the order written (rows of the file, or writes).
        through_flow: Import a CSV file with ``prepare`` then ``commit`` (the whole
            flow), or else call ``store.apply`` with creates directly.
    """

    tag: str
    emails: tuple[str, ...]
    through_flow: bool

    def csv(self) -> bytes:
        """The upload of this round: one row per email."""
        lines = ["first_name,last_name,email"]
        lines += [f"{self.tag},Worker,{email}" for email in self.emails]
        return ("\r\n".join(lines) + "\r\n").encode()


@attrs.frozen
class Outcome:
    """What one round of one worker gave.

    Attributes:
        tag: The round's tag.
        kind: ``"ok"``, ``"conflict"`` (``CommitConflict``) or ``"error"``
            (anything else: a test failure).
        ids: The ids written, for ``"ok"``.
        rows: ``CommitConflict.rows`` for a conflict of the flow.
        detail: The ``repr`` of an unexpected error.
    """

    tag: str
    kind: str
    ids: tuple[str, ...] = ()
    rows: tuple[int, ...] = ()
    detail: str = ""


#: The barrier every worker of the pool waits at before it writes (set up by
#: :func:`start_worker`; a ``multiprocessing`` barrier is inherited, not pickled).
_barrier: Any = None

#: Each worker's stores, by URL, opened on first use and kept across rounds.
_stores: dict[str, SQLStore] = {}


def start_worker(barrier: Any) -> None:
    """Pool initializer: keep the shared barrier."""
    global _barrier
    _barrier = barrier


def run_round(url: str | sa.URL, round_: Round) -> Outcome:
    """Get ready for one round, wait until every worker is ready, write once.

    The barrier holds each worker inside its task until all have one, so a pool of
    N workers given N tasks runs exactly one task per worker, all at once.
    """
    key = url if isinstance(url, str) else url.render_as_string(hide_password=False)
    if key not in _stores:
        _stores[key] = SQLStore(url)
    store = _stores[key]
    actor = Actor(ROOT)
    try:
        orgs = store.org_tree()
        if round_.through_flow:
            # Every worker reviews before anyone commits: all previews say
            # "create", as when 8 admins upload at the same moment.
            preview = prepare(round_.csv(), actor=actor, orgs=orgs, store=store)
            _barrier.wait(timeout=60)
            written = commit(preview, actor=actor, orgs=orgs, store=store).users
        else:
            writes = [
                UserWrite(UserRow(round_.tag, "Worker", email, ROOT))
                for email in round_.emails
            ]
            _barrier.wait(timeout=60)
            written = tuple(store.apply(writes))
        return Outcome(round_.tag, "ok", ids=tuple(u.id for u in written))
    except CommitConflict as conflict:
        return Outcome(round_.tag, "conflict", rows=conflict.rows)
    except Exception as error:  # reported to the test, which fails on it
        _barrier.abort()
        return Outcome(round_.tag, "error", detail=repr(error))


def _store(url: str | sa.URL) -> SQLStore:
    """This worker's store on ``url``, opened on first use and kept."""
    key = url if isinstance(url, str) else url.render_as_string(hide_password=False)
    if key not in _stores:
        _stores[key] = SQLStore(url)
    return _stores[key]


def org_name(url: str | sa.URL, org_id: str) -> str:
    """The name of an organization in the tree of this worker's store, which keeps
    its tree across calls."""
    org = _store(url).org_tree().get(org_id)
    return "" if org is None else org.name


def rename_org(url: str | sa.URL, org_id: str, name: str) -> None:
    """Rename an organization through this worker's store."""
    store = _store(url)
    org = store.org_tree().get(org_id)
    assert org is not None
    store.add_organizations([attrs.evolve(org, name=name)])
