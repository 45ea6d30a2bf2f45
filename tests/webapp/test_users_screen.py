"""The example web app's Users screen: a search box and pages, in English and
Spanish, through Flask's test client and in headless Chromium."""

from __future__ import annotations

import html
import re

import pytest

from webapp.support import require_module

require_module("flask")
require_module("flask_wtf")

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402

import app as webapp  # noqa: E402
import users_pages  # noqa: E402
from userimport import UserRow, UserWrite  # noqa: E402

#: The users seeded for these tests: (first name, last name, email, organization).
PEOPLE = [
    ("José", "Núñez", "jose.nunez@acme.example", "es-mad"),
    ("Bea", "Nuñez", "bea.nunez@acme.example", "es"),
    ("Carl", "Núñez", "carl.nunez@acme.example", "mx"),
    *[(f"Ana{n}", "García", f"ana{n:02}@acme.example", "es-bcn") for n in range(12)],
]


@pytest.fixture
def seeded(app: Flask) -> Flask:
    """The application with :data:`PEOPLE` stored, and pages of 5 users."""
    state = webapp.state(app)
    state.store.apply([UserWrite(UserRow(*person)) for person in PEOPLE])
    return app


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of 5 users, so that a few users make several pages."""
    monkeypatch.setattr(users_pages, "USERS_PAGE", 5)


def sign_in(client: FlaskClient, key: str = "root-admin") -> None:
    """Sign in through the demo's sign-in page as the administrator ``key``."""
    page = client.get("/sign-in").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    response = client.post("/sign-in", data={"admin": key, "csrf_token": token[1]})
    assert 303 == response.status_code


def emails(page: str) -> list[str]:
    """The emails of the users a Users page lists, in order."""
    return re.findall(r'<tr data-email="([^"]+)"', page)


def link(page: str, element_id: str) -> str | None:
    """Where the link with this id leads, or ``None`` if the page has none."""
    found = re.search(rf'id="{element_id}" href="([^"]+)"', page)
    return None if found is None else html.unescape(found[1])


def test_search_finds_names_without_their_accents(
    seeded: Flask, client: FlaskClient
) -> None:
    """Searching "nunez" as Spain's manager lists the Núñez and the Nuñez of
    Spain, never the one in Mexico, with a link back to everyone."""
    sign_in(client, "spain-manager")

    page = client.get("/users?q=nunez").text

    assert ["bea.nunez@acme.example", "jose.nunez@acme.example"] == emails(page)
    assert 'name="q" value="nunez"' in page
    assert "/users" == link(page, "show-everyone")
    assert link(page, "next-page") is None


def test_pages_follow_each_other(seeded: Flask, client: FlaskClient) -> None:
    """Following "Next page" from the first page lists everyone once, in email
    order, five at a time; later pages link back to the first, the last one
    links nowhere further."""
    sign_in(client)
    seen: list[list[str]] = []
    url: str | None = "/users"
    while url is not None:
        page = client.get(url).text
        seen.append(emails(page))
        if len(seen) > 1:
            assert "/users" == link(page, "first-page")
        url = link(page, "next-page")

    assert [5, 5, 5] == [len(emails) for emails in seen]
    assert sorted(p[2] for p in PEOPLE) == [e for page in seen for e in page]


def test_a_search_keeps_its_text_from_page_to_page(
    seeded: Flask, client: FlaskClient
) -> None:
    """The next page of a search is the next page of that search."""
    sign_in(client)

    first = client.get("/users?q=garcia").text
    second = client.get(link(first, "next-page") or "").text

    assert [f"ana{n:02}@acme.example" for n in range(5)] == emails(first)
    assert [f"ana{n:02}@acme.example" for n in range(5, 10)] == emails(second)
    assert "q=garcia" in (link(second, "next-page") or "")


def test_no_match_and_no_more(seeded: Flask, client: FlaskClient) -> None:
    """A search that finds nobody says so (not "no users yet"); so does a page
    after the last user."""
    sign_in(client)

    unmatched = client.get("/users?q=zzz").text
    beyond = client.get("/users?after=zzz").text

    assert 'id="no-match"' in unmatched
    assert 'id="no-users"' not in unmatched
    assert 'id="no-more"' in beyond


def test_the_search_box_and_pages_in_spanish(
    seeded: Flask, client: FlaskClient
) -> None:
    """With a browser that asks for Spanish, the search box and the pages say it
    in Spanish."""
    sign_in(client)

    page = client.get("/users?q=garcia", headers={"Accept-Language": "es"}).text

    for words in ("Buscar por nombre o correo electrónico", "Página siguiente"):
        assert words in page


def test_search_and_pages_in_the_browser(seeded: Flask, page: object) -> None:
    """In Chromium: type a name without its accent in the search box, press Enter,
    see the match; clear it, go to the next page and back to the first."""
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    page.goto("/sign-in")
    page.get_by_role("button", name="Sign in as Administrator of Acme Learning").click()
    rows = page.locator("#users tbody tr")

    page.get_by_label("Search by name or email").fill("NUNEZ")
    page.keyboard.press("Enter")
    expect(rows).to_have_count(3)
    expect(rows.first).to_have_attribute("data-email", "bea.nunez@acme.example")
    page.get_by_role("link", name="Show everyone").click()
    expect(rows).to_have_count(5)
    page.get_by_role("link", name="Next page").click()
    expect(rows.first).to_have_attribute("data-email", "ana05@acme.example")
    page.get_by_role("link", name="First page").click()
    expect(rows.first).to_have_attribute("data-email", "ana00@acme.example")
