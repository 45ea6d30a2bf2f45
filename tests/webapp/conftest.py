"""Fixtures: the example application on a fresh SQLite database, its test client, a
live server on 127.0.0.1, and a headless Chromium driven by Playwright.

Each test gets its own database and server (a few milliseconds), so no test sees
another's users; the browser is started once per session. Without Flask the whole
folder is skipped, and without Playwright or Chromium the browser tests are, with a
message that says how to get them; under CI both are failures (see support.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from webapp.support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PageLog,
    require_chromium,
    require_module,
)

if TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient
    from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page

# Flask and the application are imported inside the fixtures: a conftest that
# cannot be imported breaks `pytest tests/webapp` instead of skipping it, so the
# test modules check for Flask themselves (require_module) before anything runs.


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """The application on a new SQLite database, seeded with examples/orgs.csv."""
    import app as webapp

    application = webapp.create_app(
        f"sqlite:///{tmp_path / 'webapp.db'}", secret_key="tests"
    )
    application.config["TESTING"] = True
    yield application
    webapp.state(application).store.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Flask's test client for ``app``."""
    return app.test_client()


@pytest.fixture
def server(app: Flask) -> Iterator[str]:
    """``app`` served on 127.0.0.1 at a free port, in a thread; its base URL."""
    from werkzeug.serving import make_server

    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, name="webapp", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join()
        httpd.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, started once for the session."""
    require_module("playwright")
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=list(CHROMIUM_ARGS), headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page_log() -> PageLog:
    """The log that :func:`page` fills in."""
    return PageLog()


@pytest.fixture
def page(browser: Browser, server: str, page_log: PageLog) -> Iterator[Page]:
    """A fresh browser context (cookies, downloads) on the live server.

    A page that opens a dialog or trips the Content-Security-Policy (an inline script
    or style without the page's nonce) fails the test at teardown.
    """
    context = browser.new_context(base_url=server, accept_downloads=True)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    # A listener makes Chromium hand every file chooser to Playwright from now on.
    # Without it, expect_file_chooser switches that on without waiting for the
    # browser, and a chooser opened at once (by a key press) can slip past.
    tab.on("filechooser", lambda chooser: None)

    def on_dialog(dialog: Dialog) -> None:
        page_log.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            page_log.csp_violations.append(message.text)

    context.on("dialog", on_dialog)
    context.on("console", on_console)
    yield tab
    context.close()
    assert [] == page_log.dialogs
    assert [] == page_log.csp_violations
