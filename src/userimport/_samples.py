"""The sample organization tree and actors of the pytest plugin and the strategies.

One home for the samples: the plugin's fixtures (``userimport_orgs``,
``userimport_admin``, ``userimport_manager``) return them, and
:mod:`userimport.strategies` exports them as ``SAMPLE_ORGS``, ``SAMPLE_ADMIN`` and
``SAMPLE_MANAGER``, against which ``defective_csv_files`` is judged. This module
imports the value classes only (no hypothesis, no flow), so a fixture that uses it
stays cheap.
"""

from __future__ import annotations

from typing import Final

from userimport.access import Actor
from userimport.hierarchy import Organization, OrgTree
from userimport.schema import Role

__all__ = ["SAMPLE_ADMIN", "SAMPLE_MANAGER", "SAMPLE_ORGS"]

#: A four-level organization tree for examples and tests::
#:
#:     acme  Acme
#:     ├── es  Spain
#:     │   ├── es-mad  Madrid
#:     │   │   ├── es-mad-sales    Sales
#:     │   │   └── es-mad-support  Support
#:     │   └── es-bcn  Barcelona
#:     │       └── es-bcn-sales    Sales
#:     └── mx  Mexico
#:         └── mx-cdmx  Ciudad de México
#:             └── mx-cdmx-sales   Sales
#:
#: "Sales" names three teams, two of them in Spain, so it is ambiguous for a
#: manager of Spain and for the root's administrator. The tree is immutable, so
#: every test may share it.
SAMPLE_ORGS: Final = OrgTree(
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

#: An administrator of the root of :data:`SAMPLE_ORGS`: sees every user.
SAMPLE_ADMIN: Final = Actor("acme", Role.ADMIN)

#: A manager of Spain in :data:`SAMPLE_ORGS`: sees Spain, Madrid, Barcelona and
#: their teams, not Mexico, and may assign the roles learner, instructor and
#: manager, not admin.
SAMPLE_MANAGER: Final = Actor("es", Role.MANAGER)
