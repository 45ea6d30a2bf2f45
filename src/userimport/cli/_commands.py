"""The ``userimport`` command line (SPEC §8, §9 "CLI exit status", §10 "CLI").

The same flow as any other frontend: read and review a file, confirm, commit. The
store is :class:`~userimport.sql.SQLStore`, by default on the SQLite file
``userimport.db`` in the current folder. Exit status: 0 success, 1 the data has
errors, 2 usage or environment error (SPEC §9). Every failure a user can cause is
one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from userimport._table import (
    org_lines,
    paint,
    plural,
    printable,
    review_lines,
    user_lines,
)
from userimport.access import Actor, visible_users
from userimport.decoding import decode, sniff_binary
from userimport.exceptions import (
    CommitBlocked,
    CommitConflict,
    HierarchyError,
    StoreError,
    UserImportError,
)
from userimport.flow import ImportOptions, Preview, commit, prepare
from userimport.hierarchy import Organization, OrgTree, organizations_from_csv
from userimport.issues import Issue
from userimport.outputs import TEMPLATE_LANGUAGES, template
from userimport.review import OnExisting
from userimport.schema import Role
from userimport.stores.memory import MemoryStore

if TYPE_CHECKING:
    from userimport.sql import SQLStore

__all__ = ["AUTO_ROOT", "DEFAULT_DB", "build_parser", "main"]

#: The database of every command unless ``--db`` says otherwise (SPEC §10).
DEFAULT_DB = "sqlite:///userimport.db"

#: The root organization a database without organizations gets (SPEC §10).
AUTO_ROOT = Organization("root", "My organization")

EXIT_OK, EXIT_DATA, EXIT_USAGE = 0, 1, 2

#: ``sqlite:///relative.db``, ``sqlite:////absolute.db``, with an optional driver.
_SQLITE_FILE = re.compile(r"sqlite(?:\+\w+)?:///([^?]+)")


class CommandError(Exception):
    """A failure shown as one line on stderr, with the exit status to return."""

    def __init__(self, message: str, status: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.status = status


# --- output ------------------------------------------------------------------------


def _color(stream: TextIO) -> bool:
    """Color only on a terminal, and never when ``NO_COLOR`` is set (no-color.org)."""
    return not os.environ.get("NO_COLOR") and stream.isatty()


def _say(*lines: str) -> None:
    for line in lines:
        print(line, file=sys.stdout)


def _error(message: str) -> None:
    label = paint("error", "red", color=_color(sys.stderr))
    print(f"userimport: {label}: {printable(message)}", file=sys.stderr)


# --- the database ------------------------------------------------------------------


def _sqlstore_class() -> type[SQLStore]:
    try:
        from userimport.sql import SQLStore
    except ImportError as exc:
        raise CommandError(
            "The database needs SQLAlchemy, which is not installed; "
            "install it with: pip install 'userimport[sql]'."
        ) from exc
    return SQLStore


def _has_schema(url: str) -> bool:
    """Whether the database holds the store's tables: looked at through a plain
    engine, so a database that does not is left exactly as it is."""
    _sqlstore_class()  # SQLAlchemy is installed
    import sqlalchemy as sa

    from userimport.sql import metadata as tables

    try:
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                names = set(sa.inspect(conn).get_table_names())
        finally:
            engine.dispose()
    except (sa.exc.SQLAlchemyError, ImportError) as exc:
        cause = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise CommandError(
            f"Cannot open the database {_shown_url(url)}: {cause}."
        ) from exc
    return set(tables.tables) <= names


def _shown_url(url: str) -> str:
    """The URL for a message, its password masked."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


@contextlib.contextmanager
def _writable(url: str) -> Iterator[SQLStore]:
    """The store at ``url`` with its tables created if missing; closed afterwards."""
    store = _sqlstore_class()(url)
    try:
        try:
            store.create_schema()
        except StoreError as exc:
            raise CommandError(
                f"Cannot open the database {_shown_url(url)}: {exc}"
            ) from exc
        yield store
    finally:
        store.close()


@contextlib.contextmanager
def _readable(url: str) -> Iterator[SQLStore | None]:
    """The store at ``url``, or ``None`` when nothing is stored there yet.

    Reading changes nothing: a missing SQLite file is not created (its folder
    must exist, though), and a database without the tables is left as it is.
    """
    match = _SQLITE_FILE.fullmatch(url)
    if match and not Path(match.group(1)).exists():
        folder = Path(match.group(1)).parent
        if not folder.is_dir():
            raise CommandError(
                f"Cannot open the database {url}: the folder {folder} does not exist."
            )
        yield None
        return
    if not _has_schema(url):
        yield None
        return
    store = _sqlstore_class()(url)
    try:
        yield store
    finally:
        store.close()


def _tree(store: SQLStore | None) -> tuple[OrgTree, bool]:
    """The organizations, and whether they are stored: a database without any
    has only :data:`AUTO_ROOT`, not stored yet."""
    tree = store.org_tree() if store is not None else OrgTree(())
    return (tree, True) if len(tree) else (OrgTree([AUTO_ROOT]), False)


