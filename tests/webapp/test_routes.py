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

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from werkzeug.test import TestResponse  # noqa: E402

import app as webapp  # noqa: E402
import plumbing  # noqa: E402
import review_pages  # noqa: E402
import users_pages  # noqa: E402
from userimport import (  # noqa: E402
    Action,
    Actor,
    CommitConflict,
    IssueCode,
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
from userimport.issues import FILE_ERROR_CODES  # noqa: E402
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
    tree = webapp.state(app).store.org_tree()
    assert 10 == len(tree)
    assert ("Acme Learning", "Spain", "Madrid") == tree.path("es-mad")
    url = str(webapp.state(app).store.engine.url)
    again = webapp.create_app(url)
    try:
        assert 10 == len(webapp.state(again).store.org_tree())
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


def test_an_organization_added_while_running_is_usable_at_once(
    app: Flask, admin: Admin, tmp_path: Path
) -> None:
    """The organization tree is read per request, not kept from start-up: an
    organization another process adds is in the next review and Done."""
    other = SQLStore(f"sqlite:///{tmp_path / 'webapp.db'}")
    try:
        other.add_organizations([Organization("es-sev", "Sevilla", "es")])
    finally:
        other.close()
    page = upload(admin, f"{HEADER}\nAna,Ruiz,ana.ruiz@acme.example,es-sev,,,\n")
    assert [] == codes(page)
    assert {"created": 1, "updated": 0, "skipped": 0} == counts(done(admin, page).text)
    assert {"ana.ruiz@acme.example"} == emails(app, "es-sev")


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
    preview = prepare(
        upload_, actor=Actor("root"), orgs=state.store.org_tree(), store=state.store
    )
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
    monkeypatch.setattr(review_pages, "commit", refuse)
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

    monkeypatch.setattr(users_pages, "commit", refuse)
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
        orgs=state.store.org_tree(),
        store=state.store,
    )
    assert all(row.action is Action.CREATE for row in preview.rows)
    commit(preview, actor=root, orgs=state.store.org_tree(), store=state.store)
    manager = sign_in(client, "spain-manager")
    page = manager.get("/users").text
    assert sorted(re.findall(r'data-email="([^"]+)"', page)) == [
        "jose.nunez@acme.example",
        "oyvind.muller@acme.example",
    ]
    assert ">Spain / Madrid<" in page


# -- fixing it in the review ------------------------------------------------------


def inputs(page: str) -> dict[str, str]:
    """The review's editable cells: each input's name (``e.<row>.<column>``) and
    value as shown."""
    return {
        name: html.unescape(value)
        for name, value in re.findall(
            r'<input name="(e\.\d+\.\w+)" value="([^"]*)"', page
        )
    }


def check(
    admin: Admin,
    page: str,
    edits: Mapping[str, str] | None = None,
    drop: list[str] | None = None,
    url: str = "/import/check",
    **form: str,
) -> TestResponse:
    """Send the review form of ``page`` as a browser does when a button is pressed:
    every editable cell (changed by ``edits``), the rows ticked to be left out (as
    on the page, or ``drop``), and the sealed review and upload."""
    ticked = re.findall(r'name="drop" value="(\d+)"[^>]*checked', page)
    fields: dict[str, object] = {
        "review": review_of(page),
        "changes": "1",
        **inputs(page),
        **(edits or {}),
        "drop": ticked if drop is None else drop,
        **form,
    }
    if 'name="upload"' in page:
        fields["upload"] = upload_of(page)
    return admin.post(url, fields)


TWO_WRONG = (
    f"{HEADER}\nAna,Ruiz,ana@acme.example,,,,\nBo,Ng,bo@,,,,\nCy,Lee,cy@acme.example,"
    "Atlantis,,,\n"
)


def test_only_invalid_cells_are_editable(admin: Admin) -> None:
    """The review offers an input for each cell with an error, holding the value
    as uploaded, and for no other cell; every row has a box to leave it out."""
    page = upload(admin, TWO_WRONG)
    assert {"e.3.email": "bo@", "e.4.organization": "Atlantis"} == inputs(page)
    assert ["2", "3", "4"] == re.findall(r'name="drop" value="(\d+)"', page)
    assert 'aria-label="Row 3: Email"' in page


