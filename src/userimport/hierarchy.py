"""The organization hierarchy: ``Organization`` and ``OrgTree``.

An administrator acts on its own organization and everything below it, so almost every
decision of an import asks "is this organization inside that one?". :class:`OrgTree`
validates the organization data once and then answers that question in constant time,
for hundreds of thousands of organizations, by numbering the tree in pre-order: the
subtree of an organization is then one contiguous slice of that numbering (an Euler
tour). Nothing here recurses, so a chain or a cycle of any length is handled.

Organization references typed into an upload (an id, a name or a path) are resolved
only inside the importer's subtree, so the answer never reveals whether an
organization outside it exists (``unknown_organization``).

Organization names are shown to administrators as they are: in paths, in the
review's messages (an ambiguous reference lists its candidates by path), in error
reports opened in a spreadsheet. So a tree accepts no name with a hidden character
(a control, bidirectional or zero-width character, the rule of upload cells, in
:mod:`userimport._characters`) nor with whitespace around it, and any text built from
its names can quote them verbatim: they display as what they are.

It is long because the tree answers many questions (subtrees, paths, references by id,
name or path) in constant time for 100,000 organizations, and each answer is a method of
the one index it builds.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

import attrs

from userimport._characters import hidden_character
from userimport._messages import message
from userimport.exceptions import HierarchyError
from userimport.schema import header_key

__all__ = ["PATH_SEPARATOR", "OrgTree", "Organization", "organizations_from_csv"]

#: Separates the names of a path such as ``"Acme / Spain / Madrid"``;
#: spaces around it are optional.
PATH_SEPARATOR = "/"

#: How many ids an error message names before it says "and N more".
_SHOWN_IDS = 5
#: How many characters of a name an error message shows.
_SHOWN_NAME = 60


@attrs.frozen
class Organization:
    """One organization of the platform.

    Attributes:
        id: The organization's unique, stable identifier (compared exactly).
        name: Its display name; references by name ignore case and spacing.
        parent_id: The id of the organization directly above it, or ``None`` for
            a root.
    """

    id: str
    name: str
    parent_id: str | None = None


def _fold(text: str) -> str:
    """The comparison form of a name: canonical caseless match, spacing collapsed.

    Unicode's canonical caseless matching (Unicode §3.13, D145) compares
    ``NFD(casefold(NFD(x)))``; we keep the composed form for readability, which
    compares the same.
    """
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFD", text).casefold())
    return " ".join(folded.split())


def _segments(text: str) -> tuple[str, ...]:
    """The folded ``/``-separated parts of a name or of a path reference.

    Names are split too, so that an organization whose name contains a slash
    (``"R/D"``) can still be reached by a path through it.
    """
    return tuple(_fold(part) for part in text.split(PATH_SEPARATOR))


def _quoted(ids: Sequence[str]) -> str:
    """Name a few ids for a message: ``'a', 'b' and 3 more``."""
    shown = ", ".join(repr(i) for i in ids[:_SHOWN_IDS])
    rest = len(ids) - _SHOWN_IDS
    if rest <= 0:
        return shown
    return message("{shown} and {rest} more", shown=shown, rest=rest)


class OrgTree:
    """A validated organization hierarchy that answers scope questions fast.

    Building the tree checks the data and raises :class:`HierarchyError`, whose
    ``ids`` name the offending organizations, for:

    * an empty (or blank) id or name;
    * a name holding a hidden character: a control character (tab and line breaks
      included), a bidirectional control such as U+202E RIGHT-TO-LEFT OVERRIDE, a
      zero-width character or U+FEFF, or a line or paragraph separator, as an
      upload's cells may not (the message says which character and where);
    * a name with whitespace before or after it (loaders trim what they read; the
      tree keeps names exactly as given, so it refuses them rather than trims);
    * a duplicate id (``ids`` are the duplicated ids);
    * a parent id that names no organization (``ids`` are the organizations that
      name it; the message also names the missing parents);
    * a cycle of parents, including an organization that is its own parent (``ids``
      are the organizations on the cycles, each cycle in parent order).

    Queries about an id the tree does not know never raise: they answer as for an
    organization with nothing in it (``False``, ``None``, an empty tuple or set),
    because ids usually come from user input.

    Building is linear in the number of organizations; ``is_within`` and ``get``
    take constant time; ``subtree_ids`` is linear in the subtree's size; ``path``
    in the depth.

    Args:
        orgs: The organizations, in any order; this order is kept among siblings
            and among roots.

    Raises:
        HierarchyError: The data is inconsistent (see above).
    """

    __slots__ = (
        "_end",
        "_ids",
        "_orgs",
        "_parent",
        "_pos",
        "_roots",
        "_segs",
        "_tails",
    )

    def __init__(self, orgs: Iterable[Organization]) -> None:
        given = list(orgs)
        index = _index(given)
        parent = _parents(given, index)
        order = _preorder(parent)
        if len(order) < len(given):
            raise _cycle_error(given, parent, order)

        # Renumber everything by pre-order position: the subtree of the organization
        # at position p is then the slice p:_end[p] (an Euler tour).
        n = len(given)
        position = [0] * n
        for pos, i in enumerate(order):
            position[i] = pos
        self._orgs: list[Organization] = [given[i] for i in order]
        self._ids: list[str] = [org.id for org in self._orgs]
        self._pos: dict[str, int] = {org_id: p for p, org_id in enumerate(self._ids)}
        self._parent: list[int] = [
            -1 if parent[i] < 0 else position[parent[i]] for i in order
        ]
        size = [1] * n
        for p in range(n - 1, 0, -1):
            up = self._parent[p]
            if up >= 0:
                size[up] += size[p]
        self._end: list[int] = [p + size[p] for p in range(n)]
        self._roots: tuple[Organization, ...] = tuple(
            self._orgs[p] for p in range(n) if self._parent[p] < 0
        )
        # Name look-ups: the folded segments of each name, and the positions of the
        # names by their last segment, ascending, so that the candidates inside a
        # subtree are found by bisection of its slice.
        self._segs: list[tuple[str, ...]] = [_segments(org.name) for org in self._orgs]
        tails: dict[str, list[int]] = {}
        for p, segs in enumerate(self._segs):
            tails.setdefault(segs[-1], []).append(p)
        self._tails = tails

    # -- the collection ---------------------------------------------------------------

    def __contains__(self, org_id: object) -> bool:
        """Whether an organization with this id is in the tree."""
        return org_id in self._pos

    def __len__(self) -> int:
        """The number of organizations."""
        return len(self._orgs)

    def __iter__(self) -> Iterator[Organization]:
        """The organizations in pre-order: each before its children, roots and
        siblings in the order they were given."""
        return iter(self._orgs)

    def __repr__(self) -> str:
        return f"<OrgTree of {len(self._orgs)} organizations>"

    def get(self, org_id: str) -> Organization | None:
        """The organization with this id, or ``None``."""
        p = self._pos.get(org_id)
        return None if p is None else self._orgs[p]

    @property
    def roots(self) -> tuple[Organization, ...]:
        """The organizations without a parent, in the order they were given."""
        return self._roots

    def children(self, org_id: str) -> tuple[Organization, ...]:
        """The organizations directly below ``org_id``, in the order they were given.

        Empty for a leaf or an unknown id.
        """
        p = self._pos.get(org_id)
        if p is None:
            return ()
        found = []
        child = p + 1
        # In pre-order the first child follows its parent and each next sibling
        # follows the previous sibling's subtree.
        while child < self._end[p]:
            found.append(self._orgs[child])
            child = self._end[child]
        return tuple(found)

    # -- scope ------------------------------------------------------------------------

    def is_within(self, org_id: str, ancestor_id: str) -> bool:
        """Whether ``org_id`` is ``ancestor_id`` or below it.

        ``is_within(x, x)`` is true; ``False`` if either id is unknown.
        """
        pos = self._pos
        p = pos.get(org_id)
        a = pos.get(ancestor_id)
        if p is None or a is None:
            return False
        return a <= p < self._end[a]

    def subtree_ids(self, org_id: str) -> frozenset[str]:
        """The ids of ``org_id`` and of every organization below it.

        Empty for an unknown id, so a scope built from it contains nothing.
        """
        p = self._pos.get(org_id)
        if p is None:
            return frozenset()
        return frozenset(self._ids[p : self._end[p]])

    def path(self, org_id: str, *, within: str | None = None) -> tuple[str, ...]:
        """The names from the root down to ``org_id``.

        Args:
            org_id: The organization.
            within: Start the path at this organization instead of at the root:
                what an administrator of ``within`` may be shown without revealing
                the organizations above its own.

        Returns:
            The names, root (or ``within``) first; empty if ``org_id`` is unknown or
            not within ``within``.
        """
        p = self._pos.get(org_id)
        if p is None:
            return ()
        top = -1
        if within is not None:
            top = self._pos.get(within, -1)
            if not (0 <= top <= p < self._end[top]):
                return ()
        names = []
        while True:
            names.append(self._orgs[p].name)
            if p == top:
                break
            p = self._parent[p]
            if p < 0:
                break
        return tuple(reversed(names))

    def path_text(self, org_id: str, *, within: str | None = None) -> str:
        """:meth:`path` as text, ``"Acme / Spain / Madrid"``; resolvable again.

        Safe to quote as it is in a message or a spreadsheet cell: the tree accepts
        no name with a hidden character, so the text displays as what it is.
        """
        return f" {PATH_SEPARATOR} ".join(self.path(org_id, within=within))

    # -- references -------------------------------------------------------------------

    def candidates(self, ref: str, *, within: str) -> tuple[Organization, ...]:
        """Every organization inside ``within``'s subtree that ``ref`` designates.

        ``ref`` is tried, in this order, as:

        1. an id (exact): if it is inside the subtree, that organization alone;
        2. a name, ignoring case, accents' encoding (NFC/NFD) and runs of spaces:
           every organization of the subtree with that name;
        3. a path of names separated by ``/``, either from a root
           (``"Acme / Spain / Madrid"``) or starting at ``within`` or at any
           organization under it (``"Spain / Madrid"`` or ``"Madrid / Sales"``
           when ``within`` is the root Acme). Administrators also write paths from
           the level below their own, so any path ending inside the subtree is
           accepted, and two matches are simply ambiguous.

        Organizations outside the subtree are never considered, so the answer is
        the same whether they exist or not. An unknown ``within`` contains nothing.

        Returns:
            The candidates in tree order (pre-order); empty when nothing matches,
            more than one when ``ref`` is ambiguous.
        """
        w = self._pos.get(within)
        if w is None:
            return ()
        lo, hi = w, self._end[w]
        p = self._pos.get(ref)
        if p is not None and lo <= p < hi:
            return (self._orgs[p],)
        wanted = _segments(ref)
        tails = self._tails.get(wanted[-1], [])
        inside = tails[bisect_left(tails, lo) : bisect_left(tails, hi)]
        by_name = [p for p in inside if self._segs[p] == wanted]
        if by_name:
            return tuple(self._orgs[p] for p in by_name)
        return tuple(
            self._orgs[p] for p in inside if self._path_matches(p, wanted, top=w)
        )

    def resolve(self, ref: str, *, within: str) -> Organization | None:
        """The one organization inside ``within``'s subtree that ``ref`` designates.

        Returns ``None`` both when nothing matches and when ``ref`` is ambiguous;
        use :meth:`candidates` to tell them apart (``unknown_organization`` vs
        ``ambiguous_organization``).
        """
        found = self.candidates(ref, within=within)
        return found[0] if len(found) == 1 else None

    def _path_matches(self, p: int, wanted: tuple[str, ...], *, top: int) -> bool:
        """Whether the names above and at ``p`` spell ``wanted`` from a root or
        from an organization of ``top``'s subtree; each step consumes one
        ancestor's name segments."""
        lo, hi = top, self._end[top]
        end = len(wanted)
        while p >= 0:
            segs = self._segs[p]
            start = end - len(segs)
            if start < 0 or wanted[start:end] != segs:
                return False
            if start == 0:
                return lo <= p < hi or self._parent[p] < 0
            end = start
            p = self._parent[p]
        return False


