"""The ``confusable_email`` warning on ``SQLStore``, on every backend: a look-alike
of a user the actor may see warns, one of a user outside its subtree does not."""

from __future__ import annotations

import pytest

from userimport import (
    Actor,
    IssueCode,
    Organization,
    OrgTree,
    UserRow,
    UserWrite,
    commit,
    prepare,
)
from userimport.sql import SQLStore

pytest.importorskip("icu")

ORGS = [
    Organization("root", "Acme"),
    Organization("es", "Spain", "root"),
    Organization("fr", "France", "root"),
]
TREE = OrgTree(ORGS)


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
    data = (
        "first_name,last_name,email\r\nAna,Gil,pаypal@x.com\r\nDi,Ng,rnike@x.com\r\n"
    ).encode()

    def warned(actor: Actor) -> list[int | None]:
        preview = prepare(data, actor=actor, orgs=TREE, store=store)
        return [
            issue.row
            for issue in preview.issues
            if issue.code is IssueCode.CONFUSABLE_EMAIL
        ]

    assert warned(Actor("es")) == [2]
    assert warned(Actor("root")) == [2, 3]
    preview = prepare(data, actor=Actor("es"), orgs=TREE, store=store)
    assert commit(preview, actor=Actor("es"), orgs=TREE, store=store).created == 2