def test_check_again_applies_the_edits_and_done_imports_them(
    app: Flask, admin: Admin
) -> None:
    """Check again reviews the edited cells again (``revise``), says which rows
    changed, and carries the fixed review sealed; Done then imports it."""
    page = upload(admin, TWO_WRONG)
    edits = {"e.3.email": "bo@acme.example", "e.4.organization": "Madrid"}
    response = check(admin, page, edits)
    assert 200 == response.status_code
    assert "Checked again: rows 3 and 4 changed. No row has errors now." in (
        html.unescape(response.text)
    )
    assert {} == inputs(response.text)
    preview = unseal(review_of(response.text), "tests", max_age=60)
    assert ["bo@acme.example", "es-mad"] == [
        preview.rows[1].values["email"],
        preview.rows[2].user.organization if preview.rows[2].user else None,
    ]
    assert 200 == done(admin, response.text).status_code
    assert {"ana@acme.example", "bo@acme.example"} == emails(app, "root")
    assert {"cy@acme.example"} == emails(app, "es-mad")


def test_check_again_says_what_is_still_wrong(admin: Admin) -> None:
    """An edit that is still wrong stays editable with the library's new reason;
    the rows not edited are not said to have changed."""
    page = upload(admin, TWO_WRONG)
    response = check(admin, page, {"e.3.email": "bo@acme"})
    text = html.unescape(response.text)
    assert "Checked again: nothing changed. 2 rows still have errors." not in text
    assert "2 rows still have errors." in text
    assert "bo@acme" == inputs(response.text)["e.3.email"]
    assert ("email", "invalid_email") in issues(response.text)


def test_an_edit_is_validated_like_an_upload(admin: Admin) -> None:
    """An edited cell meets the upload's rules: a formula-like name, a hidden
    character and an email already in the file are errors, and nothing of them
    reaches the store."""
    page = upload(admin, TWO_WRONG)
    response = check(
        admin,
        page,
        {
            "e.3.email": "ana@acme.example",
            "e.4.organization": "Madrid\u202e",
        },
    )
    found = set(issues(response.text))
    assert ("email", "duplicate_email") in found
    assert ("organization", "invalid_characters") in found
    formula = check(admin, response.text, {"e.3.email": "=cmd|' /C calc'!A0"})
    assert ("email", "invalid_email") in issues(formula.text)


def test_a_row_left_out_is_skipped_and_reported(app: Flask, admin: Admin) -> None:
    """A row left out is skipped (``left_out``) and counts in the filter; Done
    imports the others and offers the rows left out, the dropped one included, as
    the error report of the commit's result."""
    page = upload(admin, TWO_WRONG)
    response = check(admin, page, {"e.4.organization": "Madrid"}, drop=["3"])
    text = response.text
    assert re.search(r'<tr data-row="3" data-action="skip" data-codes="left_out"', text)
    assert 'name="drop" value="3" aria-label="Leave out row 3" checked' in text
    assert '<span data-filter-count="left_out">1</span>' in text
    assert not re.search(r'<button id="done"[^>]*\sdisabled', text)
    finished = done(admin, text, changes="1", drop="3")
    assert 200 == finished.status_code
    assert "1 row was left out." in finished.text
    assert {"ana@acme.example"} == emails(app, "root")
    report = admin.post("/import/report", {"review": review_of(finished.text)})
    lines = report.data.decode("utf-8-sig").splitlines()
    assert lines[2].startswith('"Bo","Ng","bo@",')
    assert "You left this row out" in lines[2]


def test_a_row_taken_back_is_reviewed_again(admin: Admin) -> None:
    """Unticking a row left out brings it back, reviewed again."""
    page = upload(admin, TWO_WRONG)
    dropped = check(admin, page, drop=["3"]).text
    back = check(admin, dropped, drop=[]).text
    assert re.search(r'<tr data-row="3" data-action="invalid"', back)
    assert "Checked again: row 3 changed." in back


