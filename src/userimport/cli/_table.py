"""The command line's text: aligned tables, optional ANSI color, and the views
built on them (the review, the users, the organization tree).

Cell text comes from uploaded files, so it is made printable before it reaches a
terminal: control, format (bidirectional overrides, zero-width) and separator
characters are shown as ``\\u202e``-style escapes. A value can then never move
the cursor, recolor the screen or reorder the text around it (the "Trojan Source"
family of tricks, CVE-2021-42574), and every table line stays one line.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

import attrs

from userimport import (
    Action,
    Issue,
    OrgTree,
    Preview,
    ReviewRow,
    Severity,
    StoredUser,
)
from userimport.persistence import FieldValue

__all__ = [
    "Cell",
    "display_width",
    "org_lines",
    "paint",
    "plural",
    "printable",
    "review_lines",
    "table",
    "user_lines",
]

#: SGR codes (ECMA-48 §8.3.117) of the few styles the command line uses.
_STYLES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "cyan": "36",
}

_ACTION_STYLES = {
    Action.CREATE: "green",
    Action.UPDATE: "cyan",
    Action.SKIP: "dim",
    Action.INVALID: "red",
}
_SEVERITY_STYLES = {Severity.ERROR: "red", Severity.WARNING: "yellow"}

#: Unicode general categories shown as escapes: controls (Cc), format characters
#: such as U+202E or U+200B (Cf), line and paragraph separators (Zl, Zp),
#: private-use, surrogate and unassigned code points (Co, Cs, Cn).
_UNPRINTABLE = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"})


def printable(text: str) -> str:
    r"""``text`` with every invisible or terminal-controlling character escaped.

    >>> printable("Ana\u202eRuiz\x1b[2J")
    'Ana\\u202eRuiz\\x1b[2J'
    """
    if text.isprintable():
        return text
    return "".join(_escape(char) for char in text)


def _escape(char: str) -> str:
    if unicodedata.category(char) not in _UNPRINTABLE:
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def display_width(text: str) -> int:
    """How many terminal columns ``text`` takes: wide East Asian characters take
    two, combining marks none (UAX #11)."""
    return sum(
        0
        if unicodedata.combining(char)
        else 2
        if unicodedata.east_asian_width(char) in "WF"
        else 1
        for char in text
    )


def paint(text: str, style: str | None, *, color: bool) -> str:
    """``text`` in ``style`` (a name such as ``"red"``) when ``color`` is on."""
    if not color or style is None or not text:
        return text
    return f"\x1b[{_STYLES[style]}m{text}\x1b[0m"


def _lines(value: str | Sequence[str]) -> tuple[str, ...]:
    lines = (value,) if isinstance(value, str) else tuple(value)
    return tuple(printable(line) for line in lines) or ("",)


@attrs.frozen
class Cell:
    """One table cell: one or more lines of text, in an optional style.

    Attributes:
        lines: The cell's lines, already made :func:`printable`.
        style: A style name (``"red"``, ``"dim"``...), or ``None``.
    """

    lines: tuple[str, ...] = attrs.field(converter=_lines)
    style: str | None = None


def table(
    header: Sequence[str],
    rows: Iterable[Sequence[Cell | str]],
    *,
    color: bool,
    right: Iterable[int] = (),
) -> list[str]:
    """Lay out rows under a header, each column as wide as its widest line.

    A cell of several lines makes its row several lines tall. The last column is
    not padded, so no line ends with spaces.

    Args:
        header: The column titles.
        rows: The rows; plain strings are unstyled cells.
        color: Whether to add ANSI styles (the header is bold).
        right: The indexes of columns aligned to the right (numbers).

    Returns:
        The lines of the table, without line ends.
    """
    cells = [
        [cell if isinstance(cell, Cell) else Cell(cell) for cell in row] for row in rows
    ]
    titles = [Cell(title, "bold") for title in header]
    widths = [
        max(display_width(line) for cell in column for line in cell.lines)
        for column in zip(titles, *cells, strict=True)
    ]
    to_right = frozenset(right)
    lines = []
    for row in [titles, *cells]:
        for n in range(max(len(cell.lines) for cell in row)):
            parts = []
            for i, cell in enumerate(row):
                text = cell.lines[n] if n < len(cell.lines) else ""
                pad = " " * (widths[i] - display_width(text))
                if i in to_right:
                    parts.append(pad + paint(text, cell.style, color=color))
                elif i == len(row) - 1:
                    parts.append(paint(text, cell.style, color=color))
                else:
                    parts.append(paint(text, cell.style, color=color) + pad)
            lines.append("  ".join(parts).rstrip())
    return lines


# --- views -------------------------------------------------------------------------


def plural(count: int, noun: str) -> str:
    """``"1 row"``, ``"2 rows"``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _issue_text(issue: Issue, color: bool) -> str:
    severity = paint(str(issue.severity), _SEVERITY_STYLES[issue.severity], color=color)
    return f"{severity}: {issue.message} ({issue.code})"


def _shown(value: FieldValue) -> str:
    if value is None:
        return "(empty)"
    return value if isinstance(value, str) else "; ".join(value)


def _row_cells(row: ReviewRow, color: bool) -> list[Cell | str]:
    notes = [_issue_text(issue, color) for issue in row.issues]
    notes += [
        f"{field.replace('_', ' ')}: {_shown(old)} → {_shown(new)}"
        for field, (old, new) in row.changes.items()
    ]
    return [
        str(row.row),
        Cell(str(row.action), _ACTION_STYLES[row.action]),
        row.values.get("email", ""),
        Cell(notes),
    ]


def review_lines(name: str, preview: Preview, *, color: bool) -> list[str]:
    """The review of a file: how it was read, its file-level issues, a table of
    rows (spreadsheet row number, action, email, issues and changes) and the
    counts."""
    if preview.format == "xlsx":
        read = "an Excel workbook"
    else:
        read = f"encoding {preview.encoding}" if preview.encoding else "not read"
    if preview.delimiter:
        read += f", delimiter {preview.delimiter!r}"
    lines = [f"{printable(name)}: {plural(len(preview.rows), 'row')}, {read}"]
    lines += [f"file: {_issue_text(issue, color)}" for issue in preview.file_issues]
    if preview.rows:
        cells = [_row_cells(row, color) for row in preview.rows]
        header = ("row", "action", "email", "issues")
        lines += table(header, cells, color=color, right=[0])
    errors = sum(issue.is_error for issue in preview.issues)
    warnings = len(preview.issues) - errors
    s = preview.summary
    lines.append(
        f"{plural(s.total, 'row')}: {s.create} to create, {s.update} to update, "
        f"{s.skip} to skip, {s.invalid} invalid; "
        f"{plural(errors, 'error')}, {plural(warnings, 'warning')}."
    )
    return lines


def user_lines(
    users: Sequence[StoredUser],
    tree: OrgTree,
    *,
    within: str,
    color: bool,
    count: bool = True,
) -> list[str]:
    """The Users screen: one line per user, organizations as paths from
    ``within`` (what its administrator may see), then the count (unless
    ``count`` is false: a page of a longer list)."""
    rows: list[list[Cell | str]] = [
        [
            user.email,
            f"{user.first_name} {user.last_name}",
            tree.path_text(user.organization, within=within),
            str(user.role),
            "; ".join(user.groups),
            user.language or "",
        ]
        for user in users
    ]
    header = ("email", "name", "organization", "role", "groups", "language")
    lines = table(header, rows, color=color) if rows else []
    return [*lines, f"{plural(len(users), 'user')}."] if count else lines


def org_lines(tree: OrgTree, *, top: str | None, color: bool) -> list[str]:
    """The organization tree, ids indented by depth, from ``top`` (or every
    root). Iterative: a chain of any depth is fine."""
    depth: dict[str, int] = {}
    rows: list[list[Cell | str]] = []
    for org in tree:  # pre-order: a parent comes before its children
        depth[org.id] = 0 if org.parent_id is None else depth[org.parent_id] + 1
        if top is None or tree.is_within(org.id, top):
            level = depth[org.id] - (depth[top] if top is not None else 0)
            rows.append(["  " * level + org.id, org.name])
    return table(("id", "name"), rows, color=color)
