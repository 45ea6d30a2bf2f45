"""The persistence port: ``UserStore``, ``StoredUser`` and a commit's writes (SPEC §7).

A store needs three bulk operations, small enough to implement for any backend in an
afternoon; :mod:`userimport.testing` ships the contract suite that proves an adapter
behaves like the reference :class:`~userimport.MemoryStore`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Protocol, runtime_checkable

import attrs

from userimport.schema import COLUMNS, Role, UserRow, email_key

__all__ = [
    "FIELDS",
    "FieldValue",
    "StoredUser",
    "UserStore",
    "UserWrite",
    "conflicting_keys",
    "diff_fields",
]

#: The user fields a store keeps besides its id: the canonical columns, in
#: template order (a column of the upload is a field of the user).
FIELDS: tuple[str, ...] = COLUMNS


def _tuple(value: Sequence[str]) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen
class StoredUser:
    """A user as kept by a store.

    Attributes:
        id: The store's identifier for the user (a string, whatever the backend).
        email: The email as stored (the local part keeps its case).
        first_name: Given name.
        last_name: Family name.
        organization: The organization id.
        role: The :class:`Role`.
        groups: Group names.
        language: ``xx`` or ``xx-YY``, or ``None``.
    """

    id: str
    email: str
    first_name: str
    last_name: str
    organization: str
    role: Role = attrs.field(default=Role.LEARNER, converter=Role)
    groups: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    language: str | None = None

    @property
    def key(self) -> str:
        """The uniqueness key (see :func:`userimport.schema.email_key`)."""
        return email_key(self.email)

    @classmethod
    def of(cls, user_id: str, user: UserRow) -> StoredUser:
        """The user a store holds after writing ``user`` under ``user_id``."""
        return cls(
            id=user_id,
            email=user.email,
            first_name=user.first_name,
            last_name=user.last_name,
            organization=user.organization,
            role=user.role,
            groups=user.groups,
            language=user.language,
        )


#: The value of one user field: text, a tuple of group names, or ``None``.
FieldValue = str | tuple[str, ...] | None


def diff_fields(
    old: StoredUser, new: UserRow
) -> dict[str, tuple[FieldValue, FieldValue]]:
    """Fields that differ between a stored and a new user: ``{name: (old, new)}``."""
    changes: dict[str, tuple[FieldValue, FieldValue]] = {}
    for name in FIELDS:
        before = getattr(old, name)
        after = getattr(new, name)
        if before != after:
            changes[name] = (before, after)
    return changes


@attrs.frozen
class UserWrite:
    """One write of a commit: create a user, or update one the review saw.

    Attributes:
        user: The complete state to store.
        expected: ``None`` to create (the email key must not exist yet); otherwise
            the stored user as the review saw it: the store updates that user
            (``expected.id``) only if it is still exactly ``expected``.
    """

    user: UserRow
    expected: StoredUser | None = None

    @property
    def key(self) -> str:
        """The email key this write touches."""
        return self.user.key


@runtime_checkable
class UserStore(Protocol):
    """Where users live. Implement these three methods for any backend.

    Every method is bulk (one call for many users). Failures of the backend are
    raised as :class:`~userimport.StoreError`.
    """

    def find_by_keys(self, keys: Collection[str]) -> Mapping[str, StoredUser]:
        """The stored users whose email key is among ``keys``, by key.

        Keys are :func:`~userimport.schema.email_key` values; absent keys are left
        out of the result. Any organization: the caller applies visibility.
        """
        ...

    def list_users(self, org_ids: Collection[str]) -> Sequence[StoredUser]:
        """The users of the given organizations, ordered by email key."""
        ...

    def apply(self, writes: Sequence[UserWrite]) -> Sequence[StoredUser]:
        """Apply every write atomically: all of them or none.

        Raises:
            CommitConflict: (with ``keys``) a create meets an existing key, or an
                update finds its user missing or different from ``expected``.
                Nothing was written.
            StoreError: the backend failed. Nothing was written.

        Returns:
            The stored users, in the order of ``writes``.
        """
        ...


def conflicting_keys(
    writes: Sequence[UserWrite], current: Iterable[StoredUser]
) -> tuple[str, ...]:
    """The sorted keys of the writes of a batch that conflict: the rules of ``apply``.

    Every adapter must raise :class:`~userimport.CommitConflict` with exactly these
    keys, so an adapter reads the users concerned inside its transaction and asks
    this function instead of re-deriving the rules. A write conflicts when

    - its key occurs in more than one write of the batch;
    - it creates a key that a stored user holds;
    - it updates a user that is missing, differs from ``expected``, or is updated
      by another write of the batch too;
    - it moves a user onto a key another user holds.

    Keys are judged against the state before the batch, as a unique index checked
    per statement would: a key given up by one write cannot be taken by another.

    Args:
        writes: The batch.
        current: The stored users that hold a key of the batch or have an id the
            batch updates (``expected.id``); other users are ignored, and an
            updated id missing here counts as a missing user.

    Returns:
        The keys (:attr:`UserWrite.key`) of the conflicting writes, sorted; empty
        when the batch may be applied.
    """
    by_id = {user.id: user for user in current}
    holders = {user.key: user.id for user in by_id.values()}
    key_counts = Counter(w.key for w in writes)
    id_counts = Counter(w.expected.id for w in writes if w.expected is not None)
    keys: set[str] = set()
    for write in writes:
        holder = holders.get(write.key)
        if key_counts[write.key] > 1:
            keys.add(write.key)
        elif write.expected is None:
            if holder is not None:
                keys.add(write.key)
        elif (
            id_counts[write.expected.id] > 1
            or by_id.get(write.expected.id) != write.expected
            or holder not in (None, write.expected.id)
        ):
            keys.add(write.key)
    return tuple(sorted(keys))
