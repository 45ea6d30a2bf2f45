"""An example web frontend that embeds the import flow: Users, Import (upload,
review, Done) and "create a single user", on Flask and ``SQLStore`` (SQLite).

It holds no rule of its own: every check and every message comes from userimport
(``prepare``, ``commit``, ``validate_user``, ``visible_users``), and the page only
lays them out. Run it from the repository root::

    .venv/bin/flask --app examples/webapp/app.py run

and open http://127.0.0.1:5000/. ``USERIMPORT_WEBAPP_DATABASE`` sets the database URL
(default ``sqlite:///userimport-webapp.db`` in the current folder); a database without
organizations is seeded from ``examples/orgs.csv`` on the first start. See
``docs/webapp.md``.

Why Flask: the flow is synchronous (a review is a few milliseconds of CPU and one
store call), Flask is small and typed, renders Jinja2 templates with autoescaping on,
and has a test client; an async framework would add nothing here.
"""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO, Final, cast

import attrs
from cattrs import BaseValidationError
from flask import (
    Flask,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from userimport import (
    Action,
    Actor,
    CommitBlocked,
    CommitConflict,
    ImportOptions,
    ImportResult,
    Issue,
    OnExisting,
    OrgTree,
    Preview,
    ReviewRow,
    Role,
    Summary,
    commit,
    converter,
    error_report,
    prepare,
    template,
    validate_user,
    visible_users,
)
from userimport.hierarchy import organizations_from_csv
from userimport.outputs import TEMPLATE_LANGUAGES
from userimport.persistence import FieldValue
from userimport.schema import COLUMNS
from userimport.sql import SQLStore

__all__ = ["DEMO_ADMINS", "DemoAdmin", "State", "create_app", "main", "state"]

HERE: Final = Path(__file__).resolve().parent

#: The organizations a new database is seeded with.
ORGS_CSV: Final = HERE.parent / "orgs.csv"

#: The database used when neither ``create_app`` nor the environment names one.
DEFAULT_DATABASE: Final = "sqlite:///userimport-webapp.db"

#: The most bytes a request may carry. Files between ``ImportOptions.max_bytes``
#: (2 MiB) and this get the library's ``file_too_large`` issue; the preview sent back
#: at Done holds every value up to three times (values, parsed user, issue), hence
#: the margin.
MAX_REQUEST_BYTES: Final = 16 * 1024 * 1024

#: The canonical columns as the review table heads them.
COLUMN_TITLES: Final[Mapping[str, str]] = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "organization": "Organization",
    "role": "Role",
    "groups": "Groups",
    "language": "Language",
}

#: How the review names the delimiter the library detected.
DELIMITER_NAMES: Final[Mapping[str, str]] = {
    ",": "comma (,)",
    ";": "semicolon (;)",
    "\t": "tab",
    "|": "vertical bar (|)",
}

#: The languages the template links offer, by code.
TEMPLATE_TITLES: Final[Mapping[str, str]] = {"en": "English", "es": "Spanish"}

#: What the upload form offers for users that already exist.
ON_EXISTING_CHOICES: Final = (OnExisting.SKIP, OnExisting.UPDATE)

_STATE: Final = "userimport_webapp"


@attrs.frozen
class DemoAdmin:
    """An administrator the demo lets you act as (it stands in for a real login).

    Attributes:
        key: The value kept in the session.
        label: What the chooser shows.
        actor: Who the flow is run for.
    """

    key: str
    label: str
    actor: Actor


#: The administrators to choose from: the root admin sees everything; the Spain
#: manager sees Spain and below, and may give roles up to manager.
DEMO_ADMINS: Final[tuple[DemoAdmin, ...]] = (
    DemoAdmin("root-admin", "Administrator of Acme Learning", Actor("root")),
    DemoAdmin("spain-manager", "Manager of Spain", Actor("es", Role.MANAGER)),
)


@attrs.frozen
class State:
    """What the application holds for its lifetime.

    Attributes:
        store: The users (and organizations) in SQL.
        tree: The organization tree, loaded once at start.
        options: The import options (the limit of 200 users per file).
    """

    store: SQLStore
    tree: OrgTree
    options: ImportOptions = attrs.field(factory=ImportOptions)


