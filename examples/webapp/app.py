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
    template_view,
    template_workbook_view,
    too_large_page,
    upload_view,
)
from plumbing import (
    DEFAULT_DATABASE,
    DEMO_ADMINS,
    LANGUAGES,
    MAX_FORM_PARTS,
    MAX_REQUEST_BYTES,
    ORGS_CSV,
    PUBLIC_ENDPOINTS,
    REVIEW_MAX_AGE,
    STATE_KEY,
    TRANSLATIONS,
    DemoAdmin,
    Refused,
    State,
    csrf_refused_page,
    make_nonce,
    page_context,
    page_language,
    refusal_page,
    require_admin,
    security_headers,
    state,
    switch_language_view,
)
from review_pages import check_view, columns_view, commit_view, report_view, review_view
from userimport.hierarchy import organizations_from_csv
from userimport.sql import SQLStore
from users_pages import (
    home_view,
    new_user_view,
    sign_in_view,
    sign_out_view,
    users_view,
)

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
    app.extensions[STATE_KEY] = State(store)
    Babel(
        app,
        locale_selector=page_language,
        default_translation_directories=str(TRANSLATIONS),
    )
    # The pages' markup without the indentation of the template's own tags: a
    # 200-row review is thousands of them.
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    # The order matters: the nonce first (every page, refusals included, needs
    # it), then the CSRF check, so that a cross-site POST is refused (400) before
    # anything else looks at it, then the sign-in check.
    app.before_request(make_nonce)
    CSRFProtect(app)
    app.before_request(require_admin)
    app.after_request(security_headers)
    app.context_processor(page_context)
    app.register_error_handler(RequestEntityTooLarge, too_large_page)
    app.register_error_handler(CSRFError, csrf_refused_page)
    app.register_error_handler(Refused, refusal_page)
    app.add_url_rule("/", "home", home_view)
    app.add_url_rule(
        "/language", "switch_language", switch_language_view, methods=["POST"]
    )
    app.add_url_rule("/sign-in", "sign_in", sign_in_view, methods=["GET", "POST"])
    app.add_url_rule("/sign-out", "sign_out", sign_out_view, methods=["POST"])
    app.add_url_rule("/users", "users", users_view)
    app.add_url_rule("/users/new", "new_user", new_user_view, methods=["GET", "POST"])
    app.add_url_rule("/import", "upload", upload_view, methods=["GET"])
    app.add_url_rule("/import", "review", review_view, methods=["POST"])
    app.add_url_rule("/import/template/<language>", "template", template_view)
    app.add_url_rule(
        "/import/template/<language>/xlsx", "template_workbook", template_workbook_view
    )
    app.add_url_rule("/import/columns", "columns", columns_view, methods=["POST"])
    app.add_url_rule("/import/check", "check", check_view, methods=["POST"])
    app.add_url_rule("/import/report", "report", report_view, methods=["POST"])
    app.add_url_rule("/import/commit", "commit", commit_view, methods=["POST"])
    return app


def main() -> None:
    """Serve on http://127.0.0.1:5000/ (``python examples/webapp/app.py``)."""
    create_app().run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")))


if __name__ == "__main__":
    main()
