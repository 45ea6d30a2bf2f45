"""The argument parser of the ``userimport`` command, in the language of ``--lang``.

The help, the usage line's "usage:" and the messages about an option's value are
the command's own words, said in that language; so the language is known before
the parser is built (:func:`chosen_language`). The other phrases argparse writes
about a malformed command line (an unknown option, a missing argument, a value
outside a list) are argparse's, in English: Python ships no translation of them,
and changing them would mean changing argparse for the whole process.
"""

from __future__ import annotations

import argparse
import codecs
import functools
import os
from collections.abc import Callable, Iterable, Sequence
from importlib import metadata
from typing import NamedTuple

from userimport import OnExisting, Role
from userimport._messages import LANGUAGES, language, message, say
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


def _delimiter(text: str, *, lang: str) -> str:
    """A ``--delimiter`` value: ``tab`` (or ``\\t``) for a tab; else one character
    that reading accepts (:func:`userimport.reading.check_delimiter`)."""
    value = "\t" if text.casefold() in ("tab", "\\t") else text
    try:
        check_delimiter(value)
    except ValueError:
        wrong = message(
            "{value} is not a delimiter; give one character such as ';' or 'tab'",
            value=repr(text),
        )
        raise argparse.ArgumentTypeError(say(wrong, lang)) from None
    return value


def _positive(text: str, *, lang: str) -> int:
    """A ``--limit`` value: a whole number of at least 1."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        wrong = message(
            "{value} is not a number of users (1 or more)", value=repr(text)
        )
        raise argparse.ArgumentTypeError(say(wrong, lang))
    return number


def _encoding(text: str, *, lang: str) -> str:
    """An ``--encoding`` value: a Python codec name, given by its canonical name."""
    try:
        return codecs.lookup(text).name
    except LookupError:
        wrong = message("unknown encoding {value}", value=repr(text))
        raise argparse.ArgumentTypeError(say(wrong, lang)) from None


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


def chosen_language(argv: Sequence[str]) -> str:
    """The language the parser speaks: the last ``--lang X`` (or ``--lang=X``) of
    ``argv`` before a ``--``, else the environment's.

    Read before the parser exists, so that its help and its usage errors are in
    that language; once the arguments are parsed, ``--lang`` itself decides the
    rest. A value that is not a language, or an abbreviation such as ``--lan``,
    leaves the parser in the environment's language (the parser then refuses the
    value, or reads the abbreviation as ``--lang``).

    >>> chosen_language(["check", "f.csv", "--lang", "es"])
    'es'
    >>> chosen_language(["--lang=es", "check", "--", "--lang", "en"])
    'es'
    """
    chosen = None
    arguments = iter(argv)
    for argument in arguments:
        if argument == "--":
            break
        if argument == "--lang":
            chosen = next(arguments, None)
        elif argument.startswith("--lang="):
            chosen = argument.removeprefix("--lang=")
    return chosen if chosen in LANGUAGES else environment_language()


class _Formatter(argparse.HelpFormatter):
    """argparse's layout of the help, with "usage:" said in the parser's language."""

    def __init__(self, prog: str, *, usage: str) -> None:
        super().__init__(prog)
        self._usage = usage

    def add_usage(
        self,
        usage: str | None,
        actions: Iterable[argparse.Action],
        groups: Iterable[argparse._MutuallyExclusiveGroup],
        prefix: str | None = None,
    ) -> None:
        super().add_usage(
            usage, actions, groups, self._usage if prefix is None else prefix
        )


class _Command(NamedTuple):
    """A parser and the groups its arguments and options go to."""

    parser: argparse.ArgumentParser
    arguments: argparse._ArgumentGroup
    options: argparse._ArgumentGroup


class _Builder:
    """Builds the parsers of one language: every group is titled by us, so that
    argparse's own ("positional arguments", "options") stay empty and unshown."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        usage = say(message("usage: "), lang)
        self.formatter = functools.partial(_Formatter, usage=usage)

    def text(self, english: str) -> str:
        """A message said in the parser's language."""
        return say(english, self.lang)

    def groups(self, parser: argparse.ArgumentParser) -> _Command:
        """The parser's own groups, ``-h`` first among its options."""
        arguments = parser.add_argument_group(self.text(message("arguments")))
        options = parser.add_argument_group(self.text(message("options")))
        options.add_argument(
            "-h",
            "--help",
            action="help",
            help=self.text(message("show this help and exit")),
        )
        return _Command(parser, arguments, options)

    def global_options(
        self, parser: argparse.ArgumentParser, *, defaults: bool
    ) -> None:
        """The options accepted before or after the command name.

        The copy given to each command has no defaults (``SUPPRESS``), so an option
        written before the command name is not reset by the command's parser.
        """

        def default(value: str | None) -> str | None:
            return value if defaults else argparse.SUPPRESS

        group = parser.add_argument_group(self.text(message("global options")))
        group.add_argument(
            "--db",
            metavar="URL",
            default=default(DEFAULT_DB),
            help=self.text(
                message(
                    "the database URL (default: {url}, in the current folder)",
                    url=DEFAULT_DB,
                )
            ),
        )
        group.add_argument(
            "--as",
            dest="acting",
            metavar="ORG",
            default=default(None),
            help=self.text(
                message(
                    "the id of the organization you act for (default: the single root)"
                )
            ),
        )
        group.add_argument(
            "--role",
            choices=[role.value for role in Role],
            default=default(Role.ADMIN.value),
            help=self.text(
                message("your role: you may give roles up to it (default: admin)")
            ),
        )
        group.add_argument(
            "--lang",
            choices=LANGUAGES,
            default=default(environment_language()),
            help=self.text(
                message(
                    "the language of the messages (default: from LC_ALL, "
                    "LC_MESSAGES or LANG)"
                )
            ),
        )

    def command(
        self,
        sub: argparse._SubParsersAction[argparse.ArgumentParser],
        name: str,
        handler: Handler | None,
        text: str,
    ) -> _Command:
        """A command: its description, its groups and the global options."""
        said = self.text(text)
        created = sub.add_parser(
            name,
            help=said,
            description=said,
            add_help=False,
            formatter_class=self.formatter,
        )
        created.set_defaults(handler=handler)
        groups = self.groups(created)
        self.global_options(created, defaults=False)
        return groups

    def commands(
        self, parser: argparse.ArgumentParser
    ) -> argparse._SubParsersAction[argparse.ArgumentParser]:
        return parser.add_subparsers(
            title=self.text(message("commands")), metavar="COMMAND", required=True
        )

    def reading_options(self, command: _Command) -> None:
        """The file of ``check`` and ``import``, and how to read it."""
        command.arguments.add_argument(
            "file", metavar="FILE", help=self.text(message("the CSV file of users"))
        )
        command.options.add_argument(
            "--encoding",
            type=functools.partial(_encoding, lang=self.lang),
            help=self.text(message("the file's encoding (default: detected)")),
        )
        command.options.add_argument(
            "--delimiter",
            type=functools.partial(_delimiter, lang=self.lang),
            help=self.text(message("the delimiter (default: detected)")),
        )
        command.options.add_argument(
            "--on-existing",
            choices=[mode.value for mode in OnExisting],
            default=OnExisting.SKIP.value,
            help=self.text(
                message("what to do with users who exist already (default: skip)")
            ),
        )


