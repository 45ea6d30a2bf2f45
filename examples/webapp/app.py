"""An example web frontend that embeds the import flow: Users, Import (upload, the
column step when the header needs it, a review that can be corrected in place, Done)
and "create a single user", on Flask and ``SQLStore`` (SQLite), in English and
Spanish.

It holds no rule of its own: every check and every message comes from userimport
(``prepare``, ``revise``, ``commit``, ``validate_user``, ``visible_users``, in the
page's language through ``ImportOptions.locale``), and the page only lays them out;
its own words go through gettext (Flask-Babel, ``translations/``). Run it from the
repository root::

    .venv/bin/flask --app examples/webapp/app.py run

and open http://127.0.0.1:5000/. ``USERIMPORT_WEBAPP_DATABASE`` sets the database URL
(default ``sqlite:///userimport-webapp.db`` in the current folder); a database without
organizations is seeded from ``examples/orgs.csv`` on the first start.
``USERIMPORT_WEBAPP_SECRET_KEY`` is the key that signs the session and the sealed
reviews. See ``docs/webapp.md``.

It fails closed, as a copy of it must: every page but the sign-in page asks for a
signed-in administrator (a demo sign-in page stands in for a real login), every form
carries a CSRF token (Flask-WTF), and the review travels between step 2 and Done
only sealed (``userimport.seal``), with the policy for existing users, the language
and the column matching inside the seal, so Check again and Done run with options the
server builds itself. Edits are untrusted like the upload: ``revise`` validates them
and refuses rows and columns the review does not have.

Why Flask: the flow is synchronous (a review is a few milliseconds of CPU and one
store call), Flask is small and typed, renders Jinja2 templates with autoescaping on,
and has a test client; an async framework would add nothing here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import os
import re
import secrets
import zlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

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

# Flask-Babel and Flask-WTF ship no type information (no py.typed): their names
# are Any here.
from flask_babel import (  # type: ignore[import-untyped]
    Babel,
    gettext,
    lazy_gettext,
    lazy_pgettext,
    ngettext,
    refresh,
)
from flask_wtf.csrf import CSRFError, CSRFProtect  # type: ignore[import-untyped]
from itsdangerous import BadData, TimestampSigner
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
    IssueCode,
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
    revise,
    seal,
    template,
    unseal,
    validate_user,
    visible_users,
)
from userimport.hierarchy import organizations_from_csv
from userimport.outputs import TEMPLATE_LANGUAGES, list_separator
from userimport.persistence import FieldValue
from userimport.reading import DEFAULT_MAX_ROWS, read_upload
from userimport.schema import COLUMNS, OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from userimport.sql import SQLStore

__all__ = [
    "DEMO_ADMINS",
    "LANGUAGES",
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

#: The most fields a form may have (Werkzeug refuses more): the review of the most
#: rows a file may hold has at most an input per cell and a box per row.
MAX_FORM_PARTS: Final = DEFAULT_MAX_ROWS * (len(COLUMNS) + 1) + 100

#: The pages a request without a signed-in administrator may see (the language
#: switch too, so the sign-in page can be read in either language).
PUBLIC_ENDPOINTS: Final = frozenset({"sign_in", "static", "switch_language"})

#: The languages of the pages and of the library's messages, each named in itself,
#: as the switch shows them.
LANGUAGES: Final[Mapping[str, str]] = {"en": "English", "es": "Español"}

#: The application's gettext catalogs (see translations/README.md).
TRANSLATIONS: Final = HERE / "translations"

# The application's own words go through gettext (Flask-Babel): lazy_gettext for
# those defined at import time, said in the language of the request that shows them.

#: The canonical columns as the review table heads them.
COLUMN_TITLES: Final[Mapping[str, str]] = {
    "first_name": lazy_gettext("First name"),
    "last_name": lazy_gettext("Last name"),
    "email": lazy_gettext("Email"),
    "organization": lazy_gettext("Organization"),
    "role": lazy_gettext("Role"),
    "groups": lazy_gettext("Groups"),
    "language": lazy_gettext("Language"),
}

#: The roles as the pages name them (a file may use either language's words).
ROLE_TITLES: Final[Mapping[Role, str]] = {
    Role.LEARNER: lazy_gettext("learner"),
    Role.INSTRUCTOR: lazy_gettext("instructor"),
    Role.MANAGER: lazy_gettext("manager"),
    Role.ADMIN: lazy_gettext("admin"),
}

#: What the review's action column says for each action.
ACTION_TITLES: Final[Mapping[Action, str]] = {
    Action.CREATE: lazy_pgettext("action", "create"),
    Action.UPDATE: lazy_pgettext("action", "update"),
    Action.SKIP: lazy_pgettext("action", "skip"),
    Action.INVALID: lazy_pgettext("action", "invalid"),
}

#: How the review's filter names the problems a row can have (by issue code).
ISSUE_TITLES: Final[Mapping[IssueCode, str]] = {
    IssueCode.MISSING_VALUE: lazy_gettext("Missing value"),
    IssueCode.VALUE_TOO_LONG: lazy_gettext("Value too long"),
    IssueCode.INVALID_CHARACTERS: lazy_gettext("Hidden character or formula"),
    IssueCode.INVALID_EMAIL: lazy_gettext("Invalid email"),
    IssueCode.DUPLICATE_EMAIL: lazy_gettext("Email repeated in the file"),
    IssueCode.EMAIL_EXISTS: lazy_gettext("User already exists"),
    IssueCode.EMAIL_TAKEN: lazy_gettext("Email used outside your organizations"),
    IssueCode.UNKNOWN_ORGANIZATION: lazy_gettext("Unknown organization"),
    IssueCode.AMBIGUOUS_ORGANIZATION: lazy_gettext("Ambiguous organization"),
    IssueCode.INVALID_ROLE: lazy_gettext("Invalid role"),
    IssueCode.ROLE_NOT_ALLOWED: lazy_gettext("Role not allowed"),
    IssueCode.INVALID_LANGUAGE: lazy_gettext("Invalid language"),
    IssueCode.WRONG_FIELD_COUNT: lazy_gettext("Extra cells"),
    IssueCode.HOST_CHECK: lazy_gettext("Rule of this platform"),
    IssueCode.EXAMPLE_ROW: lazy_gettext("Template example"),
    IssueCode.LEFT_OUT: lazy_gettext("Left out by you"),
}

#: How the review names the delimiter the library detected.
DELIMITER_NAMES: Final[Mapping[str, str]] = {
    ",": lazy_gettext("comma (,)"),
    ";": lazy_gettext("semicolon (;)"),
    "\t": lazy_gettext("tab"),
    "|": lazy_gettext("vertical bar (|)"),
}

#: The languages the template links offer, by code.
TEMPLATE_TITLES: Final[Mapping[str, str]] = {
    "en": lazy_gettext("English"),
    "es": lazy_gettext("Spanish"),
}

#: The file-level issues that the column step resolves.
COLUMN_CODES: Final = frozenset(
    {IssueCode.MISSING_COLUMNS, IssueCode.DUPLICATE_COLUMNS, IssueCode.UNKNOWN_COLUMNS}
)

#: The column step shows a few values of each header cell, read by the library
#: (see ``_samples``): this many per cell, from at most this many readings.
SAMPLES_PER_COLUMN: Final = 3
MAX_SAMPLE_READINGS: Final = 4

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
    DemoAdmin(
        "root-admin", lazy_gettext("Administrator of Acme Learning"), Actor("root")
    ),
    DemoAdmin(
        "spain-manager", lazy_gettext("Manager of Spain"), Actor("es", Role.MANAGER)
    ),
)


#: Users per page of the Users screen.
USERS_PAGE = 50


@attrs.frozen
class State:
    """What the application holds for its lifetime.

    Attributes:
        store: The users (and organizations) in SQL.
        options: The import options (the limit of 200 users per file).
    """

    store: SQLStore
    options: ImportOptions = attrs.field(factory=ImportOptions)


def _tree() -> OrgTree:
    """The organization tree, read once per request.

    Never kept for the application's lifetime: an organization added, moved or
    renamed by another process shows on the next request. The store keeps the
    tree it built until the organizations change, so a request costs one small
    query for its version, not a rebuild.
    """
    if "tree" not in g:
        g.tree = state().store.org_tree()
    tree: OrgTree = g.tree
    return tree


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
        # The review form has an input per invalid cell and a box per row.
        MAX_FORM_PARTS=MAX_FORM_PARTS,
        REVIEW_MAX_AGE=REVIEW_MAX_AGE,
    )
    app.extensions[_STATE] = State(store)
    Babel(
        app,
        locale_selector=_language,
        default_translation_directories=str(TRANSLATIONS),
    )
    # The pages' markup without the indentation of the template's own tags: a
    # 200-row review is thousands of them.
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    # The order matters: the nonce first (every page, refusals included, needs
    # it), then the CSRF check, so that a cross-site POST is refused (400) before
    # anything else looks at it, then the sign-in check.
    app.before_request(_make_nonce)
    CSRFProtect(app)
    app.before_request(_require_admin)
    app.after_request(_security_headers)
    app.context_processor(_page_context)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(CSRFError, _csrf_refused)
    app.register_error_handler(_Refused, _refusal_page)
    app.add_url_rule("/", "home", _home)
    app.add_url_rule("/language", "switch_language", _switch_language, methods=["POST"])
    app.add_url_rule("/sign-in", "sign_in", _sign_in, methods=["GET", "POST"])
    app.add_url_rule("/sign-out", "sign_out", _sign_out, methods=["POST"])
    app.add_url_rule("/users", "users", _users)
    app.add_url_rule("/users/new", "new_user", _new_user, methods=["GET", "POST"])
    app.add_url_rule("/import", "upload", _upload, methods=["GET"])
    app.add_url_rule("/import", "review", _review, methods=["POST"])
    app.add_url_rule("/import/template/<language>", "template", _template)
    app.add_url_rule(
        "/import/template/<language>/xlsx", "template_workbook", _template_workbook
    )
    app.add_url_rule("/import/columns", "columns", _columns, methods=["POST"])
    app.add_url_rule("/import/check", "check", _check, methods=["POST"])
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
        "page_language": _language(),
        "languages": LANGUAGES,
        "language_next": _language_next(),
    }


# -- languages --------------------------------------------------------------------


def _language() -> str:
    """The language of the pages (and of the library's messages in them): the one
    chosen with the switch, else the first of the browser's (Accept-Language) that
    the application speaks, else English."""
    chosen = session.get("language")
    if isinstance(chosen, str) and chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(list(LANGUAGES))
    return best if best is not None else "en"


def _choose_language(language: str) -> None:
    """Keep the administrator's choice for the next pages, and this one."""
    if language in LANGUAGES:
        session["language"] = language
        refresh()  # Flask-Babel keeps the request's language once it has chosen it


def _language_next() -> str:
    """Where the switch leads: this page again when it can be asked for again
    (a GET), else the Users page. The review and the column step switch in place
    instead (their forms carry the upload)."""
    rule = request.url_rule
    if rule is not None and "GET" in (rule.methods or ()):
        return request.full_path.rstrip("?")
    return url_for("users")


def _local(target: str | None) -> str:
    """``target`` if it is a path on this site, else the Users page: the switch
    never redirects to another site."""
    parts = urlsplit(target or "")
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not parts.scheme
        and not parts.netloc
    ):
        return target
    return url_for("users")


