"""userimport: import users from a CSV upload into a multi-organization platform."""

from userimport.access import Actor
from userimport.exceptions import (
    CommitBlocked,
    CommitConflict,
    HierarchyError,
    StoreError,
    UserImportError,
)
from userimport.issues import Issue, IssueCode, Severity
from userimport.persistence import StoredUser, UserStore
from userimport.schema import Role, UserRow

__all__ = [
    "Actor",
    "CommitBlocked",
    "CommitConflict",
    "HierarchyError",
    "Issue",
    "IssueCode",
    "Role",
    "Severity",
    "StoreError",
    "StoredUser",
    "UserImportError",
    "UserRow",
    "UserStore",
]
