"""The example web frontend's routes through Flask's test client: the branches a
browser test would be slow to reach (refused, tampered or garbled requests)."""

from __future__ import annotations

import html
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import attrs
import pytest

from webapp.support import EXAMPLES, require_module

require_module("flask")

import app as webapp  # noqa: E402
from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from userimport import (  # noqa: E402
    Action,
    Actor,
    CommitConflict,
    Organization,
    Preview,
    Role,
    UserRow,
    UserWrite,
    commit,
    converter,
    prepare,
    template,
)
from userimport.sql import SQLStore  # noqa: E402

HEADER = "first_name,last_name,email,organization,role,groups,language"


def upload(client: FlaskClient, text: str, **form: str) -> str:
    """POST step 1 with ``text`` as the file; the review page's HTML."""
    data = {"file": (io.BytesIO(text.encode()), "users.csv"), **form}
    response = client.post("/import", data=data, content_type="multipart/form-data")
    assert 200 == response.status_code
    return response.text


def preview_of(page: str) -> str:
    """The preview JSON that a review page carries in its hidden field."""
    found = re.search(r'name="preview" value="([^"]*)"', page)
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


def emails(app: Flask, *org_ids: str) -> set[str]:
    """The emails stored in these organizations."""
    return {u.email for u in webapp.state(app).store.list_users(set(org_ids))}


def act_as(client: FlaskClient, key: str) -> None:
    """Choose the demo's acting administrator."""
    assert 302 == client.post("/actor", data={"admin": key}).status_code


def test_home_redirects_to_users(client: FlaskClient) -> None:
    """``/`` is the Users page."""
    response = client.get("/")
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


def test_unknown_admin_is_ignored(client: FlaskClient) -> None:
    """A forged administrator key leaves the session's choice as it was."""
    act_as(client, "spain-manager")
    act_as(client, "nobody")
    page = client.get("/users").text
    assert 'value="spain-manager" selected' in page


def test_pages_send_a_content_security_policy(client: FlaskClient) -> None:
    """Every page forbids scripts and styles but its own (a per-request nonce)."""
    first = client.get("/import").headers["Content-Security-Policy"]
    second = client.get("/import").headers["Content-Security-Policy"]
    assert "default-src 'none'" in first
    assert first != second


@pytest.mark.parametrize("language", ["en", "es"])
def test_template_download(client: FlaskClient, language: str) -> None:
    """The template links serve ``template(language)`` as an attachment."""
    response = client.get(f"/import/template/{language}")
    assert template(language) == response.data
    assert "attachment" in response.headers["Content-Disposition"]


def test_template_in_an_unknown_language_is_not_found(client: FlaskClient) -> None:
    """An unsupported language is a 404 with the library's message."""
    response = client.get("/import/template/fr")
    assert 404 == response.status_code
    assert "choose one of 'en', 'es'" in response.text


def test_next_without_a_file_shows_the_librarys_issue(client: FlaskClient) -> None:
    """Next with no file reviews an empty upload: ``empty_file``, no Done."""
    response = client.post("/import", data={}, content_type="multipart/form-data")
    assert ["empty_file"] == codes(response.text)
    assert re.search(r'id="done" type="submit"\s+disabled', response.text)


def test_an_upload_above_the_request_limit_is_refused(
    app: Flask, client: FlaskClient
) -> None:
    """A request larger than the server accepts gets step 1 again with a message."""
    app.config["MAX_CONTENT_LENGTH"] = 1000
    data = {"file": (io.BytesIO(b"x" * 2000), "big.csv")}
    response = client.post("/import", data=data, content_type="multipart/form-data")
    assert 413 == response.status_code
    assert "nothing was read" in response.text


