"""What every page of the example web app shares: its settings and words, the
application's state, the signed-in administrator, the page language, refusals,
and the review's small formatting helpers."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

import attrs
from flask import (
    Flask,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue

# Flask-Babel and Flask-WTF ship no type information (no py.typed): their names
# are Any here.
from flask_babel import (  # type: ignore[import-untyped]
    gettext,
    lazy_gettext,
    lazy_pgettext,
    refresh,
)
from flask_wtf.csrf import CSRFError  # type: ignore[import-untyped]
from werkzeug.wrappers import Response

from userimport import (
    Action,
    Actor,
    ImportOptions,
    Issue,
    IssueCode,
    OnExisting,
    OrgTree,
    ReviewRow,
    Role,
)
from userimport.persistence import FieldValue
from userimport.reading import DEFAULT_MAX_ROWS
from userimport.schema import COLUMNS
from userimport.sql import SQLStore

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
    IssueCode.CONFUSABLE_EMAIL: lazy_gettext("Email that looks like another"),
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

STATE_KEY: Final = "userimport_webapp"


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


def request_tree() -> OrgTree:
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
    found = (app if app is not None else current_app).extensions[STATE_KEY]
    assert isinstance(found, State)
    return found


# -- page plumbing ----------------------------------------------------------------


def make_nonce() -> None:
    g.nonce = secrets.token_urlsafe(16)


def security_headers(response: Response) -> Response:
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


def current_admin() -> DemoAdmin | None:
    """The administrator signed in in this session, if any."""
    key = session.get("admin")
    return next((a for a in DEMO_ADMINS if a.key == key), None)


def require_admin() -> ResponseReturnValue | None:
    """Fail closed: without a signed-in administrator, every page but the sign-in
    page is the sign-in page (never a default administrator)."""
    if request.endpoint in PUBLIC_ENDPOINTS or current_admin() is not None:
        return None
    return redirect(url_for("sign_in"), 303)


def signed_in() -> DemoAdmin:
    """The signed-in administrator of a page that requires one."""
    admin = current_admin()
    if admin is None:  # pragma: no cover - require_admin sent the request away
        abort(401)
    return admin


def page_context() -> dict[str, object]:
    return {
        "current_admin": current_admin(),
        "nonce": g.get("nonce", ""),
        "max_rows": state().options.max_rows,
        "page_language": page_language(),
        "languages": LANGUAGES,
        "language_next": _language_next(),
    }


# -- languages --------------------------------------------------------------------


def page_language() -> str:
    """The language of the pages (and of the library's messages in them): the one
    chosen with the switch, else the first of the browser's (Accept-Language) that
    the application speaks, else English."""
    chosen = session.get("language")
    if isinstance(chosen, str) and chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(list(LANGUAGES))
    return best if best is not None else "en"


def choose_language(language: str) -> None:
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


def switch_language_view() -> ResponseReturnValue:
    """The language switch: keep the choice in the session, back to the page."""
    choose_language(request.form.get("language", ""))
    return redirect(_local(request.form.get("next")), 303)


def row_numbers(rows: Iterable[int]) -> str:
    """``2``, ``2 and 3``, ``2, 3 and 5``: row numbers for a sentence."""
    numbers = [str(row) for row in sorted(rows)]
    if len(numbers) <= 1:
        return "".join(numbers)
    return str(
        gettext(
            "%(first)s and %(last)s", first=", ".join(numbers[:-1]), last=numbers[-1]
        )
    )


def seal_keys() -> list[str | bytes]:
    """The keys that seal reviews: the app's secret key signs; it and its
    fallbacks verify. (``seal`` derives its own key from them, so the session's
    key never signs a review directly.)"""
    fallbacks = current_app.config.get("SECRET_KEY_FALLBACKS") or ()
    return [current_app.secret_key or "", *fallbacks]


def refused_page(
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


class Refused(Exception):
    """A request refused with nothing done: its page says why (``refused_page``).

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


def refusal_page(error: Refused) -> ResponseReturnValue:
    return refused_page(error.cause, summary=error.summary), error.status


def csrf_refused_page(error: CSRFError) -> ResponseReturnValue:
    # A form without this site's token: posted from another site, or a page older
    # than the token (an hour), or from before signing in again.
    return refused_page(
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


def org_path(org_id: str, actor: Actor) -> str:
    """The organization as the actor sees it: its path from the actor's own."""
    return request_tree().path_text(org_id, within=actor.org_id) or org_id


def _format_value(value: FieldValue) -> str:
    """A stored field for the review's "old → new" lines (groups, empty values)."""
    if value is None or value == ():
        return str(gettext("(empty)"))
    return value if isinstance(value, str) else "; ".join(value)


def changes_of(row: ReviewRow, actor: Actor) -> list[tuple[str, str, str]]:
    """An update's changes as (field title, old, new), organizations as paths."""
    lines = []
    for field, (old, new) in row.changes.items():
        if field == "organization" and isinstance(old, str) and isinstance(new, str):
            old, new = org_path(old, actor), org_path(new, actor)
        lines.append(
            (COLUMN_TITLES.get(field, field), _format_value(old), _format_value(new))
        )
    return lines


def by_column(issues: Iterable[Issue]) -> dict[str | None, list[Issue]]:
    """Issues grouped by the column they concern (``None``: the row as a whole)."""
    grouped: dict[str | None, list[Issue]] = {}
    for issue in issues:
        column = issue.column if issue.column in COLUMN_TITLES else None
        grouped.setdefault(column, []).append(issue)
    return grouped
