"""The example web frontend in a real browser (headless Chromium), as a person uses it:
sign in, choose or drop a file, review it, Done, and look at the Users page; and as
an attacker would try it: another site's form, an edited hidden review.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import openpyxl
import pytest

from webapp.support import EXAMPLES, PageLog, require_module

require_module("flask")
require_module("flask_wtf")
require_module("playwright")

from flask import Flask  # noqa: E402
from playwright.sync_api import Browser, Locator, Page, Route, expect  # noqa: E402

import app as webapp  # noqa: E402
import review_pages  # noqa: E402
from userimport import (  # noqa: E402
    Actor,
    Role,
    UserRow,
    UserWrite,
    commit,
    error_report,
    prepare,
    template,
)

#: Where the screenshot of the review step is copied for people to look at
#: (git-ignored); the test's own tmp_path keeps one too.
ARTIFACTS = Path(__file__).parent / "_artifacts"

HEADER = "First name,Last name,Email,Organization,Role,Groups,Language"

#: The six users of examples/users.csv (cp1252, ``;``) and where they land.
EXAMPLE_USERS = {
    "jose.nunez@acme.example": "Acme Learning / Spain / Madrid",
    "oyvind.muller@acme.example": "Acme Learning / Spain / Barcelona",
    "carmen.ruiz@acme.example": "Acme Learning / Mexico / Ciudad de México",
    "grace@acme.example": "Acme Learning / United States / New York",
    "Alan.Turing@acme.example": "Acme Learning / United States / Sales",
    "lucia.fernandez@acme.example": "Acme Learning",
}

#: Drops a file on the drop zone the way a browser does: dragenter, dragover and
#: drop events carrying a DataTransfer that holds the file.
DROP = """([selector, name, bytes]) => {
  const transfer = new DataTransfer();
  transfer.items.add(new File([new Uint8Array(bytes)], name, {type: "text/csv"}));
  const zone = document.querySelector(selector);
  for (const type of ["dragenter", "dragover", "drop"]) {
    zone.dispatchEvent(new DragEvent(type, {
      bubbles: true, cancelable: true, dataTransfer: transfer,
    }));
  }
}"""


def csv_file(folder: Path, name: str, *rows: str) -> Path:
    """A UTF-8 CSV with the English template header, written into ``folder``."""
    path = folder / name
    path.write_text("\r\n".join([HEADER, *rows]) + "\r\n", encoding="utf-8")
    return path


def choose_file(page: Page, path: Path) -> None:
    """Step 1 through the file chooser that the drop zone's label opens; Next."""
    page.goto("/import")
    with page.expect_file_chooser() as chooser:
        page.get_by_text("choose a file").click()
    chooser.value.set_files(path)
    expect(page.locator("#chosen")).to_have_text(f"Chosen: {path.name}")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Review the file")).to_be_visible()


def drop_file(
    page: Page, name: str, data: bytes, heading: str = "Review the file"
) -> None:
    """Step 1 by dragging a file onto the drop zone; Next (in English, or in the
    page's language when ``heading`` is given in it)."""
    page.goto("/import")
    page.evaluate(DROP, ["#dropzone", name, list(data)])
    expect(page.locator("#chosen")).to_contain_text(name)
    page.locator('#upload button[type="submit"]').click()
    expect(page.get_by_role("heading", name=heading)).to_be_visible()


def review_row(page: Page, row: int) -> Locator:
    """The review table's row for spreadsheet row ``row``."""
    return page.locator(f'#review tr[data-row="{row}"]')


def cell(page: Page, row: int, column: str) -> Locator:
    """The review's cell of ``column`` on spreadsheet row ``row``."""
    return review_row(page, row).locator(f'td[data-column="{column}"]')


def issue_codes(locator: Locator) -> list[str]:
    """The issue codes shown inside ``locator``, in page order."""
    return list(
        locator.locator(".issue[data-code]").evaluate_all(
            "nodes => nodes.map(node => node.dataset.code)"
        )
    )


def counts(page: Page) -> dict[str, int]:
    """The numbers the page shows in its ``data-count`` elements, by name."""
    found: dict[str, str] = page.locator("[data-count]").evaluate_all(
        "nodes => Object.fromEntries(nodes.map(n => [n.dataset.count, n.textContent]))"
    )
    return {name: int(text) for name, text in found.items()}


def users_on_page(page: Page) -> dict[str, str]:
    """The Users page: each email with the organization path shown for it."""
    page.goto("/users")
    rows = page.locator("#users tbody tr")
    found: dict[str, str] = {}
    for index in range(rows.count()):
        row = rows.nth(index)
        email = row.locator('td[data-column="email"]').inner_text()
        found[email] = row.locator('td[data-column="organization"]').inner_text()
    return found


ROOT_ADMIN = "Administrator of Acme Learning"
SPAIN_MANAGER = "Manager of Spain"


#: The demo's administrators' keys, by their English label.
ADMIN_KEYS = {ROOT_ADMIN: "root-admin", SPAIN_MANAGER: "spain-manager"}


def sign_in(page: Page, label: str = ROOT_ADMIN) -> None:
    """Sign in on the demo's sign-in page (it stands in for a login); in English
    unless the browser asks for Spanish, whose pages say the same in Spanish."""
    page.goto("/sign-in")
    if page.locator("html").get_attribute("lang") == "es":
        page.locator(f'button[name="admin"][value="{ADMIN_KEYS[label]}"]').click()
        expect(page.get_by_role("heading", name="Usuarios", exact=True)).to_be_visible()
        expect(page.locator("#signed-in")).to_contain_text("Sesión iniciada como")
        return
    page.get_by_role("button", name=f"Sign in as {label}").click()
    expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    expect(page.locator("#signed-in")).to_have_text(f"Signed in as {label}")


