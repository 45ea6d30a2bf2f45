"""The command line's streams: exit statuses, one-line errors, color, the prompt.

What the commands print is said in the language of ``--lang``: a
:func:`~userimport._messages.message` is translated here, as it is printed; any
other text (a table already laid out in the language, a file's name) is printed
as it is.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import TextIO

from userimport._messages import message, say
from userimport.cli._table import paint, printable

#: 0 success, 1 the data has errors, 2 usage or environment error.
EXIT_OK, EXIT_DATA, EXIT_USAGE = 0, 1, 2


class CommandError(Exception):
    """A failure shown as one line on stderr, with the exit status to return.

    Attributes:
        message: What went wrong, a message the language of ``--lang`` can say.
        status: The exit status.
    """

    def __init__(self, message: str, status: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def reason(exc: Exception) -> str:
    """What ``exc`` says: its message as the library wrote it (a message, said in
    the language, when the library made it one), else its text."""
    first = exc.args[0] if exc.args else None
    return first if isinstance(first, str) else str(exc)


def system_reason(exc: OSError) -> str:
    """Why a file could not be read or written: the common causes as messages (in
    English, the system's own words), any other in the system's (``strerror``)."""
    if isinstance(exc, FileNotFoundError):
        return message("No such file or directory")
    if isinstance(exc, IsADirectoryError):
        return message("Is a directory")
    if isinstance(exc, PermissionError):
        return message("Permission denied")
    return exc.strerror or str(exc)


def color(stream: TextIO) -> bool:
    """Color only on a terminal, and never when ``NO_COLOR`` is set (no-color.org)."""
    return not os.environ.get("NO_COLOR") and stream.isatty()


def show(lang: str, *lines: str) -> None:
    """Print ``lines`` on stdout, said in ``lang``."""
    for line in lines:
        print(say(line, lang), file=sys.stdout)


def error(text: str, lang: str) -> None:
    """Print ``text``, said in ``lang``, on stderr as one ``userimport: error:``
    line (the same marker in every language, for scripts that look for it)."""
    label = paint("error", "red", color=color(sys.stderr))
    print(f"userimport: {label}: {printable(say(text, lang))}", file=sys.stderr)


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


def more(prompt: str, lang: str) -> bool:
    """Ask on the terminal whether to go on: Enter goes on; ``q`` or the end of
    the input stops."""
    sys.stdout.write(f"-- {say(prompt, lang)} -- ")
    sys.stdout.flush()
    answer = sys.stdin.readline()
    if not answer:
        sys.stdout.write("\n")  # the terminal echoed no line end
    return bool(answer) and answer.strip().casefold() not in ("q", "quit")


#: The answers that mean yes, separated by commas: English's in every language
#: (a script may pipe ``y``), and the language's own.
_YES = message("y, yes")


def confirm(question: str, lang: str) -> bool:
    """Ask on the terminal; with no terminal, refuse rather than guess."""
    if sys.stdin is None or not sys.stdin.isatty():
        raise CommandError(
            message(
                "Nothing was imported: there is no terminal to confirm on; "
                "pass --yes to import without asking."
            )
        )
    sys.stdout.write(f"{say(question, lang)} ")
    sys.stdout.flush()
    yes = {word.strip().casefold() for word in f"{_YES},{say(_YES, lang)}".split(",")}
    return sys.stdin.readline().strip().casefold() in yes