def _version() -> str:
    try:
        return metadata.version("userimport")
    except metadata.PackageNotFoundError:  # run from a source tree, not installed
        return "unknown"


def build_parser(lang: str = "en") -> argparse.ArgumentParser:
    """The argument parser, its words in ``lang``; each command sets ``handler``,
    its function."""
    build = _Builder(lang)
    text = build.text
    parser = argparse.ArgumentParser(
        prog="userimport",
        description=text(
            message("Import users from a CSV file: review, confirm, commit.")
        ),
        epilog=text(
            message(
                "Exit status: 0 success, 1 the data has errors, 2 usage or "
                "environment error."
            )
        ),
        add_help=False,
        formatter_class=build.formatter,
    )
    top = build.groups(parser)
    build.global_options(parser, defaults=True)
    top.options.add_argument(
        "--version",
        action="version",
        version=_version(),
        help=text(message("show the version and exit")),
    )
    commands = build.commands(parser)

    template = build.command(
        commands, "template", run_template, message("write the template")
    )
    template.options.add_argument(
        "-o", "--output", metavar="FILE", help=text(message("default: stdout"))
    )
    template.options.add_argument(
        "--format",
        choices=("csv", "xlsx"),
        default="csv",
        help=text(
            message(
                "csv (default), or xlsx: an Excel workbook whose role, organization "
                "and language cells offer the choices of --as and --role"
            )
        ),
    )
    template.options.add_argument(
        "--language",
        choices=TEMPLATE_LANGUAGES,
        default="en",
        help=text(message("the language of the headers (default: en)")),
    )
    template.options.add_argument(
        "--delimiter",
        type=functools.partial(_delimiter, lang=lang),
        help=text(
            message(
                "the delimiter, 'tab' for a tab (default: the language's list "
                "separator, ';' for es and ',' for en)"
            )
        ),
    )
    template.options.add_argument(
        "--no-examples",
        action="store_true",
        help=text(message("leave out the example rows")),
    )

    check = build.command(
        commands, "check", run_check, message("review a file; write nothing")
    )
    build.reading_options(check)

    imp = build.command(
        commands, "import", run_import, message("review a file, then import it")
    )
    build.reading_options(imp)
    imp.options.add_argument(
        "--yes", action="store_true", help=text(message("import without asking"))
    )
    imp.options.add_argument(
        "--skip-invalid",
        action="store_true",
        help=text(message("import the valid rows only")),
    )

    users = build.command(
        commands, "users", run_users, message("list the users you can see")
    )
    users.options.add_argument(
        "--search",
        metavar="TEXT",
        help=text(
            message(
                "only users with a word of their name or email starting with each "
                "word of TEXT (case and accents ignored: 'nunez' finds Núñez)"
            )
        ),
    )
    users.options.add_argument(
        "--limit",
        type=functools.partial(_positive, lang=lang),
        metavar="N",
        help=text(
            message(
                "at most N users (a page); on a terminal, the pages follow one "
                "another (default: a screenful on a terminal, else all)"
            )
        ),
    )
    users.options.add_argument(
        "--after",
        metavar="EMAIL",
        help=text(
            message("start after this email (the last one of the previous page)")
        ),
    )

    orgs = build.command(
        commands, "orgs", None, message("list, add or load organizations")
    )
    orgs_commands = build.commands(orgs.parser)
    build.command(
        orgs_commands, "list", run_orgs_list, message("show the organization tree")
    )
    add = build.command(
        orgs_commands, "add", run_orgs_add, message("add or rename one")
    )
    add.arguments.add_argument(
        "id", metavar="ID", help=text(message("the organization's id"))
    )
    add.arguments.add_argument(
        "name", metavar="NAME", help=text(message("the organization's name"))
    )
    add.options.add_argument(
        "--parent", metavar="ID", help=text(message("default: a new root"))
    )
    load = build.command(
        orgs_commands, "load", run_orgs_load, message("add or update from a CSV")
    )
    load.arguments.add_argument(
        "file", metavar="FILE", help=text(message("CSV with id, name, parent"))
    )
    return parser
