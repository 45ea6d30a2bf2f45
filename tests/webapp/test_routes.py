"""The example web frontend's routes through Flask's test client: the branches a
browser test would be slow to reach (refused, tampered or garbled requests)."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Mapping
from html.parser import HTMLParser
from pathlib import Path

import attrs
import openpyxl
import pytest

from webapp.support import EXAMPLES, require_module

require_module("flask")
require_module("flask_wtf")

import app as webapp  # noqa: E402
from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from werkzeug.test import TestResponse  # noqa: E402

from userimport import (  # noqa: E402
    Action,
    Actor,
    CommitConflict,
    Organization,
    Role,
    UserRow,
    UserWrite,
    commit,
    converter,
    prepare,
    seal,
    template,
    unseal,
)
from userimport.sql import SQLStore  # noqa: E402

HEADER = "first_name,last_name,email,organization,role,groups,language"


def csrf_of(page: str) -> str:
    """The CSRF token a page's forms carry."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


@attrs.frozen
class Admin:
    """A test client signed in as a demo administrator, which sends the CSRF token
    of this site's pages with every form, as a browser on those pages does."""

    client: FlaskClient
    csrf: str

    def get(self, url: str) -> TestResponse:
        """GET ``url``."""
        return self.client.get(url)

    def post(
        self, url: str, data: Mapping[str, object] | None = None, **kwargs: object
    ) -> TestResponse:
        """POST a form to ``url`` with the page's CSRF token."""
        return self.client.post(
            url, data={"csrf_token": self.csrf, **(data or {})}, **kwargs
        )


def sign_in(client: FlaskClient, key: str = "root-admin") -> Admin:
    """Sign in through the demo's sign-in page, as the administrator ``key``."""
    token = csrf_of(client.get("/sign-in").text)
    response = client.post("/sign-in", data={"admin": key, "csrf_token": token})
    assert (303, "/users") == (response.status_code, response.location)
    # Signing in starts a new session, with a new CSRF token.
    return Admin(client, csrf_of(client.get("/import").text))


@pytest.fixture
def admin(client: FlaskClient) -> Admin:
    """The test client signed in as the administrator of the root organization."""
    return sign_in(client)


def upload(admin: Admin, text: str, **form: str) -> str:
    """POST step 1 with ``text`` as the file; the review page's HTML."""
    data = {"file": (io.BytesIO(text.encode()), "users.csv"), **form}
    response = admin.post("/import", data, content_type="multipart/form-data")
    assert 200 == response.status_code
    return response.text


def review_of(page: str) -> str:
    """The sealed review that a page carries in its hidden field."""
    found = re.search(r'name="review" value="([^"]*)"', page)
    assert found is not None
    return html.unescape(found.group(1))


def upload_of(page: str) -> str:
    """The sealed upload that a page carries in its hidden field."""
    found = re.search(r'name="upload" value="([^"]*)"', page)
    assert found is not None
    return html.unescape(found.group(1))


def column_choices(page: str) -> dict[str, str]:
    """The column step's selects, by header as written: the column chosen."""
    found = re.findall(
        r'<tr data-header="([^"]*)">.*?<select name="(column-\d+)".*?</select>',
        page,
        re.DOTALL,
    )
    chosen = {}
    for header, name in found:
        select = re.search(f'<select name="{name}".*?</select>', page, re.DOTALL)
        assert select is not None
        value = re.search(r'<option value="([^"]*)" selected>', select.group(0))
        chosen[html.unescape(header)] = value.group(1) if value else ""
    return chosen


def continue_columns(admin: Admin, page: str, **choices: str) -> TestResponse:
    """Continue from the column step ``page``, with its selects as shown except
    the header cells of ``choices`` (a column, or "" to ignore)."""
    chosen = {**column_choices(page), **choices}
    fields = {f"column-{index}": column for index, column in enumerate(chosen.values())}
    return admin.post("/import/columns", {"upload": upload_of(page), **fields})


def done(admin: Admin, page: str, **form: str) -> TestResponse:
    """Press Done on the review page ``page``."""
    return admin.post("/import/commit", {"review": review_of(page), **form})


def reasons(page: str) -> dict[int, str]:
    """The rows a refused Done lists, with the text shown for each."""
    found = re.findall(r'<li data-row="(\d+)">(.*?)</li>', page, re.DOTALL)
    return {
        int(row): html.unescape(re.sub(r"<[^>]+>", "", text)) for row, text in found
    }


def refusal(page: str) -> str:
    """The explanation a refused request shows."""
    found = re.search(r'<p id="refusal"[^>]*>(.*?)</p>', page, re.DOTALL)
    assert found is not None
    return html.unescape(found.group(1))