def seed(app: Flask, data: bytes, actor: Actor) -> None:
    """Import ``data`` with the library itself (a faster set-up than the browser)."""
    state = webapp.state(app)
    preview = prepare(data, actor=actor, orgs=state.store.org_tree(), store=state.store)
    commit(preview, actor=actor, orgs=state.store.org_tree(), store=state.store)


def emails_in(app: Flask, org_ids: Iterable[str]) -> set[str]:
    """The emails the database holds in these organizations."""
    return {user.email for user in webapp.state(app).store.list_users(set(org_ids))}


def test_file_chooser_review_done_and_users(page: Page) -> None:
    """A Windows Excel export (cp1252, ``;``) chosen with the file chooser is
    reviewed (encoding, delimiter, one row per user with its Excel row number),
    Done creates the users, and the Users page lists them with their paths."""
    sign_in(page)
    expect(page.locator("#no-users")).to_be_visible()
    expect(page.get_by_text("stands in for a real login")).to_be_visible()
    page.get_by_role("link", name="+ Import Users").first.click()
    expect(page.get_by_text("Limit: 200 users per file.")).to_be_visible()

    choose_file(page, EXAMPLES / "users.csv")

    expect(page.locator("#encoding")).to_have_text("cp1252")
    expect(page.locator("#delimiter")).to_have_text("semicolon (;)")
    # The names read in cp1252 only: no other reading was close, so no warning.
    expect(page.locator('.file-issue[data-code="encoding_guessed"]')).to_have_count(0)
    assert {"total": 6, "create": 6, "update": 0, "skip": 0, "invalid": 0} == counts(
        page
    )
    assert ["2", "3", "4", "5", "6", "7"] == page.locator(
        "#review tbody th"
    ).all_inner_texts()
    expect(cell(page, 3, "first_name")).to_have_text("Øyvind")
    expect(cell(page, 2, "groups")).to_have_text("Ventas; Onboarding")
    expect(review_row(page, 2).locator(".badge")).to_have_text("create")

    page.get_by_role("button", name="Done").click()
    expect(page.get_by_role("heading", name="Import done")).to_be_visible()
    assert {"created": 6, "updated": 0, "skipped": 0} == counts(page)
    expect(page.get_by_text("What would you like to do next?")).to_be_visible()
    page.get_by_role("link", name="Back to Users").click()

    assert EXAMPLE_USERS == users_on_page(page)


def test_drag_and_drop_review_done_and_users(page: Page) -> None:
    """A file dropped on the drop zone lands in the file input and is uploaded like
    a chosen one; the file chooser also opens from the keyboard."""
    sign_in(page)
    page.goto("/import")
    # The last template link, the Spanish workbook's, comes before the drop zone.
    page.locator('a[data-workbook="es"]').focus()
    page.keyboard.press("Tab")
    expect(
        page.get_by_label("Drop a CSV file or an Excel workbook here, or choose a file")
    ).to_be_focused()
    with page.expect_file_chooser():
        page.keyboard.press("Enter")

    data = "\r\n".join(
        [
            HEADER,
            "Marta,Soler,marta.soler@acme.example,Spain / Madrid,instructor,Ventas,es",
            "Ken,Sato,ken.sato@acme.example,us-ny,,,ja",
        ]
    ).encode()
    drop_file(page, "dropped.csv", data)

    expect(page.locator("#encoding")).to_have_text("utf-8")
    expect(page.locator("#delimiter")).to_have_text("comma (,)")
    assert {"total": 2, "create": 2, "update": 0, "skip": 0, "invalid": 0} == counts(
        page
    )
    page.get_by_role("button", name="Done").click()
    assert {"created": 2, "updated": 0, "skipped": 0} == counts(page)

    assert {
        "marta.soler@acme.example": "Acme Learning / Spain / Madrid",
        "ken.sato@acme.example": "Acme Learning / United States / New York",
    } == users_on_page(page)