def state(app: Flask | None = None) -> State:
    """The :class:`State` of ``app`` (default: the current application)."""
    found = (app if app is not None else current_app).extensions[_STATE]
    assert isinstance(found, State)
    return found


def create_app(
    database_url: str | None = None, *, secret_key: str | None = None
) -> Flask:
    """The application on a database, seeded with ``examples/orgs.csv`` if empty.

    ``flask --app examples/webapp/app.py run`` calls it with no arguments.

    Args:
        database_url: An SQLAlchemy URL; default ``USERIMPORT_WEBAPP_DATABASE`` or
            :data:`DEFAULT_DATABASE`. An existing database must hold the
            organizations the demo's administrators act for (``root``, ``es``).
        secret_key: Signs the session cookie (the acting administrator); default
            ``USERIMPORT_WEBAPP_SECRET_KEY`` or a random key (sessions then end
            when the process does).

    Raises:
        ValueError: The database lacks an organization of :data:`DEMO_ADMINS`.
        userimport.StoreError: The database cannot be used.
    """
    url = database_url or os.environ.get("USERIMPORT_WEBAPP_DATABASE", DEFAULT_DATABASE)
    store = SQLStore(url)
    store.create_schema()
    if len(store.org_tree()) == 0:
        store.add_organizations(
            organizations_from_csv(ORGS_CSV.read_text(encoding="utf-8"))
        )

    tree = store.org_tree()
    missing = sorted(a.actor.org_id for a in DEMO_ADMINS if a.actor.org_id not in tree)
    if missing:
        store.close()
        raise ValueError(
            f"The database at {url!r} has no organization {', '.join(missing)}, "
            "which the demo's administrators act for; use a new database."
        )

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret_key
        or os.environ.get("USERIMPORT_WEBAPP_SECRET_KEY")
        or secrets.token_hex(32),
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_REQUEST_BYTES,
    )
    app.extensions[_STATE] = State(store, tree)

    app.before_request(_make_nonce)
    app.after_request(_security_headers)
    app.context_processor(_page_context)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.add_url_rule("/", "home", _home)
    app.add_url_rule("/users", "users", _users)
    app.add_url_rule("/users/new", "new_user", _new_user, methods=["GET", "POST"])
    app.add_url_rule("/actor", "actor", _choose_admin, methods=["POST"])
    app.add_url_rule("/import", "upload", _upload, methods=["GET"])
    app.add_url_rule("/import", "review", _review, methods=["POST"])
    app.add_url_rule("/import/template/<language>", "template", _template)
    app.add_url_rule("/import/report", "report", _report, methods=["POST"])
    app.add_url_rule("/import/commit", "commit", _commit, methods=["POST"])
    app.add_url_rule("/import/done", "done", _done)
    return app


# -- page plumbing ----------------------------------------------------------------


def _make_nonce() -> None:
    g.nonce = secrets.token_urlsafe(16)


def _security_headers(response: Response) -> Response:
    # Defence in depth: the templates escape every value (Jinja2 autoescape), and
    # the policy lets only this request's own inline script and style run.
    nonce = g.get("nonce", "")
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; "
        f"style-src 'nonce-{nonce}'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _admin() -> DemoAdmin:
    """The administrator chosen in the session (the first one by default)."""
    key = session.get("admin")
    return next((a for a in DEMO_ADMINS if a.key == key), DEMO_ADMINS[0])


def _page_context() -> dict[str, object]:
    return {
        "admins": DEMO_ADMINS,
        "current_admin": _admin(),
        "nonce": g.get("nonce", ""),
        "max_rows": state().options.max_rows,
    }


def _org_path(org_id: str, actor: Actor) -> str:
    """The organization as the actor sees it: its path from the actor's own."""
    return state().tree.path_text(org_id, within=actor.org_id) or org_id


def _format_value(value: FieldValue) -> str:
    """A stored field for the review's "old → new" lines (groups, empty values)."""
    if value is None or value == ():
        return "(empty)"
    return value if isinstance(value, str) else "; ".join(value)


