"""The persistence port: ``UserStore``, ``StoredUser`` and a commit's writes.

A store needs three bulk operations, small enough to implement for any backend in an
afternoon; :mod:`userimport.testing` ships the contract suite that proves an adapter
behaves like the reference :class:`~userimport.MemoryStore`.

The Users screen pages through a branch and searches it. A store may do that itself
with the optional method of :class:`SearchableUserStore`; :func:`users_page` calls
it when the store has it, and otherwise filters ``list_users`` in Python. What a
search matches is decided here, once: :func:`search_words` turns text into the words
a search sees, and :func:`matches_search` says whether a user's words answer a query.

The review warns of an email that looks like an existing user's. A store may find
those users itself with the optional method of :class:`LookAlikeUserStore`;
otherwise the review lists every user the actor may see.
"""

from __future__ import annotations

import heapq
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Protocol, runtime_checkable

import attrs

from userimport.schema import COLUMNS, Role, UserRow, email_key

__all__ = [
    "FIELDS",
    "FieldValue",
    "LookAlikeUserStore",
    "SearchableUserStore",
    "StoredUser",
    "UserStore",
    "UserWrite",
    "conflicting_keys",
    "diff_fields",
    "matches_search",
    "page_of",
    "search_words",
    "user_words",
    "users_page",
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


# -- the Users screen: search and pages -----------------------------------------------


class _WordCharacters(dict[int, str | None]):
    """The ``str.translate`` table of :func:`search_words`, filled on demand.

    A combining mark (an accent: non-zero canonical combining class) is deleted; a
    letter, digit or other mark is kept; anything else (spaces, punctuation, ``@``,
    ``_``, symbols) becomes a space, which separates words. At most :attr:`SIZE`
    characters are remembered, so hostile input cannot grow it without bound.
    """

    SIZE = 4096

    def __missing__(self, code: int) -> str | None:
        char = chr(code)
        verdict: str | None
        if unicodedata.combining(char):
            verdict = None
        elif unicodedata.category(char)[0] in "LNM":
            verdict = char
        else:
            verdict = " "
        if len(self) < self.SIZE:
            self[code] = verdict
        return verdict


_WORD_CHARACTERS = _WordCharacters()


def search_words(*texts: str) -> tuple[str, ...]:
    """The words of ``texts`` as a search sees them, each once, in order.

    Case and accents are ignored: text is folded by Unicode's compatibility caseless
    match (the Unicode Standard, section 3.13, definition D145: NFKD and case folding
    until stable), then combining marks are dropped, so ``"Núñez"``, ``"NUNEZ"`` and
    ``"nuñez"`` written in full-width letters all give ``("nunez",)``, and
    ``"Straße"`` gives ``("strasse",)``. Words are the runs of letters, digits and
    the marks that remain; everything else separates them
    (``"ana.garcia@example.com"`` has the words ``ana``, ``garcia``, ``example``
    and ``com``; ``"O'Neil"`` has ``o`` and ``neil``). A script written without
    spaces (Chinese, Japanese) gives one word per run of characters.

    Stores apply this to each user's first name, last name and email
    (:func:`user_words`) when they write the user, and :func:`users_page` to the
    search text, so both sides are folded by this one function.
    """
    words: list[str] = []
    for text in texts:
        folded = unicodedata.normalize("NFD", text).casefold()
        folded = unicodedata.normalize("NFKD", folded).casefold()
        folded = unicodedata.normalize("NFKD", folded)
        words.extend(folded.translate(_WORD_CHARACTERS).split())
    return tuple(dict.fromkeys(words))


def user_words(user: UserRow | StoredUser) -> tuple[str, ...]:
    """The words a search may match in a user: its first name, last name and email.

    A missing field (``None``, which only code that bypasses validation can send)
    has no words, so that a store's own refusal of such a user is what the caller
    sees.
    """
    fields = (user.first_name, user.last_name, user.email)
    return search_words(*(text for text in fields if text))


def matches_search(words: Sequence[str], query: Sequence[str]) -> bool:
    """Whether a user with ``words`` (:func:`user_words`) answers ``query``.

    ``query`` is the words of the search text (:func:`search_words`): each of them
    must be the start of one of the user's words, in any order. An empty query
    matches every user. ``"gar an"`` finds Ana García; ``"ana x"`` does not.
    """
    return all(any(word.startswith(part) for word in words) for part in query)


@runtime_checkable
class SearchableUserStore(UserStore, Protocol):
    """A store that pages and searches the Users screen itself.

    The method is optional: :func:`users_page` falls back on ``list_users`` and
    filters in Python for a store without it, which is right but reads the whole
    branch on every page. Implement it when branches are large, so that the
    database does the filtering, the ordering and the limit.
    """

    def search_users(
        self,
        org_ids: Collection[str],
        *,
        words: Sequence[str] = (),
        after: str | None = None,
        limit: int | None = None,
    ) -> Sequence[StoredUser]:
        """One page of the users of the given organizations, ordered by email key.

        Args:
            org_ids: The organizations whose users are listed.
            words: Query words (:func:`search_words` of the search text); a user is
                listed only if each of them starts one of its :func:`user_words`,
                compared as plain text (a ``%`` or ``_`` in a query word is that
                character, never a wildcard).
            after: List only users whose email key is greater than this one (the
                key of the last user of the previous page).
            limit: At most this many users (a positive number); ``None`` for all.
        """
        ...


@runtime_checkable
class LookAlikeUserStore(UserStore, Protocol):
    """A store that finds the users whose email looks like another one.

    The method is optional. The review's ``confusable_email`` warning compares
    the rows' emails with the users the actor may see; for a store without it,
    the review lists all of them (``list_users``) and takes the UTS #39 skeleton
    of each, on every ``prepare``, ``revise`` and ``commit``: about 2 µs a
    visible user, so 0.2 s a review at 100,000. Implement it when branches are
    large: keep the likeness of each user's key, computed when the user is
    written, in an index, and look the wanted ones up.

    A user's likeness is ``userimport._confusables.likeness(user.key)``, the one
    rule of what two emails are compared by (it needs PyICU, the
    ``confusables`` extra). Its data changes with ICU's Unicode version: keep
    ``userimport._confusables.likeness_version()`` with the likenesses, and
    compute them again when it changes. :mod:`userimport.testing` checks the
    method against that rule.
    """

    def find_look_alikes(
        self, likenesses: Collection[str], org_ids: Collection[str]
    ) -> Sequence[StoredUser]:
        """The users of the given organizations whose email key has one of the
        ``likenesses``, each once, in any order.

        The review calls it only when PyICU is installed; without it, a store
        may raise ``ModuleNotFoundError``.
        """
        ...


def _check_limit(limit: int | None) -> None:
    if limit is not None and limit < 1:
        raise ValueError(f"A page holds at least one user, not limit={limit!r}.")


def users_page(
    store: UserStore,
    org_ids: Collection[str],
    *,
    words: Sequence[str] = (),
    after: str | None = None,
    limit: int | None = None,
) -> Sequence[StoredUser]:
    """One page of the users of ``org_ids``, from any store (see
    :meth:`SearchableUserStore.search_users` for the arguments).

    A store that has ``search_users`` answers it; for any other store this filters
    :meth:`UserStore.list_users` in Python (:func:`page_of`), which reads the whole
    branch on every page.

    Raises:
        ValueError: ``limit`` is less than 1.
    """
    _check_limit(limit)
    search = getattr(store, "search_users", None)
    if search is not None:
        found: Sequence[StoredUser] = search(
            org_ids, words=tuple(words), after=after, limit=limit
        )
        return found
    return page_of(
        ((user.key, user_words(user), user) for user in store.list_users(org_ids)),
        words=words,
        after=after,
        limit=limit,
    )


def page_of(
    entries: Iterable[tuple[str, Sequence[str], StoredUser]],
    *,
    words: Sequence[str] = (),
    after: str | None = None,
    limit: int | None = None,
) -> list[StoredUser]:
    """The page of ``search_users`` taken from users held in memory.

    Args:
        entries: ``(key, words, user)`` of each candidate user, in any order: its
            email key, its :func:`user_words` and the user itself.
        words: As for :meth:`SearchableUserStore.search_users`.
        after: As for :meth:`SearchableUserStore.search_users`.
        limit: As for :meth:`SearchableUserStore.search_users`.

    Returns:
        The users that match, after ``after``, ordered by key, at most ``limit``.

    Raises:
        ValueError: ``limit`` is less than 1.
    """
    _check_limit(limit)
    wanted = [
        (key, user)
        for key, held, user in entries
        if (after is None or key > after) and matches_search(held, words)
    ]
    if limit is None:
        wanted.sort(key=_first)
        return [user for _, user in wanted]
    return [user for _, user in heapq.nsmallest(limit, wanted, key=_first)]


def _first(entry: tuple[str, StoredUser]) -> str:
    return entry[0]