def test_errors_on_their_rows_and_cells(page: Page, app: Flask, tmp_path: Path) -> None:
    """Each issue is shown in the cell it concerns, on the row Excel shows (a blank
    line counts); Done is refused while rows are invalid, even when forced; the
    offered import of the valid rows says how many users it writes (skipped rows
    are not counted) and imports exactly those; Done then offers the rows left
    out, with their errors, as a file."""
    sign_in(page)
    seed(
        app,
        f"{HEADER}\r\nGrace,Hopper,grace@acme.example,New York,,,\r\n".encode(),
        Actor("root"),
    )
    path = csv_file(
        tmp_path,
        "with-errors.csv",
        "Ana,García,ana.garcia@example.com,,learner,Sales; Onboarding,es",
        "Marta,Soler,marta.soler@acme.example,Spain / Madrid,instructor,Ventas,es",
        "",
        "Grace,Hopper,grace@acme.example,New York,,,",
        "Bob,,bob@acme,,learner,,en",
        "Eve,Adams,eve@acme.example,Atlantis,manager,,en",
        "Ada,Lovelace,MARTA.SOLER@acme.example,Sales,,,",
    )
    choose_file(page, path)

    assert {"total": 6, "create": 1, "update": 0, "skip": 2, "invalid": 3} == counts(
        page
    )
    assert ["2", "3", "5", "6", "7", "8"] == page.locator(
        "#review tbody th"
    ).all_inner_texts()
    assert ["example_row"] == issue_codes(cell(page, 2, "action"))
    assert [] == issue_codes(review_row(page, 3))
    assert ["email_exists"] == issue_codes(cell(page, 5, "email"))
    assert ["missing_value"] == issue_codes(cell(page, 6, "last_name"))
    assert ["invalid_email"] == issue_codes(cell(page, 6, "email"))
    assert ["unknown_organization"] == issue_codes(cell(page, 7, "organization"))
    assert ["duplicate_email"] == issue_codes(cell(page, 8, "email"))
    assert ["ambiguous_organization"] == issue_codes(cell(page, 8, "organization"))
    expect(cell(page, 8, "email").locator(".issue")).to_contain_text("row 3")
    expect(cell(page, 7, "organization")).to_contain_text("Atlantis")
    for row, action in [(2, "skip"), (3, "create"), (5, "skip"), (6, "invalid")]:
        expect(review_row(page, row)).to_have_attribute("data-action", action)

    screenshot = tmp_path / "review.png"
    page.screenshot(path=screenshot, full_page=True)
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copyfile(screenshot, ARTIFACTS / "review.png")

    done = page.get_by_role("button", name="Done", exact=True)
    expect(done).to_be_disabled()
    # Forced anyway (the button enabled by hand): the server refuses, writes nothing.
    done.evaluate("button => { button.disabled = false; }")
    done.click()
    expect(page.locator("#message")).to_have_text(
        "Nothing was imported. Rows 6, 7 and 8 have errors; fix them, or import "
        "only the valid rows."
    )
    assert {"grace@acme.example"} == emails_in(app, ["us-ny", "es-mad"])

    page.get_by_role("button", name="Import 1 user, leave out 3 invalid rows").click()
    assert {"created": 1, "updated": 0, "skipped": 2, "invalid": 3} == counts(page)
    expect(page.locator("#counts")).to_contain_text("3 invalid rows left out")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download them with their errors").click()
    report = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
    assert ["Bob", "Eve", "Ada"] == [
        line.split(",")[0].strip('"') for line in report.splitlines()[5:8]
    ]
    assert "" == "".join(report.splitlines()[1:5])  # rows 2 to 5 were not left out
    assert {"grace@acme.example", "marta.soler@acme.example"} == set(
        users_on_page(page)
    )


def test_country_manager_sees_and_imports_only_its_country(
    page: Page, app: Flask, tmp_path: Path
) -> None:
    """The Spain manager's Users page holds Spain's users only, with paths from
    Spain; rows for Mexico (a sibling country) are refused exactly like an
    organization that does not exist, and an email held in Mexico is refused
    without naming Mexico."""
    seed(app, (EXAMPLES / "users.csv").read_bytes(), Actor("root"))
    sign_in(page, SPAIN_MANAGER)

    assert {
        "jose.nunez@acme.example": "Spain / Madrid",
        "oyvind.muller@acme.example": "Spain / Barcelona",
    } == users_on_page(page)

    path = csv_file(
        tmp_path,
        "spain.csv",
        "Pilar,Gómez,pilar.gomez@acme.example,Madrid,,,es",
        "Diego,Luna,diego.luna@acme.example,Mexico,,,es",
        "Rosa,Díaz,rosa.diaz@acme.example,mx-cdmx,,,es",
        "Ivan,Nadie,ivan.nadie@acme.example,Atlantis,,,es",
        "Carmen,Ruiz López,carmen.ruiz@acme.example,,,,es",
        "Olga,Mayor,olga.mayor@acme.example,Barcelona,admin,,es",
    )
    choose_file(page, path)

    assert [] == issue_codes(review_row(page, 2))
    for row in (3, 4, 5):
        assert ["unknown_organization"] == issue_codes(cell(page, row, "organization"))
    mexico = cell(page, 3, "organization").locator(".issue").inner_text()
    atlantis = cell(page, 5, "organization").locator(".issue").inner_text()
    assert atlantis.replace("Atlantis", "Mexico") == mexico
    assert ["email_taken"] == issue_codes(cell(page, 6, "email"))
    expect(cell(page, 6, "email").locator(".issue")).not_to_contain_text("Mexico")
    assert ["role_not_allowed"] == issue_codes(cell(page, 7, "role"))

    page.get_by_role("button", name="Import 1 user, leave out 5 invalid rows").click()
    assert {"created": 1, "updated": 0, "skipped": 0, "invalid": 5} == counts(page)
    assert "pilar.gomez@acme.example" in users_on_page(page)
    assert {"carmen.ruiz@acme.example"} == emails_in(app, ["mx", "mx-cdmx"])


