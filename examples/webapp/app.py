"""An example web frontend that embeds the import flow: Users, Import (upload,
review, Done) and "create a single user", on Flask and ``SQLStore`` (SQLite).

It holds no rule of its own: every check and every message comes from userimport
(``prepare``, ``commit``, ``validate_user``, ``visible_users``), and the page only
lays them out. Run it from the repository root::

    .venv/bin/flask --app examples/webapp/app.py run

and open http://127.0.0.1:5000/. ``USERIMPORT_WEBAPP_DATABASE`` sets the database URL
(default ``sqlite:///userimport-webapp.db`` in the current folder); a database without
organizations is seeded from ``examples/orgs.csv`` on the first start.
``USERIMPORT_WEBAPP_SECRET_KEY`` is the key that signs the session and the sealed
reviews. See ``docs/webapp.md``.

It fails closed, as a copy of it must: every page but the sign-in page asks for a
signed-in administrator (a demo sign-in page stands in for a real login), every form
carries a CSRF token (Flask-WTF), and the review travels between step 2 and Done
only sealed (``userimport.seal``), with the policy for existing users inside the
seal, so Done commits with options the server builds itself.

Why Flask: the flow is synchronous (a review is a few milliseconds of CPU and one
store call), Flask is small and typed, renders Jinja2 templates with autoescaping on,
and has a test client; an async framework would add nothing here.
"""

from __future__ import annotations

import io
import os
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO, Final, cast

import attrs
from flask import (
    Flask,
    abort,
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

# Flask-WTF ships no type information (no py.typed): its two names are Any here.
from flask_wtf.csrf import CSRFError, CSRFProtect  # type: ignore[import-untyped]
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
    PreviewMismatch,
    ReviewRow,
    Role,
    SealError,
    Summary,
    commit,
    error_report,
    prepare,
    seal,
    template,
    unseal,
    validate_user,
    visible_users,
)
from userimport.hierarchy import organizations_from_csv
from userimport.outputs import TEMPLATE_LANGUAGES, list_separator
from userimport.persistence import FieldValue
from userimport.schema import COLUMNS
from userimport.sql import SQLStore

__all__ = [
    "DEMO_ADMINS",
    "PUBLIC_ENDPOINTS",
    "REVIEW_MAX_AGE",
    "DemoAdmin",
    "State",
    "TemplateLink",
    "create_app",
    "main",
    "state",
]

HERE: Final = Path(__file__).resolve().parent

#: The organizations a new database is seeded with.
ORGS_CSV: Final = HERE.parent / "orgs.csv"

#: The database used when neither ``create_app`` nor the environment names one.
DEFAULT_DATABASE: Final = "sqlite:///userimport-webapp.db"

#: The most bytes a request may carry. Files between ``ImportOptions.max_bytes``
#: (2 MiB) and this get the library's ``file_too_large`` issue rather than a bare
#: refusal; the sealed review sent back at Done is far smaller (``unseal`` refuses
#: a token over 4 MiB before any work).
MAX_REQUEST_BYTES: Final = 16 * 1024 * 1024

#: How long a sealed review may wait for Done, in seconds (the ``REVIEW_MAX_AGE``
#: setting). An older one is refused: the file is uploaded and reviewed again.
REVIEW_MAX_AGE: Final = 60 * 60