# -- building -------------------------------------------------------------------------


def _index(orgs: Sequence[Organization]) -> dict[str, int]:
    """The input position of each id; rejects blank ids, names that could not be
    shown as they are, and duplicate ids."""
    blank = [org.id for org in orgs if not org.id.strip() or not org.name.strip()]
    if blank:
        raise HierarchyError(
            message(
                "Organizations need a non-blank id and name; found blank ones at "
                "{ids}.",
                ids=_quoted(blank),
            ),
            ids=tuple(blank),
        )
    # Printable names without edge whitespace are the rule; only the others are
    # looked at closely (str.isprintable is false for every hidden character).
    unusual = [
        org
        for org in orgs
        if not org.name.isprintable() or org.name != org.name.strip()
    ]
    if unusual:
        _check_names(unusual)
    index = {org.id: i for i, org in enumerate(orgs)}
    if len(index) < len(orgs):
        counts = Counter(org.id for org in orgs)
        ids = tuple(org_id for org_id, count in counts.items() if count > 1)
        raise HierarchyError(
            message(
                "Organization ids must be unique; {ids} appear more than once.",
                ids=_quoted(ids),
            ),
            ids=ids,
        )
    return index


def _check_names(orgs: Sequence[Organization]) -> None:
    """Refuse names with a hidden character, then names with whitespace around them.

    The hidden characters are the ones an upload's cells may not hold
    (:mod:`userimport._characters`): a name is shown in messages, paths, the review
    and spreadsheets, where such a character would make it read as something else.
    Whitespace around a name is refused rather than trimmed: the tree holds the
    organizations exactly as given (and a store keeps what the tree accepted), and
    the loaders trim what they read, as cells are trimmed.
    """
    hidden = [
        (org, found)
        for org in orgs
        if (found := hidden_character(org.name)) is not None
    ]
    if hidden:
        (org, found), *others = hidden
        what = found.description
        problem = message(
            "Organization {id} has the name {name}, which contains {what}.",
            id=repr(org.id),
            name=_shown(org.name),
            what=what,
        )
        ids = [other.id for other, _ in others]
        if len(ids) == 1:
            problem = message(
                "{problem} The name of {id} holds a hidden character too.",
                problem=problem,
                id=repr(ids[0]),
            )
        elif ids:
            problem = message(
                "{problem} The names of {ids} hold hidden characters too.",
                problem=problem,
                ids=_quoted(ids),
            )
        raise HierarchyError(problem, ids=tuple(org.id for org, _ in hidden))
    spaced = [org for org in orgs if org.name != org.name.strip()]
    if spaced:
        org = spaced[0]
        problem = message(
            "Organization {id} has the name {name}, which starts or ends with "
            "whitespace; remove it.",
            id=repr(org.id),
            name=_shown(org.name),
        )
        ids = [other.id for other in spaced[1:]]
        if len(ids) == 1:
            problem = message(
                "{problem} The name of {id} does too.", problem=problem, id=repr(ids[0])
            )
        elif ids:
            problem = message(
                "{problem} The names of {ids} do too.",
                problem=problem,
                ids=_quoted(ids),
            )
        raise HierarchyError(problem, ids=tuple(org.id for org in spaced))


