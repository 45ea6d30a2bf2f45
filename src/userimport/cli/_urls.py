"""What a ``--db`` URL names: a database the commands support, and for SQLite, a
database that outlives the command.

An SQLite database in memory, or the temporary one SQLite opens for an empty file
name, vanishes when the command ends: an import into it would report users that
were never kept. Which URLs name one is the rule of
:func:`userimport._sqlite_url.sqlite_file`, which the SQL store follows too.
"""

from __future__ import annotations

from urllib.parse import unquote

from userimport._messages import message
from userimport._sqlite_url import SUPPORTED, URL_GRAMMAR, shown_url, sqlite_file
from userimport.cli._console import CommandError

__all__ = ["database_url", "shown_url", "sqlite_file"]


def database_url(text: str) -> str:
    """``text`` as a URL the commands may open, its scheme in lower case.

    URL schemes are case-insensitive (RFC 3986, section 3.1), and SQLAlchemy knows
    its dialects by their lower-case names only: ``SQLITE:///users.db`` is the file
    ``users.db``.

    Raises:
        CommandError: ``text`` is not an SQLite or PostgreSQL URL, or it names an
            SQLite database that vanishes when the command ends.
    """
    match = URL_GRAMMAR.match(text)
    name = match["name"] if match else ""
    dialect = name.lower().partition("+")[0] if name.isascii() else ""
    if text.strip() == ":memory:":
        raise CommandError(_vanishing(text))
    if dialect not in SUPPORTED:
        raise CommandError(
            message(
                "Cannot open the database URL '{url}': userimport opens SQLite URLs, "
                "such as sqlite:///userimport.db (a file), and PostgreSQL URLs, such "
                "as postgresql+psycopg://user@host/dbname.",
                url=shown_url(text),
            )
        )
    url = name.lower() + text[len(name) :]
    if dialect == "sqlite" and sqlite_file(url) == "":
        raise CommandError(_vanishing(text))
    if dialect == "sqlite" and "%" in ((match and match["database"]) or ""):
        # SQLAlchemy 2.0 and 2.1 read a percent-escape in an SQLite file name
        # differently (2.1 decodes it), so the file it names depends on the version.
        raise CommandError(
            message(
                "Cannot open the database URL '{url}': write the file name of an "
                "SQLite URL without percent-escapes (%XX), which versions of "
                "SQLAlchemy read differently.",
                url=shown_url(text),
            )
        )
    if dialect == "sqlite" and "\0" in unquote(url):
        # Python 3.10's sqlite3 cuts a file name at a NUL where later versions
        # refuse it: refuse it here, on every version.
        raise CommandError(
            message(
                "Cannot open the database URL '{url}': it names a file with a NUL "
                "character, which no file name can hold.",
                url=shown_url(text),
            )
        )
    return url


def _vanishing(url: str) -> str:
    return message(
        "Cannot use the database URL '{url}': SQLite keeps that database in memory "
        "and it vanishes when the command ends, so an import would report users "
        "that were never kept; name a file, such as sqlite:///userimport.db.",
        url=shown_url(url),
    )