def test_a_review_made_for_mexico_cannot_be_committed_by_the_spain_manager(
    page: Page, app: Flask, tmp_path: Path
) -> None:
    """A review the root administrator made for Mexico cannot be committed once
    the browser is signed in as the Spain manager: the old tab's form is refused
    (its CSRF token belonged to the previous session), and the review itself,
    pasted into the manager's own review page, is refused as made for another
    administrator. Nothing is written."""
    sign_in(page)
    path = csv_file(
        tmp_path, "mexico.csv", "Rosa,Díaz,rosa.diaz@acme.example,mx-cdmx,,,es"
    )
    choose_file(page, path)
    expect(review_row(page, 2)).to_have_attribute("data-action", "create")
    root_review = page.locator('input[name="review"]').input_value()

    other = page.context.new_page()
    sign_in(other, SPAIN_MANAGER)

    page.get_by_role("button", name="Done").click()
    expect(page.get_by_role("heading", name="This form was refused")).to_be_visible()
    assert set() == emails_in(app, ["mx", "mx-cdmx"])

    madrid = csv_file(
        tmp_path, "madrid.csv", "Pilar,Gómez,pilar.gomez@acme.example,Madrid,,,es"
    )
    choose_file(other, madrid)
    expect(review_row(other, 2)).to_have_attribute("data-action", "create")
    other.locator('input[name="review"]').evaluate(
        "(input, value) => { input.value = value; }", root_review
    )
    with other.expect_response(lambda r: r.url.endswith("/import/commit")) as sent:
        other.get_by_role("button", name="Done").click()
    assert 409 == sent.value.status
    expect(other.get_by_role("heading", name="Nothing was imported")).to_be_visible()
    expect(other.locator("#refusal")).to_contain_text("made for another administrator")
    other.close()
    assert set() == emails_in(app, ["mx", "mx-cdmx", "es-mad"])


def test_templates_download_and_upload_again(page: Page) -> None:
    """Both templates download byte for byte as ``template()`` writes them and
    upload again with nothing to fix (their example rows are skipped)."""
    sign_in(page)
    page.goto("/import")
    for language, link in [("en", "English"), ("es", "Spanish")]:
        with page.expect_download() as download_info:
            page.get_by_role("link", name=link).click()
        download = download_info.value
        assert f"users-template-{language}.csv" == download.suggested_filename
        assert template(language) == Path(download.path()).read_bytes()

    choose_file(page, Path(download.path()))
    assert {"total": 2, "create": 0, "update": 0, "skip": 2, "invalid": 0} == counts(
        page
    )
    assert ["example_row", "example_row"] == issue_codes(page.locator("#review"))
    assert 0 == page.locator(".file-issue").count()
    page.get_by_role("button", name="Done").click()
    assert {"created": 0, "updated": 0, "skipped": 2} == counts(page)


def test_the_workbook_template_downloads_and_uploads_filled_in(
    page: Page, tmp_path: Path
) -> None:
    """The workbook template downloads beside the CSV one; filled in (here by
    openpyxl, as a spreadsheet saves it) and uploaded, it is reviewed as a workbook,
    its example rows skipped, and Done imports its user."""
    sign_in(page)
    page.goto("/import")
    with page.expect_download() as download_info:
        page.locator('a[data-workbook^="en"]').click()
    download = download_info.value
    assert "users-template-en.xlsx" == download.suggested_filename
    downloaded = tmp_path / download.suggested_filename
    download.save_as(downloaded)
    book = openpyxl.load_workbook(downloaded)
    user = ["Marta", "Soler", "marta.soler@acme.example", "Spain / Madrid", "manager"]
    for column, value in enumerate(user, start=1):
        book["Users"].cell(4, column, value)
    filled = tmp_path / "filled.xlsx"
    book.save(filled)

    choose_file(page, filled)

    expect(page.locator("#encoding")).to_have_text("an Excel workbook")
    assert {"total": 3, "create": 1, "update": 0, "skip": 2, "invalid": 0} == counts(
        page
    )
    page.get_by_role("button", name="Done").click()
    assert {"created": 1, "updated": 0, "skipped": 2} == counts(page)


@pytest.mark.parametrize(("locale", "separator"), [("es-MX", ","), ("es-ES", ";")])
def test_the_template_in_the_browsers_language_opens_in_columns(
    browser: Browser, server: str, locale: str, separator: str
) -> None:
    """A browser set to a Spanish locale is offered the Spanish template first,
    written with that locale's list separator: commas for Mexico, semicolons for
    Spain, as Excel there expects."""
    context = browser.new_context(base_url=server, accept_downloads=True, locale=locale)
    try:
        page = context.new_page()
        sign_in(page)
        page.goto("/import")
        first = page.locator("a[data-language]").first
        expect(first).to_have_text("Español")  # the page is in Spanish too
        with page.expect_download() as download_info:
            first.click()
        data = Path(download_info.value.path()).read_bytes()
    finally:
        context.close()
    assert template(locale) == data
    header = data.decode("utf-8-sig")
    assert header.startswith(f'"Nombre"{separator}"Apellidos"{separator}')


def test_error_report_downloads_and_uploads_again(page: Page, app: Flask) -> None:
    """The error report downloads as ``error_report()`` writes it and uploads again
    with the same rows, values and issues (a formula-like cell included)."""
    sign_in(page)
    choose_file(page, EXAMPLES / "users-with-errors.csv")
    first_rows = page.locator("#review tbody tr").all_inner_texts()
    first_issues = issue_codes(page.locator("#review"))
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download the error report").click()
    report = Path(download_info.value.path())
    assert "users-errors.csv" == download_info.value.suggested_filename
    state = webapp.state(app)
    preview = prepare(
        (EXAMPLES / "users-with-errors.csv").read_bytes(),
        actor=Actor("root"),
        orgs=state.store.org_tree(),
        store=state.store,
    )
    assert error_report(preview) == report.read_bytes()

    page.get_by_role("link", name="Back").click()
    expect(page.get_by_role("heading", name="Import users")).to_be_visible()
    choose_file(page, report)
    assert first_rows == page.locator("#review tbody tr").all_inner_texts()
    assert first_issues == issue_codes(page.locator("#review"))
    assert [] == page.locator(".file-issue.error").all_inner_texts()


