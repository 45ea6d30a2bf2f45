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

import os
import secrets

from flask import Flask

# Flask-Babel and Flask-WTF ship no type information (no py.typed): their names
# are Any here.
from flask_babel import Babel  # type: ignore[import-untyped]
from flask_wtf.csrf import CSRFError, CSRFProtect  # type: ignore[import-untyped]
from werkzeug.exceptions import RequestEntityTooLarge

from import_pages import (
    TemplateLink,
    _template,
    _template_workbook,
    _too_large,
    _upload,
)
from plumbing import (
    _STATE,
    DEFAULT_DATABASE,
    DEMO_ADMINS,
    LANGUAGES,
    MAX_FORM_PARTS,
    MAX_REQUEST_BYTES,
    ORGS_CSV,
    PUBLIC_ENDPOINTS,
    REVIEW_MAX_AGE,
    TRANSLATIONS,
    DemoAdmin,
    State,
    _csrf_refused,
    _language,
    _make_nonce,
    _page_context,
    _refusal_page,
    _Refused,
    _require_admin,
    _security_headers,
    _switch_language,
    state,
)
from review_pages import _check, _columns, _commit, _report, _review
from userimport.hierarchy import organizations_from_csv
from userimport.sql import SQLStore
from users_pages import _home, _new_user, _sign_in, _sign_out, _users

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


def main() -> None:
    """Serve on http://127.0.0.1:5000/ (``python examples/webapp/app.py``)."""
    create_app().run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")))


if __name__ == "__main__":
    main()
