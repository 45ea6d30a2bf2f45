"""userimport: import users from a CSV upload into a multi-organization platform.

Read the upload whatever its encoding and delimiter, validate every row with clear
issues, apply the organization hierarchy's visibility rules, review, and commit all
rows or none. The documentation is in docs/.

Importing the package loads no module of it: each name below is imported from its
module the first time it is used (PEP 562), so a web server or a test run pays for
what it uses. ``from userimport import prepare`` works as usual. The value classes
(rows, issues, organizations, actors, stores) need attrs only; the flow loads the
reading and the validation, which import chardet and email-validator when an upload
first needs them; the converter loads cattrs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # What type checkers see; at run time the names come from __getattr__ below.
    from userimport._seal import seal, unseal
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
    from userimport.flow import commit, prepare, revise, validate_user
    from userimport.hierarchy import Organization, OrgTree
    from userimport.issues import Issue, IssueCode, Severity
    from userimport.outputs import error_report, template
    from userimport.persistence import (
        LookAlikeUserStore,
        SearchableUserStore,
        StoredUser,
        UserStore,
        UserWrite,
    )
    from userimport.preview import ImportOptions, ImportResult, Preview, Summary
    from userimport.review import Action, OnExisting, ReviewRow
    from userimport.schema import Role, UserRow, email_key
    from userimport.serialization import converter
    from userimport.stores.memory import MemoryStore

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
    "LookAlikeUserStore",
    "MemoryStore",
    "OnExisting",
    "OrgTree",
    "Organization",
    "Preview",
    "PreviewMismatch",
    "ReviewRow",
    "Role",
    "SealError",
    "SearchableUserStore",
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
    "email_key",
    "error_report",
    "prepare",
    "revise",
    "seal",
    "template",
    "unseal",
    "validate_user",
    "visible_users",
]

#: The module of each exported name, imported the first time the name is used.
_LAZY: dict[str, str] = {
    "Action": "userimport.review",
    "Actor": "userimport.access",
    "CommitBlocked": "userimport.exceptions",
    "CommitConflict": "userimport.exceptions",
    "HierarchyError": "userimport.exceptions",
    "ImportOptions": "userimport.preview",
    "ImportResult": "userimport.preview",
    "Issue": "userimport.issues",
    "IssueCode": "userimport.issues",
    "LookAlikeUserStore": "userimport.persistence",
    "MemoryStore": "userimport.stores.memory",
    "OnExisting": "userimport.review",
    "OrgTree": "userimport.hierarchy",
    "Organization": "userimport.hierarchy",
    "Preview": "userimport.preview",
    "PreviewMismatch": "userimport.exceptions",
    "ReviewRow": "userimport.review",
    "Role": "userimport.schema",
    "SealError": "userimport.exceptions",
    "SearchableUserStore": "userimport.persistence",
    "Severity": "userimport.issues",
    "StoreError": "userimport.exceptions",
    "StoredUser": "userimport.persistence",
    "Summary": "userimport.preview",
    "UserImportError": "userimport.exceptions",
    "UserRow": "userimport.schema",
    "UserStore": "userimport.persistence",
    "UserWrite": "userimport.persistence",
    "commit": "userimport.flow",
    "converter": "userimport.serialization",
    "email_key": "userimport.schema",
    "error_report": "userimport.outputs",
    "prepare": "userimport.flow",
    "revise": "userimport.flow",
    "seal": "userimport._seal",
    "template": "userimport.outputs",
    "unseal": "userimport._seal",
    "validate_user": "userimport.flow",
    "visible_users": "userimport.access",
}

# Defined for run time only, so that type checkers keep reporting a misspelt name
# instead of typing every unknown attribute as this function's result.
if not TYPE_CHECKING:

    def __getattr__(name):
        """Import an exported name's module and keep the name (PEP 562)."""
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    """The module's names, the ones not imported yet included."""
    return sorted(set(globals()) | set(__all__))