def _actor(tree: OrgTree, args: argparse.Namespace) -> Actor:
    """``--as`` and ``--role``; by default, an admin of the single root (SPEC §10)."""
    if args.acting is not None:
        if args.acting not in tree:
            raise CommandError(
                f"No organization has the id {args.acting!r}; "
                "see the ids with: userimport orgs list."
            )
        return Actor(args.acting, args.role)
    if len(tree.roots) > 1:
        ids = ", ".join(org.id for org in tree.roots)
        raise CommandError(
            f"The database has several root organizations ({ids}); "
            "pass --as ORG to say which one you act for."
        )
    return Actor(tree.roots[0].id, args.role)


# --- commands ----------------------------------------------------------------------


def _options(args: argparse.Namespace) -> ImportOptions:
    return ImportOptions(
        encoding=args.encoding,
        delimiter=args.delimiter,
        on_existing=args.on_existing,
    )


def _review(
    args: argparse.Namespace, actor: Actor, tree: OrgTree, store: SQLStore | None
) -> Preview:
    """Prepare the file (read at most ``max_bytes``) and print the review."""
    try:
        with open(args.file, "rb") as file:
            preview = prepare(
                file,
                actor=actor,
                orgs=tree,
                store=store if store is not None else MemoryStore(),
                options=_options(args),
            )
    except OSError as exc:
        raise CommandError(f"Cannot read {args.file}: {exc.strerror or exc}.") from exc
    _say(*review_lines(args.file, preview, color=_color(sys.stdout)))
    return preview


def _cmd_template(args: argparse.Namespace) -> int:
    data = template(args.language, examples=not args.no_examples)
    if args.output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return EXIT_OK
    try:
        Path(args.output).write_bytes(data)
    except OSError as exc:
        raise CommandError(f"Cannot write {args.output}: {exc.strerror}.") from exc
    _say(f"Wrote the template to {printable(args.output)}.")
    return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    """Review a file against the database if there is one; write nothing."""
    with _readable(args.db) as store:
        tree, _ = _tree(store)
        preview = _review(args, _actor(tree, args), tree, store)
    return EXIT_OK if preview.ok else EXIT_DATA


def _confirm(question: str) -> bool:
    """Ask on the terminal; with no terminal, refuse rather than guess."""
    if sys.stdin is None or not sys.stdin.isatty():
        raise CommandError(
            "Nothing was imported: there is no terminal to confirm on; "
            "pass --yes to import without asking."
        )
    sys.stdout.write(question)
    sys.stdout.flush()
    return sys.stdin.readline().strip().casefold() in ("y", "yes")


def _cmd_import(args: argparse.Namespace) -> int:
    """Review, confirm, then commit every row or none (SPEC §6)."""
    with _writable(args.db) as store:
        tree, stored = _tree(store)
        if not stored:
            store.add_organizations([AUTO_ROOT])
            _say(f"Created the root organization {AUTO_ROOT.id!r} ({AUTO_ROOT.name}).")
        actor = _actor(tree, args)
        preview = _review(args, actor, tree, store)
        if not preview.can_commit:
            _error("Nothing was imported: the file has no row that can be imported.")
            return EXIT_DATA
        if not preview.ok and not args.skip_invalid:
            _error(
                f"Nothing was imported: {plural(preview.summary.invalid, 'row')} "
                "with errors; fix them, or pass --skip-invalid to import the others."
            )
            return EXIT_DATA
        count = preview.summary.create + preview.summary.update
        if count == 0:
            _say("Nothing to import: every row is skipped.")
            return EXIT_OK
        if not args.yes and not _confirm(f"Import {plural(count, 'user')}? [y/N] "):
            _say("Cancelled; nothing was imported.")
            return EXIT_DATA
        result = commit(
            preview,
            actor=actor,
            orgs=tree,
            store=store,
            skip_invalid=args.skip_invalid,
            options=_options(args),
        )
    _say(
        f"Imported: {result.created} created, {result.updated} updated, "
        f"{result.skipped} skipped, {result.invalid} left out with errors."
    )
    return EXIT_OK


def _cmd_users(args: argparse.Namespace) -> int:
    with _readable(args.db) as store:
        tree, _ = _tree(store)
        actor = _actor(tree, args)
        users = visible_users(actor, tree, store) if store is not None else []
    _say(*user_lines(users, tree, within=actor.org_id, color=_color(sys.stdout)))
    return EXIT_OK


def _cmd_orgs_list(args: argparse.Namespace) -> int:
    with _readable(args.db) as store:
        tree, stored = _tree(store)
    top = _actor(tree, args).org_id if args.acting is not None else None
    _say(*org_lines(tree, top=top, color=_color(sys.stdout)))
    if not stored:
        _say("(not stored yet: the first import creates it)")
    return EXIT_OK