def test_markup_in_values_is_shown_as_text(
    page: Page, app: Flask, page_log: PageLog
) -> None:
    """Markup in an uploaded name, and in the file's own name, is shown as text on
    every page: no element is created from it and no script runs."""
    sign_in(page)
    first, last = '<script>alert("first")</script>', "<img src=x onerror=alert(2)>"
    data = f"{HEADER}\r\n{first},{last},mallory@acme.example,,,,\r\n".encode()
    drop_file(page, "<img src=y onerror=alert(3)>.csv", data)
    # (drop_file has checked that the file's name is shown as text.)
    expect(cell(page, 2, "first_name")).to_have_text(first)
    expect(cell(page, 2, "last_name")).to_have_text(last)
    assert 0 == page.locator("main script, main img").count()

    page.get_by_role("button", name="Done").click()
    page.get_by_role("link", name="Back to Users").click()
    name = page.locator('tr[data-email="mallory@acme.example"] td[data-column="name"]')
    expect(name).to_have_text(f"{first} {last}")
    assert 0 == page.locator("main script, main img").count()
    assert [] == page_log.dialogs
    stored = webapp.state(app).store.list_users({"root"})
    assert [(first, last)] == [(user.first_name, user.last_name) for user in stored]


def test_create_a_single_user_after_an_import(page: Page, app: Flask) -> None:
    """The "Create a single user" form applies the import's rules (validate_user):
    issues appear next to their fields; once fixed the user is created."""
    sign_in(page, SPAIN_MANAGER)
    page.get_by_role("link", name="Create a single user").click()
    expect(page.locator("#role option")).to_have_text(
        ["Default (learner)", "learner", "instructor", "manager"]
    )
    page.get_by_label("First name").fill("Nuria")
    page.get_by_label("Last name").fill("Vidal")
    page.get_by_label("Email").fill("nuria.vidal@acme")
    page.get_by_label("Organization").fill("Mexico")
    page.get_by_role("button", name="Create user").click()

    email = page.locator('.field[data-column="email"]')
    expect(email.locator(".issue")).to_have_attribute("data-code", "invalid_email")
    expect(page.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("First name")).to_have_value("Nuria")

    page.get_by_label("Email").fill("nuria.vidal@acme.example")
    page.get_by_role("button", name="Create user").click()
    organization = page.locator('.field[data-column="organization"] .issue')
    expect(organization).to_have_attribute("data-code", "unknown_organization")

    page.get_by_label("Organization").fill("Spain / Barcelona")
    page.get_by_label("Role").select_option("instructor")
    page.get_by_role("button", name="Create user").click()
    expect(page.locator(".flash")).to_have_text("Created Nuria Vidal.")
    assert {"nuria.vidal@acme.example": "Spain / Barcelona"} == users_on_page(page)
    assert Role.INSTRUCTOR == webapp.state(app).store.list_users({"es-bcn"})[0].role


