"""pytest fixtures for the tests of applications that use userimport.

Installing ``userimport`` registers this module under pytest's ``pytest11`` entry
point, so pytest loads it into every test run of that environment, whether the run
uses it or not. Loading it imports pytest and no module of the library (``import
userimport`` loads none): not the value classes, not the flow, not hypothesis, not
SQLAlchemy. Each fixture imports what it needs the first time it is used (the
sample tree and actors come from ``userimport._samples``), and no fixture needs
hypothesis.

The fixtures, named with a ``userimport_`` prefix so they never clash with a
project's own:

- ``userimport_store``: a new, empty :class:`~userimport.stores.memory.MemoryStore`.
- ``userimport_orgs``: the sample organization tree, four levels, "Sales" three
  times.
- ``userimport_admin``: an administrator of the tree's root.
- ``userimport_manager``: a manager of Spain.

The same samples are exported by :mod:`userimport.strategies` as ``SAMPLE_ORGS``,
``SAMPLE_ADMIN`` and ``SAMPLE_MANAGER``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # pragma: no cover - imported by the fixtures when used
    from userimport.access import Actor
    from userimport.hierarchy import OrgTree
    from userimport.stores.memory import MemoryStore

__all__ = [
    "userimport_admin",
    "userimport_manager",
    "userimport_orgs",
    "userimport_store",
]


@pytest.fixture
def userimport_store() -> MemoryStore:
    """A new, empty MemoryStore for each test."""
    from userimport.stores.memory import MemoryStore

    return MemoryStore()


@pytest.fixture
def userimport_orgs() -> OrgTree:
    """The sample organization tree: four levels, "Sales" twice under Spain."""
    from userimport._samples import SAMPLE_ORGS

    return SAMPLE_ORGS


@pytest.fixture
def userimport_admin() -> Actor:
    """An administrator of the sample tree's root: sees every user."""
    from userimport._samples import SAMPLE_ADMIN

    return SAMPLE_ADMIN


@pytest.fixture
def userimport_manager() -> Actor:
    """A manager of Spain in the sample tree: may not assign admin."""
    from userimport._samples import SAMPLE_MANAGER

    return SAMPLE_MANAGER