def _load(store: SQLStore, orgs: Sequence[Organization]) -> int:
    """Add or update organizations, all or none, and say what changed."""
    before = store.org_tree()
    try:
        store.add_organizations(orgs)
    except HierarchyError as exc:
        _error(f"Nothing was changed: {exc}")
        return EXIT_DATA
    after = store.org_tree()
    added = sum(org.id not in before for org in orgs)
    changed = sum(org.id in before and before.get(org.id) != org for org in orgs)
    _say(
        f"{plural(len(orgs), 'organization')}: {added} added, {changed} changed, "
        f"{len(orgs) - added - changed} unchanged."
    )
    if len(after.roots) > 1:
        ids = ", ".join(org.id for org in after.roots)
        _say(
            f"Note: the database now has several root organizations ({ids}); "
            "pass --as ORG to the other commands to say which one you act for."
        )
    return EXIT_OK


def _cmd_orgs_add(args: argparse.Namespace) -> int:
    org = Organization(args.id, args.name, args.parent)
    with _writable(args.db) as store:
        _, stored = _tree(store)
        # The root that `orgs list` shows on an empty database can be a parent.
        auto = not stored and args.parent == AUTO_ROOT.id and args.id != AUTO_ROOT.id
        return _load(store, [AUTO_ROOT, org] if auto else [org])


def _cmd_orgs_load(args: argparse.Namespace) -> int:
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        raise CommandError(f"Cannot read {args.file}: {exc.strerror}.") from exc
    decoded = sniff_binary(data) or decode(data)
    if isinstance(decoded, Issue):
        _error(f"Nothing was changed: {decoded.message}")
        return EXIT_DATA
    try:
        orgs = organizations_from_csv(decoded.text)
    except HierarchyError as exc:
        _error(f"Nothing was changed: {exc}")
        return EXIT_DATA
    if not orgs:
        _error(f"Nothing was changed: {args.file} holds no organization.")
        return EXIT_DATA
    with _writable(args.db) as store:
        return _load(store, orgs)


# --- the parser --------------------------------------------------------------------


def _delimiter(text: str) -> str:
    value = "\t" if text.casefold() in ("tab", "\\t") else text
    if len(value) != 1 or value in '"\r\n\0':
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a delimiter; give one character such as ';' or 'tab'"
        )
    return value


def _encoding(text: str) -> str:
    try:
        return codecs.lookup(text).name
    except LookupError:
        raise argparse.ArgumentTypeError(f"unknown encoding {text!r}") from None


def _global_options(*, defaults: bool) -> argparse.ArgumentParser:
    """The options accepted before or after the command name (SPEC §10).

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
    return parser


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
    """The argument parser of the ``userimport`` command."""
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
        handler: Callable[[argparse.Namespace], int] | None,
        text: str,
    ) -> argparse.ArgumentParser:
        created = sub.add_parser(name, parents=common, help=text, description=text)
        created.set_defaults(handler=handler)
        return created

    template = command(commands, "template", _cmd_template, "write the CSV template")
    template.add_argument("-o", "--output", metavar="FILE", help="default: stdout")
    template.add_argument("--language", choices=TEMPLATE_LANGUAGES, default="en")
    template.add_argument(
        "--no-examples", action="store_true", help="leave out the example rows"
    )

    check = command(commands, "check", _cmd_check, "review a file; write nothing")
    _reading_options(check)

    imp = command(commands, "import", _cmd_import, "review a file, then import it")
    _reading_options(imp)
    imp.add_argument("--yes", action="store_true", help="import without asking")
    imp.add_argument(
        "--skip-invalid", action="store_true", help="import the valid rows only"
    )

    command(commands, "users", _cmd_users, "list the users you can see")

    orgs = command(commands, "orgs", None, "list, add or load organizations")
    orgs_commands = orgs.add_subparsers(
        title="commands", metavar="COMMAND", required=True
    )
    command(orgs_commands, "list", _cmd_orgs_list, "show the organization tree")
    add = command(orgs_commands, "add", _cmd_orgs_add, "add or rename one")
    add.add_argument("id", metavar="ID")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--parent", metavar="ID", help="default: a new root")
    load = command(orgs_commands, "load", _cmd_orgs_load, "add or update from a CSV")
    load.add_argument("file", metavar="FILE", help="CSV with id, name, parent")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``userimport`` command line and return its exit status.

    Args:
        argv: The arguments, without the program name (default: ``sys.argv[1:]``).

    Returns:
        0 success, 1 the data has errors, 2 usage or environment error (SPEC §9).
    """
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage or the help
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        status: int = args.handler(args)
    except CommandError as exc:
        _error(str(exc))
        return exc.status
    except CommitBlocked as exc:
        _error(str(exc))
        return EXIT_DATA
    except (CommitConflict, UserImportError) as exc:
        # A conflict means another writer changed the users meanwhile: run again.
        _error(str(exc))
        return EXIT_USAGE
    except OSError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        # A transaction cut short is rolled back; 128 + SIGINT, as shells report.
        _error("Interrupted.")
        return 130
    return status