def test_the_filter_counts_rows_per_problem(admin: Admin) -> None:
    """The filter offers every row, the rows with errors, and each problem with
    the number of rows that have it (``issue_counts``), each hiding the other rows
    by a rule of the page's own stylesheet; the choice survives Check again."""
    page = upload(
        admin,
        f"{HEADER}\nAna,Ruiz,ana@,,,,\nBo,Ng,bo@,,,,\nCy,Lee,cy@acme.example,Atlantis,,,\n"
        "Di,Ox,di@acme.example,,,,\n",
    )
    found = dict(re.findall(r'data-filter-count="(\w+)">(\d+)<', page))
    assert {
        "all": "4",
        "errors": "3",
        "invalid_email": "2",
        "unknown_organization": "1",
    } == found
    assert re.search(
        r"form:has\(#show-invalid_email:checked\) tbody "
        r"tr:not\(\[data-codes~=invalid_email\]\) \{ display: none; \}",
        page,
    )
    assert re.search(r'<tr data-row="5" data-action="create">', page)
    again = check(admin, page, show="invalid_email").text
    assert 'id="show-invalid_email" value="invalid_email" checked' in again


def test_done_with_changes_not_checked_checks_them_first(
    app: Flask, admin: Admin
) -> None:
    """Done pressed after editing a cell (or ticking a row) without Check again
    imports nothing: the changes are checked and the review shown again (409)."""
    page = upload(admin, TWO_WRONG)
    response = check(
        admin, page, {"e.3.email": "bo@acme.example"}, url="/import/commit"
    )
    assert 409 == response.status_code
    assert "Your changes were checked again and nothing was imported yet" in (
        html.unescape(response.text)
    )
    assert set() == emails(app, *EVERYWHERE)
    dropped = check(admin, page, drop=["3"], url="/import/commit", skip_invalid="1")
    assert 409 == dropped.status_code
    assert set() == emails(app, *EVERYWHERE)


@pytest.mark.parametrize(
    "field",
    [
        {"e.99.email": "x@acme.example"},  # a row the review does not have
        {"e.3.password": "x"},  # a column that does not exist
        {"e.three.email": "x"},  # not a row number
        {"drop": ["99"]},
        {"drop": ["two"]},
        {"e.3.email": "x" * 140_000},  # longer than a cell can be
    ],
)
def test_a_forged_change_is_refused_with_a_clear_page(
    app: Flask, admin: Admin, field: Mapping[str, object]
) -> None:
    """An edit is untrusted like the upload: a forged row number, column or value
    is refused (400) with a page that says nothing was changed, never a 500."""
    page = upload(admin, TWO_WRONG)
    fields = {"review": review_of(page), "changes": "1", **field}
    for url in ("/import/check", "/import/commit"):
        response = admin.post(url, fields)
        assert 400 == response.status_code
        assert "Nothing was changed" in refusal(response.text)
    assert set() == emails(app, *EVERYWHERE)


def test_another_administrators_review_cannot_be_checked(client: FlaskClient) -> None:
    """A review made for the root administrator, sent to Check again by the Spain
    manager, is refused (409) and says so."""
    root = sign_in(client)
    page = upload(root, TWO_WRONG)
    review = review_of(page)
    manager = sign_in(client, "spain-manager")
    response = manager.post(
        "/import/check",
        {"review": review, "changes": "1", "e.3.email": "bo@acme.example"},
    )
    assert 409 == response.status_code
    assert "made for another administrator" in refusal(response.text)
    forged = manager.post(
        "/import/columns", {"upload": upload_of(page), "column-0": "first_name"}
    )
    assert 409 == forged.status_code


def test_an_altered_kept_upload_is_refused(admin: Admin) -> None:
    """The upload a page keeps is signed: an altered or garbled one is refused."""
    page = upload(admin, "Name,Surname,Mail\nAna,Ruiz,ana@acme.example\n")
    kept = upload_of(page)
    for token in (kept[:-2] + ("AA" if kept[-2:] != "AA" else "BB"), "", "x.y.z"):
        response = admin.post("/import/columns", {"upload": token, "column-0": ""})
        assert 400 == response.status_code
        assert "The file kept in this page was altered" in refusal(response.text)


