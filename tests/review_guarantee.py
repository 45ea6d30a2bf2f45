"""The review's guarantee, as a property any store can be checked against.

Between ``prepare`` and ``commit`` anything may happen: an organization is renamed,
moved or deleted, another administrator creates one of the emails, the actor is
demoted, the server's options change, or the client edits the preview it kept.
``commit`` then either writes exactly the users of the preview it was given
(every field) or raises, with nothing written.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import attrs
from hypothesis import assume
from hypothesis import strategies as st

from userimport import (
    Action,
    Actor,
    CommitBlocked,
    CommitConflict,
    ImportOptions,
    Organization,
    OrgTree,
    Preview,
    PreviewMismatch,
    Role,
    StoredUser,
    UserRow,
    UserStore,
    UserWrite,
    commit,
    converter,
    prepare,
)

BASE = (
    Organization("root", "Acme"),
    Organization("es", "Spain", "root"),
    Organization("es-mad", "Madrid", "es"),
    Organization("es-bcn", "Barcelona", "es"),
    Organization("mx", "Mexico", "root"),
)
TREE = OrgTree(BASE)
ACTORS = (Actor("root", Role.ADMIN), Actor("es", Role.MANAGER))
REFS = ("", "Madrid", "Spain / Barcelona", "es-mad", "Mexico")
ROLES = ("", "learner", "instructor", "manager")
NAMES = ("Ana", "Bo", "Çelik", "José")

#: A fresh prefix for each example's emails, so examples sharing one store (a
#: database) never meet each other's users.
_examples = itertools.count()


@attrs.frozen
class Case:
    """One review and what happens to the world before Done."""

    rows: tuple[tuple[str, str, str, str], ...]  # first name, email local, org, role
    existing: tuple[int, ...]  # rows whose email is stored before the review
    actor: Actor
    on_existing: str
    change: str


cases = st.builds(
    Case,
    rows=st.lists(
        st.tuples(
            st.sampled_from(NAMES),
            st.sampled_from(("a", "b", "c", "d", "e")),
            st.sampled_from(REFS),
            st.sampled_from(ROLES),
        ),
        min_size=1,
        max_size=5,
        unique_by=lambda row: row[1],
    ).map(tuple),
    existing=st.lists(st.integers(0, 4), max_size=2, unique=True).map(tuple),
    actor=st.sampled_from(ACTORS),
    on_existing=st.sampled_from(("skip", "update")),
    change=st.sampled_from(
        (
            "nothing",
            "rename",
            "move",
            "delete",
            "create an email",
            "demote",
            "other options",
            "edit a value",
            "edit a user",
            "flip an invalid row",
        )
    ),
)


def _tree_after(change: str) -> OrgTree:
    if change == "rename":  # another organization takes Madrid's name
        return OrgTree(
            [
                attrs.evolve(o, name="Old Madrid")
                if o.id == "es-mad"
                else attrs.evolve(o, name="Madrid")
                if o.id == "mx"
                else o
                for o in BASE
            ]
        )
    if change == "move":
        return OrgTree(
            [attrs.evolve(o, parent_id="mx") if o.id == "es-mad" else o for o in BASE]
        )
    if change == "delete":
        return OrgTree([o for o in BASE if o.id != "es-bcn"])
    return TREE


def _edited(preview: Preview, change: str) -> Preview:
    """The preview as a client that edited its JSON sends it back."""
    rows = list(converter.loads(converter.dumps(preview), Preview).rows)
    if change == "edit a value":
        rows[0] = attrs.evolve(rows[0], values={**rows[0].values, "first_name": "Eve"})
    elif change == "edit a user" and rows[0].user is not None:
        rows[0] = attrs.evolve(rows[0], user=attrs.evolve(rows[0].user, role="admin"))
    elif change == "flip an invalid row":
        invalid = [i for i, row in enumerate(rows) if row.action is Action.INVALID]
        assume(invalid)
        row = rows[invalid[0]]
        user = UserRow("Eve", "Forged", f"forged{next(_examples)}@x.example", "root")
        rows[invalid[0]] = attrs.evolve(row, action=Action.CREATE, user=user, issues=())
    return attrs.evolve(preview, rows=tuple(rows))


def check_review_guarantee(case: Case, store: UserStore) -> None:
    """Prepare ``case``'s upload, change the world, commit: exactly what the
    preview says is written, or nothing."""
    prefix = f"x{next(_examples)}"
    emails = [f"{prefix}{local}@x.example" for _, local, _, _ in case.rows]
    lines = ["first_name,last_name,email,organization,role"]
    lines += [
        f"{name},Gil,{email},{ref},{role}"
        for (name, _, ref, role), email in zip(case.rows, emails, strict=True)
    ]
    if case.existing:
        store.apply(
            [
                UserWrite(UserRow("Old", "Name", emails[i], "es-mad"))
                for i in sorted(set(case.existing))
                if i < len(emails)
            ]
        )
    options = ImportOptions(on_existing=case.on_existing)
    preview = prepare(
        "\r\n".join(lines).encode(),
        actor=case.actor,
        orgs=TREE,
        store=store,
        options=options,
    )
    assume(preview.can_commit)

    actor, tree, server_options = case.actor, _tree_after(case.change), options
    if case.change == "create an email":
        stored = store.find_by_keys([email.lower() for email in emails])
        fresh = [email for email in emails if email.lower() not in stored]
        assume(fresh)
        store.apply([UserWrite(UserRow("Someone", "Else", fresh[-1], "mx"))])
    elif case.change == "demote":
        actor = attrs.evolve(actor, role=Role.INSTRUCTOR)
    elif case.change == "other options":
        other = "update" if case.on_existing == "skip" else "skip"
        server_options = ImportOptions(on_existing=other)
    sent = _edited(preview, case.change)

    keys = [email.lower() for email in emails] + [
        user.key for row in sent.rows if (user := row.user) is not None
    ]
    before = _snapshot(store, keys)
    try:
        result = commit(
            sent,
            actor=actor,
            orgs=tree,
            store=store,
            options=server_options,
            skip_invalid=True,
        )
    except (PreviewMismatch, CommitConflict, CommitBlocked):
        assert before == _snapshot(store, keys), "a refused commit wrote something"
        return
    after = _snapshot(store, keys)
    written = {
        row.user.key: row.user
        for row in sent.rows
        if row.user is not None and row.action in (Action.CREATE, Action.UPDATE)
    }
    for key, now in after.items():
        if key in written:
            assert _fields(written[key]) == _fields(now)
        else:
            assert before.get(key) == now, f"{key} changed without being reviewed"
    assert set(written) <= set(after)
    assert len(written) == result.created + result.updated


def _snapshot(store: UserStore, keys: list[str]) -> Mapping[str, StoredUser]:
    return dict(store.find_by_keys(sorted(set(keys))))


def _fields(user: UserRow | StoredUser) -> tuple[object, ...]:
    return (
        user.email,
        user.first_name,
        user.last_name,
        user.organization,
        user.role,
        tuple(user.groups),
        user.language,
    )