def _switch_language() -> ResponseReturnValue:
    """The language switch: keep the choice in the session, back to the page."""
    _choose_language(request.form.get("language", ""))
    return redirect(_local(request.form.get("next")), 303)


def _numbers(rows: Iterable[int]) -> str:
    """``2``, ``2 and 3``, ``2, 3 and 5``: row numbers for a sentence."""
    numbers = [str(row) for row in sorted(rows)]
    if len(numbers) <= 1:
        return "".join(numbers)
    return str(
        gettext(
            "%(first)s and %(last)s", first=", ".join(numbers[:-1]), last=numbers[-1]
        )
    )


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
    heading: str | None = None,
    advice: str | None = None,
    reasons: Sequence[tuple[int, str, str]] = (),
    upload_again: bool = True,
    language_switch: bool = True,
) -> str:
    """The page of a request refused with nothing done, saying why."""
    return render_template(
        "refused.html",
        language_switch=language_switch,
        heading=heading or gettext("Nothing was imported"),
        summary=summary,
        detail=str(error) if error is not None else None,
        reasons=reasons,
        advice=advice
        or gettext("Upload the file again to review it as things are now."),
        upload_again=upload_again,
    )


class _Refused(Exception):
    """A request refused with nothing done: its page says why (``_refused``).

    Args:
        summary: What happened, for the administrator.
        status: The response's status.
        cause: The library's exception, whose message the page adds.
    """

    def __init__(
        self, summary: str, *, status: int = 400, cause: Exception | None = None
    ) -> None:
        super().__init__(summary)
        self.summary = summary
        self.status = status
        self.cause = cause


