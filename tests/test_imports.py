"""Importing is cheap and free of cycles: the package embeds in web servers and in
hosts' pytest runs.

Each check runs in a fresh interpreter (``sys.executable -c ...``), because what a
module imports, and whether it can be imported first, depends on what the process
has imported before; this test process has imported everything.
"""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import entry_points
from pathlib import Path

import pytest

import userimport

pytest_plugins = ["pytester"]

#: Every module of the package, private ones included: each must import first.
MODULES = sorted(
    module.name
    for module in pkgutil.walk_packages(userimport.__path__, prefix="userimport.")
)

#: Third-party packages that ``import userimport`` must not load.
HEAVY = ("cattrs", "chardet", "email_validator", "idna", "sqlalchemy")

#: The modules of the flow, which the pytest plugin and the hypothesis hook must not
#: load when they register.
FLOW = (
    "userimport.decoding",
    "userimport.flow",
    "userimport.review",
    "userimport.validation",
)


def environment() -> dict[str, str]:
    """This process's environment, with hypothesis' entry points switched on (they
    are what made importing the strategies first fail)."""
    env = dict(os.environ)
    env.pop("HYPOTHESIS_NO_PLUGINS", None)
    return env


def run(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter, in ``cwd``."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment(),
        check=False,
    )


def loaded(code: str, cwd: Path) -> object:
    """What ``code`` prints as JSON on its last line, run in a fresh interpreter."""
    result = run(code, cwd)
    assert "" == result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def which(names: tuple[str, ...]) -> str:
    """Code printing, as JSON, which of ``names`` are in ``sys.modules``."""
    return f"print(json.dumps([m for m in {names!r} if m in sys.modules]))"


@pytest.fixture(scope="module")
def imported_first(
    tmp_path_factory: pytest.TempPathFactory,
) -> Mapping[str, subprocess.CompletedProcess[str]]:
    """Each module imported first in a fresh interpreter, the interpreters run
    side by side."""
    cwd = tmp_path_factory.mktemp("import-first")
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = pool.map(lambda module: run(f"import {module}", cwd), MODULES)
        return dict(zip(MODULES, results, strict=True))


def test_the_public_modules_are_all_found() -> None:
    """The discovered modules include every public module of the package, so the
    import-first test below covers them."""
    public = {
        "userimport.access",
        "userimport.cli",
        "userimport.decoding",
        "userimport.exceptions",
        "userimport.flow",
        "userimport.formulas",
        "userimport.hierarchy",
        "userimport.issues",
        "userimport.outputs",
        "userimport.persistence",
        "userimport.reading",
        "userimport.review",
        "userimport.schema",
        "userimport.serialization",
        "userimport.sql",
        "userimport.stores.memory",
        "userimport.strategies",
        "userimport.testing",
        "userimport.validation",
    }
    assert set() == public - set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_every_module_imports_first(
    module: str, imported_first: Mapping[str, subprocess.CompletedProcess[str]]
) -> None:
    """``import <module>`` works as the first import of a fresh interpreter: no
    module depends on another having been imported before it, and no import cycle
    (such as the strategies, hypothesis and its entry point) breaks it."""
    result = imported_first[module]
    assert (0, "") == (result.returncode, result.stderr)


def test_strategies_import_first_with_the_hypothesis_hook(tmp_path: Path) -> None:
    """``from userimport.strategies import csv_files`` in a fresh interpreter, with
    the package's hypothesis entry point active, gives the strategy."""
    code = "from userimport.strategies import csv_files; print(csv_files.__name__)"
    result = run(code, tmp_path)
    assert ("", "csv_files") == (result.stderr, result.stdout.strip())


def test_importing_the_package_loads_no_heavy_dependency(tmp_path: Path) -> None:
    """``import userimport`` loads neither chardet, email-validator (nor its idna),
    cattrs nor SQLAlchemy, and none of the flow."""
    code = f"import json, sys, userimport\n{which(HEAVY + FLOW)}"
    assert [] == loaded(code, tmp_path)


def test_importing_the_package_loads_none_of_its_modules(tmp_path: Path) -> None:
    """``import userimport`` loads the package alone; a value class loads its own
    module (and what that imports), not the flow."""
    code = """
import json, sys, userimport
before = sorted(m for m in sys.modules if m.startswith("userimport"))
userimport.UserRow
after = sorted(m for m in sys.modules if m.startswith("userimport"))
print(json.dumps([before, after]))
"""
    assert [["userimport"], ["userimport", "userimport.schema"]] == loaded(
        code, tmp_path
    )


def test_the_converter_loads_cattrs_when_used(tmp_path: Path) -> None:
    """``userimport.converter`` imports cattrs on first use, and only cattrs."""
    code = f"import json, sys, userimport\nuserimport.converter\n{which(HEAVY)}"
    assert ["cattrs"] == loaded(code, tmp_path)


