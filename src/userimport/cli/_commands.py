"""The commands: each takes the parsed arguments and returns the exit status.

The same flow as any other frontend: read and review a file, confirm, commit.
Every sentence is a :func:`~userimport._messages.message`, printed in the language
of ``--lang`` (``args.lang``); what a script reads (the template's bytes, the exit
status) is the same in every language.
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
from userimport._messages import message
from userimport.cli._console import (
    EXIT_DATA,
    EXIT_OK,
    CommandError,
    color,
    confirm,
    error,
    interactive,
    more,
    reason,
    screenful,
    show,
    system_reason,
)
from userimport.cli._database import AUTO_ROOT, readable, stored_tree, writable
from userimport.cli._table import (
    org_lines,
    organizations_counted,
    printable,
    review_lines,
    user_lines,
    users_counted,
)
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
                message(
                    "No organization has the id {id}; "
                    "see the ids with: userimport orgs list.",
                    id=repr(args.acting),
                )
            )
        return Actor(args.acting, args.role)
    if len(tree.roots) > 1:
        ids = ", ".join(org.id for org in tree.roots)
        raise CommandError(
            message(
                "The database has several root organizations ({ids}); "
                "pass --as ORG to say which one you act for.",
                ids=ids,
            )
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
        raise _cannot_read(args.file, exc) from exc
    show(
        args.lang,
        *review_lines(args.file, preview, color=color(sys.stdout), lang=args.lang),
    )
    return preview


def _cannot_read(name: str, exc: OSError) -> CommandError:
    return CommandError(
        message("Cannot read {file}: {reason}.", file=name, reason=system_reason(exc))
    )


def run_template(args: argparse.Namespace) -> int:
    """Write the template (CSV, or an Excel workbook) to stdout or ``--output``."""
    if args.format == "xlsx":
        if args.delimiter is not None:
            raise CommandError(message("--delimiter is for the CSV template; drop it."))
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
            raise CommandError(
                message(
                    "The Excel workbook needs XlsxWriter, which is not installed; "
                    "install it with: pip install 'userimport[xlsx]'."
                )
            ) from exc
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
        raise CommandError(
            message(
                "Cannot write {file}: {reason}.",
                file=args.output,
                reason=system_reason(exc),
            )
        ) from exc
    show(
        args.lang, message("Wrote the template to {file}.", file=printable(args.output))
    )
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
            show(
                args.lang,
                message(
                    "Created the root organization {id} ({name}).",
                    id=repr(AUTO_ROOT.id),
                    name=AUTO_ROOT.name,
                ),
            )
        actor = _actor(tree, args)
        preview = _review(args, actor, tree, store)
        if not preview.can_commit:
            error(
                message(
                    "Nothing was imported: the file has no row that can be imported."
                ),
                args.lang,
            )
            return EXIT_DATA
        if not preview.ok and not args.skip_invalid:
            error(_blocked(preview.summary.invalid), args.lang)
            return EXIT_DATA
        count = preview.summary.create + preview.summary.update
        if count == 0:
            show(args.lang, message("Nothing to import: every row is skipped."))
            return EXIT_OK
        counted = users_counted(count)
        question = message("Import {users}? [y/N]", users=counted)
        if not args.yes and not confirm(question, args.lang):
            show(args.lang, message("Cancelled; nothing was imported."))
            return EXIT_DATA
        result = commit(
            preview,
            actor=actor,
            orgs=tree,
            store=store,
            skip_invalid=args.skip_invalid,
            options=_options(args),
        )
    done = message(
        "Imported: {created} created, {updated} updated, {skipped} skipped, "
        "{invalid} left out with errors.",
        created=result.created,
        updated=result.updated,
        skipped=result.skipped,
        invalid=result.invalid,
    )
    show(args.lang, done)
    return EXIT_OK


def _blocked(invalid: int) -> str:
    """Why rows with errors block an import without ``--skip-invalid``."""
    if invalid == 1:
        return message(
            "Nothing was imported: 1 row has errors; fix it, or pass --skip-invalid "
            "to import the others."
        )
    return message(
        "Nothing was imported: {count} rows have errors; fix them, or pass "
        "--skip-invalid to import the others.",
        count=invalid,
    )


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
            lines = user_lines(
                page,
                tree,
                within=actor.org_id,
                color=paint,
                lang=args.lang,
                count=False,
            )
            show(args.lang, *lines)
            shown += len(page)
            counted = users_counted(shown)
            if len(found) == len(page):
                show(args.lang, message("{users}.", users=counted))
                return EXIT_OK
            after = page[-1].key
            prompt = message("Enter: the next page; q: stop")
            if not (on_terminal and more(prompt, args.lang)):
                rest = message(
                    "{users} shown; for the next ones, add: --after {email}",
                    users=counted,
                    email=shlex.quote(after),
                )
                show(args.lang, rest)
                return EXIT_OK


def run_orgs_list(args: argparse.Namespace) -> int:
    """Show the organization tree, from ``--as`` when given."""
    with readable(args.db) as store:
        tree, stored = stored_tree(store)
    top = _actor(tree, args).org_id if args.acting is not None else None
    show(args.lang, *org_lines(tree, top=top, color=color(sys.stdout), lang=args.lang))
    if not stored:
        show(args.lang, message("(not stored yet: the first import creates it)"))
    return EXIT_OK


def _unchanged(reason: str, lang: str) -> int:
    """Say that organizations were refused (``reason``), and return the status."""
    error(message("Nothing was changed: {reason}", reason=reason), lang)
    return EXIT_DATA


def _load(store: SQLStore, orgs: Sequence[Organization], lang: str) -> int:
    """Add or update organizations, all or none, and say what changed."""
    before = store.org_tree()
    try:
        store.add_organizations(orgs)
    except HierarchyError as exc:
        return _unchanged(reason(exc), lang)
    after = store.org_tree()
    added = sum(org.id not in before for org in orgs)
    changed = sum(org.id in before and before.get(org.id) != org for org in orgs)
    counted = organizations_counted(len(orgs))
    done = message(
        "{organizations}: {added} added, {changed} changed, {unchanged} unchanged.",
        organizations=counted,
        added=added,
        changed=changed,
        unchanged=len(orgs) - added - changed,
    )
    show(lang, done)
    if len(after.roots) > 1:
        note = message(
            "Note: the database now has several root organizations ({ids}); "
            "pass --as ORG to the other commands to say which one you act for.",
            ids=", ".join(org.id for org in after.roots),
        )
        show(lang, note)
    return EXIT_OK


def run_orgs_add(args: argparse.Namespace) -> int:
    """Add or rename one organization; its id, name and parent are trimmed."""
    parent = args.parent.strip() if args.parent is not None else None
    org = Organization(args.id.strip(), args.name.strip(), parent)
    with writable(args.db) as store:
        _, stored = stored_tree(store)
        # The root that `orgs list` shows on an empty database can be a parent.
        auto = not stored and org.parent_id == AUTO_ROOT.id and org.id != AUTO_ROOT.id
        return _load(store, [AUTO_ROOT, org] if auto else [org], args.lang)


def run_orgs_load(args: argparse.Namespace) -> int:
    """Add or update the organizations of a CSV file, all or none."""
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        raise _cannot_read(args.file, exc) from exc
    decoded = sniff_binary(data) or decode(data)
    if isinstance(decoded, Issue):
        return _unchanged(decoded.message, args.lang)
    try:
        orgs = organizations_from_csv(decoded.text)
    except HierarchyError as exc:
        return _unchanged(reason(exc), args.lang)
    if not orgs:
        empty = message("{file} holds no organization.", file=args.file)
        return _unchanged(empty, args.lang)
    with writable(args.db) as store:
        return _load(store, orgs, args.lang)