def test_review_and_done(app: Flask, client: FlaskClient) -> None:
    """Review then Done (through the hidden preview) creates the users; Done
    redirects to the counts."""
    page = upload(client, f"{HEADER}\nAna,Ruiz,ana.ruiz@acme.example,es-mad,,,\n")
    response = client.post("/import/commit", data={"preview": preview_of(page)})
    assert (302, "/import/done") == (response.status_code, response.location)
    done = client.get("/import/done").text
    assert 'data-count="created">1<' in done
    assert {"ana.ruiz@acme.example"} == emails(app, "es-mad")


def test_review_says_how_the_header_was_read(client: FlaskClient) -> None:
    """The review names the header cells it read (with their column when written
    otherwise) and those it ignored, with the library's warning."""
    page = upload(
        client, "Nombre,Apellidos,E-mail,Notes\nAna,Ruiz,ana@acme.example,x\n"
    )
    read = "Nombre (First name), Apellidos (Last name), E-mail (Email)"
    assert (
        f'<span id="columns">{read}</span>; ignored: <span id="ignored">Notes' in page
    )
    assert ["unknown_columns"] == codes(page)


def test_update_mode_shows_the_changes(app: Flask, client: FlaskClient) -> None:
    """Under "update them", a changed user's row shows each field's old and new
    value (organizations as paths, no groups as "(empty)"), and Done updates it;
    an empty cell keeps the stored value."""
    first = upload(client, f"{HEADER}\nAna,Ruiz,ana@acme.example,es-mad,,,es\n")
    client.post("/import/commit", data={"preview": preview_of(first)})
    page = upload(
        client,
        f"{HEADER}\nAna,Ruiz,ana@acme.example,es-bcn,,Sales,\n",
        on_existing="update",
    )
    assert ["email_exists"] == codes(page)
    old, new = "Acme Learning / Spain / Madrid", "Acme Learning / Spain / Barcelona"
    assert f"Organization: {old} → {new}" in page
    assert "Groups: (empty) → Sales" in page
    client.post("/import/commit", data={"preview": preview_of(page)})
    (user,) = webapp.state(app).store.list_users({"es-bcn"})
    assert (("Sales",), "es") == (user.groups, user.language)


def test_done_without_an_import_goes_to_step_one(client: FlaskClient) -> None:
    """The Done page without a commit in the session sends to step 1."""
    assert "/import" == client.get("/import/done").location


@pytest.mark.parametrize("posted", ["", "{", "null", '{"rows": 5}', "[" * 10_000])
def test_an_unreadable_preview_is_refused(
    app: Flask, client: FlaskClient, posted: str
) -> None:
    """Done and the error report refuse a preview that does not parse (400)."""
    for url in ("/import/commit", "/import/report"):
        response = client.post(url, data={"preview": posted})
        assert 400 == response.status_code
        assert "could not be read back" in response.text


def test_a_preview_above_the_row_limit_is_refused(client: FlaskClient) -> None:
    """A preview with more rows than the limit is refused before any review."""
    page = upload(client, f"{HEADER}\nAna,Ruiz,ana@acme.example,,,,\n")
    preview = converter.loads(preview_of(page), Preview)
    bigger = attrs.evolve(preview, rows=preview.rows * 201)
    response = client.post("/import/commit", data={"preview": converter.dumps(bigger)})
    assert 400 == response.status_code


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(posted=st.text(max_size=200))
def test_no_posted_text_breaks_done(client: FlaskClient, posted: str) -> None:
    """Whatever text comes back as the preview, Done answers without a server
    error and writes nothing."""
    response = client.post("/import/commit", data={"preview": posted})
    assert response.status_code in (302, 400, 409)


def test_a_tampered_preview_cannot_import_into_a_sibling_country(
    app: Flask, client: FlaskClient
) -> None:
    """The Spain manager edits the hidden preview so a row goes to Mexico: commit
    reviews the row again, finds it outside Spain and refuses; nothing is
    written."""
    act_as(client, "spain-manager")
    page = upload(client, f"{HEADER}\nAna,Ruiz,ana@acme.example,Madrid,,,\n")
    preview = converter.loads(preview_of(page), Preview)
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
    response = client.post(
        "/import/commit", data={"preview": converter.dumps(tampered)}
    )
    assert 409 == response.status_code
    assert "Nothing was imported." in response.text
    assert set() == emails(app, "root", "es", "es-mad", "mx", "mx-cdmx")


