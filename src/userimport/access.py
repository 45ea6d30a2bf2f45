"""Who may do what: the importing ``Actor`` and the visibility rules (SPEC §5).

An actor may see, create and update users only in its own organization and those
below it, and may assign roles up to its own rank, never above.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from userimport.schema import Role

if TYPE_CHECKING:
    from userimport.hierarchy import OrgTree
    from userimport.persistence import StoredUser, UserStore

__all__ = ["Actor", "visible_users"]


@attrs.frozen
class Actor:
    """The administrator doing the import.

    Attributes:
        org_id: The actor's own organization; it may act on it and everything under it.
        role: The actor's role; it may assign roles up to this rank.
    """

    org_id: str
    role: Role = attrs.field(default=Role.ADMIN, converter=Role)

    def may_assign(self, role: Role) -> bool:
        """Whether this actor may give ``role`` to a user (ranks up to its own)."""
        return Role(role).rank <= self.role.rank


def visible_users(actor: Actor, orgs: OrgTree, store: UserStore) -> list[StoredUser]:
    """The users of the actor's organization and every organization under it."""
    return list(store.list_users(orgs.subtree_ids(actor.org_id)))
