"""The pytest plugin: fixtures for users' tests, and a light import."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points

import pytest

from userimport import Role
from userimport._samples import SAMPLE_ADMIN, SAMPLE_MANAGER, SAMPLE_ORGS

pytest_plugins = ["pytester"]

PLUGIN = "userimport._pytest_plugin"


def plugin_args() -> list[str]:
    """``-p userimport._pytest_plugin`` unless the installed package registers the
    plugin itself (its ``pytest11`` entry point), which pytest then loads alone."""
    registered = any(ep.value == PLUGIN for ep in entry_points(group="pytest11"))
    return [] if registered else ["-p", PLUGIN]


USERS_TEST = """
from userimport import prepare


def test_import_with_the_fixtures(
    userimport_store, userimport_orgs, userimport_admin, userimport_manager
):
    data = (
        "first_name,last_name,email,organization\\r\\n"
        "Ana,García,ana@example.org,Madrid\\r\\n"
    ).encode()
    preview = prepare(
        data, actor=userimport_manager, orgs=userimport_orgs, store=userimport_store
    )
    assert preview.ok
    assert "es-mad" == preview.rows[0].user.organization
    assert [] == list(userimport_store.list_users(userimport_orgs.subtree_ids("acme")))
    assert "acme" == userimport_admin.org_id


def test_each_test_gets_a_new_store(userimport_store):
    assert [] == list(userimport_store.list_users(["es"]))
"""

SAMPLES_TEST = """
from userimport.strategies import SAMPLE_ADMIN, SAMPLE_MANAGER, SAMPLE_ORGS


def test_the_fixtures_are_the_strategies_samples(
    userimport_orgs, userimport_admin, userimport_manager
):
    assert SAMPLE_ORGS is userimport_orgs
    assert SAMPLE_ADMIN is userimport_admin
    assert SAMPLE_MANAGER is userimport_manager
"""


def test_fixtures_work_from_a_separate_test_file(pytester: pytest.Pytester) -> None:
    """A project's own test file uses the fixtures with nothing but the package
    installed (run in a fresh interpreter, as pytest runs it)."""
    pytester.makepyfile(test_users=USERS_TEST)
    result = pytester.runpytest_subprocess(*plugin_args(), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_fixtures_return_the_samples_of_the_strategies(
    pytester: pytest.Pytester,
) -> None:
    """The sample tree and actors of the fixtures are the very objects
    ``userimport.strategies`` exports as ``SAMPLE_ORGS``, ``SAMPLE_ADMIN`` and
    ``SAMPLE_MANAGER``."""
    pytester.makepyfile(test_samples=SAMPLES_TEST)
    result = pytester.runpytest_subprocess(*plugin_args(), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_fixtures_are_listed_with_their_docstrings(pytester: pytest.Pytester) -> None:
    """``pytest --fixtures`` shows the four fixtures, prefixed ``userimport_``."""
    result = pytester.runpytest_subprocess(*plugin_args(), "--fixtures")
    result.stdout.fnmatch_lines(
        [
            "*userimport_store*",
            "*A new, empty MemoryStore for each test.",
            "*userimport_orgs*",
            "*userimport_admin*",
            "*userimport_manager*",
        ]
    )


IMPORTS = f"""
import json, sys
import userimport
before = set(sys.modules)
import {PLUGIN}
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_loading_the_plugin_imports_nothing_heavy() -> None:
    """pytest loads the plugin into every run: beyond the package itself it imports
    nothing at all (pytest is already loaded then), and neither hypothesis nor
    SQLAlchemy."""
    code = f"import pytest\n{IMPORTS}"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    added = json.loads(result.stdout)
    assert [PLUGIN] == added
    check = (
        f"import sys, {PLUGIN}; "
        "print(sorted(m for m in ('hypothesis', 'sqlalchemy') if m in sys.modules))"
    )
    heavy = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, check=True
    )
    assert "[]" == heavy.stdout.strip()


def test_sample_tree_has_four_levels_and_an_ambiguous_name() -> None:
    """The sample tree: root, countries, cities, teams; "Sales" twice in Spain."""
    tree = SAMPLE_ORGS
    assert 4 == max(len(tree.path(org.id)) for org in tree)
    assert 2 == len(tree.candidates("Sales", within="es"))
    assert ("Acme", "Spain", "Madrid", "Sales") == tree.path("es-mad-sales")


def test_sample_actors() -> None:
    """The administrator sees the whole tree; the manager of Spain only Spain and
    may not assign admin."""
    tree, admin, manager = SAMPLE_ORGS, SAMPLE_ADMIN, SAMPLE_MANAGER
    assert len(tree) == len(tree.subtree_ids(admin.org_id))
    assert not tree.is_within("mx", manager.org_id)
    assert (Role.ADMIN, Role.MANAGER) == (admin.role, manager.role)
    assert not manager.may_assign(Role.ADMIN)