def _refusal_page(error: _Refused) -> ResponseReturnValue:
    return _refused(error.cause, summary=error.summary), error.status


def _csrf_refused(error: CSRFError) -> ResponseReturnValue:
    # A form without this site's token: posted from another site, or a page older
    # than the token (an hour), or from before signing in again.
    return _refused(
        None,
        heading=gettext("This form was refused"),
        summary=gettext(
            "This form was not sent from this site's own page, or the page has "
            "expired; nothing was done."
        ),
        advice=gettext("Go back, reload the page, and try again."),
        upload_again=False,
        # No form here: its CSRF token would start a session, and the cookie of
        # that session, sent back to another site's post, would replace the
        # administrator's.
        language_switch=False,
    ), 400


def _org_path(org_id: str, actor: Actor) -> str:
    """The organization as the actor sees it: its path from the actor's own."""
    return _tree().path_text(org_id, within=actor.org_id) or org_id


def _format_value(value: FieldValue) -> str:
    """A stored field for the review's "old → new" lines (groups, empty values)."""
    if value is None or value == ():
        return str(gettext("(empty)"))
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
            # one (its CSRF token included) carries over but the language.
            language = session.get("language")
            session.clear()
            session["admin"] = key
            if language is not None:
                session["language"] = language
            return redirect(url_for("users"), 303)
        problem = gettext("Choose one of the administrators below.")
    page = render_template("sign_in.html", admins=DEMO_ADMINS, problem=problem)
    return page, 400 if problem else 200


def _sign_out() -> ResponseReturnValue:
    language = session.get("language")
    session.clear()
    if language is not None:
        session["language"] = language
    return redirect(url_for("sign_in"), 303)