class _IssueFinder(HTMLParser):
    """Collects (column, code) for every element with ``data-code``: the column is
    the ``data-column`` of the nearest enclosing element that has one."""

    VOID = frozenset({"br", "hr", "img", "input", "link", "meta", "option"})

    def __init__(self) -> None:
        super().__init__()
        self.columns: list[str | None] = []
        self.found: list[tuple[str | None, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        column = found.get("data-column") or (
            self.columns[-1] if self.columns else None
        )
        code = found.get("data-code")
        if code is not None:
            self.found.append((column, code))
        if tag not in self.VOID:
            self.columns.append(column)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.columns:
            self.columns.pop()


def issues(page: str) -> list[tuple[str | None, str]]:
    """Each issue a page shows, as (the column it is shown in, its code)."""
    finder = _IssueFinder()
    finder.feed(page)
    return finder.found


def codes(page: str) -> list[str]:
    """The issue codes a page shows, in order."""
    return [code for _, code in issues(page)]


def counts(page: str) -> dict[str, int]:
    """The numbers a page shows in its ``data-count`` elements, by name."""
    return {
        name: int(number)
        for name, number in re.findall(r'data-count="(\w+)">(\d+)<', page)
    }


def emails(app: Flask, *org_ids: str) -> set[str]:
    """The emails stored in these organizations."""
    return {u.email for u in webapp.state(app).store.list_users(set(org_ids))}


EVERYWHERE = ("root", "es", "es-mad", "es-bcn", "mx", "mx-cdmx", "us", "us-ny")

# -- signing in -----------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/", "/users", "/users/new", "/import", "/import/template/en", "/nowhere"]
)
def test_a_request_without_a_session_gets_the_sign_in_page(
    client: FlaskClient, url: str
) -> None:
    """Without a signed-in administrator every page is the sign-in page: no
    request acts as a default administrator."""
    response = client.get(url)
    assert (303, "/sign-in") == (response.status_code, response.location)
    page = client.get("/sign-in").text
    assert "stands in for a real login" in page
    assert re.findall(r'name="admin" value="([\w-]+)"', page) == [
        admin.key for admin in webapp.DEMO_ADMINS
    ]


def test_a_post_without_a_session_writes_nothing(
    app: Flask, client: FlaskClient
) -> None:
    """A form with a valid CSRF token but no signed-in administrator (the sign-in
    page's own token) is sent to the sign-in page, and nothing is created."""
    token = csrf_of(client.get("/sign-in").text)
    values = {"first_name": "Eve", "last_name": "Adams", "email": "eve@acme.example"}
    forms: list[tuple[str, dict[str, object]]] = [
        ("/users/new", {**values}),
        ("/import", {"file": (io.BytesIO(b"x"), "users.csv")}),
        ("/import/commit", {"review": "x"}),
        ("/import/report", {"review": "x"}),
    ]
    for url, data in forms:
        response = client.post(url, data={**data, "csrf_token": token})
        assert (303, "/sign-in") == (response.status_code, response.location)
    assert set() == emails(app, *EVERYWHERE)


def test_signing_in_and_out(client: FlaskClient) -> None:
    """The sign-in page signs in the administrator chosen; the pages say who it
    is; signing out ends the session."""
    admin = sign_in(client, "spain-manager")
    assert "Signed in as <strong>Manager of Spain</strong>" in admin.get("/users").text
    response = admin.post("/sign-out")
    assert (303, "/sign-in") == (response.status_code, response.location)
    assert "/sign-in" == client.get("/users").location


def test_an_unknown_administrator_is_refused(client: FlaskClient) -> None:
    """A forged administrator key signs no one in (400, the sign-in page again)."""
    token = csrf_of(client.get("/sign-in").text)
    response = client.post("/sign-in", data={"admin": "nobody", "csrf_token": token})
    assert 400 == response.status_code
    assert "Choose one of the administrators" in response.text
    assert "/sign-in" == client.get("/users").location


def test_signing_in_again_starts_a_new_session(client: FlaskClient) -> None:
    """Signing in as another administrator keeps nothing of the previous session:
    its CSRF token no longer works."""
    first = sign_in(client, "root-admin")
    sign_in(client, "spain-manager")
    assert 400 == first.post("/sign-out").status_code


# -- cross-site requests ----------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "forged"])
def test_a_cross_site_form_post_is_refused(
    app: Flask, admin: Admin, token: str | None
) -> None:
    """A form without this site's CSRF token (as another site's page would post
    it through the administrator's browser) is refused with 400 and does
    nothing, on every form."""
    values = {"first_name": "Eve", "last_name": "Adams", "email": "eve@acme.example"}
    data = values if token is None else {**values, "csrf_token": token}
    response = admin.client.post("/users/new", data=data)
    assert 400 == response.status_code
    assert "not sent from this site's own page" in html.unescape(response.text)
    for url in ("/import", "/import/commit", "/import/report", "/sign-out"):
        assert 400 == admin.client.post(url, data={"review": "x"}).status_code
    assert set() == emails(app, *EVERYWHERE)


def test_sign_in_needs_the_sign_in_pages_token(client: FlaskClient) -> None:
    """Another site cannot sign the browser in as an administrator of its choice."""
    response = client.post("/sign-in", data={"admin": "root-admin"})
    assert 400 == response.status_code
    assert "/sign-in" == client.get("/users").location


# -- pages --------------------------------------------------------------------------


def test_home_redirects_to_users(admin: Admin) -> None:
    """``/`` is the Users page."""
    response = admin.get("/")
    assert (302, "/users") == (response.status_code, response.location)


def test_seeded_once_from_examples_orgs(app: Flask) -> None:
    """A new database gets examples/orgs.csv; starting again adds nothing."""
    tree = webapp.state(app).tree
    assert 10 == len(tree)
    assert ("Acme Learning", "Spain", "Madrid") == tree.path("es-mad")
    url = str(webapp.state(app).store.engine.url)
    again = webapp.create_app(url)
    try:
        assert 10 == len(webapp.state(again).tree)
    finally:
        webapp.state(again).store.close()


def test_a_database_without_the_demo_organizations_is_refused(
    tmp_path: Path,
) -> None:
    """The demo's administrators act for ``root`` and ``es``: a database whose
    organizations lack them is refused at start, by name."""
    url = f"sqlite:///{tmp_path / 'other.db'}"
    with SQLStore(url) as store:
        store.create_schema()
        store.add_organizations([Organization("root", "Other company")])
    with pytest.raises(ValueError, match="no organization es,"):
        webapp.create_app(url)


def test_pages_send_a_content_security_policy(
    client: FlaskClient, admin: Admin
) -> None:
    """Every page, the sign-in page and refusals included, forbids scripts and
    styles but its own (a per-request nonce), and no cache keeps it."""
    assert "no-store" == client.get("/sign-in").headers["Cache-Control"]
    first = admin.get("/import").headers["Content-Security-Policy"]
    second = admin.get("/import").headers["Content-Security-Policy"]
    assert "default-src 'none'" in first
    assert first != second
    refused = admin.client.post("/import/commit")
    assert 400 == refused.status_code
    policy = refused.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([\w-]+)'", policy)
    assert nonce is not None
    assert f'<style nonce="{nonce.group(1)}">' in refused.text


@pytest.mark.parametrize("language", ["en", "es"])
def test_template_download(admin: Admin, language: str) -> None:
    """The template links serve ``template(language)`` as an attachment."""
    response = admin.get(f"/import/template/{language}")
    assert template(language) == response.data
    assert "attachment" in response.headers["Content-Disposition"]


def template_links(page: str) -> list[tuple[str, str]]:
    """The upload page's template links: their language and their href."""
    return re.findall(r'<a href="([^"]+)" data-language="([^"]+)" download>', page)


@pytest.mark.parametrize(
    ("accept_language", "links"),
    [
        (None, [("/import/template/en", "en"), ("/import/template/es", "es")]),
        (
            "fr-FR, es;q=0.8",
            [("/import/template/es", "es"), ("/import/template/en", "en")],
        ),
        (
            "es-MX,es;q=0.9,en;q=0.8",
            [("/import/template/es-MX", "es-MX"), ("/import/template/en", "en")],
        ),
        ("en-ZA", [("/import/template/en-ZA", "en-ZA"), ("/import/template/es", "es")]),
        ("*, es-<x>", [("/import/template/en", "en"), ("/import/template/es", "es")]),
    ],
)
def test_the_template_in_the_admins_language_comes_first(
    admin: Admin, accept_language: str | None, links: list[tuple[str, str]]
) -> None:
    """The upload page offers first the template in the browser's first language
    that has one, region included (the region decides the list separator), then
    the others; English when no language has one."""
    headers = {} if accept_language is None else {"Accept-Language": accept_language}
    page = admin.client.get("/import", headers=headers).text
    assert links == template_links(page)


@pytest.mark.parametrize(
    ("tag", "separator", "name"),
    [
        ("es", ";", "columnas separadas por punto y coma (;)"),
        ("es-MX", ",", "columnas separadas por coma (,)"),
        ("en", ",", "columns separated by comma (,)"),
        ("en-ZA", ";", "columns separated by semicolon (;)"),
    ],
)
def test_a_template_link_downloads_with_its_list_separator(
    admin: Admin, tag: str, separator: str, name: str
) -> None:
    """Each link says, in the page's language, which separator its template has,
    and serves ``template(tag)``, written with it, under a name that gives only the
    language."""
    page = admin.client.get("/import", headers={"Accept-Language": tag}).text
    assert f"({html.escape(name)})" in page
    response = admin.get(f"/import/template/{tag}")
    assert template(tag) == response.data
    first_line = response.data.decode("utf-8-sig").split("\r\n", 1)[0]
    assert 6 == first_line.count(f'"{separator}"')
    expected = f"users-template-{tag[:2]}.csv"
    assert expected in response.headers["Content-Disposition"]


def test_template_in_an_unknown_language_is_not_found(admin: Admin) -> None:
    """An unsupported language is a 404 with the library's message."""
    response = admin.get("/import/template/fr")
    assert 404 == response.status_code
    assert "choose one of 'en', 'es'" in response.text


# -- step 1 and 2 -----------------------------------------------------------------


def test_next_without_a_file_shows_the_librarys_issue(admin: Admin) -> None:
    """Next with no file reviews an empty upload: ``empty_file``, no Done."""
    response = admin.post("/import", {}, content_type="multipart/form-data")
    assert ["empty_file"] == codes(response.text)
    assert re.search(r'<button id="done"[^>]*\sdisabled', response.text)


def test_an_upload_above_the_request_limit_is_refused(
    app: Flask, client: FlaskClient, admin: Admin
) -> None:
    """A request larger than the server accepts gets step 1 again with a message;
    without a session, the sign-in page."""
    app.config["MAX_CONTENT_LENGTH"] = 1000
    data = {"file": (io.BytesIO(b"x" * 2000), "big.csv")}
    response = admin.post("/import", data, content_type="multipart/form-data")
    assert 413 == response.status_code
    assert "nothing was read" in response.text
    admin.post("/sign-out")
    data = {"file": (io.BytesIO(b"x" * 2000), "big.csv")}
    response = client.post("/import", data=data, content_type="multipart/form-data")
    assert "/sign-in" == response.location


def test_review_and_done(app: Flask, admin: Admin) -> None:
    """Review then Done (through the sealed review) creates the users, and Done
    answers with the counts."""
    page = upload(admin, f"{HEADER}\nAna,Ruiz,ana.ruiz@acme.example,es-mad,,,\n")
    response = done(admin, page)
    assert 200 == response.status_code
    assert {"created": 1, "updated": 0, "skipped": 0} == counts(response.text)
    assert 'id="left-out"' not in response.text
    assert {"ana.ruiz@acme.example"} == emails(app, "es-mad")


def test_the_review_travels_only_sealed(admin: Admin) -> None:
    """The review page carries the review as a sealed token of the server's key,
    holding exactly the preview that was shown, bound to the administrator."""
    page = upload(admin, f"{HEADER}\nAna,Ruiz,ana@acme.example,,,,\n")
    assert 'name="preview"' not in page
    preview = unseal(review_of(page), "tests", max_age=60)
    assert Actor("root") == preview.actor
    assert [(2, Action.CREATE)] == [(row.row, row.action) for row in preview.rows]


def test_review_says_how_the_header_was_read(admin: Admin) -> None:
    """A header cell the library does not know first shows the column step, with
    the library's warning; kept ignored there, the review names the header cells
    it read (with their column when written otherwise) and those it ignored."""
    step = upload(admin, "Nombre,Apellidos,E-mail,Notes\nAna,Ruiz,ana@acme.example,x\n")
    assert ["unknown_columns"] == codes(step)
    page = continue_columns(admin, step).text
    read = "Nombre (First name), Apellidos (Last name), E-mail (Email)"
    assert (
        f'<span id="columns">{read}</span>; ignored: <span id="ignored">Notes' in page
    )
    assert [] == codes(page)


def test_review_counts_in_the_singular(admin: Admin) -> None:
    """One row is "1 row", and the import of the valid rows counts in the
    singular too."""
    page = upload(
        admin, f"{HEADER}\nAna,Ruiz,ana@acme.example,,,,\nBo,,bo@acme.example,,,,\n"
    )
    assert "Import 1 user, leave out 1 invalid row" in page
    single = upload(admin, f"{HEADER}\nAna,Ruiz,ana@acme.example,,,,\n")
    assert re.search(r'data-count="total">1</strong> row:', single)


def test_update_mode_shows_the_changes(app: Flask, admin: Admin) -> None:
    """Under "update them", a changed user's row shows each field's old and new
    value (organizations as paths, no groups as "(empty)"), and Done updates it;
    an empty cell keeps the stored value."""
    first = upload(admin, f"{HEADER}\nAna,Ruiz,ana@acme.example,es-mad,,,es\n")
    done(admin, first)
    page = upload(
        admin,
        f"{HEADER}\nAna,Ruiz,ana@acme.example,es-bcn,,Sales,\n",
        on_existing="update",
    )
    assert ["email_exists"] == codes(page)
    old, new = "Acme Learning / Spain / Madrid", "Acme Learning / Spain / Barcelona"
    assert f"Organization: {old} → {new}" in page
    assert "Groups: (empty) → Sales" in page
    done(admin, page)
    (user,) = webapp.state(app).store.list_users({"es-bcn"})
    assert (("Sales",), "es") == (user.groups, user.language)


def test_done_takes_the_policy_from_the_seal(app: Flask, admin: Admin) -> None:
    """The policy for existing users chosen at step 1 is sealed with the review:
    a policy field added to Done's form changes nothing."""
    done(admin, upload(admin, f"{HEADER}\nAna,Ruiz,ana@acme.example,es-mad,,,\n"))
    skipping = upload(admin, f"{HEADER}\nAna,Ruiz,ana@acme.example,es-bcn,,,\n")
    response = done(admin, skipping, on_existing="update")
    assert {"created": 0, "updated": 0, "skipped": 1} == counts(response.text)
    assert {"ana@acme.example"} == emails(app, "es-mad")
    updating = upload(
        admin,
        f"{HEADER}\nAna,Ruiz,ana@acme.example,es-bcn,,,\n",
        on_existing="update",
    )
    response = done(admin, updating, on_existing="skip")
    assert {"created": 0, "updated": 1, "skipped": 0} == counts(response.text)
    assert {"ana@acme.example"} == emails(app, "es-bcn")


def test_an_unknown_policy_at_step_one_is_skip(app: Flask, admin: Admin) -> None:
    """Step 1 offers "skip" and "update"; anything else posted is "skip"."""
    page = upload(admin, f"{HEADER}\nAna,Ruiz,ana@acme.example,,,,\n", on_existing="x")
    assert "skip" == unseal(review_of(page), "tests").on_existing.value


# -- refused Done ---------------------------------------------------------------


@pytest.mark.parametrize("url", ["/import/commit", "/import/report"])
def test_an_edited_review_is_refused_with_a_clear_page(
    app: Flask, admin: Admin, url: str
) -> None:
    """Done and the error report refuse a review whose hidden token was edited,
    even by one character, with a page that says so (400); nothing is written."""
    page = upload(admin, f"{HEADER}\nAna,Ruiz,ana@acme.example,es-mad,,,\n")
    token = review_of(page)
    middle = len(token) // 2
    edited = (
        token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    )
    response = admin.post(url, {"review": edited})
    assert 400 == response.status_code
    assert "This review was altered, has expired" in refusal(response.text)
    assert "upload the file again" in response.text
    assert set() == emails(app, *EVERYWHERE)


@pytest.mark.parametrize("url", ["/import/commit", "/import/report"])
def test_a_plain_json_preview_is_never_accepted(
    app: Flask, admin: Admin, url: str
) -> None:
    """A preview sent as JSON (what an older page carried) is not a sealed review:
    refused (400), nothing written, even though the preview itself is genuine."""
    state = webapp.state(app)
    upload_ = f"{HEADER}\nAna,Ruiz,ana@acme.example,,,,\n".encode()
    preview = prepare(upload_, actor=Actor("root"), orgs=state.tree, store=state.store)
    for field in ("review", "preview"):
        response = admin.post(url, {field: converter.dumps(preview)})
        assert 400 == response.status_code
    assert set() == emails(app, *EVERYWHERE)


@pytest.mark.parametrize("posted", ["", "p1", "p1.a.b.c", "{", "[" * 10_000])
def test_an_unreadable_review_is_refused(admin: Admin, posted: str) -> None:
    """Done and the error report refuse a review that is not a token (400)."""
    for url in ("/import/commit", "/import/report"):
        response = admin.post(url, {"review": posted})
        assert 400 == response.status_code
        assert "This review was altered, has expired" in refusal(response.text)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(posted=st.text(max_size=200))
def test_no_posted_text_breaks_done(app: Flask, admin: Admin, posted: str) -> None:
    """Whatever text comes back as the review, Done refuses it (400) without a
    server error and writes nothing."""
    response = admin.post("/import/commit", {"review": posted})
    assert 400 == response.status_code
    assert set() == emails(app, *EVERYWHERE)


def test_an_expired_review_is_refused(app: Flask, admin: Admin) -> None:
    """A review older than ``REVIEW_MAX_AGE`` is refused with the clear page."""
    page = upload(admin, f"{HEADER}\nAna,Ruiz,ana@acme.example,,,,\n")
    app.config["REVIEW_MAX_AGE"] = -1  # every review is too old
    response = done(admin, page)
    assert 400 == response.status_code
    assert "has expired" in response.text
    assert set() == emails(app, *EVERYWHERE)


def test_a_review_sealed_before_a_key_rotation_still_commits(
    app: Flask, admin: Admin
) -> None:
    """A new secret key with the old one in ``SECRET_KEY_FALLBACKS`` keeps the
    session and the sealed reviews valid (forms need a reload for a new CSRF
    token)."""
    page = upload(admin, f"{HEADER}\nAna,Ruiz,ana@acme.example,,,,\n")
    app.config.update(SECRET_KEY="rotated", SECRET_KEY_FALLBACKS=["tests"])
    fresh = Admin(admin.client, csrf_of(admin.get("/import").text))
    response = done(fresh, page)
    assert {"created": 1, "updated": 0, "skipped": 0} == counts(response.text)


def test_a_review_made_for_another_administrator_is_refused(
    app: Flask, client: FlaskClient
) -> None:
    """A review the root administrator made, sent back by the Spain manager (same
    browser, signed in again), is refused (409) with the clear page: the review
    is bound to whom it was made for; nothing is written, no report given."""
    root = sign_in(client, "root-admin")
    page = upload(root, f"{HEADER}\nRosa,Díaz,rosa@acme.example,mx-cdmx,,,\n")
    manager = sign_in(client, "spain-manager")
    for url in ("/import/commit", "/import/report"):
        response = manager.post(url, {"review": review_of(page)})
        assert 409 == response.status_code
        assert "made for another administrator" in refusal(response.text)
    assert set() == emails(app, *EVERYWHERE)


def test_a_forged_review_above_the_row_limit_is_refused(
    app: Flask, admin: Admin
) -> None:
    """Even a review sealed with the server's key (a leaked key) is refused when it
    holds more rows than the limit (409); nothing is written."""
    page = upload(admin, f"{HEADER}\nAna,Ruiz,ana@acme.example,,,,\n")
    preview = unseal(review_of(page), "tests")
    bigger = attrs.evolve(preview, rows=preview.rows * 201)
    response = admin.post("/import/commit", {"review": seal(bigger, "tests")})
    assert 409 == response.status_code
    assert set() == emails(app, *EVERYWHERE)


def test_a_forged_review_into_a_sibling_country_explains_the_refusal(
    app: Flask, client: FlaskClient
) -> None:
    """Even sealed with the server's key, a review edited so that a row goes to
    Mexico is refused for the Spain manager: commit reviews the row again, and
    the page names the row and what differs; nothing is written."""
    manager = sign_in(client, "spain-manager")
    page = upload(manager, f"{HEADER}\nAna,Ruiz,ana@acme.example,Madrid,,,\n")
    preview = unseal(review_of(page), "tests")
    row = preview.rows[0]
    assert row.user is not None
    tampered = attrs.evolve(
        preview,
        rows=(
            attrs.evolve(
                row,
                values={**row.values, "organization": "mx-cdmx"},
                user=attrs.evolve(row.user, organization="mx-cdmx"),
            ),
        ),
    )
    response = manager.post("/import/commit", {"review": seal(tampered, "tests")})
    assert 409 == response.status_code
    assert [2] == list(reasons(response.text))
    assert (
        "Row 2 (ana@acme.example): it was to create a user" in reasons(response.text)[2]
    )
    assert set() == emails(app, *EVERYWHERE)


def test_a_refused_done_explains_itself(app: Flask, admin: Admin) -> None:
    """Someone creates two of the file's emails between review and Done: Done is
    refused (409) with a page that names those rows, in words that agree in
    number, and what changed for each; nothing of the file is written."""
    page = upload(
        admin,
        f"{HEADER}\nAna,Ruiz,ana@acme.example,,,,\nBo,Berg,bo@acme.example,,,,\n"
        "Cy,Ng,cy@acme.example,,,,\n",
    )
    store = webapp.state(app).store
    store.apply(
        [
            UserWrite(UserRow("Other", "Ana", "ana@acme.example", "us"), None),
            UserWrite(UserRow("Other", "Cy", "cy@acme.example", "us"), None),
        ]
    )
    response = done(admin, page)
    assert 409 == response.status_code
    assert (
        "Since your review, rows 2 and 4 would not be imported as you reviewed them, "
        "so nothing was imported." == refusal(response.text)
    )
    assert {
        2: "Row 2 (ana@acme.example): its email now belongs to a user created since "
        "the review.",
        4: "Row 4 (cy@acme.example): its email now belongs to a user created since "
        "the review.",
    } == reasons(response.text)
    # Not the review again, whose rows all say "create" and contradict the refusal.
    assert "have errors" not in response.text
    assert "data-action" not in response.text
    assert {"ana@acme.example", "cy@acme.example"} == emails(app, *EVERYWHERE)


def test_a_conflict_on_one_row_is_in_the_singular(app: Flask, admin: Admin) -> None:
    """One row refused: "row 2 ... as you reviewed it"."""
    page = upload(admin, f"{HEADER}\nAna,Ruiz,ana@acme.example,,,,\n")
    done(admin, page)
    response = done(admin, page)  # the same review again: Ana exists now
    assert 409 == response.status_code
    assert refusal(response.text).startswith(
        "Since your review, row 2 would not be imported as you reviewed it,"
    )


def test_a_stores_own_conflict_is_shown_with_its_message(
    app: Flask, admin: Admin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A conflict the store finds in its transaction (no reasons by row) is shown
    with the library's message."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise CommitConflict("The users changed since the review.", rows=())

    page = upload(admin, f"{HEADER}\nAna,Ruiz,ana@acme.example,,,,\n")
    monkeypatch.setattr(webapp, "commit", refuse)
    response = done(admin, page)
    assert 409 == response.status_code
    assert "The users changed since your review" in refusal(response.text)
    assert "The users changed since the review." in response.text


def test_done_with_invalid_rows_shows_the_review_again(
    app: Flask, admin: Admin
) -> None:
    """Done forced on a review with invalid rows shows the same review with the
    library's reason and the same sealed review; nothing is written."""
    page = upload(
        admin, f"{HEADER}\nAna,Ruiz,ana@acme.example,,,,\nBo,,bo@,,,,\nCy,,cy@,,,,\n"
    )
    response = done(admin, page)
    assert 409 == response.status_code
    assert "Nothing was imported. Rows 3 and 4 have errors" in response.text
    assert review_of(page) == review_of(response.text)
    assert set() == emails(app, *EVERYWHERE)


# -- reports ----------------------------------------------------------------------


def test_error_report_of_a_review(admin: Admin) -> None:
    """The report button sends back the library's error report of the review."""
    page = upload(admin, f"{HEADER}\nAna,,ana@acme.example,,,,\n")
    response = admin.post("/import/report", {"review": review_of(page)})
    assert "attachment" in response.headers["Content-Disposition"]
    assert "The last name is required" in response.data.decode("utf-8-sig")


def test_done_offers_the_report_of_the_rows_left_out(app: Flask, admin: Admin) -> None:
    """After importing the valid rows, Done offers the rows left out, with their
    errors, on the rows of the file they came from."""
    page = upload(
        admin,
        f"{HEADER}\nAna,Ruiz,ana@acme.example,,,,\nBo,,bo@acme.example,,,,\n"
        "Cy,Ng,cy@,,,,\n",
    )
    response = done(admin, page, skip_invalid="1")
    assert {"created": 1, "updated": 0, "skipped": 0, "invalid": 2} == counts(
        response.text
    )
    assert "2</strong> invalid rows left out" in response.text
    assert "2 rows were left out." in response.text
    report = admin.post("/import/report", {"review": review_of(response.text)})
    lines = report.data.decode("utf-8-sig").splitlines()
    assert 4 == len(lines)
    assert "" == lines[1]  # row 2, imported, is a blank line: the rows stay put
    assert lines[2].startswith('"Bo","","bo@acme.example",')
    assert "The last name is required" in lines[2]
    assert lines[3].startswith('"Cy","Ng","cy@",')
    # The token holds only the rows left out: committing it writes nothing.
    again = admin.post(
        "/import/commit", {"review": review_of(response.text), "skip_invalid": "1"}
    )
    assert {"created": 0, "updated": 0, "skipped": 0, "invalid": 2} == counts(
        again.text
    )
    assert {"ana@acme.example"} == emails(app, *EVERYWHERE)


def test_one_row_left_out_is_in_the_singular(admin: Admin) -> None:
    """One row left out: "1 invalid row left out", "1 row was left out"."""
    page = upload(admin, f"{HEADER}\nAna,Ruiz,ana@acme.example,,,,\nBo,,bo@,,,,\n")
    text = done(admin, page, skip_invalid="1").text
    assert "1</strong> invalid row left out" in text
    assert "1 row was left out." in text
    assert "Download it with its errors" in text


# -- single user --------------------------------------------------------------------


def test_new_user_form(client: FlaskClient) -> None:
    """The form offers the roles the administrator may give."""
    manager = sign_in(client, "spain-manager")
    page = manager.get("/users/new").text
    select = page[
        page.index('<select id="role"') : page.index(
            "</select>", page.index('<select id="role"')
        )
    ]
    assert re.findall(r'<option value="(\w+)"', select) == [
        "learner",
        "instructor",
        "manager",
    ]
    assert '<option value="Spain / Madrid">' in page


def test_new_user_issues_next_to_fields(app: Flask, client: FlaskClient) -> None:
    """Every problem of the user is shown next to its field and nothing is
    created; a role above the manager's own is refused like in an import."""
    manager = sign_in(client, "spain-manager")
    values = {
        "first_name": "",
        "last_name": "Ruiz",
        "email": "ana@",
        "role": "admin",
    }
    page = manager.post("/users/new", values).text
    assert [("first_name", "missing_value"), ("email", "invalid_email")] == issues(page)
    values = {"first_name": "Ana", "last_name": "Ruiz", "email": "ana@acme.example"}
    page = manager.post("/users/new", {**values, "role": "admin"}).text
    assert [("role", "role_not_allowed")] == issues(page)
    assert set() == emails(app, "es")


def test_new_user_with_an_existing_email_or_the_example_row(
    app: Flask, admin: Admin
) -> None:
    """The form creates, never updates: an existing email is an error, and the
    template's example user is skipped with the library's warning."""
    values = {"first_name": "Ana", "last_name": "Ruiz", "email": "ana@acme.example"}
    assert 302 == admin.post("/users/new", values).status_code
    assert ["email_exists"] == codes(admin.post("/users/new", values).text)
    example = {
        "first_name": "Ana",
        "last_name": "García",
        "email": "ana.garcia@example.com",
    }
    assert ["example_row"] == codes(admin.post("/users/new", example).text)
    assert {"ana@acme.example"} == emails(app, "root")


def test_new_user_created(app: Flask, admin: Admin) -> None:
    """A valid user is created and the Users page says so."""
    values = {
        "first_name": "Ana",
        "last_name": "Ruiz",
        "email": "ana@acme.example",
        "organization": "Spain / Madrid",
        "role": "manager",
        "groups": "Ventas",
        "language": "es",
    }
    response = admin.post("/users/new", values, follow_redirects=True)
    assert "Created Ana Ruiz." in response.text
    (user,) = webapp.state(app).store.list_users({"es-mad"})
    assert (Role.MANAGER, ("Ventas",)) == (user.role, user.groups)


def test_new_user_commit_refused(
    app: Flask, admin: Admin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the commit after the form is refused (the store changed in between),
    its message is shown and the form kept."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise CommitConflict("The users changed since the review.", rows=())

    monkeypatch.setattr(webapp, "commit", refuse)
    values = {"first_name": "Ana", "last_name": "Ruiz", "email": "ana@acme.example"}
    page = admin.post("/users/new", values).text
    assert "The users changed since the review." in page
    assert 'value="ana@acme.example"' in page


def test_users_page_of_the_spain_manager(app: Flask, client: FlaskClient) -> None:
    """The Users page lists the actor's subtree only, with paths from its own
    organization."""
    state = webapp.state(app)
    root = Actor("root")
    preview = prepare(
        (EXAMPLES / "users.csv").read_bytes(),
        actor=root,
        orgs=state.tree,
        store=state.store,
    )
    assert all(row.action is Action.CREATE for row in preview.rows)
    commit(preview, actor=root, orgs=state.tree, store=state.store)
    manager = sign_in(client, "spain-manager")
    page = manager.get("/users").text
    assert sorted(re.findall(r'data-email="([^"]+)"', page)) == [
        "jose.nunez@acme.example",
        "oyvind.muller@acme.example",
    ]
    assert ">Spain / Madrid<" in page


# --- Excel workbooks -----------------------------------------------------------------


def test_the_upload_page_offers_each_template_as_a_workbook(admin: Admin) -> None:
    """Beside each CSV template the upload page links the same template as an Excel
    workbook, and the drop zone takes .xlsx files."""
    page = admin.get("/import").text
    links = re.findall(r'<a href="([^"]+)" data-workbook="([^"]+)" download>', page)
    accept = re.search(r'accept="([^"]+)"', page)

    assert [("/import/template/en/xlsx", "en"), ("/import/template/es/xlsx", "es")] == (
        links
    )
    assert accept is not None
    assert ".xlsx" in accept.group(1).split(",")


def test_the_workbook_template_offers_the_administrators_own_choices(
    app: Flask, client: FlaskClient
) -> None:
    """The Spain manager's workbook template lists Spain and the organizations below
    it, by their paths from Spain, and the roles up to manager."""
    manager = sign_in(client, "spain-manager")
    response = manager.get("/import/template/es/xlsx")
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    tree = webapp.state(app).tree
    inside = tree.subtree_ids("es")

    rules = {
        str(rule.sqref)[0]: rule.formula1 or ""
        for rule in book["Usuarios"].data_validations.dataValidation
    }
    # Short lists are in the rule itself, longer ones on the hidden sheet.
    organizations = (
        rules["D"].strip('"').split(",")
        if rules["D"].startswith('"')
        else [cell.value for cell in book["Listas"]["A"]]
    )

    assert "users-template-es.xlsx" in response.headers["Content-Disposition"]
    paths = [tree.path_text(org.id, within="es") for org in tree if org.id in inside]
    assert paths == organizations
    assert '"learner,instructor,manager"' == rules["E"]
    assert 404 == manager.get("/import/template/fr/xlsx").status_code


def test_a_workbook_upload_is_reviewed(admin: Admin) -> None:
    """An .xlsx upload is reviewed as a CSV file is, and the review says it was read
    as an Excel workbook."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["First name", "Last name", "Email"])
    sheet.append(["Ana", "Núñez", "ana@example.com"])
    buffer = io.BytesIO()
    book.save(buffer)

    response = admin.post(
        "/import",
        {"file": (io.BytesIO(buffer.getvalue()), "users.xlsx")},
        content_type="multipart/form-data",
    )

    assert 200 == response.status_code
    assert '<strong id="encoding">an Excel workbook</strong>' in response.text
    assert "ana@example.com" in response.text
