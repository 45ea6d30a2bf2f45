"""What an SQLite database URL names: a file, or a database that vanishes.

An SQLite database in memory, or the temporary one SQLite opens for an empty file
name, vanishes when its last connection closes. Whether a URL names one is decided
the way the URL is read on its way to SQLite, in three steps, none of which needs
SQLAlchemy installed:

1. SQLAlchemy's URL grammar (``sqlalchemy.engine.make_url``): the database part is
   percent-decoded, the query string is split by :func:`urllib.parse.parse_qsl`.
2. SQLAlchemy's pysqlite dialect: an empty database is ``:memory:``; with the
   ``uri`` option true, the database and the options that are not the driver's own
   form an SQLite URI file name, passed on as they are.
3. SQLite (https://sqlite.org/uri.html and https://sqlite.org/inmemorydb.html):
   ``:memory:`` and the empty name are not files; in a ``file:`` URI the path is
   percent-decoded (``%00`` ends it), ``mode=memory`` and ``vfs=memdb`` keep the
   database in memory, and the last ``mode`` or ``vfs`` option counts.

The SQL store and the command line both ask :func:`sqlite_file`.
"""

from __future__ import annotations

import os
import re
from urllib.parse import parse_qsl, unquote

__all__ = ["SUPPORTED", "URL_GRAMMAR", "shown_url", "sqlite_file"]


#: The dialects whose URLs the command line opens (their drivers are chosen after a
#: ``+``, as in ``postgresql+psycopg``).
SUPPORTED = ("sqlite", "postgresql")

#: SQLAlchemy's URL grammar, as ``sqlalchemy.engine.url`` writes it.
URL_GRAMMAR = re.compile(
    r"""
    (?P<name>[\w+]+)://
    (?:
        (?P<username>[^:/]*)
        (?::(?P<password>[^@]*))?
    @)?
    (?:
        (?:
            \[(?P<ipv6host>[^/?]+)\] |
            (?P<ipv4host>[^/:?]+)
        )?
        (?::(?P<port>[^/?]*))?
    )?
    (?:/(?P<database>[^?]*))?
    (?:\?(?P<query>.*))?
    """,
    re.VERBOSE,
)

#: The user and password part of a URL, in the grammar above.
_USERINFO = re.compile(r"(?P<user>://[^:/]*:)[^@]*@")

#: The options of SQLAlchemy's pysqlite dialect that go to the driver, never into
#: an SQLite URI.
_DRIVER_OPTIONS = frozenset(
    {
        "uri",
        "timeout",
        "isolation_level",
        "detect_types",
        "check_same_thread",
        "cached_statements",
    }
)

#: The strings SQLAlchemy reads as true and as false (``sqlalchemy.util.asbool``).
_TRUE = frozenset({"true", "yes", "on", "y", "t", "1"})
_FALSE = frozenset({"false", "no", "off", "n", "f", "0"})


def shown_url(url: str) -> str:
    """The URL for a message, its password masked: the password as SQLAlchemy's
    grammar finds it (after ``://``, a user, ``:``, and up to the next ``@``)."""
    return _USERINFO.sub(r"\g<user>***@", url, count=1)


def sqlite_file(url: str) -> str | None:
    """The file SQLite opens for the SQLite URL ``url``, as SQLite names it.

    Returns:
        The file's absolute path; ``""`` when the database is in memory or
        temporary, so it vanishes with its connection; ``None`` when the URL is
        not an SQLite one, or when SQLAlchemy or the driver refuse it (a host, a
        user, a bad ``uri`` value, a NUL character, a URI without a file name),
        which opening it reports.
    """
    match = URL_GRAMMAR.match(url)
    if match is None or match["name"].lower().partition("+")[0] != "sqlite":
        return None
    if _has_authority(match):
        return None
    options: dict[str, list[str]] = {}
    for key, value in parse_qsl(match["query"] or ""):
        options.setdefault(key, []).append(value)
    uri = _flag(options.get("uri", ["false"]))
    if uri and match["database"] is None:  # ``sqlite://?uri=true``: no file name
        return None
    database = unquote(match["database"] or "")
    if uri:
        # The dialect appends the options that are not its own, sorted, key=value.
        extra = sorted(key for key in options if key not in _DRIVER_OPTIONS)
        if extra:
            pairs = (f"{key}={_text(options[key])}" for key in extra)
            database += "?" + "&".join(pairs)
    if uri is None or "\0" in database:  # the driver refuses a NUL character
        return None
    if database in ("", ":memory:"):
        return ""
    name = _uri_file(database) if uri and database.startswith("file:") else database
    # SQLite opens a relative path from the current folder, without "." or "//".
    return os.path.abspath(name) if name else name


def _has_authority(match: re.Match[str]) -> bool:
    """Whether the URL has a user, password, host or port, which SQLAlchemy's
    SQLite dialects refuse (a port is read as an integer, so ``:0`` is none)."""
    if match["username"] or match["password"]:
        return True
    if match["ipv6host"] or match["ipv4host"]:
        return True
    if not match["port"]:
        return False
    try:
        return bool(int(match["port"]))
    except ValueError:
        return True


def _flag(values: list[str]) -> bool | None:
    """An option read as SQLAlchemy reads a flag; ``None`` if it refuses it.

    A repeated option is a tuple, which is true.
    """
    if len(values) > 1:
        return True
    text = values[0].strip().lower()
    return True if text in _TRUE else False if text in _FALSE else None


def _text(values: list[str]) -> str:
    """An option as the dialect writes it into the URI (``%s``: a repeated
    option is written as a tuple)."""
    return values[0] if len(values) == 1 else str(tuple(values))


def _uri_file(uri: str) -> str | None:
    """The file SQLite opens for a ``file:`` URI, ``""`` if none, ``None`` if it
    refuses the URI (an authority other than ``localhost``)."""
    rest = uri[len("file:") :].partition("#")[0]
    path, _, query = rest.partition("?")
    if path.startswith("//"):
        authority, slash, path = path[2:].partition("/")
        if authority not in ("", "localhost"):
            return None
        path = slash + path
    path = _decoded(path)
    mode = vfs = None
    for option in query.split("&"):
        raw_key, _, raw_value = option.partition("=")
        key, value = _decoded(raw_key), _decoded(raw_value)
        if key == "mode":
            mode = value
        elif key == "vfs":
            vfs = value
    if mode == "memory" or vfs == "memdb" or path in ("", ":memory:"):
        return ""
    return path


def _decoded(text: str) -> str:
    """Percent-decoded as SQLite decodes a URI part: ``%00`` ends it."""
    return unquote(text).partition("\0")[0]