#: The pages a request without a signed-in administrator may see.
PUBLIC_ENDPOINTS: Final = frozenset({"sign_in", "static"})

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
    """An administrator the demo's sign-in page offers (it stands in for a login).

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
        secret_key: Signs the session cookie (the signed-in administrator, the
            CSRF token) and the sealed reviews; default
            ``USERIMPORT_WEBAPP_SECRET_KEY`` or a random key (sessions and reviews
            then end when the process does). Keys in the ``SECRET_KEY_FALLBACKS``
            setting still verify both, for key rotation.

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
        REVIEW_MAX_AGE=REVIEW_MAX_AGE,
    )
    app.extensions[_STATE] = State(store, tree)

    # The order matters: the nonce first (every page, refusals included, needs
    # it), then the CSRF check, so that a cross-site POST is refused (400) before
    # anything else looks at it, then the sign-in check.
    app.before_request(_make_nonce)
    CSRFProtect(app)
    app.before_request(_require_admin)
    app.after_request(_security_headers)
    app.context_processor(_page_context)
    app.add_template_filter(_plural, "plural")
    app.add_template_filter(_row_list, "row_list")
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(CSRFError, _csrf_refused)
    app.add_url_rule("/", "home", _home)
    app.add_url_rule("/sign-in", "sign_in", _sign_in, methods=["GET", "POST"])
    app.add_url_rule("/sign-out", "sign_out", _sign_out, methods=["POST"])
    app.add_url_rule("/users", "users", _users)
    app.add_url_rule("/users/new", "new_user", _new_user, methods=["GET", "POST"])
    app.add_url_rule("/import", "upload", _upload, methods=["GET"])
    app.add_url_rule("/import", "review", _review, methods=["POST"])
    app.add_url_rule("/import/template/<language>", "template", _template)
    app.add_url_rule("/import/report", "report", _report, methods=["POST"])
    app.add_url_rule("/import/commit", "commit", _commit, methods=["POST"])
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
    # Every page is one administrator's (the review and Done pages carry a sealed
    # review): no shared or browser cache keeps a copy.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _admin() -> DemoAdmin | None:
    """The administrator signed in in this session, if any."""
    key = session.get("admin")
    return next((a for a in DEMO_ADMINS if a.key == key), None)


def _require_admin() -> ResponseReturnValue | None:
    """Fail closed: without a signed-in administrator, every page but the sign-in
    page is the sign-in page (never a default administrator)."""
    if request.endpoint in PUBLIC_ENDPOINTS or _admin() is not None:
        return None
    return redirect(url_for("sign_in"), 303)


def _signed_in() -> DemoAdmin:
    """The signed-in administrator of a page that requires one."""
    admin = _admin()
    if admin is None:  # pragma: no cover - _require_admin sent the request away
        abort(401)
    return admin


def _page_context() -> dict[str, object]:
    return {
        "current_admin": _admin(),
        "nonce": g.get("nonce", ""),
        "max_rows": state().options.max_rows,
    }


def _plural(count: int, noun: str) -> str:
    """``1 row``, ``2 rows``: a count with its noun (the ``plural`` filter)."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _row_list(rows: Iterable[int]) -> str:
    """``row 2``, ``rows 2 and 3``, ``rows 2, 3 and 5`` (the ``row_list`` filter)."""
    numbers = [str(row) for row in sorted(rows)]
    if len(numbers) <= 1:
        return f"row {''.join(numbers)}"
    return f"rows {', '.join(numbers[:-1])} and {numbers[-1]}"


def _seal_keys() -> list[str | bytes]:
    """The keys that seal reviews: the app's secret key signs; it and its
    fallbacks verify. (``seal`` derives its own key from them, so the session's
    key never signs a review directly.)"""
    fallbacks = current_app.config.get("SECRET_KEY_FALLBACKS") or ()
    return [current_app.secret_key or "", *fallbacks]


def _refused(
    error: Exception | None,
    *,
    summary: str,
    heading: str = "Nothing was imported",
    advice: str = "Upload the file again to review it as things are now.",
    reasons: Sequence[tuple[int, str, str]] = (),
    upload_again: bool = True,
) -> str:
    """The page of a request refused with nothing done, saying why."""
    return render_template(
        "refused.html",
        heading=heading,
        summary=summary,
        detail=str(error) if error is not None else None,
        reasons=reasons,
        advice=advice,
        upload_again=upload_again,
    )


def _csrf_refused(error: CSRFError) -> ResponseReturnValue:
    # A form without this site's token: posted from another site, or a page older
    # than the token (an hour), or from before signing in again.
    return _refused(
        None,
        heading="This form was refused",
        summary=(
            "This form was not sent from this site's own page, or the page has "
            "expired; nothing was done."
        ),
        advice="Go back, reload the page, and try again.",
        upload_again=False,
    ), 400


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


def _sign_in() -> ResponseReturnValue:
    """The demo's sign-in page: pick an administrator (it stands in for a login)."""
    problem = None
    if request.method == "POST":
        key = request.form.get("admin", "")
        if any(a.key == key for a in DEMO_ADMINS):
            # A new session for the new administrator: nothing of the previous
            # one (its CSRF token included) carries over.
            session.clear()
            session["admin"] = key
            return redirect(url_for("users"), 303)
        problem = "Choose one of the administrators below."
    page = render_template("sign_in.html", admins=DEMO_ADMINS, problem=problem)
    return page, 400 if problem else 200


def _sign_out() -> ResponseReturnValue:
    session.clear()
    return redirect(url_for("sign_in"), 303)


def _users() -> ResponseReturnValue:
    actor = _signed_in().actor
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
    actor = _signed_in().actor
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


#: A language tag as browsers send them (BCP 47 subtags): ``es``, ``es-MX``, ``es-419``.
_LANGUAGE_TAG: Final = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")


