"""userimport: import users from a CSV upload into a multi-organization platform.

Read the upload whatever its encoding and delimiter, validate every row with clear
issues, apply the organization hierarchy's visibility rules, review, and commit all
rows or none. The documentation is in docs/.
"""

from userimport.access import Actor, visible_users
from userimport.exceptions import (
    CommitBlocked,
    CommitConflict,
    HierarchyError,
    StoreError,
    UserImportError,
)
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
from userimport.hierarchy import Organization, OrgTree
from userimport.issues import Issue, IssueCode, Severity
from userimport.outputs import error_report, template
from userimport.persistence import StoredUser, UserStore, UserWrite
from userimport.schema import Role, UserRow
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
    "MemoryStore",
    "OnExisting",
    "OrgTree",
    "Organization",
    "Preview",
    "ReviewRow",
    "Role",
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
    "template",
    "validate_user",
    "visible_users",
]