def _users() -> ResponseReturnValue:
    """The Users screen: searched (``?q=``) and paged (``?after=``, the email key of
    the previous page's last user); the store filters, orders and limits."""
    actor = _signed_in().actor
    tree = _tree()
    search = request.args.get("q", "").strip()
    after = request.args.get("after") or None
    # One more than a page tells whether there is a next one, without counting.
    found = visible_users(
        actor,
        tree,
        state().store,
        search=search or None,
        limit=USERS_PAGE + 1,
        after=after,
    )
    users = found[:USERS_PAGE]
    return render_template(
        "users.html",
        users=users,
        search=search,
        after=after,
        next_after=users[-1].key if len(found) > USERS_PAGE else None,
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
    tree = _tree()
    values = {column: request.form.get(column, "") for column in COLUMNS}
    issues: Sequence[Issue] = ()
    if request.method == "POST":
        # An existing email is an error here: this form creates, it never updates.
        options = attrs.evolve(
            state().options, on_existing=OnExisting.ERROR, locale=_language()
        )
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
                flash(
                    gettext(
                        "Created %(first_name)s %(last_name)s.",
                        first_name=row.user.first_name,
                        last_name=row.user.last_name,
                    )
                )
                return redirect(url_for("users"))
    return render_template(
        "new_user.html",
        values=values,
        issues=_by_column(issues),
        titles=COLUMN_TITLES,
        roles=[(role, ROLE_TITLES[role]) for role in Role if actor.may_assign(role)],
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
    """The administrator's language: the pages' (the switch's, else the browser's),
    with the region the browser names for it (``es-MX``), since the region decides
    the list separator."""
    language = _language()
    for tag, _ in request.accept_languages:
        if not _LANGUAGE_TAG.fullmatch(tag) or _primary(tag) != language:
            continue  # "*", not a language tag at all, or another language
        try:
            list_separator(tag)
        except ValueError:
            continue
        return tag
    return language


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
        gettext(
            "The upload is larger than %(megabytes)d MiB; nothing was read.",
            megabytes=megabytes,
        )
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


def _template_workbook(language: str) -> ResponseReturnValue:
    """The template as an Excel workbook whose drop-down lists offer the signed-in
    administrator's organizations and roles."""
    try:
        data = template(
            language,
            format="xlsx",
            orgs=_tree(),
            actor=_signed_in().actor,
        )
    except ValueError as error:
        return str(error), 404, {"Content-Type": "text/plain; charset=utf-8"}
    return send_file(
        io.BytesIO(data),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"users-template-{_primary(language)}.xlsx",
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


def _missing_optional(preview: Preview, actor: Actor) -> list[tuple[str, str]]:
    """What the file's missing optional columns mean, as (column, sentence): a
    file without ``organization`` puts everyone in the administrator's own."""
    org = _tree().get(actor.org_id)
    sentences = {
        "organization": lambda: gettext(
            "No Organization column: everyone goes into %(organization)s.",
            organization=org.name if org is not None else actor.org_id,
        ),
        "role": lambda: gettext(
            "No Role column: everyone gets the role %(role)s.",
            role=ROLE_TITLES[preview.default_role],
        ),
        "groups": lambda: gettext("No Groups column: no one is added to a group."),
        "language": lambda: gettext(
            "No Language column: no one gets a language of their own."
        ),
    }
    return [
        (column, str(sentences[column]()))
        for column in preview.missing_columns
        if column in OPTIONAL_COLUMNS and column in sentences
    ]


def _is_left_out(row: ReviewRow) -> bool:
    return any(issue.code is IssueCode.LEFT_OUT for issue in row.issues)


def _filters(preview: Preview) -> list[tuple[str, str, int]]:
    """The review's filter, as (value, label, rows): every row, the rows with
    errors, then each problem with the rows that have it, the most frequent first."""
    counts = preview.issue_counts
    problems = sorted(
        (
            (code.value, str(ISSUE_TITLES.get(code, code.value)), number)
            for code, number in counts.items()
        ),
        key=lambda item: (-item[2], item[1]),
    )
    invalid = preview.summary.invalid
    return [
        ("all", str(gettext("All rows")), preview.summary.total),
        *([("errors", str(gettext("Rows with errors")), invalid)] if invalid else []),
        *problems,
    ]


def _done_unavailable(preview: Preview) -> str | None:
    """Why Done is off, in a sentence beside it; ``None`` when it is on."""
    if preview.ok:
        return None
    if any(issue.is_error for issue in preview.file_issues):
        return str(
            gettext(
                "Done is off because the file itself has errors (see above): "
                "correct the file and upload it again."
            )
        )
    return str(
        ngettext(
            "Done is off while %(num)d row has errors: correct it and press Check "
            "again, leave it out, or import only the valid rows.",
            "Done is off while %(num)d rows have errors: correct them and press "
            "Check again, leave them out, or import only the valid rows.",
            preview.summary.invalid,
        )
    )


def _review_page(
    preview: Preview,
    token: str,
    message: str | None = None,
    *,
    upload: str | None = None,
    checked: str | None = None,
    changed: Iterable[int] = (),
) -> str:
    """Step 2: every row with its action and issues, its invalid cells editable,
    and the sealed review (with the sealed upload, when it is kept)."""
    actor = _signed_in().actor
    rows = [(row, _by_column(row.issues), _changes(row, actor)) for row in preview.rows]
    filters = _filters(preview)
    shown = request.form.get("show", "all")
    return render_template(
        "review.html",
        preview=preview,
        review_token=token,
        upload_token=upload,
        rows=rows,
        titles=COLUMN_TITLES,
        actions=ACTION_TITLES,
        delimiter=DELIMITER_NAMES.get(preview.delimiter or "", preview.delimiter),
        columns_read=_columns_read(preview),
        columns_ignored=[m.header for m in preview.columns if m.column is None],
        missing=_missing_optional(preview, actor),
        filters=filters,
        shown=shown if any(value == shown for value, _, _ in filters) else "all",
        done_unavailable=_done_unavailable(preview),
        message=message,
        checked=checked,
        changed=frozenset(changed),
        language_form="review-form",
        language_action=url_for("check"),
        language_default=gettext("Check again"),
    )


def _server_options(
    on_existing: OnExisting,
    *,
    locale: str,
    columns: Mapping[str, str | None] | None = None,
) -> ImportOptions:
    """The server's options under the choices the administrator makes: the
    policy for existing users that step 1 offers, the language of the messages,
    and the column step's matching of header cells.

    ``prepare``, ``revise`` and ``commit`` all get their options from here; every
    other option is the server's.
    """
    if on_existing not in ON_EXISTING_CHOICES or locale not in LANGUAGES:
        raise PreviewMismatch(
            gettext(
                "This review was not made by this application; upload the file again."
            )
        )
    return attrs.evolve(
        state().options,
        on_existing=on_existing,
        locale=locale,
        columns=dict(columns or {}),
    )


def _review_options(preview: Preview) -> ImportOptions:
    """The server's options for a sealed review, built again from what the seal
    holds, never from a form field: its policy, its language, and either no
    column matching or the column step's (each header cell as the review read
    it), whichever has the fingerprint the review was made with.

    Raises:
        PreviewMismatch: Neither has: the review is not one this application made.
    """
    plain = _server_options(preview.on_existing, locale=preview.locale)
    if plain.fingerprint == preview.options_fingerprint:
        return plain
    matched = attrs.evolve(
        plain, columns={match.header: match.column for match in preview.columns}
    )
    if matched.fingerprint == preview.options_fingerprint:
        return matched
    raise PreviewMismatch(
        gettext("This review was not made by this application; upload the file again.")
    )


# -- the upload, kept for the column step and the language switch ----------------

_UPLOAD_SALT: Final = "userimport webapp: an upload kept in the page"


def _upload_signer() -> TimestampSigner:
    # itsdangerous signs with the last key and verifies with any of them.
    keys = [k.encode("utf-8") if isinstance(k, str) else k for k in _seal_keys()]
    return TimestampSigner(keys[::-1], salt=_UPLOAD_SALT)


def _keep_upload(data: bytes, on_existing: OnExisting) -> str:
    """The upload's bytes, compressed and signed for the page to carry, with the
    administrator and the policy they were uploaded under.

    The column step needs the file again to read it with the administrator's
    matching, and the language switch to review it again in the other language;
    the page carries it, as it carries the review, so the server keeps nothing
    between requests. Signed and timestamped like the review (with a key derived
    for this purpose alone), it is refused when altered or older than
    ``REVIEW_MAX_AGE``, or sent back by another administrator.
    """
    actor = _signed_in().actor
    about = json.dumps([actor.org_id, actor.role.value, on_existing.value])
    value = ".".join(
        base64.urlsafe_b64encode(part).decode("ascii").rstrip("=")
        for part in (about.encode("utf-8"), zlib.compress(data, 9))
    )
    return str(_upload_signer().sign(value).decode("ascii"))


def _unpadded(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_ALTERED_UPLOAD: Final = lazy_gettext(
    "The file kept in this page was altered, has expired, or was uploaded by "
    "another administrator, so nothing was done."
)


def _kept_upload(token: str) -> tuple[bytes, OnExisting]:
    """The bytes and the policy of an upload kept by :func:`_keep_upload`.

    Raises:
        _Refused: The token was altered or has expired (400), or another
            administrator uploaded the file (409).
    """
    try:
        value = _upload_signer().unsign(
            token, max_age=current_app.config["REVIEW_MAX_AGE"]
        )
        about, packed = value.decode("ascii").split(".")
        org_id, role, policy = json.loads(_unpadded(about))
        actor = Actor(str(org_id), Role(role))
        # Signed by this server: it decompresses what it compressed.
        data = zlib.decompress(_unpadded(packed))
        on_existing = OnExisting(policy)
    except (BadData, ValueError, TypeError, binascii.Error, zlib.error) as error:
        raise _Refused(str(_ALTERED_UPLOAD)) from error
    if actor != _signed_in().actor:
        raise _Refused(str(_ALTERED_UPLOAD), status=409)
    return data, on_existing


def _keeps_upload(preview: Preview) -> bool:
    """Whether a page keeps the upload: the file was read up to its header and
    has rows to review or columns to match (a file refused whole is not kept)."""
    return (
        preview.upload_sha256 is not None
        and bool(preview.columns)
        and (bool(preview.rows) or _needs_columns(preview))
    )


# -- step 2: the column step ------------------------------------------------------


def _needs_columns(preview: Preview) -> bool:
    """Whether the column step comes first: the header was read, and a cell of it
    is unknown, or a required column is missing or given twice."""
    return bool(preview.columns) and any(
        issue.code in COLUMN_CODES for issue in preview.file_issues
    )


def _headers(preview: Preview) -> list[str]:
    """The header cells of the file as written, each once, in file order."""
    return list(dict.fromkeys(match.header for match in preview.columns))


def _samples(data: bytes, headers: Sequence[str]) -> dict[str, list[str]]:
    """A few values of each header cell, as the library reads them.

    The library gives a record's values by canonical column only, so the header
    cells are read in turn as the canonical columns (``ImportOptions.columns``),
    up to seven per reading, the first three as the required columns (a reading
    without them has no records), at most ``MAX_SAMPLE_READINGS`` readings. A cell
    written twice in the header gets no samples (it cannot be told apart).
    """
    once = [h for h in headers if sum(1 for other in headers if other == h) == 1]
    found: dict[str, list[str]] = {}
    if len(once) < len(REQUIRED_COLUMNS):
        return found
    options = state().options
    for start in range(0, len(once), len(COLUMNS))[:MAX_SAMPLE_READINGS]:
        batch = once[start : start + len(COLUMNS)]
        # A short last batch borrows cells already read for the required columns.
        batch += [h for h in once if h not in batch][
            : max(0, len(REQUIRED_COLUMNS) - len(batch))
        ]
        mapping: dict[str, str | None] = dict.fromkeys(headers)
        mapping.update(zip(batch, COLUMNS, strict=False))
        upload = read_upload(
            data,
            max_bytes=options.max_bytes,
            max_rows=None,
            encoding=options.encoding,
            delimiter=options.delimiter,
            columns=mapping,
        )
        for header, column in zip(batch, COLUMNS, strict=False):
            values = (
                record.values.get(column, "").strip() for record in upload.records
            )
            found.setdefault(
                header, [value for value in values if value][:SAMPLES_PER_COLUMN]
            )
    return found


def _columns_page(
    data: bytes,
    preview: Preview,
    upload: str,
    chosen: Mapping[str, str | None] | None = None,
) -> str:
    """The column step: each header cell as written, the column it holds (a
    select, "ignore" included) and a few of its values."""
    headers = _headers(preview)
    current = (
        chosen
        if chosen is not None
        else {match.header: match.column for match in preview.columns}
    )
    samples = _samples(data, headers)
    return render_template(
        "columns.html",
        headers=[
            (header, current.get(header), samples.get(header, [])) for header in headers
        ],
        issues=[i for i in preview.file_issues if i.code in COLUMN_CODES],
        missing=_missing_optional(preview, _signed_in().actor),
        required=[COLUMN_TITLES[column] for column in REQUIRED_COLUMNS],
        titles=COLUMN_TITLES,
        upload_token=upload,
        language_form="columns-form",
        language_action=url_for("columns"),
        language_default=gettext("Continue"),
    )


def _posted_columns(headers: Sequence[str]) -> dict[str, str | None]:
    """The column step's choices: each header cell to a canonical column, or to
    ``None`` to ignore it.

    Raises:
        _Refused: A choice is missing or names no column (the form was not this
            application's).
    """
    chosen: dict[str, str | None] = {}
    for index, header in enumerate(headers):
        column = request.form.get(f"column-{index}")
        if column is None or (column and column not in COLUMNS):
            raise _Refused(
                gettext(
                    "This form does not match the file it was made for; nothing "
                    "was done."
                )
            )
        chosen[header] = column or None
    return chosen


def _columns() -> ResponseReturnValue:
    """The column step sent: read the kept upload again with the administrator's
    matching (``ImportOptions.columns``) and review it, or show the step again
    while a required column is still missing or given twice. Its language switch
    shows the step again in the other language."""
    token = request.form.get("upload", "")
    data, on_existing = _kept_upload(token)
    switching = request.form.get("language", "") in LANGUAGES
    if switching:
        _choose_language(request.form["language"])
    options = _server_options(on_existing, locale=_language())
    headers = _headers(_prepare(data, options))
    chosen = _posted_columns(headers)
    preview = _prepare(data, attrs.evolve(options, columns=chosen))
    if switching or _needs_columns(preview):
        return _columns_page(data, preview, token, chosen)
    return _review_page(preview, seal(preview, _seal_keys()), upload=token)


def _prepare(data: bytes, options: ImportOptions) -> Preview:
    return prepare(
        data,
        actor=_signed_in().actor,
        orgs=_tree(),
        store=state().store,
        options=options,
    )


def _review() -> ResponseReturnValue:
    """Step 2: ``prepare`` the upload and show what would happen to every row, or
    first the column step when the header needs it."""
    choice = request.form.get("on_existing", OnExisting.SKIP.value)
    on_existing = next(
        (o for o in ON_EXISTING_CHOICES if o.value == choice), OnExisting.SKIP
    )
    upload = request.files.get("file")
    # No file is an empty upload: the library says so (``empty_file``). One byte
    # past the limit is enough for the library to say the file is too large.
    limit = state().options.max_bytes
    data = upload.stream.read(limit + 1) if upload is not None else b""
    preview = _prepare(data, _server_options(on_existing, locale=_language()))
    kept = _keep_upload(data, on_existing) if _keeps_upload(preview) else None
    if kept is not None and _needs_columns(preview):
        return _columns_page(data, preview, kept)
    # The page keeps the review only sealed: what comes back at Done is exactly
    # this preview (the policy chosen above included), or it is refused.
    return _review_page(preview, seal(preview, _seal_keys()), upload=kept)


_ALTERED: Final = lazy_gettext(
    "This review was altered, has expired, or was made for another "
    "administrator, so nothing was imported."
)


def _sealed_review() -> tuple[str, Preview, ImportOptions]:
    """The sealed review the page sent back, for the administrator signed in, and
    the server's options for it (:func:`_review_options`).

    Raises:
        _Refused: The token was altered, has expired or is not a token at all
            (400); the review was made for another administrator, or is not one
            this application makes (409).
    """
    token = request.form.get("review", "")
    try:
        preview = unseal(
            token, _seal_keys(), max_age=current_app.config["REVIEW_MAX_AGE"]
        )
        if preview.actor != _signed_in().actor:
            raise PreviewMismatch(
                gettext(
                    "This review was made for another administrator; upload the "
                    "file again."
                )
            )
        options = _review_options(preview)
    except SealError as error:
        raise _Refused(str(_ALTERED), cause=error) from error
    except PreviewMismatch as error:
        raise _Refused(str(_ALTERED), status=409, cause=error) from error
    return token, preview, options


#: An edited cell's field: ``e.<row>.<column>``.
_EDIT_FIELD: Final = re.compile(r"e\.([0-9]{1,9})\.([a-z_]{1,32})")


def _posted_changes(preview: Preview) -> tuple[dict[int, dict[str, str]], set[int]]:
    """The review form's edits (the cells whose value differs from the review's)
    and the rows it leaves out.

    Row numbers and columns are the form's, untrusted: ``revise`` refuses any that
    the review does not have, and validates every value like an uploaded one.

    Raises:
        _Refused: A field is not one this application's form has.
    """
    rows = {row.row: row for row in preview.rows}
    edits: dict[int, dict[str, str]] = {}
    for name, value in request.form.items(multi=True):
        if not name.startswith("e."):
            continue
        found = _EDIT_FIELD.fullmatch(name)
        if found is None:
            raise _Refused(_FORGED_CHANGE)
        number, column = int(found[1]), found[2]
        row = rows.get(number)
        if row is not None and row.values.get(column, "") == value:
            continue
        edits.setdefault(number, {})[column] = value
    dropped = request.form.getlist("drop")
    if not all(number.isdigit() and len(number) < 10 for number in dropped):
        raise _Refused(_FORGED_CHANGE)
    return edits, {int(number) for number in dropped}


_FORGED_CHANGE: Final = lazy_gettext(
    "Nothing was changed: the form names a row or a column that this review "
    "does not have."
)


def _outcome(row: ReviewRow) -> tuple[object, ...]:
    """What a row's review says, whatever the language it says it in."""
    return (
        row.action,
        row.values,
        row.user,
        row.changes,
        tuple((i.code, i.column, i.severity) for i in row.issues),
    )


def _revised(
    preview: Preview,
    options: ImportOptions,
    edits: Mapping[int, Mapping[str, str]],
    dropped: Iterable[int],
    message: str | None = None,
) -> str:
    """The review again after the administrator's edits and rows left out
    (``revise``), saying which rows changed.

    When the page's language is no longer the review's and the page keeps the
    upload, the file is reviewed again in the page's language and every cell the
    administrator changed so far is applied to it again.

    Raises:
        _Refused: An edit or a row left out names a row or a column the review does
            not have, or a value no file can hold; the kept upload is not this
            review's.
    """
    kept = request.form.get("upload") or None
    base, base_options = preview, options
    changes = {number: dict(cells) for number, cells in edits.items()}
    if kept is not None and _language() != preview.locale:
        data, _ = _kept_upload(kept)
        if hashlib.sha256(data).hexdigest() != preview.upload_sha256:
            raise _Refused(str(_ALTERED_UPLOAD))
        base_options = attrs.evolve(options, locale=_language())
        base = _prepare(data, base_options)
        changes = _edits_between(base, preview)
        for number, cells in edits.items():
            changes.setdefault(number, {}).update(cells)
    try:
        revised = revise(
            base,
            edits=changes,
            drop=dropped,
            actor=_signed_in().actor,
            orgs=_tree(),
            store=state().store,
            options=base_options,
        )
    except (ValueError, TypeError) as error:
        raise _Refused(str(_FORGED_CHANGE), cause=error) from error
    changed = {
        after.row
        for before, after in zip(preview.rows, revised.rows, strict=True)
        if after.row is not None and _outcome(before) != _outcome(after)
    }
    return _review_page(
        revised,
        seal(revised, _seal_keys()),
        message,
        upload=kept,
        checked=_checked_text(changed, revised),
        changed=changed,
    )


def _edits_between(upload: Preview, reviewed: Preview) -> dict[int, dict[str, str]]:
    """The cells whose value in ``reviewed`` differs from ``upload``'s: the edits
    that turn a fresh review of the file into ``reviewed``."""
    fresh = {row.row: row.values for row in upload.rows}
    edits: dict[int, dict[str, str]] = {}
    for row in reviewed.rows:
        values = fresh.get(row.row, {})
        cells = {
            column: row.values.get(column, "")
            for column in COLUMNS
            if row.values.get(column, "") != values.get(column, "")
        }
        if cells and row.row is not None:
            edits[row.row] = cells
    return edits


def _checked_text(changed: set[int], preview: Preview) -> str:
    """What Check again did: the rows whose review changed, the errors left."""
    if changed:
        said = ngettext(
            "Checked again: row %(rows)s changed.",
            "Checked again: rows %(rows)s changed.",
            len(changed),
            rows=_numbers(changed),
        )
    else:
        said = gettext("Checked again: nothing changed.")
    invalid = preview.summary.invalid
    left = (
        ngettext(
            "%(num)d row still has errors.", "%(num)d rows still have errors.", invalid
        )
        if invalid
        else gettext("No row has errors now.")
    )
    return f"{said} {left}"


def _check() -> ResponseReturnValue:
    """Check again: the sealed review with the administrator's edits and rows left
    out, reviewed again by ``revise`` with the server's options for it. The
    review's language switch comes here too, and checks the edits as well."""
    _, preview, options = _sealed_review()
    language = request.form.get("language", "")
    if language in LANGUAGES:
        _choose_language(language)
    edits, dropped = _posted_changes(preview)
    return _revised(preview, options, edits, dropped)


def _report() -> ResponseReturnValue:
    """The error report of a sealed review (step 2's, or the rows Done left out)."""
    _, preview, _ = _sealed_review()
    return send_file(
        io.BytesIO(error_report(preview)),
        mimetype="text/csv",
        as_attachment=True,
        download_name="users-errors.csv",
    )


def _commit() -> ResponseReturnValue:
    """Done: ``commit`` the sealed review with the server's options; the library
    writes exactly what was reviewed, or nothing and says why.

    A review form sent with changes that were not checked yet (an edited cell, a
    row left out or taken back) is checked again instead, and nothing is imported:
    Done imports only what the administrator has seen reviewed.
    """
    token, preview, options = _sealed_review()
    if request.form.get("changes"):
        edits, dropped = _posted_changes(preview)
        if edits or dropped != {row.row for row in preview.rows if _is_left_out(row)}:
            return _revised(
                preview,
                options,
                edits,
                dropped,
                gettext(
                    "Your changes were checked again and nothing was imported yet: "
                    "press Done when the review is as you want it."
                ),
            ), 409
    try:
        result = commit(
            preview,
            actor=_signed_in().actor,
            orgs=_tree(),
            store=state().store,
            skip_invalid=request.form.get("skip_invalid") == "1",
            options=options,
        )
    except PreviewMismatch as error:
        return _refused(error, summary=str(_ALTERED)), 409
    except CommitConflict as conflict:
        return _conflict_page(preview, conflict), 409
    except CommitBlocked as error:
        # The review as sealed: its rows show why (invalid rows, a file error).
        said = gettext("Nothing was imported. %(reason)s", reason=str(error))
        return _review_page(
            preview, token, said, upload=request.form.get("upload") or None
        ), 409
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
        summary = ngettext(
            "Since your review, row %(rows)s would not be imported as you reviewed "
            "it, so nothing was imported.",
            "Since your review, rows %(rows)s would not be imported as you reviewed "
            "them, so nothing was imported.",
            len(numbers),
            rows=_numbers(numbers),
        )
    else:
        summary = gettext(
            "The users changed since your review, so nothing was imported."
        )
    # The library's message repeats the reasons; it is shown only without them.
    return _refused(
        None if reasons else conflict, summary=str(summary), reasons=reasons
    )


def _left_out_review(preview: Preview, rows: Sequence[ReviewRow]) -> Preview:
    """The review narrowed to the rows Done left out, for their error report: the
    rows still to fix, on the rows of the file they came from. Its report is
    ``error_report(result)``'s; it is the review that the page can carry sealed."""
    return attrs.evolve(
        preview,
        rows=tuple(rows),
        issues=tuple(issue for row in rows for issue in row.issues),
        summary=Summary.of(rows),
    )


def _done_page(preview: Preview, result: ImportResult) -> str:
    """Done: the counts, and the error report of the rows left out (invalid, or
    left out by the administrator).

    The page is the answer to Done's POST, not a redirect: the rows left out
    travel to the report only sealed, and a page that is sent again (a reload)
    meets the users already written and is refused, never imported twice.
    """
    left_out = result.left_out
    report = (
        seal(_left_out_review(preview, left_out), _seal_keys()) if left_out else None
    )
    return render_template(
        "done.html",
        result=result,
        report_token=report,
        left_out=len(left_out),
        dropped=sum(1 for row in left_out if _is_left_out(row)),
    )


def main() -> None:
    """Serve on http://127.0.0.1:5000/ (``python examples/webapp/app.py``)."""
    create_app().run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")))


if __name__ == "__main__":
    main()