@attrs.frozen
class TemplateLink:
    """A template the upload page offers for download.

    Attributes:
        tag: The language tag it is written for (``"es-MX"``), the link's path.
        title: The language's name.
        separator: How its delimiter, the list separator of spreadsheets in that
            language and region, is named ("semicolon (;)").
    """

    tag: str
    title: str
    separator: str


def _admin_language() -> str:
    """The administrator's language: the first of the browser's languages (by
    preference) that the template is written in, as the browser names it, region
    included (``es-MX``), since the region decides the list separator; English if
    none is."""
    for tag, _ in request.accept_languages:
        if not _LANGUAGE_TAG.fullmatch(tag):
            continue  # "*", or not a language tag at all
        try:
            list_separator(tag)
        except ValueError:
            continue
        return tag
    return "en"


def _template_links() -> list[TemplateLink]:
    """The template in the administrator's language first, then the others."""
    mine = _admin_language()
    mine_primary = _primary(mine)
    tags = [mine, *(code for code in TEMPLATE_LANGUAGES if code != mine_primary)]
    return [
        TemplateLink(
            tag,
            TEMPLATE_TITLES.get(_primary(tag), tag),
            DELIMITER_NAMES[list_separator(tag)],
        )
        for tag in tags
    ]


def _primary(tag: str) -> str:
    """The language of a tag the template accepts: ``es-MX`` → ``es``."""
    return tag.replace("_", "-").split("-", 1)[0].casefold()


def _upload_page(problem: str | None = None) -> str:
    """Step 1: the drop zone, the template links and the limit."""
    return render_template("upload.html", templates=_template_links(), problem=problem)


def _upload() -> ResponseReturnValue:
    return _upload_page()


def _too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    # Raised while the CSRF check reads the form, before the sign-in check.
    if _admin() is None:
        return redirect(url_for("sign_in"), 303)
    megabytes = MAX_REQUEST_BYTES // (1024 * 1024)
    return _upload_page(
        f"The upload is larger than {megabytes} MiB; nothing was read."
    ), 413


def _template(language: str) -> ResponseReturnValue:
    """The template in ``language``, with the list separator of its region
    (``es`` with semicolons, ``es-MX`` with commas)."""
    try:
        data = template(language)
    except ValueError as error:
        return str(error), 404, {"Content-Type": "text/plain; charset=utf-8"}
    return send_file(
        io.BytesIO(data),
        mimetype="text/csv",
        as_attachment=True,
        # Named by the language alone: the rest of the path is the browser's text.
        download_name=f"users-template-{_primary(language)}.csv",
    )


def _columns_read(preview: Preview) -> list[str]:
    """The header cells that name a column, with that column when it is written
    differently ("E-mail (Email)"), so the reviewer sees how the header was read."""
    shown = []
    for match in preview.columns:
        title = COLUMN_TITLES.get(match.column or "")
        if title is not None:
            shown.append(
                match.header if match.header == title else f"{match.header} ({title})"
            )
    return shown


def _review_page(preview: Preview, token: str, message: str | None = None) -> str:
    """Step 2: every row with its action and issues, and the sealed review."""
    actor = _signed_in().actor
    rows = [(row, _by_column(row.issues), _changes(row, actor)) for row in preview.rows]
    return render_template(
        "review.html",
        preview=preview,
        review_token=token,
        rows=rows,
        titles=COLUMN_TITLES,
        delimiter=DELIMITER_NAMES.get(preview.delimiter or "", preview.delimiter),
        columns_read=_columns_read(preview),
        columns_ignored=[m.header for m in preview.columns if m.column is None],
        message=message,
    )


def _server_options(on_existing: OnExisting) -> ImportOptions:
    """The server's options under a policy for existing users that step 1 offers.

    ``prepare`` and ``commit`` both get their options from here: the policy is the
    only choice the administrator makes, and every other option is the server's.
    """
    if on_existing not in ON_EXISTING_CHOICES:
        raise PreviewMismatch(
            "This review was not made by this application; upload the file again."
        )
    return attrs.evolve(state().options, on_existing=on_existing)


def _review() -> ResponseReturnValue:
    """Step 2: ``prepare`` the upload and show what would happen to every row."""
    choice = request.form.get("on_existing", OnExisting.SKIP.value)
    on_existing = next(
        (o for o in ON_EXISTING_CHOICES if o.value == choice), OnExisting.SKIP
    )
    upload = request.files.get("file")
    # No file is an empty upload: the library says so (``empty_file``).
    data = cast(BinaryIO, upload.stream) if upload is not None else b""
    preview = prepare(
        data,
        actor=_signed_in().actor,
        orgs=state().tree,
        store=state().store,
        options=_server_options(on_existing),
    )
    # The page keeps the review only sealed: what comes back at Done is exactly
    # this preview (the policy chosen above included), or it is refused.
    return _review_page(preview, seal(preview, _seal_keys()))


