# ruff: noqa: RUF002 (look-alike characters are what this module is about)
"""Look-alike email addresses: UTS #39 skeletons, for the ``confusable_email`` warning.

Two addresses are confusable when they are different users (different
:func:`~userimport.schema.email_key`) but look the same: ``pаypal@x.com`` with a
Cyrillic ``а`` beside ``paypal@x.com``. Unicode Technical Standard #39 defines this
with the *skeleton* of a string (section 4, "Confusable Detection"): decompose,
map every character to its prototype in the confusables data, decompose again; two
strings are confusable exactly when their skeletons are equal.

The skeleton is ICU's (``SpoofChecker.getSkeleton``), the reference implementation of
UTS #39 with the Unicode data of its release, through PyICU (the ``confusables``
extra installs its prebuilt wheels, which bundle ICU: no compiler, no system
library). The library keeps no copy of the confusables table, which changes with
every Unicode version.

Keys are compared as they read: a key's domain is in its ASCII form
(``xn--pypal-4ve.com``), which hides a look-alike domain, so its A-labels are
decoded back to Unicode (``pаypal.com``) before the skeleton is taken.

:func:`look_alike_issues` makes the warnings: each names the look-alikes (another
row, or an existing user by its email) and shows the characters that differ with
their code points (``“а” U+0430 instead of “a” U+0061``), so a reviewer sees why.
The review chooses which rows and users are compared.

Without PyICU there is no skeleton: :func:`available` says so, and the review then
gives no ``confusable_email`` warning.

The existing users compared are found by :func:`look_alike_users`: a store that
keeps the :func:`likeness` of each user's key answers with an indexed look-up
(:class:`~userimport.persistence.LookAlikeUserStore`), any other store lists
every user the actor may see. A store that keeps likenesses records the
:func:`likeness_version` they were computed with, and computes them again when it
changes (ICU's data changes skeletons between Unicode versions).
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import unicodedata
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import attrs

from userimport._characters import hidden_character
from userimport._messages import listing, message
from userimport.issues import Issue, IssueCode
from userimport.persistence import StoredUser, UserStore

__all__ = [
    "Compared",
    "available",
    "confusable_groups",
    "likeness",
    "likeness_version",
    "likenesses",
    "look_alike_issues",
    "look_alike_users",
    "readable",
    "skeleton",
]


@functools.lru_cache(maxsize=1)
def _checker() -> object | None:
    """ICU's spoof checker, or ``None`` without PyICU (looked for once)."""
    try:
        import icu  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ModuleNotFoundError:
        return None
    checker: object = icu.SpoofChecker()
    return checker


def available() -> bool:
    """Whether skeletons can be taken: PyICU, the ``confusables`` extra, is there."""
    return _checker() is not None


def skeleton(text: str) -> str:
    """The UTS #39 skeleton of ``text``: equal skeletons, confusable strings.

    >>> skeleton("pаypal@x.com") == skeleton("paypal@x.com")  # Cyrillic а
    True

    Raises:
        ModuleNotFoundError: PyICU is not installed (the ``confusables`` extra).
    """
    # The skeleton type argument is ignored since ICU 58 (one skeleton for all).
    result: str = _icu().getSkeleton(0, text)
    return result


def _icu() -> Any:
    """ICU's spoof checker.

    Raises:
        ModuleNotFoundError: PyICU is not installed (the ``confusables`` extra).
    """
    checker = _checker()
    if checker is None:
        raise ModuleNotFoundError(
            "Look-alike emails are found with ICU's UTS #39 skeletons, which the "
            "'confusables' extra installs: pip install 'userimport[confusables]'",
            name="icu",
        )
    return checker


def likeness(key: str) -> str:
    """What an email key is compared by: the skeleton of its :func:`readable` form.
    Two keys look the same exactly when their likenesses are equal.

    >>> likeness("x@xn--pypal-4ve.com") == likeness("x@paypal.com")
    True

    An ASCII text's skeleton is the skeletons of its characters one after the other
    (see :func:`_ascii_skeletons`), which a few ``str.replace`` put together in a
    third of the time ICU takes: the users of a store, compared on every review,
    mostly have ASCII emails.

    Raises:
        ModuleNotFoundError: PyICU is not installed (the ``confusables`` extra).
    """
    text = readable(key)
    replacements = _ascii_skeletons(_icu())
    if replacements is None or not text.isascii():
        return skeleton(text)
    for char, mapped in replacements:
        if char in text:
            text = text.replace(char, mapped)
    return text