def test_done_says_why_it_is_off(admin: Admin) -> None:
    """A disabled Done is described by a sentence that says why and what to do."""
    page = upload(admin, TWO_WRONG)
    assert re.search(
        r'<button id="done"[^>]*disabled aria-describedby="done-why"', page
    )
    why = re.search(r'<p id="done-why"[^>]*>(.*?)</p>', page)
    assert why is not None
    assert "Done is off while 2 rows have errors" in why.group(1)
    fine = upload(admin, f"{HEADER}\nAna,Ruiz,ana@acme.example,,,,\n")
    assert 'id="done-why"' not in fine


# -- the column step ----------------------------------------------------------------


def test_a_missing_required_column_shows_the_column_step(
    app: Flask, admin: Admin
) -> None:
    """A header the library cannot match shows each cell as written with a few of
    its values and a select; the chosen columns review the file
    (``ImportOptions.columns``), and Done imports it with the server's options
    built again from the seal."""
    page = upload(
        admin,
        "Vorname,Nachname,Mail,Abteilung\nAna,Ruiz,ana@acme.example,Madrid\n"
        "Bo,Ng,bo@acme.example,Barcelona\n",
    )
    assert "Match the columns" in page
    assert {"missing_columns", "unknown_columns"} == set(codes(page))
    # "Mail" is one of the email column's names; the others are unknown.
    assert {"Vorname": "", "Nachname": "", "Mail": "email", "Abteilung": ""} == (
        column_choices(page)
    )
    samples = re.findall(r"<td class=\"muted\" data-samples>([^<]*)</td>", page)
    assert ["Ana · Bo", "Ruiz · Ng", "ana@acme.example · bo@acme.example"] == (
        samples[:3]
    )
    review = continue_columns(
        admin,
        page,
        Vorname="first_name",
        Nachname="last_name",
        Mail="email",
        Abteilung="organization",
    )
    assert "Review the file" in review.text
    preview = unseal(review_of(review.text), "tests", max_age=60)
    assert ["es-mad", "es-bcn"] == [
        row.user.organization for row in preview.rows if row.user is not None
    ]
    assert 200 == done(admin, review.text).status_code
    assert {"ana@acme.example"} == emails(app, "es-mad")


def test_the_column_step_again_while_a_column_is_missing(admin: Admin) -> None:
    """Choices that still leave a required column out, or give one twice, show
    the step again with the library's reason."""
    page = upload(admin, "Name,Surname,Mail\nAna,Ruiz,ana@acme.example\n")
    missing = continue_columns(
        admin, page, Name="first_name", Surname="last_name", Mail=""
    )
    assert "Match the columns" in missing.text
    assert ["missing_columns"] == codes(missing.text)
    twice = continue_columns(
        admin, page, Name="first_name", Surname="first_name", Mail="email"
    )
    assert "duplicate_columns" in codes(twice.text)
    assert {"Name": "first_name", "Surname": "first_name", "Mail": "email"} == (
        column_choices(twice.text)
    )


@pytest.mark.parametrize("value", ["password", "first_name;drop", None])
def test_a_forged_column_choice_is_refused(admin: Admin, value: str | None) -> None:
    """A choice that names no column, or a missing one, is refused (400)."""
    page = upload(admin, "Name,Surname,Mail\nAna,Ruiz,ana@acme.example\n")
    fields: dict[str, object] = {
        "upload": upload_of(page),
        "column-0": "first_name",
        "column-1": "last_name",
    }
    if value is not None:
        fields["column-2"] = value
    response = admin.post("/import/columns", fields)
    assert 400 == response.status_code
    assert "does not match the file" in refusal(response.text)


def test_missing_optional_columns_are_stated(admin: Admin) -> None:
    """A file without the optional columns says what that means: everyone goes
    into the administrator's own organization, with the default role."""
    page = upload(admin, "First name,Last name,Email\nAna,Ruiz,ana@acme.example\n")
    notes = dict(re.findall(r'<p class="note" data-missing="(\w+)">([^<]*)</p>', page))
    assert (
        "No Organization column: everyone goes into Acme Learning."
        == (notes["organization"])
    )
    assert "No Role column: everyone gets the role learner." == notes["role"]
    assert {"organization", "role", "groups", "language"} == set(notes)
    manager = sign_in(admin.client, "spain-manager")
    page = upload(manager, "First name,Last name,Email\nAna,Ruiz,ana@acme.example\n")
    assert "everyone goes into Spain." in page


