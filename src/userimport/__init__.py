"""userimport: import users from a CSV upload into a multi-organization platform.

Read the upload whatever its encoding and delimiter, validate every row with clear
issues, apply the organization hierarchy's visibility rules, review, and commit all
rows or none. The documentation is in docs/.

Importing the package is cheap: it loads the value classes (rows, issues,
organizations, actors, stores) and nothing else. The flow, the outputs and the JSON
converter are imported the first time one of their names is used (PEP 562), and
with them chardet, email-validator and cattrs; ``from userimport import prepare``
works as usual.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from userimport.access import Actor, visible_users
from userimport.exceptions import (
    CommitBlocked,
    CommitConflict,
    HierarchyError,
    PreviewMismatch,
    SealError,
    StoreError,
    UserImportError,
)
from userimport.hierarchy import Organization, OrgTree
from userimport.issues import Issue, IssueCode, Severity
from userimport.persistence import StoredUser, UserStore, UserWrite
from userimport.schema import Role, UserRow
from userimport.stores.memory import MemoryStore

if TYPE_CHECKING:
    # What type checkers see; at run time these come from __getattr__ below.
    from userimport._seal import seal, unseal
    from userimport.flow import (
        Action,
        ImportOptions,
        ImportResult,
        OnExisting,
        Preview,
        ReviewRow,
        Summary,
        commit,
        prepare,
        validate_user,
    )
    from userimport.outputs import error_report, template
    from userimport.serialization import converter

__all__ = [
    "Action",
    "Actor",
    "CommitBlocked",
    "CommitConflict",
    "HierarchyError",
    "ImportOptions",
    "ImportResult",
    "Issue",
    "IssueCode",
    "MemoryStore",
    "OnExisting",
    "OrgTree",
    "Organization",
    "Preview",
    "PreviewMismatch",
    "ReviewRow",
    "Role",
    "SealError",
    "Severity",
    "StoreError",
    "StoredUser",
    "Summary",
    "UserImportError",
    "UserRow",
    "UserStore",
    "UserWrite",
    "commit",
    "converter",
    "error_report",
    "prepare",
    "seal",
    "template",
    "unseal",
    "validate_user",
    "visible_users",
]

#: The names imported on first use, and their modules: the flow loads reading and
#: validation (and so chardet and email-validator), the converter loads cattrs.
_LAZY: dict[str, str] = {
    "Action": "userimport.flow",
    "ImportOptions": "userimport.flow",
    "ImportResult": "userimport.flow",
    "OnExisting": "userimport.flow",
    "Preview": "userimport.flow",
    "ReviewRow": "userimport.flow",
    "Summary": "userimport.flow",
    "commit": "userimport.flow",
    "prepare": "userimport.flow",
    "validate_user": "userimport.flow",
    "error_report": "userimport.outputs",
    "template": "userimport.outputs",
    "converter": "userimport.serialization",
    "seal": "userimport._seal",
    "unseal": "userimport._seal",
}

# Defined for run time only, so that type checkers keep reporting a misspelt name
# instead of typing every unknown attribute as this function's result.
if not TYPE_CHECKING:

    def __getattr__(name):
        """Import a lazily exported name's module and keep the name (PEP 562)."""
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    """The module's names, the ones not imported yet included."""
    return sorted(set(globals()) | set(__all__))