PREPARE = """
import json, sys
import userimport

orgs = userimport.OrgTree([userimport.Organization("acme", "Acme")])
actor = userimport.Actor("acme", userimport.Role.ADMIN)
data = "first_name;last_name;email\\r\\nAna;{name};ana@example.com\\r\\n"
preview = userimport.prepare(
    data.encode({encoding!r}), actor=actor, orgs=orgs, store=userimport.MemoryStore()
)
assert preview.ok, preview.issues
"""


def test_preparing_an_upload_loads_email_validator(tmp_path: Path) -> None:
    """Preparing a UTF-8 upload validates its addresses with email-validator (and
    idna), imported then; chardet is never needed for UTF-8."""
    code = PREPARE.format(name="Núñez", encoding="utf-8") + which(HEAVY)
    assert ["email_validator", "idna"] == loaded(code, tmp_path)


def test_a_legacy_encoded_upload_loads_chardet(tmp_path: Path) -> None:
    """A legacy-encoded upload whose reading is a close call (a Croatian name in
    cp1250, which cp1252 also decodes) consults chardet, imported then."""
    code = PREPARE.format(name="Čudić", encoding="cp1250") + which(("chardet",))
    assert ["chardet"] == loaded(code, tmp_path)


def test_every_exported_name_resolves() -> None:
    """Every name of the sorted ``__all__`` has a module to be imported from, is an
    attribute of the package, comes with ``from userimport import *``, and is
    listed by ``dir(userimport)``."""
    namespace: dict[str, object] = {}
    exec("from userimport import *", namespace)
    assert sorted(userimport.__all__) == userimport.__all__
    assert userimport.__all__ == sorted(userimport._LAZY)
    assert [] == [name for name in userimport.__all__ if name not in namespace]
    assert [] == [
        name for name in userimport.__all__ if getattr(userimport, name) is None
    ]
    assert set() == set(userimport.__all__) - set(dir(userimport))


def test_an_unknown_name_is_an_attribute_error() -> None:
    """A name the package does not export raises ``AttributeError``, as for any
    module (so ``hasattr`` and ``getattr`` with a default work)."""
    with pytest.raises(AttributeError, match="no_such_name"):
        userimport.no_such_name  # type: ignore[attr-defined]  # noqa: B018
    assert "default" == getattr(userimport, "no_such_name", "default")


def test_the_plugin_and_the_hook_load_none_of_the_flow(tmp_path: Path) -> None:
    """Loading the pytest plugin and importing hypothesis (which runs the package's
    hypothesis hook) imports none of the flow and not the strategies; the first
    ``st.from_type(UserRow)`` then imports the strategies and draws a user."""
    hooks = [ep.value for ep in entry_points(group="hypothesis")]
    assert "userimport._hypothesis_hook:_hypothesis_setup_hook" in hooks
    code = f"""
import json, sys
import pytest
import hypothesis
import userimport._pytest_plugin
import userimport._hypothesis_hook
before = [m for m in {(*FLOW, "userimport.strategies")!r} if m in sys.modules]
from hypothesis import find, settings, strategies as st
user = find(st.from_type(userimport.UserRow), bool, settings=settings(database=None))
after = "userimport.strategies" in sys.modules
print(json.dumps([before, after, type(user).__name__]))
"""
    assert [[], True, "UserRow"] == loaded(code, tmp_path)


TRIVIAL_TEST = """
import json
import sys
from pathlib import Path


def test_trivial():
    modules = sorted(m for m in sys.modules if m.startswith("userimport"))
    Path("modules.json").write_text(json.dumps(modules))
"""


def test_a_host_pytest_run_loads_none_of_the_flow(pytester: pytest.Pytester) -> None:
    """A host's pytest run with the package installed (its ``pytest11`` plugin
    active) loads the value classes and the plugin, none of the flow."""
    pytester.makepyfile(test_trivial=TRIVIAL_TEST)
    registered = any(
        ep.value == "userimport._pytest_plugin" for ep in entry_points(group="pytest11")
    )
    args = [] if registered else ["-p", "userimport._pytest_plugin"]
    result = pytester.runpytest_subprocess(*args, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    modules = json.loads((pytester.path / "modules.json").read_text())
    assert "userimport._pytest_plugin" in modules
    assert [] == [m for m in FLOW if m in modules]


SQL_WITHOUT_SQLALCHEMY = """
import sys


class NoSQLAlchemy:
    # As if SQLAlchemy were not installed: no finder finds it.
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "sqlalchemy":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NoSQLAlchemy())
try:
    import userimport.sql
except ModuleNotFoundError as error:
    print(type(error).__name__, "userimport[sql]" in str(error))
"""


def test_sql_without_sqlalchemy_says_to_install_the_extra(tmp_path: Path) -> None:
    """Without SQLAlchemy, ``import userimport.sql`` raises ``ModuleNotFoundError``
    (an ``ImportError``) whose message says to install ``userimport[sql]``."""
    result = run(SQL_WITHOUT_SQLALCHEMY, tmp_path)
    assert ("", "ModuleNotFoundError True") == (result.stderr, result.stdout.strip())