def test_a_store_changed_since_the_review_is_a_conflict(
    app: Flask, client: FlaskClient
) -> None:
    """Someone creates the same email between review and Done: CommitConflict is
    shown on the review page, and nothing of the file is written."""
    page = upload(
        client,
        f"{HEADER}\nAna,Ruiz,ana@acme.example,,,,\nBo,Berg,bo@acme.example,,,,\n",
    )
    store = webapp.state(app).store
    store.apply([UserWrite(UserRow("Other", "Ana", "ana@acme.example", "us"), None)])
    response = client.post("/import/commit", data={"preview": preview_of(page)})
    assert 409 == response.status_code
    assert "would not be imported as reviewed" in html.unescape(response.text)
    assert {"ana@acme.example"} == emails(app, "root", "us")


def test_error_report_of_a_review(client: FlaskClient) -> None:
    """The report button sends back the library's error report of the preview."""
    page = upload(client, f"{HEADER}\nAna,,ana@acme.example,,,,\n")
    response = client.post("/import/report", data={"preview": preview_of(page)})
    assert "attachment" in response.headers["Content-Disposition"]
    assert "The last name is required" in response.data.decode("utf-8-sig")


def test_new_user_form(client: FlaskClient) -> None:
    """The form offers the roles the administrator may give."""
    act_as(client, "spain-manager")
    page = client.get("/users/new").text
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
    act_as(client, "spain-manager")
    values = {
        "first_name": "",
        "last_name": "Ruiz",
        "email": "ana@",
        "role": "admin",
    }
    page = client.post("/users/new", data=values).text
    assert [("first_name", "missing_value"), ("email", "invalid_email")] == issues(page)
    values = {"first_name": "Ana", "last_name": "Ruiz", "email": "ana@acme.example"}
    page = client.post("/users/new", data={**values, "role": "admin"}).text
    assert [("role", "role_not_allowed")] == issues(page)
    assert set() == emails(app, "es")


def test_new_user_with_an_existing_email_or_the_example_row(
    app: Flask, client: FlaskClient
) -> None:
    """The form creates, never updates: an existing email is an error, and the
    template's example user is skipped with the library's warning."""
    values = {"first_name": "Ana", "last_name": "Ruiz", "email": "ana@acme.example"}
    assert 302 == client.post("/users/new", data=values).status_code
    assert ["email_exists"] == codes(client.post("/users/new", data=values).text)
    example = {
        "first_name": "Ana",
        "last_name": "García",
        "email": "ana.garcia@example.com",
    }
    assert ["example_row"] == codes(client.post("/users/new", data=example).text)
    assert {"ana@acme.example"} == emails(app, "root")


def test_new_user_created(app: Flask, client: FlaskClient) -> None:
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
    response = client.post("/users/new", data=values, follow_redirects=True)
    assert "Created Ana Ruiz." in response.text
    (user,) = webapp.state(app).store.list_users({"es-mad"})
    assert (Role.MANAGER, ("Ventas",)) == (user.role, user.groups)


def test_new_user_commit_refused(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the commit after the form is refused (the store changed in between),
    its message is shown and the form kept."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise CommitConflict("The users changed since the review.", rows=())

    monkeypatch.setattr(webapp, "commit", refuse)
    values = {"first_name": "Ana", "last_name": "Ruiz", "email": "ana@acme.example"}
    page = client.post("/users/new", data=values).text
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
    act_as(client, "spain-manager")
    page = client.get("/users").text
    assert sorted(re.findall(r'data-email="([^"]+)"', page)) == [
        "jose.nunez@acme.example",
        "oyvind.muller@acme.example",
    ]
    assert ">Spain / Madrid<" in page
