"""Tests for userimport.hierarchy: Organization, OrgTree and the CSV loader."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import assume, event, given
from hypothesis import strategies as st

from userimport import (
    Actor,
    HierarchyError,
    IssueCode,
    MemoryStore,
    Organization,
    OrgTree,
    validate_user,
)
from userimport.hierarchy import organizations_from_csv

# A 4-level tree: root -> countries -> cities -> offices, plus a second root.
ORGS = [
    Organization("acme", "Acme"),
    Organization("es", "Spain", "acme"),
    Organization("es-mad", "Madrid", "es"),
    Organization("es-mad-sales", "Sales", "es-mad"),
    Organization("es-mad-people", "People", "es-mad"),
    Organization("es-bcn", "Barcelona", "es"),
    Organization("fr", "France", "acme"),
    Organization("fr-par", "Paris", "fr"),
    Organization("fr-par-sales", "Sales", "fr-par"),
    Organization("globex", "Globex"),
]
IDS = [org.id for org in ORGS]
PARENT = {org.id: org.parent_id for org in ORGS}


@pytest.fixture(scope="module")
def tree() -> OrgTree:
    return OrgTree(ORGS)


def ids_of(orgs: tuple[Organization, ...]) -> list[str]:
    return [org.id for org in orgs]


def naive_within(org_id: str, ancestor_id: str) -> bool:
    """Walk up the parents of the fixture tree."""
    current: str | None = org_id
    while current is not None:
        if current == ancestor_id:
            return True
        current = PARENT[current]
    return False


# -- the collection --------------------------------------------------------------------


def test_len_contains_get(tree: OrgTree) -> None:
    """The tree holds every organization given, and finds each by id."""
    assert len(ORGS) == len(tree)
    assert all(org.id in tree for org in ORGS)
    assert "nowhere" not in tree
    assert ORGS[3] == tree.get("es-mad-sales")
    assert tree.get("nowhere") is None


def test_iteration_is_preorder_in_input_order(tree: OrgTree) -> None:
    """Iteration lists each organization before its children, roots and siblings in
    the order given."""
    expected = [
        "acme",
        "es",
        "es-mad",
        "es-mad-sales",
        "es-mad-people",
        "es-bcn",
        "fr",
        "fr-par",
        "fr-par-sales",
        "globex",
    ]
    assert expected == [org.id for org in tree]


def test_iteration_order_does_not_depend_on_input_order_of_levels() -> None:
    """Children given before their parent still come after it."""
    orgs = [Organization("b", "B", "a"), Organization("a", "A")]
    assert [org.id for org in OrgTree(orgs)] == ["a", "b"]


def test_roots_and_children(tree: OrgTree) -> None:
    """``roots`` and ``children`` list the direct relations, in input order."""
    assert ids_of(tree.roots) == ["acme", "globex"]
    assert ids_of(tree.children("acme")) == ["es", "fr"]
    assert ids_of(tree.children("es")) == ["es-mad", "es-bcn"]
    assert ids_of(tree.children("es-bcn")) == []
    assert ids_of(tree.children("nowhere")) == []


def test_empty_tree() -> None:
    """An empty tree is valid and knows nothing."""
    tree = OrgTree([])
    assert len(tree) == 0
    assert tree.roots == ()
    assert frozenset() == tree.subtree_ids("a")
    assert not tree.is_within("a", "a")
    assert tree.candidates("a", within="a") == ()


def test_repr(tree: OrgTree) -> None:
    """The repr says how big the tree is."""
    assert repr(tree) == "<OrgTree of 10 organizations>"


# -- scope -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("org_id", "expected"),
    [
        ("acme", set(IDS) - {"globex"}),
        ("es", {"es", "es-mad", "es-mad-sales", "es-mad-people", "es-bcn"}),
        ("es-mad", {"es-mad", "es-mad-sales", "es-mad-people"}),
        ("es-mad-sales", {"es-mad-sales"}),
        ("globex", {"globex"}),
        ("nowhere", set()),
    ],
)
def test_subtree_ids(tree: OrgTree, org_id: str, expected: set[str]) -> None:
    """The subtree holds the organization itself and everything below it; an
    unknown id has an empty subtree."""
    assert frozenset(expected) == tree.subtree_ids(org_id)


def test_is_within_all_pairs(tree: OrgTree) -> None:
    """``is_within`` is true exactly for an organization and its descendants, both
    directions of every pair checked against a walk up the parents."""
    for org_id in IDS:
        for ancestor_id in IDS:
            expected = naive_within(org_id, ancestor_id)
            assert expected == tree.is_within(org_id, ancestor_id), (
                org_id,
                ancestor_id,
            )


@pytest.mark.parametrize(
    ("org_id", "ancestor_id", "expected"),
    [
        ("es-mad-sales", "acme", True),
        ("acme", "es-mad-sales", False),
        ("es", "es", True),
        ("es", "fr", False),
        ("es-mad-sales", "fr-par-sales", False),
        ("globex", "acme", False),
        ("nowhere", "acme", False),
        ("acme", "nowhere", False),
        ("nowhere", "nowhere", False),
    ],
)
def test_is_within_examples(
    tree: OrgTree, org_id: str, ancestor_id: str, expected: bool
) -> None:
    """Descendants are within, ancestors and siblings are not; unknown ids are
    within nothing."""
    assert expected == tree.is_within(org_id, ancestor_id)


def test_path(tree: OrgTree) -> None:
    """``path`` gives the names from the root down; ``path_text`` joins them."""
    assert tree.path("es-mad-sales") == ("Acme", "Spain", "Madrid", "Sales")
    assert tree.path("globex") == ("Globex",)
    assert tree.path("nowhere") == ()
    assert tree.path_text("fr-par-sales") == "Acme / France / Paris / Sales"


def test_path_within(tree: OrgTree) -> None:
    """A path may start at an ancestor, and is empty when that is no ancestor."""
    assert tree.path("es-mad-sales", within="es") == ("Spain", "Madrid", "Sales")
    assert tree.path("es-mad-sales", within="es-mad-sales") == ("Sales",)
    assert tree.path("es-mad-sales", within="fr") == ()
    assert tree.path("es", within="es-mad") == ()
    assert tree.path("es", within="nowhere") == ()
    assert tree.path_text("es-mad", within="es") == "Spain / Madrid"


# -- references ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "within", "expected"),
    [
        ("es-mad", "acme", "es-mad"),
        ("es-mad", "es-mad", "es-mad"),
        ("Madrid", "acme", "es-mad"),
        ("  mAdRiD ", "es", "es-mad"),
        ("Acme / Spain / Madrid", "acme", "es-mad"),
        ("Acme / Spain / Madrid", "es", "es-mad"),
        ("acme/spain/madrid", "es-mad", "es-mad"),
        ("ACME  /Spain/   Madrid / people", "es", "es-mad-people"),
        ("Spain / Madrid", "es", "es-mad"),
        ("Madrid / Sales", "es-mad", "es-mad-sales"),
        ("Spain / Madrid", "acme", "es-mad"),
        ("Madrid / Sales", "es", "es-mad-sales"),
        ("Globex", "globex", "globex"),
    ],
)
def test_resolve(tree: OrgTree, ref: str, within: str, expected: str) -> None:
    """An id, a name (any case and spacing), a path from a root, or a path
    starting at ``within`` or below it each designate one organization."""
    org = tree.resolve(ref, within=within)
    assert org is not None
    assert expected == org.id


def test_resolve_name_in_any_unicode_normal_form() -> None:
    """A name typed decomposed (NFD, as macOS does) matches the composed one."""
    tree = OrgTree([Organization("a", "Organización Óptima")])
    typed = unicodedata.normalize("NFD", "ORGANIZACIÓN óptima")
    assert ids_of(tree.candidates(typed, within="a")) == ["a"]


@pytest.mark.parametrize(
    ("ref", "within"),
    [
        ("Madrid / Spain", "acme"),  # upside down
        ("Spain / Sales", "acme"),  # a level skipped
        ("Acme / Madrid", "acme"),  # a level skipped
        ("Acme / Spain / Paris", "acme"),
        ("", "acme"),
        ("   ", "acme"),
        ("/", "acme"),
        ("Acme /", "acme"),
        ("es", "nowhere"),
    ],
)
def test_resolve_nothing(tree: OrgTree, ref: str, within: str) -> None:
    """References that designate nothing inside ``within`` give no candidate."""
    assert tree.candidates(ref, within=within) == ()
    assert tree.resolve(ref, within=within) is None


def test_outside_organizations_are_never_resolvable(tree: OrgTree) -> None:
    """From any organization, every organization outside its subtree (parents,
    siblings, cousins, other roots) is invisible by id, by name and by path."""
    for within in IDS:
        for org in ORGS:
            if tree.is_within(org.id, within):
                continue
            for ref in (org.id, org.name, tree.path_text(org.id)):
                found = tree.candidates(ref, within=within)
                # A name shared with an organization inside (the two "Sales") may
                # match that one, never the outside one.
                assert org not in found, (ref, within)
                assert all(tree.is_within(o.id, within) for o in found)


def test_parent_and_sibling_give_none_from_child(tree: OrgTree) -> None:
    """From Madrid, its parent Spain and its sibling Barcelona resolve to nothing,
    exactly like an organization that does not exist."""
    for ref in ("es", "Spain", "Acme / Spain", "es-bcn", "Barcelona", "nowhere"):
        assert tree.candidates(ref, within="es-mad") == ()
        assert tree.resolve(ref, within="es-mad") is None


def test_ambiguous_name(tree: OrgTree) -> None:
    """Two offices named Sales are ambiguous from the root but not from a
    country; ``resolve`` gives ``None`` when ambiguous."""
    assert ids_of(tree.candidates("sales", within="acme")) == [
        "es-mad-sales",
        "fr-par-sales",
    ]
    assert tree.resolve("sales", within="acme") is None
    assert ids_of(tree.candidates("Sales", within="es")) == ["es-mad-sales"]
    assert ids_of(tree.candidates("Sales", within="fr")) == ["fr-par-sales"]
    assert ids_of(tree.candidates("Sales", within="es-bcn")) == []


def test_ambiguous_path() -> None:
    """Two siblings with the same name make their path ambiguous too."""
    tree = OrgTree(
        [
            Organization("r", "Root"),
            Organization("a", "Team", "r"),
            Organization("b", "team", "r"),
        ]
    )
    assert ids_of(tree.candidates("Root / TEAM", within="r")) == ["a", "b"]


def test_id_match_wins_alone() -> None:
    """When ``ref`` is the id of an organization inside, the organizations named
    like that id are not candidates."""
    tree = OrgTree(
        [
            Organization("r", "Root"),
            Organization("hq", "Head office", "r"),
            Organization("x", "hq", "r"),
        ]
    )
    assert ids_of(tree.candidates("hq", within="r")) == ["hq"]


def test_id_outside_falls_back_to_name_inside() -> None:
    """An id outside the subtree is ignored as if it did not exist, so a name
    inside that happens to equal it still matches."""
    tree = OrgTree(
        [
            Organization("r", "Root"),
            Organization("hq", "Head office", "r"),
            Organization("x", "X", "r"),
            Organization("y", "hq", "x"),
        ]
    )
    assert ids_of(tree.candidates("hq", within="x")) == ["y"]


def test_name_wins_over_path() -> None:
    """A name containing the separator matches as a name before any path."""
    tree = OrgTree(
        [
            Organization("r", "Root"),
            Organization("rd", "R/D", "r"),
            Organization("r2", "R", "r"),
            Organization("d", "D", "r2"),
        ]
    )
    assert ids_of(tree.candidates("R / D", within="r")) == ["rd"]
    assert ids_of(tree.candidates("Root / R / D", within="r")) == ["rd", "d"]


def test_path_through_name_with_separator() -> None:
    """A path can go through an organization whose name contains a slash."""
    tree = OrgTree(
        [
            Organization("r", "Root"),
            Organization("rd", "R&D / QA", "r"),
            Organization("lab", "Lab", "rd"),
        ]
    )
    assert ids_of(tree.candidates("Root/R&D/QA/Lab", within="r")) == ["lab"]
    assert ids_of(tree.candidates("R&D / QA / Lab", within="rd")) == ["lab"]
    assert ids_of(tree.candidates("QA / Lab", within="r")) == []


# -- validation ------------------------------------------------------------------------


def test_duplicate_ids() -> None:
    """A repeated id is refused, and the error names each repeated id once."""
    orgs = [
        Organization("a", "A"),
        Organization("b", "B"),
        Organization("a", "A again"),
        Organization("b", "B again"),
        Organization("a", "A thrice"),
    ]
    with pytest.raises(HierarchyError, match="'a', 'b'") as caught:
        OrgTree(orgs)
    assert caught.value.ids == ("a", "b")


def test_unknown_parent() -> None:
    """An organization whose parent does not exist is refused; the error names the
    organization and the missing parent."""
    orgs = [
        Organization("a", "A"),
        Organization("b", "B", "ghost"),
        Organization("c", "C", "ghost"),
        Organization("d", "D", "a"),
    ]
    with pytest.raises(HierarchyError, match="'ghost'") as caught:
        OrgTree(orgs)
    assert caught.value.ids == ("b", "c")
    assert "'b', 'c'" in str(caught.value)


def test_self_parent() -> None:
    """An organization that is its own parent is a cycle of one."""
    with pytest.raises(HierarchyError, match="'a' is its own parent") as caught:
        OrgTree([Organization("r", "R"), Organization("a", "A", "a")])
    assert caught.value.ids == ("a",)


def test_cycle_names_only_its_members() -> None:
    """A cycle is reported in parent order from its first member in the input;
    organizations hanging below the cycle are not on it and are not named."""
    orgs = [
        Organization("r", "R"),
        Organization("below", "Below", "b"),
        Organization("c", "C", "a"),
        Organization("b", "B", "c"),
        Organization("a", "A", "b"),
    ]
    with pytest.raises(HierarchyError, match="a cycle goes through 'c', 'a', 'b'"):
        OrgTree(orgs)


def test_several_cycles() -> None:
    """Every cycle is reported, the one with the earliest member first."""
    orgs = [
        Organization("x", "X", "y"),
        Organization("a", "A", "a"),
        Organization("y", "Y", "x"),
    ]
    with pytest.raises(HierarchyError, match="2 cycles go through") as caught:
        OrgTree(orgs)
    assert caught.value.ids == ("x", "y", "a")


@pytest.mark.parametrize(
    "org",
    [Organization("", "A"), Organization("  ", "A"), Organization("a", " ")],
)
def test_blank_id_or_name(org: Organization) -> None:
    """Blank ids and names are refused: they could be neither typed nor shown."""
    with pytest.raises(HierarchyError, match="non-blank") as caught:
        OrgTree([Organization("r", "R"), org])
    assert (org.id,) == caught.value.ids


def test_long_error_lists_are_shortened() -> None:
    """A message names a handful of ids and counts the rest; ``ids`` has all."""
    orgs = [Organization(f"o{i}", f"O{i}", "ghost") for i in range(12)]
    with pytest.raises(HierarchyError, match="'o4' and 7 more") as caught:
        OrgTree(orgs)
    assert len(caught.value.ids) == 12
    assert "'o5'" not in str(caught.value)


def test_hierarchy_error_is_a_value_error() -> None:
    """Callers may catch bad organization data as a ValueError."""
    with pytest.raises(ValueError, match="own parent"):
        OrgTree([Organization("a", "A", "a")])


# -- names -----------------------------------------------------------------------------

#: The characters a name may not hold, written out independently of the library: C0
#: and C1 controls, bidirectional marks, embeddings, overrides and isolates,
#: zero-width characters and the byte-order mark, line and paragraph separators,
#: other invisible formatting characters and unpaired surrogates.
HIDDEN = "".join(
    [chr(code) for code in range(0x20)]
    + [chr(code) for code in range(0x7F, 0xA0)]
    + list("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    + list("\u200b\u200c\u200d\u2060\ufeff\u2028\u2029")
    + list("\u00ad\u180e\u2061\u2062\u2063\u2064\ufff9\ufffa\ufffb")
    + [chr(code) for code in range(0x206A, 0x2070)]
    + [chr(code) for code in range(0xE0000, 0xE0080)]
    + [chr(code) for code in range(0xD800, 0xE000)]
)


def refusal(orgs: list[Organization]) -> HierarchyError:
    """The error building a tree of ``orgs`` raises."""
    with pytest.raises(HierarchyError) as caught:
        OrgTree(orgs)
    return caught.value


def is_safe_to_print(text: str) -> bool:
    """Whether ``text`` holds none of the hidden characters."""
    return not any(char in HIDDEN for char in text)


@pytest.mark.parametrize(
    ("name", "described"),
    [
        (
            "Sales\u202eslx.exe",
            "text-direction control character (U+202E) at position 6",
        ),
        ("Sa\u200bles", "zero-width character (U+200B) at position 3"),
        ("Sales\ufeff", "zero-width character (U+FEFF) at position 6"),
        ("\u2066Sales", "text-direction control character (U+2066) at position 1"),
        ("Sales\x1b[2J", "control character (U+001B) at position 6"),
        ("Sales\tMadrid", "a tab (U+0009) at position 6"),
        ("Sales\nMadrid", "a line break (U+000A) at position 6"),
        ("Sales\u2028Madrid", "a line break (U+2028) at position 6"),
        ("Sales\n", "a line break (U+000A) at position 6"),
    ],
)
def test_a_name_with_a_hidden_character_is_refused(name: str, described: str) -> None:
    """A name holding a character that cannot be seen is refused like a cell of an
    upload: the error names the organization, quotes the name with escapes, and
    says which character it is and where."""
    error = refusal([Organization("r", "Root"), Organization("sales", name, "r")])
    assert ("sales",) == error.ids
    assert str(error).startswith(f"Organization 'sales' has the name {name!r}, ")
    assert described in str(error)
    assert is_safe_to_print(str(error))


@pytest.mark.parametrize("name", [" Sales", "Sales ", "Sales\u00a0", "\u3000Sales"])
def test_a_name_with_whitespace_around_it_is_refused(name: str) -> None:
    """Whitespace before or after a name is refused, not trimmed: the tree keeps
    the organizations exactly as given."""
    error = refusal([Organization("r", "Root"), Organization("sales", name, "r")])
    assert ("sales",) == error.ids
    expected = (
        f"Organization 'sales' has the name {name!r}, which starts or ends with "
        "whitespace; remove it."
    )
    assert expected == str(error)


def test_every_refused_name_is_in_ids_and_the_first_is_described() -> None:
    """Several names with hidden characters: ``ids`` has them all, the message
    describes the first and names the others."""
    orgs = [
        Organization("r", "Root"),
        Organization("a", "A\u202e", "r"),
        Organization("b", "B", "r"),
        Organization("c", "C\u200d", "r"),
        Organization("d", "D\x00", "r"),
    ]
    error = refusal(orgs)
    assert ("a", "c", "d") == error.ids
    assert "(U+202E) at position 2" in str(error)
    assert str(error).endswith(" The names of 'c', 'd' hold hidden characters too.")


def test_hidden_characters_are_reported_before_whitespace() -> None:
    """A tree with both kinds of bad names reports the hidden characters first."""
    error = refusal([Organization("a", "A "), Organization("b", "B\u202e")])
    assert ("b",) == error.ids


def test_a_long_name_is_shortened_in_the_message() -> None:
    """The message quotes at most 60 characters of a name, and stays one line."""
    error = refusal([Organization("a", "A" * 500 + "\u202e")])
    assert f"'{'A' * 59}\u2026'" in str(error)
    assert "at position 501" in str(error)


@pytest.mark.parametrize(
    "name",
    ["Ventas\u00a0Madrid", "Ventas\u3000Madrid", "Ventas  Madrid", "R/D", "Señor's"],
)
def test_visible_characters_and_inner_spaces_are_accepted(name: str) -> None:
    """Any space inside a name (no-break, ideographic, two spaces) is visible and
    accepted, and so is every printable character."""
    assert name == OrgTree([Organization("a", name)]).path_text("a")


def test_a_hostile_organizations_file_is_refused_by_the_tree() -> None:
    """The CSV loader trims the cells; what it cannot trim, a hidden character
    inside a name, the tree refuses."""
    orgs = organizations_from_csv("id,name,parent\nr, Root ,\nx,Sales\u202exls.exe,r\n")
    assert Organization("r", "Root") == orgs[0]
    assert ("x",) == refusal(orgs).ids


ANY_NAMES = st.one_of(
    st.text(min_size=1),
    st.text(st.characters(exclude_categories=("Cc", "Cf", "Cs")), min_size=1),
    st.builds(
        lambda head, char, tail: head + char + tail,
        st.text(),
        st.sampled_from(HIDDEN),
        st.text(),
    ),
    st.builds(
        lambda space, name: space + name,
        st.sampled_from(" \u00a0\u3000\t"),
        st.text(min_size=1),
    ),
)


@given(ANY_NAMES)
def test_a_name_is_accepted_exactly_when_it_renders_as_it_is(name: str) -> None:
    """A name is accepted exactly when it holds no hidden character and no
    whitespace around it; then it appears verbatim in the path text and in the
    review's message for an ambiguous reference; else the error names the id and is
    itself safe to print."""
    orgs = [
        Organization("org-root", "Root"),
        Organization("org-1", name, "org-root"),
        Organization("org-2", name, "org-root"),
    ]
    assume(name not in {"org-root", "org-1", "org-2"})  # an id wins over a name
    blank = not name.strip()
    acceptable = is_safe_to_print(name) and name == name.strip() and not blank
    event(f"acceptable: {acceptable}")
    if not acceptable:
        error = refusal(orgs)
        assert "org-1" in error.ids
        assert is_safe_to_print(str(error))
        return
    tree = OrgTree(orgs)
    assert f"Root / {name}" == tree.path_text("org-1")
    review = validate_user(
        {
            "first_name": "Ana",
            "last_name": "Gil",
            "email": "ana@example.com",
            "organization": name,
        },
        actor=Actor("org-root"),
        orgs=tree,
        store=MemoryStore(),
    )
    [issue] = [i for i in review.issues if i.column == "organization"]
    assert IssueCode.AMBIGUOUS_ORGANIZATION == issue.code
    assert f"“Root / {name}”" in issue.message


# -- size ------------------------------------------------------------------------------

DEPTH = 5_000


def test_deep_chain() -> None:
    """A 5,000-deep chain builds and answers without recursion."""
    orgs = [Organization("n0", "N0")] + [
        Organization(f"n{i}", f"N{i}", f"n{i - 1}") for i in range(1, DEPTH)
    ]
    tree = OrgTree(orgs)
    last = f"n{DEPTH - 1}"
    assert tree.is_within(last, "n0")
    assert not tree.is_within("n0", last)
    assert len(tree.path(last)) == DEPTH
    assert len(tree.subtree_ids("n10")) == DEPTH - 10
    assert [f"n{i}" for i in range(DEPTH)] == [org.id for org in tree]
    org = tree.resolve(tree.path_text(last), within="n0")
    assert org is not None
    assert last == org.id


def test_long_cycle() -> None:
    """A 5,000-long cycle is reported without recursion, naming five members."""
    orgs = [Organization(f"n{i}", f"N{i}", f"n{(i + 1) % DEPTH}") for i in range(DEPTH)]
    with pytest.raises(HierarchyError, match="and 4,995 more") as caught:
        OrgTree(orgs)
    assert tuple(f"n{i}" for i in range(DEPTH)) == caught.value.ids


# -- properties ------------------------------------------------------------------------

NAMES = ["Sales", "SALES", "Team", "HQ", "People"]
#: References may carry spaces the names cannot.
REFS = [*NAMES, "sales "]


@st.composite
def parent_pointers(draw: st.DrawFn) -> list[Organization]:
    """Random forests, sometimes with extra edges that close cycles."""
    n = draw(st.integers(1, 25))
    parents: list[int | None] = [
        draw(st.none() | st.integers(0, i - 1)) if i else None for i in range(n)
    ]
    for i, j in draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)))):
        parents[i] = j
    names = draw(st.lists(st.sampled_from(NAMES), min_size=n, max_size=n))
    return [
        Organization(f"o{i}", names[i], None if up is None else f"o{up}")
        for i, up in enumerate(parents)
    ]


def naive_ancestors(orgs: list[Organization], org_id: str) -> list[str]:
    """``org_id`` and its ancestors, walking up the parents of a cycle-free list."""
    parent = {org.id: org.parent_id for org in orgs}
    chain: list[str] = []
    current: str | None = org_id
    while current is not None:
        chain.append(current)
        current = parent[current]
    return chain


@given(parent_pointers())
def test_tree_agrees_with_naive_walk(orgs: list[Organization]) -> None:
    """Either the data has a cycle and the error names exactly the organizations on
    cycles, or ``is_within``, ``subtree_ids``, ``path`` and name look-ups agree with
    a plain walk up the parent pointers."""
    parent = {org.id: org.parent_id for org in orgs}
    # On a cycle: walking up from its parent comes back to it.
    on_cycle = {
        org.id
        for org in orgs
        if org.parent_id is not None
        and org.id in _walk(parent, org.parent_id, len(orgs))
    }
    event("cycle" if on_cycle else "tree")
    if on_cycle:
        with pytest.raises(HierarchyError) as caught:
            OrgTree(orgs)
        assert on_cycle == set(caught.value.ids)
        return
    tree = OrgTree(orgs)
    ancestors = {org.id: naive_ancestors(orgs, org.id) for org in orgs}
    by_id = {org.id: org for org in orgs}
    for org in orgs:
        for other in orgs:
            assert (other.id in ancestors[org.id]) == tree.is_within(org.id, other.id)
        subtree = {x for x in by_id if org.id in ancestors[x]}
        assert frozenset(subtree) == tree.subtree_ids(org.id)
        names = tuple(by_id[x].name for x in reversed(ancestors[org.id]))
        assert names == tree.path(org.id)
        for name in REFS:
            key = name.casefold().strip()
            expected = [x for x in subtree if by_id[x].name.casefold().strip() == key]
            assert sorted(expected) == sorted(
                ids_of(tree.candidates(name, within=org.id))
            )
        for within in ancestors[org.id]:
            assert org in tree.candidates(tree.path_text(org.id), within=within)
            assert org in tree.candidates(
                tree.path_text(org.id, within=within), within=within
            )


def _walk(parent: dict[str, str | None], start: str, limit: int) -> list[str]:
    """Up to ``limit`` steps up from ``start``."""
    seen: list[str] = []
    current: str | None = start
    while current is not None and len(seen) <= limit:
        seen.append(current)
        current = parent[current]
    return seen


# -- loading ---------------------------------------------------------------------------


def test_organizations_from_csv() -> None:
    """Rows become organizations; an empty parent is a root; headers are forgiving;
    a BOM, blank lines and trailing empty cells are ignored."""
    text = (
        "\ufeff\n"
        "ID,Name,Parent_ID\n"
        "acme, Acme ,\n"
        ",,\n"
        'es,"Spain, Kingdom of",acme\n'
        "fr,France,acme,\n"
    )
    expected = [
        Organization("acme", "Acme"),
        Organization("es", "Spain, Kingdom of", "acme"),
        Organization("fr", "France", "acme"),
    ]
    assert expected == organizations_from_csv(text)


def test_organizations_from_csv_without_parent_column() -> None:
    """Without a parent column every organization is a root."""
    assert [Organization("a", "A")] == organizations_from_csv("name,id\nA,a\n")


@pytest.mark.parametrize(
    ("text", "row"),
    [
        ("id,name,parent\na,A\nb,,a\n", 3),
        ("id,name,parent\na,A,,extra\n", 2),
        ("\nidentifier,name\n", 2),
        ('id,name\na,A\nb,"B\n', 3),
    ],
)
def test_organizations_from_csv_errors(text: str, row: int) -> None:
    """A row that cannot be read is refused with its spreadsheet row number."""
    with pytest.raises(HierarchyError, match=f"^Row {row} of the organizations file"):
        organizations_from_csv(text)
