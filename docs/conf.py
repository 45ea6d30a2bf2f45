"""Sphinx configuration: MyST Markdown pages, furo theme, autodoc reference.

The issue-code table is generated from :class:`userimport.IssueCode` at build time
(``_generated/issue_codes.md``), so the documentation can never drift from the code.
"""

from __future__ import annotations

from pathlib import Path

from userimport.issues import FILE_ERROR_CODES, IssueCode

project = "userimport"
author = "userimport developers"
copyright = "2026, userimport developers"  # noqa: A001
extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "_generated"]
html_theme = "furo"
html_title = "userimport"
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_type_aliases = {"Check": "userimport.flow.Check"}
napoleon_google_docstring = True
intersphinx_mapping = {"python": ("https://docs.python.org/3", None)}
# The build runs offline (CI has no network): resolve no remote inventories.
intersphinx_disabled_reftypes = ["*"]
intersphinx_timeout = 1
nitpicky = False
suppress_warnings = ["myst.xref_missing", "intersphinx"]


def _issue_code_table() -> str:
    lines = [
        "| code | level | severity | meaning |",
        "|---|---|---|---|",
    ]
    warnings = {
        IssueCode.UNKNOWN_COLUMNS,
        IssueCode.ENCODING_GUESSED,
        IssueCode.EXAMPLE_ROW,
    }
    for code in IssueCode:
        file_level = code in FILE_ERROR_CODES or code in {
            IssueCode.UNKNOWN_COLUMNS,
            IssueCode.ENCODING_GUESSED,
        }
        severity = "warning" if code in warnings else "error"
        if code is IssueCode.EMAIL_EXISTS:
            severity = "follows `on_existing`"
        lines.append(
            f"| `{code.value}` | {'file' if file_level else 'row'} "
            f"| {severity} | {code.description} |"
        )
    return "\n".join(lines) + "\n"


_generated = Path(__file__).parent / "_generated"
_generated.mkdir(exist_ok=True)
(_generated / "issue_codes.md").write_text(_issue_code_table(), encoding="utf-8")