# -- languages ----------------------------------------------------------------------


def test_the_pages_follow_the_browsers_language(app: Flask, admin: Admin) -> None:
    """A browser that prefers Spanish gets the pages and the library's messages in
    Spanish; one that prefers another language gets English."""
    data = {"file": (io.BytesIO(TWO_WRONG.encode()), "users.csv")}
    spanish = admin.client.post(
        "/import",
        data={"csrf_token": admin.csrf, **data},
        headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"},
    ).text
    assert '<html lang="es">' in spanish
    assert "Revisa el archivo" in spanish
    assert "Comprobar de nuevo" in spanish
    assert "No se encontró la organización “Atlantis”" in spanish
    preview = unseal(review_of(spanish), "tests", max_age=60)
    assert "es" == preview.locale
    german = admin.client.get("/import", headers={"Accept-Language": "de-DE"}).text
    assert '<html lang="en">' in german


def test_the_switch_keeps_the_language_for_the_next_pages(client: FlaskClient) -> None:
    """The switch, on any page, keeps the choice in the session (through signing
    in and out) and returns to the page; it never redirects to another site."""
    token = csrf_of(client.get("/sign-in").text)
    switched = client.post(
        "/language", data={"csrf_token": token, "language": "es", "next": "/sign-in"}
    )
    assert (303, "/sign-in") == (switched.status_code, switched.location)
    assert (
        "Iniciar sesión como Administrador de Acme Learning"
        in client.get("/sign-in").text
    )
    admin = sign_in_es(client)
    assert "Usuarios" in admin.get("/users").text
    for target in ("https://attacker.example/", "//attacker.example/", "/\\x"):
        away = admin.post("/language", {"language": "en", "next": target})
        assert "/users" == away.location
    assert "Users" in admin.get("/users").text


def sign_in_es(client: FlaskClient) -> Admin:
    """Sign in as the root administrator on the Spanish sign-in page."""
    token = csrf_of(client.get("/sign-in").text)
    response = client.post(
        "/sign-in", data={"admin": "root-admin", "csrf_token": token}
    )
    assert "/users" == response.location
    return Admin(client, csrf_of(client.get("/import").text))


def test_switching_language_in_the_review_keeps_the_edits(admin: Admin) -> None:
    """The review's switch reviews the kept upload again in the other language,
    with the cells edited so far and the rows left out: nothing is lost."""
    page = upload(admin, TWO_WRONG)
    fixed = check(admin, page, {"e.4.organization": "Madrid"}, drop=["2"]).text
    spanish = check(admin, fixed, {"e.3.email": "bo@acme"}, language="es").text
    assert '<html lang="es">' in spanish
    preview = unseal(review_of(spanish), "tests", max_age=60)
    assert "es" == preview.locale
    rows = {row.row: row for row in preview.rows}
    assert "bo@acme" == rows[3].values["email"]
    assert rows[4].user is not None
    assert "es-mad" == rows[4].user.organization
    assert "left_out" in {i.code.value for i in rows[2].issues}


def test_the_column_step_switches_language_in_place(admin: Admin) -> None:
    """The column step's switch shows the step again in the other language, with
    the choices made so far."""
    page = upload(admin, "Name,Surname,Mail\nAna,Ruiz,ana@acme.example\n")
    fields = {
        "upload": upload_of(page),
        "column-0": "first_name",
        "column-1": "",
        "column-2": "email",
        "language": "es",
    }
    spanish = admin.post("/import/columns", fields).text
    assert "Empareja las columnas" in spanish
    assert {"Name": "first_name", "Surname": "", "Mail": "email"} == (
        column_choices(spanish)
    )


def test_the_template_follows_the_pages_language(admin: Admin) -> None:
    """The first template link is in the pages' language, the switch's over the
    browser's, with the browser's region when it names one for that language."""
    admin.post("/language", {"language": "es", "next": "/import"})
    page = admin.client.get("/import", headers={"Accept-Language": "en-US"}).text
    first = re.search(r'data-language="([^"]+)"', page)
    assert first is not None
    assert "es" == first.group(1)
    mexico = admin.client.get("/import", headers={"Accept-Language": "es-MX"}).text
    first = re.search(r'data-language="([^"]+)"', mexico)
    assert first is not None
    assert "es-MX" == first.group(1)