def test_a_request_without_a_session_gets_the_sign_in_page(page: Page) -> None:
    """Without signing in, every page is the demo's sign-in page, which lists the
    administrators, says it stands in for a real login, and acts for no one until
    one is chosen; signing out brings it back."""
    for url in ("/", "/users", "/import", "/users/new"):
        page.goto(url)
        expect(page).to_have_url(re.compile(r"/sign-in$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("stands in for a real login").first).to_be_visible()
    expect(page.locator("#sign-in button")).to_have_text(
        [f"Sign in as {admin.label}" for admin in webapp.DEMO_ADMINS]
    )
    expect(page.get_by_role("link", name="Users")).to_have_count(0)

    page.get_by_role("button", name=f"Sign in as {SPAIN_MANAGER}").click()
    expect(page.locator("#signed-in")).to_have_text(f"Signed in as {SPAIN_MANAGER}")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto("/import")
    expect(page).to_have_url(re.compile(r"/sign-in$"))


#: Another site's page that posts a form to the application when it is opened.
ATTACKER = """<!doctype html><title>Win a prize</title>
<form id="attack" method="post" action="{action}">
  <input name="first_name" value="Mallory"><input name="last_name" value="Root">
  <input name="email" value="mallory@evil.example"><input name="role" value="admin">
</form>
<script>document.getElementById("attack").submit();</script>"""


def test_a_cross_site_form_post_is_refused(page: Page, app: Flask, server: str) -> None:
    """A page on another site that posts the "create a user" form through the
    signed-in administrator's browser is refused (400, a page that says why)
    and creates no one."""
    sign_in(page)

    def attacker(route: Route) -> None:
        body = ATTACKER.format(action=f"{server}/users/new")
        route.fulfill(status=200, content_type="text/html", body=body)

    page.route("http://attacker.example/**", attacker)
    with page.expect_response(lambda r: r.url.endswith("/users/new")) as sent:
        page.goto("http://attacker.example/prize")
    assert ("POST", 400) == (sent.value.request.method, sent.value.status)
    expect(page.get_by_role("heading", name="This form was refused")).to_be_visible()
    expect(page.locator("#refusal")).to_contain_text("not sent from this site")
    assert set() == emails_in(app, ["root"])

    page.goto(f"{server}/users")
    expect(page.locator("#signed-in")).to_have_text(f"Signed in as {ROOT_ADMIN}")
    expect(page.locator("#no-users")).to_be_visible()


def test_an_edited_hidden_review_is_refused_with_a_clear_page(
    page: Page, app: Flask, tmp_path: Path
) -> None:
    """Editing the review the page keeps (one character of the sealed token) makes
    Done refuse it with a page that says the review was altered or expired and
    to upload the file again (400), never a review or a count; nothing is
    written."""
    sign_in(page)
    path = csv_file(tmp_path, "ana.csv", "Ana,Ruiz,ana.ruiz@acme.example,Madrid,,,es")
    choose_file(page, path)
    page.locator('input[name="review"]').evaluate(
        """input => {
          const middle = Math.floor(input.value.length / 2);
          const swapped = input.value[middle] === "A" ? "B" : "A";
          input.value = input.value.slice(0, middle) + swapped
            + input.value.slice(middle + 1);
        }"""
    )
    with page.expect_response(lambda r: r.url.endswith("/import/commit")) as sent:
        page.get_by_role("button", name="Done").click()
    assert 400 == sent.value.status
    expect(page.get_by_role("heading", name="Nothing was imported")).to_be_visible()
    expect(page.locator("#refusal")).to_have_text(
        "This review was altered, has expired, or was made for another "
        "administrator, so nothing was imported."
    )
    expect(page.locator("#detail")).to_contain_text("upload the file again")
    assert 0 == page.locator("#review, #counts").count()
    page.get_by_role("link", name="Upload the file again").click()
    expect(page.get_by_role("heading", name="Import users")).to_be_visible()
    assert set() == emails_in(app, ["es-mad"])


def test_a_refused_done_explains_itself(page: Page, app: Flask, tmp_path: Path) -> None:
    """When two of the file's emails are created by someone else between the
    review and Done, Done is refused with the rows concerned ("rows 2 and 4"),
    each with its email and what changed, and imports nothing of the file."""
    sign_in(page)
    path = csv_file(
        tmp_path,
        "three.csv",
        "Ana,Ruiz,ana.ruiz@acme.example,Madrid,,,es",
        "Bo,Berg,bo.berg@acme.example,Madrid,,,es",
        "Cy,Ng,cy.ng@acme.example,Madrid,,,es",
    )
    choose_file(page, path)
    assert {"total": 3, "create": 3, "update": 0, "skip": 0, "invalid": 0} == counts(
        page
    )
    webapp.state(app).store.apply(
        [
            UserWrite(UserRow("Ana", "Other", "ana.ruiz@acme.example", "us"), None),
            UserWrite(UserRow("Cy", "Other", "cy.ng@acme.example", "us"), None),
        ]
    )
    with page.expect_response(lambda r: r.url.endswith("/import/commit")) as sent:
        page.get_by_role("button", name="Done").click()
    assert 409 == sent.value.status
    expect(page.locator("#refusal")).to_have_text(
        "Since your review, rows 2 and 4 would not be imported as you reviewed "
        "them, so nothing was imported."
    )
    expect(page.locator("#reasons li")).to_have_text(
        [
            "Row 2 (ana.ruiz@acme.example): its email now belongs to a user "
            "created since the review.",
            "Row 4 (cy.ng@acme.example): its email now belongs to a user created "
            "since the review.",
        ]
    )
    assert 0 == page.locator("#review").count()

    screenshot = tmp_path / "refused.png"
    page.screenshot(path=screenshot, full_page=True)
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copyfile(screenshot, ARTIFACTS / "refused.png")
    assert set() == emails_in(app, ["es-mad"])


# -- fixing it in the review --------------------------------------------------------

#: A file with one valid row, two invalid emails and an unknown organization.
TYPOS = "\r\n".join(
    [
        HEADER,
        "Ana,Ruiz,ana.ruiz@acme.example,Madrid,,,",
        "Bo,Ng,bo@,Madrid,,,",
        "Cy,Lee,cy@,,,,",
        "Di,Ox,di@acme.example,Atlantis,,,",
    ]
).encode()


def visible_rows(page: Page) -> list[str]:
    """The row numbers of the review rows the filter shows."""
    return list(
        page.locator("#review tbody tr").evaluate_all(
            "rows => rows.filter(r => r.offsetParent !== null).map(r => r.dataset.row)"
        )
    )


def test_correct_a_cell_in_the_review_and_import(page: Page, app: Flask) -> None:
    """An invalid cell is an input holding the uploaded value; Done is off and says
    why; corrected and sent with Enter, the review is checked again (the focus on
    its heading, a sentence saying which rows changed), and Done imports the
    corrected user."""
    sign_in(page)
    data = "\r\n".join([HEADER, "Ana,Ruiz,ana@acme.example,,,,", "Bo,Ng,bo@,,,,"])
    drop_file(page, "typo.csv", data.encode())
    expect(page.get_by_role("heading", name="Review the file")).to_be_focused()
    field = cell(page, 3, "email").get_by_role("textbox")
    expect(field).to_have_value("bo@")
    expect(field).to_have_accessible_name("Row 3: Email")
    expect(page.locator("#done")).to_be_disabled()
    expect(page.locator("#done")).to_have_accessible_description(
        re.compile("Done is off while 1 row has errors")
    )
    expect(cell(page, 2, "email").get_by_role("textbox")).to_have_count(0)

    field.fill("bo@acme.example")
    field.press("Enter")  # Enter in a cell checks again

    expect(page.locator("#checked")).to_have_text(
        "Checked again: row 3 changed. No row has errors now."
    )
    expect(page.get_by_role("heading", name="Review the file")).to_be_focused()
    expect(review_row(page, 3).locator(".badge")).to_have_text("create")
    page.get_by_role("button", name="Done").click()
    expect(page.get_by_role("heading", name="Import done")).to_be_focused()
    assert {"created": 2, "updated": 0, "skipped": 0} == counts(page)
    assert {"ana@acme.example", "bo@acme.example"} == emails_in(app, ["root"])


def test_filter_leave_rows_out_and_get_them_back_as_a_file(
    page: Page, app: Flask
) -> None:
    """The filter shows every row, the rows with errors, or the rows with one
    problem, with the number of rows of each; rows left out are skipped, and Done
    imports the others and offers the rows left out as a file."""
    sign_in(page)
    drop_file(page, "typos.csv", TYPOS)
    filters = page.locator("#filter")
    expect(filters.get_by_label("All rows (4)")).to_be_checked()
    expect(filters.get_by_label("Invalid email (2)")).to_be_visible()
    expect(filters.get_by_label("Unknown organization (1)")).to_be_visible()
    filters.get_by_label("Rows with errors (3)").check()
    assert ["3", "4", "5"] == visible_rows(page)
    filters.get_by_label("Invalid email (2)").check()
    assert ["3", "4"] == visible_rows(page)

    page.get_by_label("Leave out row 3").check()
    page.get_by_label("Leave out row 4").check()
    filters.get_by_label("All rows (4)").check()
    cell(page, 5, "organization").get_by_role("textbox").fill("Barcelona")
    page.get_by_role("button", name="Check again").click()

    expect(page.locator("#checked")).to_have_text(
        "Checked again: rows 3, 4 and 5 changed. No row has errors now."
    )
    expect(review_row(page, 3)).to_have_class(re.compile("dropped"))
    expect(filters.get_by_label("Left out by you (2)")).to_be_visible()
    expect(page.locator("#done")).to_be_enabled()
    page.get_by_role("button", name="Done").click()
    assert {"created": 2, "updated": 0, "skipped": 2} == counts(page)
    expect(page.locator("#left-out")).to_contain_text("2 rows were left out.")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download them with their errors").click()
    report = Path(download_info.value.path()).read_bytes().decode("utf-8-sig")
    lines = report.splitlines()
    assert lines[2].startswith('"Bo","Ng","bo@",')
    assert "left this row out" in lines[2]
    assert lines[3].startswith('"Cy","Lee","cy@",')
    assert {"ana.ruiz@acme.example"} == emails_in(app, ["es-mad"])
    assert {"di@acme.example"} == emails_in(app, ["es-bcn"])


def test_match_the_columns_then_review_and_import(page: Page, app: Flask) -> None:
    """A header the library cannot read opens the column step: each header cell as
    written, a few of its values and a select; the chosen columns review the file,
    which states what its missing columns mean, and Done imports it."""
    sign_in(page)
    data = "\r\n".join(
        [
            "Vorname,Nachname,Mail,Notiz",
            "Ana,Ruiz,ana@acme.example,first",
            "Bo,Ng,bo@acme.example,",
        ]
    ).encode()
    drop_file(page, "german.csv", data, heading="Match the columns")
    expect(page.get_by_role("heading", name="Match the columns")).to_be_focused()
    expect(
        page.locator('.file-issue[data-code="missing_columns"]').first
    ).to_be_visible()
    mail = page.locator('tr[data-header="Mail"]')
    expect(mail.locator("[data-samples]")).to_have_text(
        "ana@acme.example · bo@acme.example"
    )
    page.get_by_label("Vorname").select_option("first_name")
    page.get_by_label("Nachname").select_option(label="Last name")
    page.get_by_label("Mail").select_option("email")
    expect(page.get_by_label("Notiz")).to_have_value("")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Review the file")).to_be_focused()
    expect(page.locator("#ignored")).to_have_text("Notiz")
    expect(page.locator('.note[data-missing="organization"]')).to_have_text(
        "No Organization column: everyone goes into Acme Learning."
    )
    page.get_by_role("button", name="Done").click()
    assert {"created": 2, "updated": 0, "skipped": 0} == counts(page)
    assert {"ana@acme.example", "bo@acme.example"} == emails_in(app, ["root"])


def test_the_whole_flow_in_spanish(browser: Browser, server: str, app: Flask) -> None:
    """A browser in Spanish gets every page in Spanish, the library's messages
    included; the switch turns the review into English without losing an edit."""
    context = browser.new_context(base_url=server, locale="es-ES")
    try:
        page = context.new_page()
        sign_in(page)
        expect(page.locator("html")).to_have_attribute("lang", "es")
        data = "\r\n".join([HEADER, "Ana,,ana@acme.example,,,,", "Bo,Ng,bo@,,,,"])
        drop_file(page, "errores.csv", data.encode(), heading="Revisa el archivo")
        expect(cell(page, 2, "last_name").locator(".issue")).to_have_text(
            "Escribe los apellidos: es un dato obligatorio."
        )
        expect(page.locator("#done-why")).to_contain_text(
            "“Importar” no está disponible mientras haya 2 filas con errores"
        )
        cell(page, 3, "email").get_by_role("textbox").fill("bo@acme.example")
        page.get_by_role("button", name="English").click()

        expect(page.get_by_role("heading", name="Review the file")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(cell(page, 3, "email")).to_have_text("bo@acme.example")
        expect(cell(page, 2, "last_name").locator(".issue")).to_contain_text(
            "last name"
        )
        page.get_by_role("button", name="Español").click()
        expect(page.get_by_role("heading", name="Revisa el archivo")).to_be_visible()
        page.get_by_role("button", name=re.compile("Importar 1 usuario")).click()
        expect(
            page.get_by_role("heading", name="Importación terminada")
        ).to_be_visible()
    finally:
        context.close()
    assert {"bo@acme.example"} == emails_in(app, ["root"])


@pytest.fixture
def slowed(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[[str], threading.Event]]:
    """Hold the review pages' call of a library function until the test lets it go:
    ``slowed("prepare")`` returns the event that lets it go."""
    gates: list[threading.Event] = []

    def slow(name: str) -> threading.Event:
        gate = threading.Event()
        gates.append(gate)
        real = getattr(review_pages, name)

        def held(*args: object, **kwargs: object) -> object:
            gate.wait(10)
            return real(*args, **kwargs)

        monkeypatch.setattr(review_pages, name, held)
        return gate

    yield slow
    for gate in gates:
        gate.set()


def test_progress_while_uploading_and_importing(
    page: Page, app: Flask, slowed: Callable[[str], threading.Event]
) -> None:
    """While the file is sent and checked, and while Done imports, the page says
    so in a status message and marks itself busy; a second press of Done sends
    nothing more."""
    sign_in(page)
    page.goto("/import")
    data = "\r\n".join([HEADER, "Ana,Ruiz,ana@acme.example,,,,"]).encode()
    page.evaluate(DROP, ["#dropzone", "one.csv", list(data)])
    # The page being left cannot be read while its answer is held: what it says
    # is recorded as it says it, and read on the next page.
    page.evaluate(RECORD_PROGRESS)
    checking = slowed("prepare")
    page.evaluate("() => document.querySelector('#upload button').click()")
    checking.set()
    expect(page.get_by_role("heading", name="Review the file")).to_be_focused()
    assert "Uploading and checking the file…|true" == page.evaluate(READ_PROGRESS)
    expect(page.locator("#progress")).to_have_text("")

    commits: list[str] = []
    page.on("request", lambda r: commits.append(r.url) if "/commit" in r.url else None)
    page.evaluate(RECORD_PROGRESS)
    importing = slowed("commit")
    # Done pressed, and pressed again while the import is still running.
    page.evaluate(
        "() => { const done = document.getElementById('done');"
        " done.click(); setTimeout(() => done.click(), 200); }"
    )
    page.wait_for_timeout(600)
    importing.set()
    expect(page.get_by_role("heading", name="Import done")).to_be_visible()
    assert "Importing the users…|true" == page.evaluate(READ_PROGRESS)
    assert 1 == len(commits)
    assert {"created": 1, "updated": 0, "skipped": 0} == counts(page)


#: Records in the tab's session storage what the status message says, and whether
#: the page is marked busy, each time it changes.
RECORD_PROGRESS = """() => {
  const progress = document.getElementById("progress");
  new MutationObserver(() => sessionStorage.setItem("progress",
    progress.textContent + "|" + document.querySelector("main").ariaBusy,
  )).observe(progress, {childList: true, characterData: true, subtree: true});
}"""
READ_PROGRESS = "() => sessionStorage.getItem('progress')"


#: Where the documentation's screenshots are written when this names a folder
#: (``USERIMPORT_WEBAPP_SCREENSHOTS=docs/_static/webapp pytest tests/webapp``).
DOCS_SCREENSHOTS = os.environ.get("USERIMPORT_WEBAPP_SCREENSHOTS")

WIDTHS = {
    "desktop": {"width": 1024, "height": 720},
    "phone": {"width": 390, "height": 844},
}


@pytest.mark.parametrize("language", ["en", "es"])
def test_no_sideways_scrolling_at_phone_width(
    browser: Browser, server: str, tmp_path: Path, language: str
) -> None:
    """At 390 px wide no page of the import scrolls sideways: the review's grid
    scrolls in its own container. Screenshots of the review at desktop and phone
    width are kept (and written for the documentation when asked)."""
    heading = {"en": "Review the file", "es": "Revisa el archivo"}[language]
    columns = {"en": "Match the columns", "es": "Empareja las columnas"}[language]
    for width, viewport in WIDTHS.items():
        context = browser.new_context(
            base_url=server,
            locale=language,
            viewport=viewport,  # type: ignore[arg-type]
        )
        try:
            page = context.new_page()
            sign_in(page)
            pages = ["/users", "/import", "/users/new"]
            for url in pages:
                page.goto(url)
                assert (
                    page.evaluate("document.documentElement.scrollWidth")
                    <= viewport["width"]
                ), url
            drop_file(
                page, "wide.csv", b"Vorname,Nachname,Mail\r\nAna,Ruiz,a@\r\n", columns
            )
            assert (
                page.evaluate("document.documentElement.scrollWidth")
                <= viewport["width"]
            )
            drop_file(page, "typos.csv", TYPOS, heading)
            assert (
                page.evaluate("document.documentElement.scrollWidth")
                <= viewport["width"]
            )
            if width == "phone":
                grid = page.locator(".grid").first
                assert grid.evaluate("g => g.scrollWidth > g.clientWidth")
            name = f"review-{width}-{language}.png"
            page.screenshot(path=tmp_path / name)
            ARTIFACTS.mkdir(exist_ok=True)
            shutil.copyfile(tmp_path / name, ARTIFACTS / name)
            if DOCS_SCREENSHOTS:
                shutil.copyfile(tmp_path / name, Path(DOCS_SCREENSHOTS) / name)
        finally:
            context.close()