def _sealed_review() -> tuple[str, Preview, ImportOptions]:
    """The sealed review the page sent back, and the server's options for it.

    The options are built again from the policy inside the seal, never from a
    form field; ``commit`` then checks that they are the review's.

    Raises:
        SealError: The token was altered, has expired or is not a token at all.
        PreviewMismatch: The review is not one this application makes.
    """
    token = request.form.get("review", "")
    preview = unseal(token, _seal_keys(), max_age=current_app.config["REVIEW_MAX_AGE"])
    return token, preview, _server_options(preview.on_existing)


_ALTERED: Final = (
    "This review was altered, has expired, or was made for another "
    "administrator, so nothing was imported."
)


def _report() -> ResponseReturnValue:
    """The error report of a sealed review (step 2's, or the rows Done left out)."""
    try:
        _, preview, _ = _sealed_review()
        if preview.actor != _signed_in().actor:
            raise PreviewMismatch(
                "This review was made for another administrator; upload the file again."
            )
    except SealError as error:
        return _refused(error, summary=_ALTERED), 400
    except PreviewMismatch as error:
        return _refused(error, summary=_ALTERED), 409
    return send_file(
        io.BytesIO(error_report(preview)),
        mimetype="text/csv",
        as_attachment=True,
        download_name="users-errors.csv",
    )


def _commit() -> ResponseReturnValue:
    """Done: ``commit`` the sealed review with the server's options; the library
    writes exactly what was reviewed, or nothing and says why."""
    try:
        token, preview, options = _sealed_review()
    except SealError as error:
        return _refused(error, summary=_ALTERED), 400
    except PreviewMismatch as error:
        return _refused(error, summary=_ALTERED), 409
    try:
        result = commit(
            preview,
            actor=_signed_in().actor,
            orgs=state().tree,
            store=state().store,
            skip_invalid=request.form.get("skip_invalid") == "1",
            options=options,
        )
    except PreviewMismatch as error:
        return _refused(error, summary=_ALTERED), 409
    except CommitConflict as conflict:
        return _conflict_page(preview, conflict), 409
    except CommitBlocked as error:
        # The review as sealed: its rows show why (invalid rows, a file error).
        return _review_page(preview, token, f"Nothing was imported. {error}"), 409
    return _done_page(preview, result)


def _conflict_page(preview: Preview, conflict: CommitConflict) -> str:
    """Why Done was refused: each row that would not be written as reviewed, with
    its email as uploaded and what changed since the review."""
    emails = {row.row: row.values.get("email", "") for row in preview.rows}
    reasons = [
        (number, emails.get(number, ""), reason)
        for number, reason in sorted(conflict.reasons.items())
    ]
    numbers = [number for number, _, _ in reasons] or list(conflict.rows)
    if numbers:
        them = "it" if len(numbers) == 1 else "them"
        summary = (
            f"Since your review, {_row_list(numbers)} would not be imported as you "
            f"reviewed {them}, so nothing was imported."
        )
    else:
        summary = "The users changed since your review, so nothing was imported."
    # The library's message repeats the reasons; it is shown only without them.
    return _refused(None if reasons else conflict, summary=summary, reasons=reasons)


def _left_out_review(preview: Preview, rows: Sequence[ReviewRow]) -> Preview:
    """The review narrowed to the rows Done left out, for their error report
    (``error_report`` takes a preview): the rows still to fix, on the rows of the
    file they came from."""
    return attrs.evolve(
        preview,
        rows=tuple(rows),
        issues=tuple(issue for row in rows for issue in row.issues),
        summary=Summary.of(rows),
    )


def _done_page(preview: Preview, result: ImportResult) -> str:
    """Done: the counts, and the error report of the rows left out.

    The page is the answer to Done's POST, not a redirect: the rows left out
    travel to the report only sealed, and a page that is sent again (a reload)
    meets the users already written and is refused, never imported twice.
    """
    left_out = result.left_out
    report = (
        seal(_left_out_review(preview, left_out), _seal_keys()) if left_out else None
    )
    return render_template(
        "done.html", result=result, report_token=report, left_out=len(left_out)
    )


def main() -> None:
    """Serve on http://127.0.0.1:5000/ (``python examples/webapp/app.py``)."""
    create_app().run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")))


if __name__ == "__main__":
    main()