def catalog_of(path: Path) -> dict[tuple[str | None, object], object]:
    """A ``.po`` catalog: each message (its context and id) with its translation."""
    from babel.messages.pofile import read_po

    with path.open("rb") as file:
        return {(m.context, m.id): m.string for m in read_po(file) if m.id}


TRANSLATIONS = EXAMPLES / "webapp" / "translations"
SPANISH = TRANSLATIONS / "es" / "LC_MESSAGES"


def test_every_word_of_the_pages_is_in_the_catalog() -> None:
    """The catalog holds exactly the words that the pages and the modules say (as
    pybabel extracts them with babel.cfg's mapping), so a new word without a
    translation fails here."""
    from babel.messages.extract import extract_from_dir

    found = extract_from_dir(
        str(EXAMPLES / "webapp"),
        method_map=[("*.py", "python"), ("templates/**.html", "jinja2")],
        keywords={
            "_": None,
            "gettext": None,
            "ngettext": (1, 2),
            "lazy_gettext": None,
            "lazy_pgettext": ((1, "c"), 2),
        },
    )
    extracted = {(context, text) for _, _, text, _, context in found}
    assert extracted == set(catalog_of(SPANISH / "messages.po"))


def test_every_row_problem_has_a_name_in_the_filter() -> None:
    """Each issue code a row can have is named in the review's filter (the
    file-level ones are said above the table, never counted per row)."""
    file_level = FILE_ERROR_CODES | {
        IssueCode.ENCODING_GUESSED,
        IssueCode.UNKNOWN_COLUMNS,
    }
    assert set(IssueCode) - file_level == set(plumbing.ISSUE_TITLES)


def test_every_word_is_translated_with_its_placeholders() -> None:
    """No translation is empty or fuzzy, and none lost or invented a placeholder."""
    pattern = re.compile(r"%\(\w+\)[sd]")
    for (_, english), spanish in catalog_of(SPANISH / "messages.po").items():
        sources = english if isinstance(english, tuple) else (english,)
        targets = spanish if isinstance(spanish, tuple) else (spanish,)
        assert all(targets), english
        wanted = set(pattern.findall(" ".join(sources)))
        for target in targets:
            assert isinstance(target, str)
            assert set(pattern.findall(target)) <= wanted, english
            assert set(pattern.findall(target)) >= wanted - {"%(num)d"}, english


def test_the_compiled_catalog_says_what_the_source_says() -> None:
    """``messages.mo`` is ``messages.po`` compiled: pybabel compile was run."""
    import gettext

    with (SPANISH / "messages.mo").open("rb") as file:
        compiled = gettext.GNUTranslations(file)
    for (context, english), spanish in catalog_of(SPANISH / "messages.po").items():
        if context is not None:
            assert isinstance(english, str)
            assert spanish == compiled.pgettext(context, english)
        elif isinstance(english, tuple):
            assert isinstance(spanish, tuple)
            assert spanish[0] == compiled.ngettext(english[0], english[1], 1)
            assert spanish[-1] == compiled.ngettext(english[0], english[1], 5)
        else:
            assert isinstance(english, str)
            assert spanish == compiled.gettext(english)


# -- page weight ----------------------------------------------------------------------


def test_a_200_row_review_stays_light(admin: Admin) -> None:
    """The review of a 200-row file, a quarter of its rows invalid, stays under
    200 KB of HTML (its sealed review and kept upload included)."""
    lines = [HEADER]
    for n in range(200):
        if n % 4 == 0:
            lines.append(f"Name{n},Last{n},bad{n}@,Nowhere,boss,Sales,xx")
        else:
            lines.append(f"Name{n},Last{n},user{n}@acme.example,Madrid,,Sales,es")
    page = upload(admin, "\n".join(lines) + "\n")
    assert 'data-count="total">200<' in page
    assert len(page.encode("utf-8")) < 200_000


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
    tree = webapp.state(app).store.org_tree()
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
