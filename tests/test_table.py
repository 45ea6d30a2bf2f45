"""The command line's text (userimport.cli._table): tables, colors, printable cells."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from userimport import (
    Actor,
    ImportOptions,
    MemoryStore,
    OnExisting,
    Organization,
    OrgTree,
    Role,
    StoredUser,
    UserRow,
    UserWrite,
    prepare,
)
from userimport.cli._table import (
    Cell,
    display_width,
    org_lines,
    paint,
    printable,
    review_lines,
    table,
    user_lines,
)

HEADER = "first_name,last_name,email,organization,role,groups,language"

ANSI_OR_CONTROL = st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Co", "Cn"])
HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Cn", "Co"})


def test_table_aligns_columns() -> None:
    """Columns are as wide as their widest line, numbers may be right-aligned,
    and no line ends with spaces."""
    lines = table(
        ("row", "email", "issues"),
        [["2", "ana@x.es", ""], ["10", "bo@x.es", "error: bad"]],
        color=False,
        right=[0],
    )

    assert [
        "row  email     issues",
        "  2  ana@x.es",
        " 10  bo@x.es   error: bad",
    ] == lines


def test_multiline_cell() -> None:
    """A cell of several lines makes its row that many lines tall."""
    lines = table(("a", "b"), [["x", Cell(["one", "two"])]], color=False)

    assert ["a  b", "x  one", "   two"] == lines


def test_wide_characters() -> None:
    """East Asian wide characters take two columns, combining marks none."""
    lines = table(("name", "x"), [["日本", "1"], ["e\u0301", "2"]], color=False)

    assert ["name  x", "日本  1", "e\u0301     2"] == lines
    assert 4 == display_width("日本")
    assert 1 == display_width("e\u0301")


def test_color() -> None:
    """With color on, the header is bold and styled cells are wrapped in SGR
    codes; padding stays outside the codes so columns still line up."""
    lines = table(("a", "b"), [[Cell("no", "red"), "x"]], color=True)

    assert ["\x1b[1ma\x1b[0m   \x1b[1mb\x1b[0m", "\x1b[31mno\x1b[0m  x"] == lines
    assert "plain" == paint("plain", "red", color=False)
    assert "plain" == paint("plain", None, color=True)


def test_printable_escapes_terminal_controls() -> None:
    """Escape sequences, bidirectional overrides and zero-width characters from
    a file are shown as escapes, never sent to the terminal."""
    assert "\\x1b[2Jevil" == printable("\x1b[2Jevil")
    assert "a\\u202eb\\u200bc" == printable("a\u202eb\u200bc")
    assert "José Núñez" == printable("José Núñez")


@given(st.text(st.one_of(ANSI_OR_CONTROL, st.characters())))
def test_printable_is_printable(text: str) -> None:
    """Whatever the input, no control, format, separator, private-use or
    unassigned character is left, and printable text is kept as it is."""
    shown = printable(text)

    visible = "".join(c for c in text if unicodedata.category(c) not in HIDDEN)
    assert [] == [c for c in shown if unicodedata.category(c) in HIDDEN]
    assert printable(visible) == visible


@given(
    st.lists(
        st.lists(st.text(max_size=8), min_size=3, max_size=3), min_size=1, max_size=5
    )
)
def test_table_lines_are_single_lines(rows: list[list[str]]) -> None:
    """Every cell text becomes exactly one line, whatever it contains (line
    breaks are escaped), and every line but the last column is padded alike."""
    lines = table(("a", "b", "c"), rows, color=False)

    assert 1 + len(rows) == len(lines)
    assert all("\n" not in line and "\r" not in line for line in lines)


# --- views -------------------------------------------------------------------------


def test_review_lines_show_changes() -> None:
    """An update row lists each changed field, old and new, groups joined by ';'."""
    tree = OrgTree([Organization("root", "Acme")])
    store = MemoryStore()
    store.apply([UserWrite(UserRow("Ana", "Ruiz", "ana@x.es", "root", groups=("A",)))])
    data = f"{HEADER}\nAna,Ruiz,ana@x.es,,manager,A;B,es\n".encode()
    options = ImportOptions(on_existing=OnExisting.UPDATE)
    preview = prepare(
        data, actor=Actor("root"), orgs=tree, store=store, options=options
    )

    lines = review_lines("x.csv", preview, color=False, lang="en")

    assert "x.csv: 1 row, encoding utf-8, delimiter ','" == lines[0]
    assert "  2  update  ana@x.es  warning: " in lines[2]
    assert [
        "role: learner → manager",
        "groups: A → A; B",
        "language: (empty) → es",
    ] == [line.strip() for line in lines[3:6]]
    assert lines[-1].startswith("1 row: 0 to create, 1 to update")


def test_org_lines_deep_chain() -> None:
    """The tree view handles a chain far deeper than Python's recursion limit."""
    orgs = [Organization("0", "Top")] + [
        Organization(str(i), f"Level {i}", str(i - 1)) for i in range(1, 5000)
    ]

    lines = org_lines(OrgTree(orgs), top="4990", color=False, lang="en")

    assert 1 + 10 == len(lines)
    assert lines[1].startswith("4990 ")
    assert lines[-1].startswith("                  4999 ")


def test_user_lines() -> None:
    """The Users view shows paths from the acting organization, and the count."""
    tree = OrgTree([Organization("root", "Acme"), Organization("es", "Spain", "root")])
    user = StoredUser("1", "ana@x.es", "Ana", "Ruiz", "es", Role.MANAGER, ("A", "B"))

    lines = user_lines([user], tree, within="es", color=False, lang="en")

    assert [
        "email     name      organization  role     groups  language",
        "ana@x.es  Ana Ruiz  Spain         manager  A; B",
        "1 user.",
    ] == lines