def _shown(name: str) -> str:
    """A name quoted for an error message: ``repr``, so that every character that
    is not printable shows as an escape (``'Sales\\u202e'``), shortened to a line."""
    if len(name) > _SHOWN_NAME:
        name = name[: _SHOWN_NAME - 1] + "\u2026"
    return repr(name)


def _parents(orgs: Sequence[Organization], index: dict[str, int]) -> list[int]:
    """The input position of each organization's parent (-1 for a root)."""
    parent = [-1] * len(orgs)
    orphans = []
    for i, org in enumerate(orgs):
        if org.parent_id is not None:
            up = index.get(org.parent_id)
            if up is None:
                orphans.append(org)
            else:
                parent[i] = up
    if orphans:
        ids = tuple(org.id for org in orphans)
        missing = tuple(dict.fromkeys(str(org.parent_id) for org in orphans))
        problem = (
            message(
                "Organization parents must exist; there is no organization "
                "{parents}, the parent given for {ids}.",
                parents=_quoted(missing),
                ids=_quoted(ids),
            )
            if len(missing) == 1
            else message(
                "Organization parents must exist; there are no organizations "
                "{parents}, the parents given for {ids}.",
                parents=_quoted(missing),
                ids=_quoted(ids),
            )
        )
        raise HierarchyError(problem, ids=ids)
    return parent


