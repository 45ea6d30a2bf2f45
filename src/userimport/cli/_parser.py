"""The argument parser of the ``userimport`` command."""

from __future__ import annotations

import argparse
import codecs
import os
from collections.abc import Callable
from importlib import metadata

from userimport import OnExisting, Role
from userimport._messages import language
from userimport.cli._commands import (
    run_check,
    run_import,
    run_orgs_add,
    run_orgs_list,
    run_orgs_load,
    run_template,
    run_users,
)
from userimport.cli._database import DEFAULT_DB
from userimport.outputs import TEMPLATE_LANGUAGES
from userimport.reading import check_delimiter

Handler = Callable[[argparse.Namespace], int]


def _delimiter(text: str) -> str:
    """A ``--delimiter`` value: ``tab`` (or ``\\t``) for a tab; else one character
    that reading accepts (:func:`userimport.reading.check_delimiter`)."""
    value = "\t" if text.casefold() in ("tab", "\\t") else text
    try:
        check_delimiter(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a delimiter; give one character such as ';' or 'tab'"
        ) from None
    return value


def _positive(text: str) -> int:
    """A ``--limit`` value: a whole number of at least 1."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of users (1 or more)"
        )
    return number


def _encoding(text: str) -> str:
    try:
        return codecs.lookup(text).name
    except LookupError:
        raise argparse.ArgumentTypeError(f"unknown encoding {text!r}") from None


def _global_options(*, defaults: bool) -> argparse.ArgumentParser:
    """The options accepted before or after the command name.

    The copy given to each command has no defaults (``SUPPRESS``), so an option
    written before the command name is not reset by the command's parser.
    """

    def default(value: str | None) -> str | None:
        return value if defaults else argparse.SUPPRESS

    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group("global options")
    group.add_argument(
        "--db",
        metavar="URL",
        default=default(DEFAULT_DB),
        help=f"the database URL (default: {DEFAULT_DB}, in the current folder)",
    )
    group.add_argument(
        "--as",
        dest="acting",
        metavar="ORG",
        default=default(None),
        help="the id of the organization you act for (default: the single root)",
    )
    group.add_argument(
        "--role",
        choices=[role.value for role in Role],
        default=default(Role.ADMIN.value),
        help="your role: you may give roles up to it (default: admin)",
    )
    group.add_argument(
        "--lang",
        choices=["en", "es"],
        default=default(environment_language()),
        help="the language of the review's messages (default: from LC_ALL, "
        "LC_MESSAGES or LANG)",
    )
    return parser


def environment_language() -> str:
    """The language of the environment's locale variables (``LC_ALL``, then
    ``LC_MESSAGES``, then ``LANG``, as POSIX orders them), read without touching
    the process's locale: ``es`` for a Spanish locale such as ``es_MX.UTF-8``,
    else ``en``."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return language(value.partition(".")[0])
    return "en"


def _reading_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="the CSV file of users")
    parser.add_argument(
        "--encoding", type=_encoding, help="the file's encoding (default: detected)"
    )
    parser.add_argument(
        "--delimiter", type=_delimiter, help="the delimiter (default: detected)"
    )
    parser.add_argument(
        "--on-existing",
        choices=[mode.value for mode in OnExisting],
        default=OnExisting.SKIP.value,
        help="what to do with users who exist already (default: skip)",
    )


def _version() -> str:
    try:
        return metadata.version("userimport")
    except metadata.PackageNotFoundError:  # run from a source tree, not installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; each command sets ``handler``, its function."""
    parser = argparse.ArgumentParser(
        prog="userimport",
        description="Import users from a CSV file: review, confirm, commit.",
        epilog="Exit status: 0 success, 1 the data has errors, 2 usage or "
        "environment error.",
        parents=[_global_options(defaults=True)],
    )
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    common = [_global_options(defaults=False)]

    def command(
        sub: argparse._SubParsersAction[argparse.ArgumentParser],
        name: str,
        handler: Handler | None,
        text: str,
    ) -> argparse.ArgumentParser:
        created = sub.add_parser(name, parents=common, help=text, description=text)
        created.set_defaults(handler=handler)
        return created

    template = command(commands, "template", run_template, "write the template")
    template.add_argument("-o", "--output", metavar="FILE", help="default: stdout")
    template.add_argument(
        "--format",
        choices=("csv", "xlsx"),
        default="csv",
        help="csv (default), or xlsx: an Excel workbook whose role, organization "
        "and language cells offer the choices of --as and --role",
    )
    template.add_argument("--language", choices=TEMPLATE_LANGUAGES, default="en")
    template.add_argument(
        "--delimiter",
        type=_delimiter,
        help="the delimiter, 'tab' for a tab (default: the language's list "
        "separator, ';' for es and ',' for en)",
    )
    template.add_argument(
        "--no-examples", action="store_true", help="leave out the example rows"
    )

    check = command(commands, "check", run_check, "review a file; write nothing")
    _reading_options(check)

    imp = command(commands, "import", run_import, "review a file, then import it")
    _reading_options(imp)
    imp.add_argument("--yes", action="store_true", help="import without asking")
    imp.add_argument(
        "--skip-invalid", action="store_true", help="import the valid rows only"
    )

    users = command(commands, "users", run_users, "list the users you can see")
    users.add_argument(
        "--search",
        metavar="TEXT",
        help="only users with a word of their name or email starting with each "
        "word of TEXT (case and accents ignored: 'nunez' finds Núñez)",
    )
    users.add_argument(
        "--limit",
        type=_positive,
        metavar="N",
        help="at most N users (a page); on a terminal, the pages follow one another "
        "(default: a screenful on a terminal, else all)",
    )
    users.add_argument(
        "--after",
        metavar="EMAIL",
        help="start after this email (the last one of the previous page)",
    )

    orgs = command(commands, "orgs", None, "list, add or load organizations")
    orgs_commands = orgs.add_subparsers(
        title="commands", metavar="COMMAND", required=True
    )
    command(orgs_commands, "list", run_orgs_list, "show the organization tree")
    add = command(orgs_commands, "add", run_orgs_add, "add or rename one")
    add.add_argument("id", metavar="ID")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--parent", metavar="ID", help="default: a new root")
    load = command(orgs_commands, "load", run_orgs_load, "add or update from a CSV")
    load.add_argument("file", metavar="FILE", help="CSV with id, name, parent")
    return parser
