"""The command line's streams: exit statuses, one-line errors, color, the prompt."""

from __future__ import annotations

import os
import shutil
import sys
from typing import TextIO

from userimport.cli._table import paint, printable

#: 0 success, 1 the data has errors, 2 usage or environment error.
EXIT_OK, EXIT_DATA, EXIT_USAGE = 0, 1, 2


class CommandError(Exception):
    """A failure shown as one line on stderr, with the exit status to return."""

    def __init__(self, message: str, status: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.status = status


def color(stream: TextIO) -> bool:
    """Color only on a terminal, and never when ``NO_COLOR`` is set (no-color.org)."""
    return not os.environ.get("NO_COLOR") and stream.isatty()


def say(*lines: str) -> None:
    """Print ``lines`` on stdout."""
    for line in lines:
        print(line, file=sys.stdout)


def error(message: str) -> None:
    """Print ``message`` on stderr as one ``userimport: error:`` line."""
    label = paint("error", "red", color=color(sys.stderr))
    print(f"userimport: {label}: {printable(message)}", file=sys.stderr)


def interactive() -> bool:
    """Whether someone is at a terminal: both stdin and stdout are one."""
    return (
        sys.stdin is not None
        and sys.stdin.isatty()
        and sys.stdout is not None
        and sys.stdout.isatty()
    )


def screenful() -> int:
    """How many lines of a table fit the terminal with its header and a prompt."""
    return max(5, shutil.get_terminal_size().lines - 4)


def more(prompt: str) -> bool:
    """Ask on the terminal whether to go on: Enter goes on; ``q`` or the end of
    the input stops."""
    sys.stdout.write(prompt)
    sys.stdout.flush()
    answer = sys.stdin.readline()
    if not answer:
        sys.stdout.write("\n")  # the terminal echoed no line end
    return bool(answer) and answer.strip().casefold() not in ("q", "quit")


def confirm(question: str) -> bool:
    """Ask on the terminal; with no terminal, refuse rather than guess."""
    if sys.stdin is None or not sys.stdin.isatty():
        raise CommandError(
            "Nothing was imported: there is no terminal to confirm on; "
            "pass --yes to import without asking."
        )
    sys.stdout.write(question)
    sys.stdout.flush()
    return sys.stdin.readline().strip().casefold() in ("y", "yes")