def _preorder(parent: Sequence[int]) -> list[int]:
    """Input positions in pre-order from the roots; misses what hangs off a cycle."""
    children: list[list[int]] = [[] for _ in parent]
    roots = []
    for i, up in enumerate(parent):
        if up < 0:
            roots.append(i)
        else:
            children[up].append(i)
    order = []
    stack = roots[::-1]
    while stack:
        i = stack.pop()
        order.append(i)
        stack.extend(reversed(children[i]))
    return order


def _cycle_error(
    orgs: Sequence[Organization], parent: Sequence[int], reached: Sequence[int]
) -> HierarchyError:
    """The error naming every cycle among the organizations no root reaches.

    Each organization has one parent, so walking up from any unreached organization
    ends on a cycle; each cycle is reported once, starting at its member that came
    first in the input.
    """
    state = [0] * len(orgs)  # 0 unseen, 1 on the current walk, 2 settled
    for i in reached:
        state[i] = 2
    cycles = []
    for start in range(len(orgs)):
        walk = []
        i = start
        while state[i] == 0:
            state[i] = 1
            walk.append(i)
            i = parent[i]
        if state[i] == 1:  # the walk closed on itself: i is on a new cycle
            cycle = walk[walk.index(i) :]
            first = cycle.index(min(cycle))
            cycles.append(cycle[first:] + cycle[:first])
        for j in walk:
            state[j] = 2
    ids = tuple(orgs[i].id for cycle in sorted(cycles) for i in cycle)
    if len(cycles) == 1 and len(ids) == 1:
        problem = message(
            "Organization {id} is its own parent; give it another parent.",
            id=repr(ids[0]),
        )
    elif len(cycles) == 1:
        problem = message(
            "Organization parents must lead up to a root; a cycle goes through {ids}.",
            ids=_quoted(ids),
        )
    else:
        problem = message(
            "Organization parents must lead up to a root; {count} cycles go through "
            "{ids}.",
            count=len(cycles),
            ids=_quoted(ids),
        )
    return HierarchyError(problem, ids=ids)


