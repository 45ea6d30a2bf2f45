"""The command line's text: aligned tables, optional ANSI color, and the views
built on them (the review, the users, the organization tree), in the language
the command was given: their words are messages
(:func:`~userimport._messages.message`), said when a view is laid out, so that a
column is as wide as its words in that language.

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
from userimport._labels import FIELD_NAMES
from userimport._messages import message, say
from userimport.persistence import FieldValue

__all__ = [
    "Cell",
    "display_width",
    "org_lines",
    "organizations_counted",
    "paint",
    "printable",
    "review_lines",
    "table",
    "user_lines",
    "users_counted",
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


def _rows_counted(count: int) -> str:
    """``"1 row"``, ``"2 rows"``: a message."""
    if count == 1:
        return message("{count} row", count=count)
    return message("{count} rows", count=count)


def users_counted(count: int) -> str:
    """``"1 user"``, ``"2 users"``: a message."""
    if count == 1:
        return message("{count} user", count=count)
    return message("{count} users", count=count)


def organizations_counted(count: int) -> str:
    """``"1 organization"``, ``"2 organizations"``: a message."""
    if count == 1:
        return message("{count} organization", count=count)
    return message("{count} organizations", count=count)


def _errors_counted(count: int) -> str:
    if count == 1:
        return message("{count} error", count=count)
    return message("{count} errors", count=count)


def _warnings_counted(count: int) -> str:
    if count == 1:
        return message("{count} warning", count=count)
    return message("{count} warnings", count=count)


#: The review's words for an action and a severity (the values stay English
#: in the library's data; these are what a person reads).
_ACTION_WORDS = {
    Action.CREATE: message("create"),
    Action.UPDATE: message("update"),
    Action.SKIP: message("skip"),
    Action.INVALID: message("invalid"),
}
_SEVERITY_WORDS = {
    Severity.ERROR: message("error"),
    Severity.WARNING: message("warning"),
}


def _issue_text(issue: Issue, color: bool, lang: str) -> str:
    word = say(_SEVERITY_WORDS[issue.severity], lang)
    severity = paint(word, _SEVERITY_STYLES[issue.severity], color=color)
    return f"{severity}: {say(issue.message, lang)} ({issue.code})"


def _shown(value: FieldValue, lang: str) -> str:
    if value is None:
        return say(message("(empty)"), lang)
    return value if isinstance(value, str) else "; ".join(value)


def _row_cells(row: ReviewRow, color: bool, lang: str) -> list[Cell | str]:
    notes = [_issue_text(issue, color, lang) for issue in row.issues]
    notes += [
        f"{say(FIELD_NAMES[field], lang)}: {_shown(old, lang)} → {_shown(new, lang)}"
        for field, (old, new) in row.changes.items()
    ]
    return [
        str(row.row),
        Cell(say(_ACTION_WORDS[row.action], lang), _ACTION_STYLES[row.action]),
        row.values.get("email", ""),
        Cell(notes),
    ]


def _how_read(preview: Preview) -> str:
    """How the file was read: a message."""
    if preview.format == "xlsx":
        return message("an Excel workbook")
    how = (
        message("encoding {encoding}", encoding=preview.encoding)
        if preview.encoding
        else message("not read")
    )
    if preview.delimiter:
        return message(
            "{how}, delimiter {delimiter}", how=how, delimiter=repr(preview.delimiter)
        )
    return how


def review_lines(name: str, preview: Preview, *, color: bool, lang: str) -> list[str]:
    """The review of a file in ``lang``: how it was read, its file-level issues, a
    table of rows (spreadsheet row number, action, email, issues and changes) and
    the counts. Issue codes, emails and values stay as they are."""
    rows = _rows_counted(len(preview.rows))
    read = _how_read(preview)
    heading = message(
        "{file}: {rows}, {read}", file=printable(name), rows=rows, read=read
    )
    lines = [say(heading, lang)]
    lines += [
        say(message("file: {issue}", issue=_issue_text(issue, color, lang)), lang)
        for issue in preview.file_issues
    ]
    if preview.rows:
        cells = [_row_cells(row, color, lang) for row in preview.rows]
        header = [
            message("row"),
            message("action"),
            message("email"),
            message("issues"),
        ]
        titles = [say(title, lang) for title in header]
        lines += table(titles, cells, color=color, right=[0])
    errors = sum(issue.is_error for issue in preview.issues)
    s = preview.summary
    total = _rows_counted(s.total)
    said_errors = _errors_counted(errors)
    said_warnings = _warnings_counted(len(preview.issues) - errors)
    summary = message(
        "{rows}: {create} to create, {update} to update, {skip} to skip, "
        "{invalid} invalid; {errors}, {warnings}.",
        rows=total,
        create=s.create,
        update=s.update,
        skip=s.skip,
        invalid=s.invalid,
        errors=said_errors,
        warnings=said_warnings,
    )
    lines.append(say(summary, lang))
    return lines


def user_lines(
    users: Sequence[StoredUser],
    tree: OrgTree,
    *,
    within: str,
    color: bool,
    lang: str,
    count: bool = True,
) -> list[str]:
    """The Users screen in ``lang``: one line per user, organizations as paths
    from ``within`` (what its administrator may see), then the count (unless
    ``count`` is false: a page of a longer list). Roles and languages are shown
    as stored (``learner``, ``es-MX``): they are what the file and ``--role``
    take."""
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
    header = [
        FIELD_NAMES["email"],
        message("name"),
        *(FIELD_NAMES[field] for field in ("organization", "role", "groups")),
        FIELD_NAMES["language"],
    ]
    titles = [say(title, lang) for title in header]
    lines = table(titles, rows, color=color) if rows else []
    if not count:
        return lines
    counted = users_counted(len(users))
    return [*lines, say(message("{users}.", users=counted), lang)]


def org_lines(tree: OrgTree, *, top: str | None, color: bool, lang: str) -> list[str]:
    """The organization tree, ids indented by depth, from ``top`` (or every
    root), its header in ``lang``. Iterative: a chain of any depth is fine."""
    depth: dict[str, int] = {}
    rows: list[list[Cell | str]] = []
    for org in tree:  # pre-order: a parent comes before its children
        depth[org.id] = 0 if org.parent_id is None else depth[org.parent_id] + 1
        if top is None or tree.is_within(org.id, top):
            level = depth[org.id] - (depth[top] if top is not None else 0)
            rows.append(["  " * level + org.id, org.name])
    header = [say(message("id"), lang), say(message("name"), lang)]
    return table(header, rows, color=color)