#: The version of this module's own part of :func:`likeness` (which text of a key is
#: compared: :func:`readable`); changed whenever that rule changes, so that stores
#: compute their kept likenesses again.
_LIKENESS_RULE = 1


def likeness_version() -> str:
    """What the likenesses taken now depend on: this module's rule, and the ICU
    release and Unicode version whose data make the skeletons.

    A store that keeps likenesses records this text with them; when it differs
    from the one taken now, the kept likenesses may no longer be right.

    >>> likeness_version()  # doctest: +SKIP
    'likeness 1, ICU 77.1, Unicode 16.0'

    Raises:
        ModuleNotFoundError: PyICU is not installed (the ``confusables`` extra).
    """
    _icu()
    import icu  # type: ignore[import-untyped,import-not-found,unused-ignore]

    return (
        f"likeness {_LIKENESS_RULE}, ICU {icu.ICU_VERSION}, "
        f"Unicode {icu.UNICODE_VERSION}"
    )


@functools.lru_cache(maxsize=1)
def _ascii_skeletons(checker: object) -> tuple[tuple[str, str], ...] | None:
    """ICU's skeleton of each ASCII character that has another one (``m`` → ``rn``,
    ``1`` → ``l``); ``None`` if putting them together would not be exact with this
    ICU.

    A skeleton decomposes a text (NFD), replaces each character by its prototype
    and decomposes again. ASCII is its own decomposition, so the skeleton of an
    ASCII text is the decomposition of its characters' prototypes put together.
    When each ASCII character's skeleton is made of characters that are their own
    decomposition and of combining class 0 (as in ICU 77: ``''``, ``º/₀``, ``O``,
    ``l``, ``rn``), that decomposition leaves them as they are and reorders
    nothing across them, so the skeleton of an ASCII text is exactly its
    characters' skeletons one after the other. And when no skeleton holds a
    character that has another one, replacing them one character after the other
    is replacing them all at once. ``checker`` keys the cache to the ICU in use.
    """
    del checker  # the cache key
    pairs = [(char, skeleton(char)) for char in map(chr, range(128))]
    pairs = [(char, mapped) for char, mapped in pairs if mapped != char]
    replaced = {char for char, _ in pairs}
    for _, mapped in pairs:
        for char in mapped:
            if (
                char in replaced
                or unicodedata.combining(char)
                or unicodedata.normalize("NFD", char) != char
            ):
                return None
    return tuple(pairs)


def readable(key: str) -> str:
    """An email key as it reads: the A-labels of its domain decoded to Unicode.

    >>> readable("x@xn--pypal-4ve.com")  # Cyrillic а
    'x@pаypal.com'
    >>> readable("ana@example.com")
    'ana@example.com'

    A label that does not decode stays as it is. A text without ``@`` is all local
    part, as in :func:`~userimport.schema.email_key`.
    """
    if "xn--" not in key:
        return key
    local, at, domain = key.rpartition("@")
    return local + at + _domain_text(domain) if at else key


@functools.lru_cache(maxsize=2048)
def _domain_text(domain: str) -> str:
    """A domain with its A-labels decoded (cached, bounded, thread-safe: the users
    of a store share a few domains)."""
    labels = domain.split(".")
    for index, label in enumerate(labels):
        if label.startswith("xn--"):
            with contextlib.suppress(UnicodeError):
                labels[index] = label[4:].encode("ascii").decode("punycode")
    return ".".join(labels)