def _changes(row: ReviewRow, actor: Actor) -> list[tuple[str, str, str]]:
    """An update's changes as (field title, old, new), organizations as paths."""
    lines = []
    for field, (old, new) in row.changes.items():
        if field == "organization" and isinstance(old, str) and isinstance(new, str):
            old, new = _org_path(old, actor), _org_path(new, actor)
        lines.append(
            (COLUMN_TITLES.get(field, field), _format_value(old), _format_value(new))
        )
    return lines


def _by_column(issues: Iterable[Issue]) -> dict[str | None, list[Issue]]:
    """Issues grouped by the column they concern (``None``: the row as a whole)."""
    grouped: dict[str | None, list[Issue]] = {}
    for issue in issues:
        column = issue.column if issue.column in COLUMN_TITLES else None
        grouped.setdefault(column, []).append(issue)
    return grouped


# -- Users ------------------------------------------------------------------------


def _home() -> ResponseReturnValue:
    return redirect(url_for("users"))


def _choose_admin() -> ResponseReturnValue:
    key = request.form.get("admin", "")
    if any(a.key == key for a in DEMO_ADMINS):
        session["admin"] = key
    return redirect(url_for("users"))


def _users() -> ResponseReturnValue:
    actor = _admin().actor
    tree = state().tree
    users = visible_users(actor, tree, state().store)
    return render_template(
        "users.html",
        users=users,
        org_path=lambda org_id: _org_path(org_id, actor),
        scope=tree.path_text(actor.org_id),
    )


def _single_preview(row: ReviewRow, actor: Actor, options: ImportOptions) -> Preview:
    """A one-row preview of a ``validate_user`` result, bound to the actor and the
    options it was validated with, for ``commit``."""
    return Preview(
        rows=(row,),
        issues=row.issues,
        summary=Summary.of([row]),
        encoding=None,
        delimiter=None,
        on_existing=options.on_existing,
        default_role=options.default_role,
        actor=actor,
        options_fingerprint=options.fingerprint,
    )


def _new_user() -> ResponseReturnValue:
    """Create a single user: ``validate_user`` then ``commit``, the import's rules."""
    actor = _admin().actor
    tree = state().tree
    values = {column: request.form.get(column, "") for column in COLUMNS}
    issues: Sequence[Issue] = ()
    if request.method == "POST":
        # An existing email is an error here: this form creates, it never updates.
        options = attrs.evolve(state().options, on_existing=OnExisting.ERROR)
        row = validate_user(
            values, actor=actor, orgs=tree, store=state().store, options=options
        )
        issues = row.issues
        if row.action is Action.CREATE:
            try:
                commit(
                    _single_preview(row, actor, options),
                    actor=actor,
                    orgs=tree,
                    store=state().store,
                    options=options,
                )
            except (CommitBlocked, CommitConflict) as error:
                flash(str(error))
            else:
                assert row.user is not None  # a "create" row has its user
                flash(f"Created {row.user.first_name} {row.user.last_name}.")
                return redirect(url_for("users"))
    return render_template(
        "new_user.html",
        values=values,
        issues=_by_column(issues),
        titles=COLUMN_TITLES,
        roles=[role for role in Role if actor.may_assign(role)],
        organizations=[
            tree.path_text(org.id, within=actor.org_id)
            for org in tree
            if tree.is_within(org.id, actor.org_id)
        ],
    )


# -- Import -----------------------------------------------------------------------


def _upload_page(problem: str | None = None) -> str:
    """Step 1: the drop zone, the template links and the limit."""
    return render_template(
        "upload.html",
        languages=[
            (code, TEMPLATE_TITLES.get(code, code)) for code in TEMPLATE_LANGUAGES
        ],
        problem=problem,
    )


def _upload() -> ResponseReturnValue:
    return _upload_page()


def _too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    megabytes = MAX_REQUEST_BYTES // (1024 * 1024)
    return _upload_page(
        f"The upload is larger than {megabytes} MiB; nothing was read."
    ), 413


def _template(language: str) -> ResponseReturnValue:
    try:
        data = template(language)
    except ValueError as error:
        return str(error), 404, {"Content-Type": "text/plain; charset=utf-8"}
    return send_file(
        io.BytesIO(data),
        mimetype="text/csv",
        as_attachment=True,
        download_name=f"users-template-{language}.csv",
    )


