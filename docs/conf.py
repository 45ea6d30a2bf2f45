"""Sphinx configuration: MyST Markdown pages, furo theme, autodoc reference.

The issue-code table is generated from :class:`userimport.IssueCode` at build time
(``_generated/issue_codes.md``), so the documentation can never drift from the code.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any

from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

import userimport
from userimport.issues import FILE_ERROR_CODES, IssueCode

project = "userimport"
author = "userimport developers"
copyright = "2026, userimport developers"
extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "_generated"]
html_theme = "furo"
html_title = "userimport"
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
napoleon_google_docstring = True
napoleon_numpy_docstring = False  # Google style only (STYLE.md)
# No intersphinx: the build runs offline (CI has no network), and intersphinx warns
# when it cannot fetch an inventory. References to the standard library stay text.
nitpicky = False


def _issue_code_table() -> str:
    lines = [
        "| code | level | severity | meaning |",
        "|---|---|---|---|",
    ]
    warnings = {
        IssueCode.UNKNOWN_COLUMNS,
        IssueCode.ENCODING_GUESSED,
        IssueCode.EXAMPLE_ROW,
        IssueCode.LEFT_OUT,
        IssueCode.CONFUSABLE_EMAIL,
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


# --- the reference (reference.md) -------------------------------------------------

_logger = logging.getLogger(__name__)


def _reexported(obj: object) -> bool:
    return any(getattr(userimport, name) is obj for name in userimport.__all__)


def _skip_reexported(
    app: Sphinx, what: str, name: str, obj: object, skip: bool, options: Any
) -> bool | None:
    """Leave out of a module's section the names documented under ``userimport``.

    Each object is described once, under its public name; a cross-reference to
    ``userimport.hierarchy.OrgTree`` still finds ``userimport.OrgTree``
    (:func:`_resolve_alias`).
    """
    if what == "module" and _reexported(obj):
        return True
    return None


def _colon_is_prose(
    app: Sphinx, what: str, name: str, obj: object, options: Any, lines: list[str]
) -> None:
    """Keep Napoleon from reading a colon in a short docstring as a type.

    Napoleon takes the first line of an attribute's, data's or property's docstring
    as ``type: description`` when it holds a colon, so "The value of one field:
    text, ..." would render "The value of one field" as the type. This project
    gives types as annotations only, so such a colon is always prose; an empty
    type in front (``": ..."``) tells Napoleon so. Runs before Napoleon (priority).
    """
    if what in {"attribute", "data", "property"} and lines and ":" in lines[0]:
        lines[0] = ": " + lines[0]


def _check_exports(app: Sphinx, env: BuildEnvironment) -> None:
    """Fail the (strict) build when a name of ``userimport.__all__`` is undocumented."""
    documented = env.get_domain("py").objects  # type: ignore[attr-defined]
    for name in userimport.__all__:
        if f"userimport.{name}" not in documented:
            _logger.warning(
                "userimport.%s is exported but not documented; add it to "
                "docs/reference.md",
                name,
                location="reference",
            )


@functools.cache
def _aliases() -> dict[str, str]:
    """Every module path of a re-exported name, mapped to its public name.

    ``userimport.hierarchy.OrgTree`` and ``userimport.stores.MemoryStore`` name
    objects documented once, as ``userimport.OrgTree`` and ``userimport.MemoryStore``.
    Computed at the first unresolved reference, when autodoc has imported every
    documented module.
    """
    aliases = {}
    modules = [
        module
        for name, module in sorted(sys.modules.items())
        if name.startswith("userimport.") and module is not None
    ]
    for name in userimport.__all__:
        obj = getattr(userimport, name)
        for module in modules:
            if getattr(module, name, None) is obj:
                aliases[f"{module.__name__}.{name}"] = f"userimport.{name}"
    return aliases


def _resolve_alias(
    app: Sphinx, env: BuildEnvironment, node: pending_xref, contnode: Any
) -> Any:
    """Resolve what the Python domain could not, the way a reader would.

    A target under a module path of a re-exported name (``userimport.hierarchy.
    OrgTree.resolve``) resolves to its public name (``userimport.OrgTree.resolve``);
    a name from a docstring that is not under ``userimport`` (``email_key``,
    ``UserWrite.key``) resolves to the one documented object whose full name ends
    with it, if there is exactly one.
    """
    if node.get("refdomain") != "py":
        return None
    domain = env.get_domain("py")
    target = node["reftarget"]
    for alias, public in _aliases().items():
        if target == alias or target.startswith(alias + "."):
            target = public + target[len(alias) :]
            break
    else:
        if target.startswith("userimport."):
            return None
        found = [
            name
            for name, entry in domain.objects.items()  # type: ignore[attr-defined]
            if name.endswith("." + target) and not entry.aliased
        ]
        if len(found) != 1:
            return None
        target = found[0]
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], target, node, contnode
    )


def setup(app: Sphinx) -> dict[str, Any]:
    """Connect the reference's hooks."""
    app.connect("missing-reference", _resolve_alias)
    app.connect("autodoc-skip-member", _skip_reexported)
    app.connect("env-check-consistency", _check_exports)
    app.connect("autodoc-process-docstring", _colon_is_prose, priority=400)
    return {"parallel_read_safe": True}