def confusable_groups(
    keys: Iterable[str],
    others: Iterable[str] = (),
    known: Mapping[str, str] | None = None,
) -> list[tuple[str, ...]]:
    """The email keys that look like one another, in groups.

    Args:
        keys: :func:`~userimport.schema.email_key` values: the rows of an upload.
            Equal keys are one user, never a confusion.
        others: More keys compared with ``keys`` but not among themselves: the
            existing users the importer may see. Two of them that look alike
            make no group.
        known: The likenesses of some of ``keys``, already taken
            (:func:`likenesses`).

    Returns:
        Each group of two or more distinct keys with one :func:`likeness` that
        holds at least one of ``keys``, as a sorted tuple; the groups sorted.
        Keys alike to no other key are in no group.

    >>> confusable_groups(["paypal@x.com", "pаypal@x.com", "ana@x.com", "ana@x.com"])
    [('paypal@x.com', 'pаypal@x.com')]
    >>> confusable_groups(["x@paypal.com"], ["x@xn--pypal-4ve.com", "m@x.com"])
    [('x@paypal.com', 'x@xn--pypal-4ve.com')]
    """
    by_skeleton: defaultdict[str, set[str]] = defaultdict(set)
    known = known or {}
    for key in keys:
        taken = known.get(key)
        by_skeleton[likeness(key) if taken is None else taken].add(key)
    for key in others:
        group = by_skeleton.get(likeness(key))
        if group is not None:
            group.add(key)
    return sorted(
        tuple(sorted(group)) for group in by_skeleton.values() if len(group) > 1
    )


def likenesses(keys: Iterable[str]) -> dict[str, str]:
    """The :func:`likeness` of each key, by key: taken once per review and given to
    :func:`look_alike_users` and :func:`look_alike_issues`.

    Raises:
        ModuleNotFoundError: PyICU is not installed (the ``confusables`` extra).
    """
    return {key: likeness(key) for key in keys}


def look_alike_users(
    store: UserStore, likenesses: Collection[str], org_ids: Collection[str]
) -> Sequence[StoredUser]:
    """The users of ``org_ids`` that may have one of ``likenesses``: what
    :func:`look_alike_issues` compares the rows with.

    A store with ``find_look_alikes``
    (:class:`~userimport.persistence.LookAlikeUserStore`) is asked for exactly
    those: an indexed look-up, whose cost follows the rows. Any other store lists
    every user of ``org_ids``, and :func:`look_alike_issues` takes each one's
    likeness: the cost follows the users the actor may see (about 2 µs a user).
    Both give the same warnings.
    """
    find = getattr(store, "find_look_alikes", None)
    if find is None:
        return store.list_users(org_ids)
    found: Sequence[StoredUser] = find(likenesses, org_ids)
    return found


@attrs.frozen
class Compared:
    """A row compared with the others and with the existing users.

    Attributes:
        row: The spreadsheet row number (``None`` for ``validate_user``).
        key: The email key.
        email: The normalised email, as another row's message names it.
        raw: The email cell as written (the issue's ``value``).
    """

    row: int | None
    key: str
    email: str
    raw: str


#: How many look-alikes a message names (the others are counted), and how many
#: of their differing spans it shows.
_NAMED = 3
#: How many code points of one differing span a message shows, and how many
#: of its characters.
_SHOWN = 4
_QUOTED = 12


def look_alike_issues(
    rows: Sequence[Compared | None],
    users: Sequence[StoredUser],
    known: Mapping[str, str] | None = None,
) -> dict[int, Issue]:
    """The ``confusable_email`` warning of each row whose key is not another row's
    or user's but looks the same (:func:`confusable_groups`), by index in ``rows``.

    Each warning names the look-alikes, rows first in file order, then existing
    users, and shows how the email differs from the first of them.

    Args:
        rows: The rows of a review in order, ``None`` for one that takes no part.
        users: The existing users to compare them with (those the actor may see).
        known: The likenesses of the rows' keys, if already taken
            (:func:`likenesses`).

    Raises:
        ModuleNotFoundError: PyICU is not installed (the ``confusables`` extra).
    """
    members: dict[str, list[tuple[int, Compared]]] = {}  # the rows of each key
    for index, compared in enumerate(rows):
        if compared is not None:
            members.setdefault(compared.key, []).append((index, compared))
    keys = [user.key for user in users]
    groups = confusable_groups(members, keys, known)
    grouped = {key for group in groups for key in group if key not in members}
    existing = {
        key: user for key, user in zip(keys, users, strict=True) if key in grouped
    }
    found: dict[int, Issue] = {}
    for group in groups:
        names = {
            key: message(
                "“{email}” in row {row}",
                email=members[key][0][1].email,
                row=members[key][0][1].row,
            )
            if key in members
            else _existing_name(existing[key])
            for key in group
        }
        # Rows first, in file order, then existing users by key.
        order = sorted(
            group,
            key=lambda k: (0, members[k][0][0], k) if k in members else (1, 0, k),
        )
        for key in group:
            others = [other for other in order if other != key]
            for index, compared in members.get(key, ()):
                found[index] = _look_alike_issue(compared, others, names)
    return found


