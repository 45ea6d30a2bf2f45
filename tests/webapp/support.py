"""What the web frontend's tests need, and how they say that something is missing.

The application lives in ``examples/webapp/app.py``, outside any package: like
``flask --app examples/webapp/app.py``, the tests put its folder on ``sys.path`` and
import it as ``app``.

A missing test tool is a skip with a message that says how to get it, except under CI
(``CI=true``), where it is a failure: CI must run these tests, never skip them.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import NoReturn

import attrs
import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
WEBAPP = EXAMPLES / "webapp"

if str(WEBAPP) not in sys.path:
    sys.path.insert(0, str(WEBAPP))

#: Set by .ci/run; under CI a missing browser or package fails the run.
CI = os.environ.get("CI", "").lower() == "true"

#: Debian's Chromium (``apt-get install chromium``); the browsers that test tools
#: download do not work on these machines.
CHROMIUM = Path(os.environ.get("USERIMPORT_CHROMIUM", "/usr/bin/chromium"))

#: Headless, no sandbox (containers run as root), and nothing that reaches the
#: network on its own.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

INSTALL_HINT = (
    "install the webapp group (`pip install --group webapp`: flask, flask-wtf, "
    "playwright) and Debian's Chromium (`apt-get install chromium`, or set "
    "USERIMPORT_CHROMIUM)"
)


def missing(what: str) -> NoReturn:
    """Skip (fail under CI) because ``what`` is not installed."""
    message = f"{what} is not installed; {INSTALL_HINT}"
    if CI:
        pytest.fail(f"CI must run the web frontend's tests: {message}", pytrace=False)
    pytest.skip(message, allow_module_level=True)


def require_module(name: str) -> None:
    """Skip (fail under CI) the calling module when ``name`` cannot be imported."""
    if importlib.util.find_spec(name) is None:
        missing(f"The Python package {name!r}")


def require_chromium() -> None:
    """Skip (fail under CI) when the Chromium executable is missing."""
    if not os.access(CHROMIUM, os.X_OK):
        missing(f"Chromium ({CHROMIUM})")


@attrs.frozen
class PageLog:
    """What the page did besides rendering: dialogs opened (``alert`` and the like,
    which no test page may ever open) and Content-Security-Policy violations."""

    dialogs: list[str] = attrs.field(factory=list)
    csp_violations: list[str] = attrs.field(factory=list)
