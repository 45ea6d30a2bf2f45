"""The commands: each takes the parsed arguments and returns the exit status.

The same flow as any other frontend: read and review a file, confirm, commit.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from userimport import (
    Actor,
    ImportOptions,
    Issue,
    Organization,
    OrgTree,
    Preview,
    commit,
    prepare,
    template,
    visible_users,
)
from userimport.cli._console import (
    EXIT_DATA,
    EXIT_OK,
    CommandError,
    color,
    confirm,
    error,
    interactive,
    more,
    say,
    screenful,
)
from userimport.cli._database import AUTO_ROOT, readable, stored_tree, writable
from userimport.cli._table import org_lines, plural, printable, review_lines, user_lines
from userimport.decoding import decode, sniff_binary
from userimport.exceptions import HierarchyError
from userimport.hierarchy import organizations_from_csv
from userimport.schema import email_key
from userimport.stores.memory import MemoryStore

if TYPE_CHECKING:
    from userimport.sql import SQLStore


def _actor(tree: OrgTree, args: argparse.Namespace) -> Actor:
    """``--as`` and ``--role``; by default, an admin of the single root."""
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


def _options(args: argparse.Namespace) -> ImportOptions:
    return ImportOptions(
        encoding=args.encoding,
        delimiter=args.delimiter,
        on_existing=args.on_existing,
        locale=args.lang,
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
    say(*review_lines(args.file, preview, color=color(sys.stdout)))
    return preview


def run_template(args: argparse.Namespace) -> int:
    """Write the template (CSV, or an Excel workbook) to stdout or ``--output``."""
    if args.format == "xlsx":
        if args.delimiter is not None:
            raise CommandError("--delimiter is for the CSV template; drop it.")
        # The workbook's lists offer what the acting administrator may use.
        with readable(args.db) as store:
            tree, _ = stored_tree(store)
        try:
            data = template(
                args.language,
                examples=not args.no_examples,
                format="xlsx",
                orgs=tree,
                actor=_actor(tree, args),
            )
        except ModuleNotFoundError as exc:
            raise CommandError(f"{exc}.") from exc
    else:
        data = template(
            args.language, examples=not args.no_examples, delimiter=args.delimiter
        )
    if args.output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return EXIT_OK
    try:
        Path(args.output).write_bytes(data)
    except OSError as exc:
        raise CommandError(f"Cannot write {args.output}: {exc.strerror}.") from exc
    say(f"Wrote the template to {printable(args.output)}.")
    return EXIT_OK


def run_check(args: argparse.Namespace) -> int:
    """Review a file against the database if there is one; write nothing."""
    with readable(args.db) as store:
        tree, _ = stored_tree(store)
        preview = _review(args, _actor(tree, args), tree, store)
    return EXIT_OK if preview.ok else EXIT_DATA


def run_import(args: argparse.Namespace) -> int:
    """Review, confirm, then commit every row or none."""
    with writable(args.db) as store:
        tree, stored = stored_tree(store)
        if not stored:
            store.add_organizations([AUTO_ROOT])
            say(f"Created the root organization {AUTO_ROOT.id!r} ({AUTO_ROOT.name}).")
        actor = _actor(tree, args)
        preview = _review(args, actor, tree, store)
        if not preview.can_commit:
            error("Nothing was imported: the file has no row that can be imported.")
            return EXIT_DATA
        if not preview.ok and not args.skip_invalid:
            error(
                f"Nothing was imported: {plural(preview.summary.invalid, 'row')} "
                "with errors; fix them, or pass --skip-invalid to import the others."
            )
            return EXIT_DATA
        count = preview.summary.create + preview.summary.update
        if count == 0:
            say("Nothing to import: every row is skipped.")
            return EXIT_OK
        if not args.yes and not confirm(f"Import {plural(count, 'user')}? [y/N] "):
            say("Cancelled; nothing was imported.")
            return EXIT_DATA
        result = commit(
            preview,
            actor=actor,
            orgs=tree,
            store=store,
            skip_invalid=args.skip_invalid,
            options=_options(args),
        )
    say(
        f"Imported: {result.created} created, {result.updated} updated, "
        f"{result.skipped} skipped, {result.invalid} left out with errors."
    )
    return EXIT_OK


def run_users(args: argparse.Namespace) -> int:
    """List the users the actor can see, searched with ``--search``, a page of
    ``--limit`` at a time starting after ``--after``.

    On a terminal the pages follow one another, a screenful by default, each
    after Enter; elsewhere (a pipe, a file) the first ``--limit`` users are
    written (all by default), with what to add for the next ones.
    """
    paint = color(sys.stdout)
    on_terminal = interactive()
    size = args.limit if args.limit is not None or not on_terminal else screenful()
    with readable(args.db) as store:
        tree, _ = stored_tree(store)
        actor = _actor(tree, args)
        # Keys are what pages are ordered by: any spelling of the email will do.
        shown, after = 0, None if args.after is None else email_key(args.after)
        while True:
            found = (
                visible_users(
                    actor,
                    tree,
                    store,
                    search=args.search,
                    limit=None if size is None else size + 1,
                    after=after,
                )
                if store is not None
                else []
            )
            page = found if size is None else found[:size]
            say(*user_lines(page, tree, within=actor.org_id, color=paint, count=False))
            shown += len(page)
            if len(found) == len(page):
                say(f"{plural(shown, 'user')}.")
                return EXIT_OK
            after = page[-1].key
            if not (on_terminal and more("-- Enter: the next page; q: stop -- ")):
                say(
                    f"{plural(shown, 'user')} shown; for the next ones, add: "
                    f"--after {shlex.quote(after)}"
                )
                return EXIT_OK


def run_orgs_list(args: argparse.Namespace) -> int:
    """Show the organization tree, from ``--as`` when given."""
    with readable(args.db) as store:
        tree, stored = stored_tree(store)
    top = _actor(tree, args).org_id if args.acting is not None else None
    say(*org_lines(tree, top=top, color=color(sys.stdout)))
    if not stored:
        say("(not stored yet: the first import creates it)")
    return EXIT_OK


def _load(store: SQLStore, orgs: Sequence[Organization]) -> int:
    """Add or update organizations, all or none, and say what changed."""
    before = store.org_tree()
    try:
        store.add_organizations(orgs)
    except HierarchyError as exc:
        error(f"Nothing was changed: {exc}")
        return EXIT_DATA
    after = store.org_tree()
    added = sum(org.id not in before for org in orgs)
    changed = sum(org.id in before and before.get(org.id) != org for org in orgs)
    say(
        f"{plural(len(orgs), 'organization')}: {added} added, {changed} changed, "
        f"{len(orgs) - added - changed} unchanged."
    )
    if len(after.roots) > 1:
        ids = ", ".join(org.id for org in after.roots)
        say(
            f"Note: the database now has several root organizations ({ids}); "
            "pass --as ORG to the other commands to say which one you act for."
        )
    return EXIT_OK


def run_orgs_add(args: argparse.Namespace) -> int:
    """Add or rename one organization; its id, name and parent are trimmed."""
    parent = args.parent.strip() if args.parent is not None else None
    org = Organization(args.id.strip(), args.name.strip(), parent)
    with writable(args.db) as store:
        _, stored = stored_tree(store)
        # The root that `orgs list` shows on an empty database can be a parent.
        auto = not stored and org.parent_id == AUTO_ROOT.id and org.id != AUTO_ROOT.id
        return _load(store, [AUTO_ROOT, org] if auto else [org])


def run_orgs_load(args: argparse.Namespace) -> int:
    """Add or update the organizations of a CSV file, all or none."""
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        raise CommandError(f"Cannot read {args.file}: {exc.strerror}.") from exc
    decoded = sniff_binary(data) or decode(data)
    if isinstance(decoded, Issue):
        error(f"Nothing was changed: {decoded.message}")
        return EXIT_DATA
    try:
        orgs = organizations_from_csv(decoded.text)
    except HierarchyError as exc:
        error(f"Nothing was changed: {exc}")
        return EXIT_DATA
    if not orgs:
        error(f"Nothing was changed: {args.file} holds no organization.")
        return EXIT_DATA
    with writable(args.db) as store:
        return _load(store, orgs)