def _existing_name(user: StoredUser) -> str:
    """An existing user's email as a message names it: quoted, unless it holds a
    hidden character (a store may hold what an upload may not), which would make
    the message read as something else."""
    if hidden_character(user.email) is None:
        return message("“{email}”, the email of an existing user", email=user.email)
    return message("the email of an existing user")


def _look_alike_issue(
    compared: Compared, others: Sequence[str], names: Mapping[str, str]
) -> Issue:
    """The ``confusable_email`` warning of a row whose key looks like ``others``:
    it names them, and shows how it differs from the first."""
    named = [names[other] for other in others[:_NAMED]]
    if len(others) > _NAMED:
        named.append(message("and {count} more", count=len(others) - _NAMED))
    difference = _how_it_differs(compared.key, others[0])
    if difference:
        said = message(
            "This email looks like {others}, but it is a different address "
            "({difference}); check that it is the one you mean.",
            others=listing(named, "; "),
            difference=difference,
        )
    else:
        # A stored key of an older rule (x@bücher.de beside x@xn--bcher-kva.de,
        # before SQLStore.rekey): two keys, one address as it reads.
        said = message(
            "This email looks like {others}, but it is a different address as "
            "stored (it reads the same); check that it is the one you mean.",
            others=listing(named, "; "),
        )
    return Issue.warning(
        IssueCode.CONFUSABLE_EMAIL,
        said,
        row=compared.row,
        column="email",
        value=compared.raw,
    )


def _how_it_differs(key: str, other: str) -> str:
    """Where ``key`` and ``other`` differ as they read, character by character:
    ``“1” U+0031 instead of “l” U+006C``, so a reviewer sees what looks the same."""
    # A row's key (its domain valid) and another key read the same only where
    # the other is of an older rule (its domain in another form): "" then.
    here, there = readable(key), readable(other)
    spans: list[str] = []
    matcher = difflib.SequenceMatcher(None, here, there, autojunk=False)
    for tag, start, end, other_start, other_end in matcher.get_opcodes():
        mine = _characters(here[start:end])
        theirs = _characters(there[other_start:other_end])
        if tag == "replace":
            spans.append(message("{here} instead of {there}", here=mine, there=theirs))
        elif tag == "delete":
            spans.append(message("an extra {here}", here=mine))
        elif tag == "insert":
            spans.append(message("without {there}", there=theirs))
    if len(spans) > _NAMED:
        spans[_NAMED:] = ["…"]
    return listing(spans, ", ")


def _characters(text: str) -> str:
    """Characters as a message shows them: ``“rn” U+0072 U+006E``, the code points
    of a long run cut (``“paypa” U+0070 U+0061 U+0079 U+0070 …``), and only the
    code points of characters that do not show on their own (a combining mark, a
    format character, a space)."""
    codes = " ".join(f"U+{ord(char):04X}" for char in text[:_SHOWN])
    if len(text) > _SHOWN:
        codes += " …"
    if all(_shows(char) for char in text[:_QUOTED]):
        return f"“{text[:_QUOTED]}{'…' if len(text) > _QUOTED else ''}” {codes}"
    return codes


def _shows(char: str) -> bool:
    """Whether a character shows on its own between quotes."""
    return char.isprintable() and unicodedata.category(char)[0] not in "MZC"
