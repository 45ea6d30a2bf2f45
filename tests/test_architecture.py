"""The module graph: the data flows one way, and no import goes back up the chain.

``docs/architecture.md`` draws the layers; this test reads every module's imports
(the ones that run, at module level or inside functions; not those for type
checkers) and checks that each module imports only from its own layer or the ones
below, and that the modules' top-level imports hold no cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "src" / "userimport"

#: Each layer of the package, bottom first; a module may import from its layer and
#: the ones below. Integrations (the last layer) sit on top of everything.
LAYERS: tuple[tuple[str, ...], ...] = (
    # Values and rules that need nothing else of the library.
    (
        "schema",
        "issues",
        "exceptions",
        "formulas",
        "_characters",
        "_messages",
        "_labels",
    ),
    # bytes -> text; the hierarchy and rights; the store port; one email's rules.
    (
        "decoding",
        "hierarchy",
        "access",
        "persistence",
        "_email",
        "_email_reasons",
        "_plausibility",
    ),
    # text -> records; records -> parsed users; the reference store.
    (
        "reading",
        "validation",
        "stores",
        "stores.memory",
        "_workbook",
        "_cell_text",
        "_confusables",
    ),
    # parsed users + tree + rights + store -> what would happen to each row.
    ("review",),
    # the review as a value: options, preview, result.
    ("preview",),
    # the flow and what it hands out.
    ("flow", "outputs", "serialization", "_seal", "_workbook_template"),
    # what a database URL names, for the SQL store and the command line.
    ("_sqlite_url",),
    # integrations: the package's face, adapters, test tools, the command line.
    (
        "",
        "__main__",
        "sql",
        "testing",
        "strategies",
        "_drawn_users",
        "_drawn_files",
        "_drawn_defects",
        "_samples",
        "_hypothesis_hook",
        "_pytest_plugin",
        "cli",
        "cli._main",
        "cli._parser",
        "cli._commands",
        "cli._console",
        "cli._database",
        "cli._table",
        "cli._urls",
    ),
)
LAYER_OF = {module: rank for rank, layer in enumerate(LAYERS) for module in layer}


def modules() -> Iterator[tuple[str, ast.Module]]:
    """Every module of the package, by its name under ``userimport``."""
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), ast.parse(path.read_text("utf-8"))


def imported(tree: ast.Module, *, top_level: bool) -> set[str]:
    """The package's modules ``tree`` imports when it runs (``top_level``: only
    those imported when the module itself is imported)."""
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
                continue
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module == "userimport":
                    # A submodule by name, or a name of the package's face.
                    found.update(
                        alias.name if alias.name in SUBMODULES else ""
                        for alias in node.names
                    )
                elif node.module.startswith("userimport."):
                    found.add(node.module.removeprefix("userimport."))
            elif isinstance(node, ast.Import):
                found.update(
                    alias.name.removeprefix("userimport.")
                    for alias in node.names
                    if alias.name.startswith("userimport.")
                )
            for field in ("body", "orelse", "finalbody", "handlers"):
                children = getattr(node, field, None)
                if children and (not top_level or isinstance(node, ast.If | ast.Try)):
                    visit(children)
            if isinstance(node, ast.ExceptHandler):
                visit(node.body)

    visit(tree.body)
    return found


MODULES = dict(modules())
SUBMODULES = {name for name in MODULES if name and "." not in name}


def test_every_module_has_a_layer() -> None:
    """A new module is placed in a layer (here and in docs/architecture.md)."""
    assert [] == sorted(set(MODULES) - set(LAYER_OF))


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_imports_nothing_above_its_layer(module: str) -> None:
    """The data flows one way: no module of the core reaches back up the chain."""
    rank = LAYER_OF.get(module, len(LAYERS))
    above = {
        name
        for name in imported(MODULES[module], top_level=False)
        if LAYER_OF.get(name, len(LAYERS)) > rank
    }
    assert set() == above


def test_top_level_imports_hold_no_cycle() -> None:
    """Any module can be imported first: their top-level imports form no cycle."""
    graph = {
        module: imported(tree, top_level=True) - {module}
        for module, tree in MODULES.items()
    }
    done: set[str] = set()
    path: list[str] = []

    def walk(module: str) -> None:
        if module in path:
            cycle = [*path[path.index(module) :], module]
            raise AssertionError(" -> ".join(cycle))
        if module in done:
            return
        path.append(module)
        for name in sorted(graph.get(module, ())):
            walk(name)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        walk(module)
