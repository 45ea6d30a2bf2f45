"""pytest fixtures for the tests of applications that use userimport.

Installing ``userimport`` registers this module under pytest's ``pytest11`` entry
point, so pytest loads it into every test run of that environment, whether the run
uses it or not. It therefore imports nothing but pytest when it loads: each fixture
imports what it needs the first time it is used, and no fixture needs hypothesis.

The fixtures, named with a ``userimport_`` prefix so they never clash with a
project's own:

- ``userimport_store``: a new, empty :class:`~userimport.stores.memory.MemoryStore`.
- ``userimport_orgs``: the sample organization tree (:func:`sample_orgs`).
- ``userimport_admin``: an administrator of the tree's root (:func:`sample_admin`).
- ``userimport_manager``: a manager of Spain (:func:`sample_manager`).

The same samples are exported by :mod:`userimport.strategies` as ``SAMPLE_ORGS``,
``SAMPLE_ADMIN`` and ``SAMPLE_MANAGER``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # pragma: no cover - imported by the fixtures when used
    from userimport.access import Actor
    from userimport.hierarchy import OrgTree
    from userimport.stores.memory import MemoryStore

__all__ = [
    "sample_admin",
    "sample_manager",
    "sample_orgs",
    "userimport_admin",
    "userimport_manager",
    "userimport_orgs",
    "userimport_store",
]


@functools.cache
def sample_orgs() -> OrgTree:
    """A four-level organization tree for examples and tests.

    ::

        acme  Acme
        ├── es  Spain
        │   ├── es-mad  Madrid
        │   │   ├── es-mad-sales    Sales
        │   │   └── es-mad-support  Support
        │   └── es-bcn  Barcelona
        │       └── es-bcn-sales    Sales
        └── mx  Mexico
            └── mx-cdmx  Ciudad de México
                └── mx-cdmx-sales   Sales

    "Sales" names three teams, two of them in Spain, so it is ambiguous for a
    manager of Spain and for the root's administrator. The tree is immutable and
    built once.
    """
    from userimport.hierarchy import Organization, OrgTree

    return OrgTree(
        [
            Organization("acme", "Acme"),
            Organization("es", "Spain", "acme"),
            Organization("es-mad", "Madrid", "es"),
            Organization("es-mad-sales", "Sales", "es-mad"),
            Organization("es-mad-support", "Support", "es-mad"),
            Organization("es-bcn", "Barcelona", "es"),
            Organization("es-bcn-sales", "Sales", "es-bcn"),
            Organization("mx", "Mexico", "acme"),
            Organization("mx-cdmx", "Ciudad de México", "mx"),
            Organization("mx-cdmx-sales", "Sales", "mx-cdmx"),
        ]
    )


def sample_admin() -> Actor:
    """An administrator of the root of :func:`sample_orgs`: sees every user."""
    from userimport.access import Actor
    from userimport.schema import Role

    return Actor("acme", Role.ADMIN)


def sample_manager() -> Actor:
    """A manager of Spain in :func:`sample_orgs`.

    It sees Spain, Madrid, Barcelona and their teams, not Mexico, and may assign the
    roles learner, instructor and manager, not admin.
    """
    from userimport.access import Actor
    from userimport.schema import Role

    return Actor("es", Role.MANAGER)


@pytest.fixture
def userimport_store() -> MemoryStore:
    """A new, empty MemoryStore for each test."""
    from userimport.stores.memory import MemoryStore

    return MemoryStore()


@pytest.fixture
def userimport_orgs() -> OrgTree:
    """The sample organization tree (:func:`sample_orgs`)."""
    return sample_orgs()


@pytest.fixture
def userimport_admin() -> Actor:
    """An administrator of the sample tree's root (:func:`sample_admin`)."""
    return sample_admin()


@pytest.fixture
def userimport_manager() -> Actor:
    """A manager of Spain in the sample tree (:func:`sample_manager`)."""
    return sample_manager()
