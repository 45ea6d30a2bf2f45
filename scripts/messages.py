"""Keep the message catalogs in step with the code: extract, update, compile.

Run from the project's root after changing or adding a message::

    .venv/bin/python scripts/messages.py

It extracts every ``message("...")`` of ``src/userimport`` into
``src/userimport/locale/userimport.pot`` (Babel, with ``babel.cfg``), merges it into
each language's ``.po`` (new messages appear untranslated, removed ones are dropped),
and compiles each ``.po`` into the ``.mo`` the library reads. Translate the new
entries of the ``.po`` files, then run it again to compile them.
``tests/test_messages.py`` fails while a message has no translation.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.frontend import CommandLineInterface

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "src" / "userimport" / "locale"
TEMPLATE = LOCALE / "userimport.pot"
LANGUAGES = ("es",)


def pybabel(*args: str) -> None:
    """Run one ``pybabel`` command."""
    CommandLineInterface().run(["pybabel", "--quiet", *args])  # type: ignore[no-untyped-call]


def main() -> int:
    """Extract, update and compile every catalog."""
    LOCALE.mkdir(parents=True, exist_ok=True)
    pybabel(
        "extract",
        "--mapping-file",
        str(ROOT / "babel.cfg"),
        "--keywords",
        "message",
        "--no-default-keywords",
        "--no-location",
        "--sort-output",
        "--omit-header",
        "--project",
        "userimport",
        "--output-file",
        str(TEMPLATE),
        str(ROOT / "src"),
    )
    for language in LANGUAGES:
        po = LOCALE / language / "LC_MESSAGES" / "userimport.po"
        command = "update" if po.exists() else "init"
        extra = ["--no-fuzzy-matching", "--ignore-obsolete"] if po.exists() else []
        pybabel(
            command,
            "--domain",
            "userimport",
            "--input-file",
            str(TEMPLATE),
            "--output-dir",
            str(LOCALE),
            "--locale",
            language,
            *extra,
        )
    pybabel("compile", "--domain", "userimport", "--directory", str(LOCALE))
    return 0


if __name__ == "__main__":
    sys.exit(main())
