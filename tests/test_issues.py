"""Issues and exceptions."""

from __future__ import annotations

from userimport import (
    Actor,
    CommitBlocked,
    CommitConflict,
    HierarchyError,
    Issue,
    IssueCode,
    Role,
    Severity,
    StoreError,
    UserImportError,
)
from userimport.issues import FILE_ERROR_CODES


def test_issue_constructors_set_the_severity() -> None:
    """``Issue.error`` and ``Issue.warning`` build issues of that severity."""
    error = Issue.error(IssueCode.MISSING_VALUE, "Fill it.", row=3, column="email")
    warning = Issue.warning("unknown_columns", "Ignored.")
    assert (Severity.ERROR, True, 3, "email") == (
        error.severity,
        error.is_error,
        error.row,
        error.column,
    )
    assert (IssueCode.UNKNOWN_COLUMNS, Severity.WARNING, False) == (
        warning.code,
        warning.severity,
        warning.is_error,
    )


def test_codes_are_string_enums_with_descriptions() -> None:
    """Every code compares equal to its string, prints as it, and is described."""
    for code in IssueCode:
        assert code == code.value
        assert code.value == str(code)
        assert code.name.lower() == code.value
        assert code.description.endswith((".", ")"))
    assert "error" == str(Severity.ERROR)


def test_file_error_codes_are_the_spec_list() -> None:
    """The codes that block the whole import are exactly the file-level errors."""
    assert {
        "empty_file",
        "file_too_large",
        "binary_file",
        "undecodable",
        "malformed_csv",
        "missing_columns",
        "duplicate_columns",
        "no_rows",
        "too_many_rows",
        "mixed_encodings",
    } == {code.value for code in FILE_ERROR_CODES}


def test_exceptions_share_one_base_and_carry_their_data() -> None:
    """Every exception is a UserImportError and carries its typed fields."""
    assert ("a", "b") == HierarchyError("bad", ("a", "b")).ids
    assert (4,) == CommitBlocked("no", (4,)).rows
    conflict = CommitConflict("changed", rows=(2,), keys=("a@x.example",))
    assert ((2,), ("a@x.example",)) == (conflict.rows, conflict.keys)
    for exc in (HierarchyError("x"), CommitBlocked("x"), conflict, StoreError("x")):
        assert isinstance(exc, UserImportError)


def test_actor_may_assign_roles_up_to_its_own() -> None:
    """An actor assigns roles up to its own rank, never above."""
    manager = Actor("es", "manager")
    assert [True, True, True, False] == [manager.may_assign(r) for r in Role]
    assert Role.ADMIN is Actor("root").role