# -- loading --------------------------------------------------------------------------

_ORG_HEADERS = {"id": "id", "name": "name", "parent": "parent", "parentid": "parent"}


def organizations_from_csv(text: str) -> list[Organization]:
    """Read organizations from CSV text with the columns ``id``, ``name`` and
    ``parent`` (optional; empty for a root), as ``userimport orgs load`` does.

    Headers are matched like the user template's (case, spaces, ``_`` and ``-``
    ignored; ``parent_id`` is accepted); values are trimmed; blank lines are
    skipped. The structure (parents, cycles) and the names' characters are checked
    by :class:`OrgTree`.

    Raises:
        HierarchyError: A row cannot be read; the message gives its row number
            (the header is row 1, as in a spreadsheet).
    """
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")), strict=True)
    columns: dict[str, int] = {}
    width = 0
    orgs = []
    row = 0
    try:
        for row, record in enumerate(reader, start=1):
            cells = [cell.strip() for cell in record]
            if not any(cells):
                continue
            if not columns:
                columns, width = _org_columns(cells, row), len(cells)
                continue
            if any(cells[width:]):
                raise _row_error(row, message("has more cells than the header"))
            cells += [""] * (width - len(cells))
            org_id, name = cells[columns["id"]], cells[columns["name"]]
            if not org_id or not name:
                raise _row_error(row, message("needs both an id and a name"))
            parent = cells[columns["parent"]] if "parent" in columns else ""
            orgs.append(Organization(org_id, name, parent or None))
    except csv.Error as exc:
        problem = message("is not valid CSV ({reason})", reason=str(exc))
        raise _row_error(row + 1, problem) from exc
    return orgs


def _org_columns(header: Sequence[str], row: int) -> dict[str, int]:
    """Where the ``id``, ``name`` and ``parent`` columns are in the header row."""
    columns: dict[str, int] = {}
    for i, cell in enumerate(header):
        column = _ORG_HEADERS.get(header_key(cell))
        if column is not None:
            columns.setdefault(column, i)
    if "id" not in columns or "name" not in columns:
        problem = message("must be a header with the columns id, name and parent")
        raise _row_error(row, problem)
    return columns


def _row_error(row: int, problem: str) -> HierarchyError:
    return HierarchyError(
        message(
            "Row {row} of the organizations file {problem}.", row=row, problem=problem
        )
    )
