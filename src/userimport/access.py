"""Who may do what: the importing ``Actor`` and the visibility rules.

An actor may see, create and update users only in its own organization and those
below it, and may assign roles up to its own rank, never above.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from userimport.persistence import search_words, users_page
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


def visible_users(
    actor: Actor,
    orgs: OrgTree,
    store: UserStore,
    *,
    search: str | None = None,
    limit: int | None = None,
    after: str | None = None,
) -> list[StoredUser]:
    """The users of the actor's organization and every organization under it.

    The Users screen: ordered by email key, optionally searched and paged. The
    store filters, orders and limits (see
    :class:`~userimport.persistence.SearchableUserStore`); a store without that
    method is filtered in Python by :func:`~userimport.persistence.users_page`.

    Args:
        actor: Whose users: its organization's subtree, never anything else.
        orgs: The hierarchy.
        store: Where the users are.
        search: Text to look for: each of its words must start a word of the
            user's first name, last name or email, ignoring case and accents
            (``"nunez"`` finds Núñez, ``"gar an"`` finds Ana García); see
            :func:`~userimport.persistence.search_words`. ``None``, or text
            without letters or digits, lists everyone.
        limit: At most this many users (keyset pagination): ``None`` for all.
        after: The email key (:attr:`StoredUser.key`) of the last user of the
            previous page; the page starts after it. Page *n* costs what page 1
            costs.

    Returns:
        The users, ordered by email key.

    Raises:
        ValueError: ``limit`` is less than 1.
    """
    words = search_words(search) if search else ()
    page = users_page(
        store,
        orgs.subtree_ids(actor.org_id),
        words=words,
        after=after,
        limit=limit,
    )
    return list(page)
