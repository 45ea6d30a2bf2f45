"""The Users screen, signing in and out, and "create a single user"."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
from flask import (
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue

# Flask-Babel and Flask-WTF ship no type information (no py.typed): their names
# are Any here.
from flask_babel import gettext  # type: ignore[import-untyped]

from plumbing import (
    COLUMN_TITLES,
    DEMO_ADMINS,
    ROLE_TITLES,
    USERS_PAGE,
    by_column,
    org_path,
    page_language,
    request_tree,
    signed_in,
    state,
)
from userimport import (
    Action,
    Actor,
    CommitBlocked,
    CommitConflict,
    ImportOptions,
    Issue,
    OnExisting,
    Preview,
    ReviewRow,
    Role,
    Summary,
    commit,
    validate_user,
    visible_users,
)
from userimport.schema import COLUMNS

# -- Users ------------------------------------------------------------------------


def home_view() -> ResponseReturnValue:
    return redirect(url_for("users"))


def sign_in_view() -> ResponseReturnValue:
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


def sign_out_view() -> ResponseReturnValue:
    language = session.get("language")
    session.clear()
    if language is not None:
        session["language"] = language
    return redirect(url_for("sign_in"), 303)


def users_view() -> ResponseReturnValue:
    """The Users screen: searched (``?q=``) and paged (``?after=``, the email key of
    the previous page's last user); the store filters, orders and limits."""
    actor = signed_in().actor
    tree = request_tree()
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
        org_path=lambda org_id: org_path(org_id, actor),
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


def new_user_view() -> ResponseReturnValue:
    """Create a single user: ``validate_user`` then ``commit``, the import's rules."""
    actor = signed_in().actor
    tree = request_tree()
    values = {column: request.form.get(column, "") for column in COLUMNS}
    issues: Sequence[Issue] = ()
    if request.method == "POST":
        # An existing email is an error here: this form creates, it never updates.
        options = attrs.evolve(
            state().options, on_existing=OnExisting.ERROR, locale=page_language()
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
        issues=by_column(issues),
        titles=COLUMN_TITLES,
        roles=[(role, ROLE_TITLES[role]) for role in Role if actor.may_assign(role)],
        organizations=[
            tree.path_text(org.id, within=actor.org_id)
            for org in tree
            if tree.is_within(org.id, actor.org_id)
        ],
    )
