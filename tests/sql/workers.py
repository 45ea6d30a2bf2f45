"""The worker processes of the concurrency tests.

They live in an importable module (not in a test module) because the ``spawn``
start method imports the target function by name in a brand-new interpreter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import sqlalchemy as sa

from userimport.access import Actor
from userimport.exceptions import CommitConflict
from userimport.flow import commit, prepare
from userimport.persistence import UserWrite
from userimport.schema import UserRow
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


def run_rounds(
    url: str | sa.URL, rounds: Sequence[Round], barrier: Any, results: Any
) -> None:
    """Open a store, then for each round: get ready, wait for every worker at
    ``barrier``, write, and put the :class:`Outcome` on ``results``."""
    store = SQLStore(url)
    try:
        actor = Actor(ROOT)
        orgs = store.org_tree()
        for round_ in rounds:
            try:
                if round_.through_flow:
                    # Every worker reviews before anyone commits: all previews
                    # say "create", as when 8 admins upload at the same moment.
                    preview = prepare(round_.csv(), actor=actor, orgs=orgs, store=store)
                    barrier.wait(timeout=60)
                    result = commit(preview, actor=actor, orgs=orgs, store=store)
                    written = result.users
                else:
                    writes = [
                        UserWrite(UserRow(round_.tag, "Worker", email, ROOT))
                        for email in round_.emails
                    ]
                    barrier.wait(timeout=60)
                    written = tuple(store.apply(writes))
                outcome = Outcome(round_.tag, "ok", ids=tuple(u.id for u in written))
            except CommitConflict as conflict:
                outcome = Outcome(round_.tag, "conflict", rows=conflict.rows)
            except Exception as error:  # reported to the test, which fails on it
                barrier.abort()
                outcome = Outcome(round_.tag, "error", detail=repr(error))
            results.put(outcome)
    finally:
        store.close()