def _columns_read(preview: Preview) -> list[str]:
    """The header cells that name a column, with that column when it is written
    differently ("E-mail (Email)"), as SPEC §6 asks frontends to show."""
    shown = []
    for match in preview.columns:
        title = COLUMN_TITLES.get(match.column or "")
        if title is not None:
            shown.append(
                match.header if match.header == title else f"{match.header} ({title})"
            )
    return shown


def _review_page(preview: Preview, message: str | None = None) -> str:
    """Step 2: every row with its action and issues, and the preview as JSON."""
    actor = _admin().actor
    rows = [(row, _by_column(row.issues), _changes(row, actor)) for row in preview.rows]
    return render_template(
        "review.html",
        preview=preview,
        preview_json=converter.dumps(preview),
        rows=rows,
        titles=COLUMN_TITLES,
        delimiter=DELIMITER_NAMES.get(preview.delimiter or "", preview.delimiter),
        columns_read=_columns_read(preview),
        columns_ignored=[m.header for m in preview.columns if m.column is None],
        message=message,
    )


def _review() -> ResponseReturnValue:
    """Step 2: ``prepare`` the upload and show what would happen to every row."""
    choice = request.form.get("on_existing", OnExisting.SKIP.value)
    on_existing = next(
        (o for o in ON_EXISTING_CHOICES if o.value == choice), OnExisting.SKIP
    )
    options = attrs.evolve(state().options, on_existing=on_existing)
    upload = request.files.get("file")
    # No file is an empty upload: the library says so (``empty_file``).
    data = cast(BinaryIO, upload.stream) if upload is not None else b""
    preview = prepare(
        data,
        actor=_admin().actor,
        orgs=state().tree,
        store=state().store,
        options=options,
    )
    return _review_page(preview)


def _posted_preview() -> Preview | None:
    """The preview the review page sent back, or ``None`` if it does not parse.

    It comes from the client, so nothing in it is trusted: ``commit`` recomputes
    every row (SPEC §6), and here it only has to be well-formed and within the
    row limit.
    """
    try:
        preview = converter.loads(request.form.get("preview", ""), Preview)
    except (ValueError, TypeError, KeyError, RecursionError, BaseValidationError):
        return None
    # The limit holds for what comes back too: commit reviews every row again.
    limit = state().options.max_rows
    return None if limit is not None and len(preview.rows) > limit else preview


_UNREADABLE: Final = "The review could not be read back; upload the file again."


def _report() -> ResponseReturnValue:
    preview = _posted_preview()
    if preview is None:
        return _upload_page(_UNREADABLE), 400
    return send_file(
        io.BytesIO(error_report(preview)),
        mimetype="text/csv",
        as_attachment=True,
        download_name="users-errors.csv",
    )


def _commit() -> ResponseReturnValue:
    """Done: ``commit`` the preview (re-checked against the store and the rights)."""
    preview = _posted_preview()
    if preview is None:
        return _upload_page(_UNREADABLE), 400
    try:
        result = commit(
            preview,
            actor=_admin().actor,
            orgs=state().tree,
            store=state().store,
            skip_invalid=request.form.get("skip_invalid") == "1",
            # The server's checks; the page offers both "skip" and "update", so the
            # administrator's choice (kept in the preview) is an allowed policy.
            options=attrs.evolve(state().options, on_existing=preview.on_existing),
        )
    except (CommitBlocked, CommitConflict) as error:
        return _review_page(preview, f"Nothing was imported. {error}"), 409
    session["result"] = _result_counts(result)
    return redirect(url_for("done"))


def _result_counts(result: ImportResult) -> dict[str, int]:
    return {
        "created": result.created,
        "updated": result.updated,
        "skipped": result.skipped,
        "invalid": result.invalid,
    }


def _done() -> ResponseReturnValue:
    counts = session.get("result")
    if not isinstance(counts, dict):
        return redirect(url_for("upload"))
    return render_template("done.html", counts=counts)


def main() -> None:
    """Serve on http://127.0.0.1:5000/ (``python examples/webapp/app.py``)."""
    create_app().run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")))


if __name__ == "__main__":
    main()
