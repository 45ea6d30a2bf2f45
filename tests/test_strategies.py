"""The hypothesis strategies users test their own code with."""

from __future__ import annotations

import codecs
from collections.abc import Callable
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, Phase, event, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from userimport import Actor, IssueCode, MemoryStore, OrgTree, Role, UserRow, prepare
from userimport._drawn_files import encodings
from userimport._hypothesis_hook import _hypothesis_setup_hook
from userimport.strategies import (
    SAMPLE_MANAGER,
    SAMPLE_ORGS,
    ValidUpload,
    csv_files,
    defective_csv_files,
    emails,
    org_trees,
    user_rows,
    valid_uploads,
)
from userimport.validation import normalize_email, validate_values

# Drawing whole files costs more than hypothesis expects of a strategy.
slow_data = settings(suppress_health_check=[HealthCheck.too_slow])

T = TypeVar("T")


def first(strategy: st.SearchStrategy[T], condition: Callable[[T], bool]) -> T:
    """The first drawn value that meets ``condition``, without shrinking it
    (shrinking whole files would take minutes), the same on every run."""
    quick = settings(
        database=None, phases=[Phase.generate], derandomize=True, max_examples=500
    )
    return find(strategy, condition, settings=quick)


def cells_of(user: UserRow) -> dict[str, str]:
    """A user's fields as the raw cells of a row."""
    return {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "organization": user.organization,
        "role": user.role.value,
        "groups": "; ".join(user.groups),
        "language": user.language or "",
    }


@given(user_rows())
def test_user_rows_pass_validation_unchanged(user: UserRow) -> None:
    """Validating a drawn user's fields gives back exactly those fields."""
    parsed, issues = validate_values(cells_of(user))
    assert () == issues
    assert parsed is not None
    assert (
        user.first_name,
        user.last_name,
        user.email,
        user.organization,
        user.role,
        user.groups or None,
        user.language,
    ) == (
        parsed.first_name,
        parsed.last_name,
        parsed.email,
        parsed.organization,
        parsed.role,
        parsed.groups,
        parsed.language,
    )


@given(user_rows(SAMPLE_ORGS, within="es", max_role=Role.INSTRUCTOR))
def test_user_rows_keep_to_a_subtree_and_a_role_ceiling(user: UserRow) -> None:
    """``within`` and ``max_role`` bound the organization and the role drawn."""
    assert SAMPLE_ORGS.is_within(user.organization, "es")
    assert user.role in (Role.LEARNER, Role.INSTRUCTOR)


def test_user_rows_refuse_a_scope_they_cannot_draw_from() -> None:
    """``within`` needs a tree that holds it."""
    with pytest.raises(ValueError, match="within needs orgs"):
        user_rows(within="es")
    with pytest.raises(ValueError, match="'nowhere' is not in the tree"):
        user_rows(SAMPLE_ORGS, within="nowhere")


@given(emails())
def test_emails_are_valid_and_normalised(address: str) -> None:
    """Every drawn address is valid, and is its own normal form."""
    result = normalize_email(address)
    assert isinstance(result, tuple)
    assert address == result[0]


def test_emails_include_internationalised_addresses() -> None:
    """Unlike ``st.emails()``, Unicode local parts and IDN domains are drawn."""
    local = first(emails(), lambda a: not a.partition("@")[0].isascii())
    domain = first(emails(), lambda a: not a.partition("@")[2].isascii())
    assert not local.isascii()
    assert not domain.isascii()


@given(org_trees(max_size=6))
def test_org_trees_are_valid_trees(tree: OrgTree) -> None:
    """A drawn tree has 1 to ``max_size`` organizations, each under a root."""
    assert 1 <= len(tree) <= 6
    roots = {org.id for org in tree.roots}
    assert all(tree.path(org.id) for org in tree)
    assert all(any(tree.is_within(org.id, root) for root in roots) for org in tree)


def test_org_trees_draw_shared_names_and_several_roots() -> None:
    """Names repeat (as "Sales" does in real trees) and forests occur."""
    shared = first(org_trees(), lambda t: len({o.name for o in t}) < len(t))
    forest = first(org_trees(), lambda t: len(t.roots) > 1)
    assert len({org.name for org in shared}) < len(shared)
    assert len(forest.roots) > 1


def test_sizes_must_be_positive() -> None:
    """A size below one is misuse."""
    with pytest.raises(ValueError, match="at least 1"):
        org_trees(max_size=0)
    with pytest.raises(ValueError, match="at least 1"):
        valid_uploads(max_users=0)


BOMS = {
    "utf-8-sig": codecs.BOM_UTF8,
    "utf-16-le-bom": codecs.BOM_UTF16_LE,
    "utf-16-be-bom": codecs.BOM_UTF16_BE,
    "utf-32-le-bom": codecs.BOM_UTF32_LE,
    "utf-32-be-bom": codecs.BOM_UTF32_BE,
}


@slow_data
@given(valid_uploads())
def test_valid_uploads_prepare_with_no_error_and_give_their_users(
    upload: ValidUpload,
) -> None:
    """Every drawn file prepares with no error against its tree and actor and an
    empty store, and holds exactly the users drawn, in order.

    A cp1252 file's encoding is a guess (``encoding_guessed``); when the guess is
    another code page, accented letters differ, so only the absence of errors is
    checked then.
    """
    event(upload.encoding)
    preview = prepare(
        upload.data, actor=upload.actor, orgs=upload.orgs, store=MemoryStore()
    )
    assert [] == [issue for issue in preview.issues if issue.is_error]
    assert upload.data.startswith(BOMS.get(upload.encoding, b""))
    assert upload.delimiter == preview.delimiter
    if upload.encoding != "cp1252" or preview.encoding == "cp1252":
        assert list(upload.users) == [row.user for row in preview.rows]


@slow_data
@given(csv_files())
def test_csv_files_prepare_with_no_error(file: tuple[bytes, OrgTree, Actor]) -> None:
    """``(data, tree, actor)``; ``data`` prepares with no error against
    ``tree``, ``actor`` and an empty MemoryStore."""
    data, tree, actor = file
    preview = prepare(data, actor=actor, orgs=tree, store=MemoryStore())
    assert preview.ok
    assert preview.summary.create == preview.summary.total > 0


@slow_data
@given(defective_csv_files())
def test_defective_files_produce_exactly_their_codes(
    file: tuple[bytes, frozenset[IssueCode]],
) -> None:
    """Against the sample tree, the manager of Spain and an empty store, a drawn
    defective file gives exactly the issue codes drawn with it."""
    data, codes = file
    for code in codes:
        event(code.value)
    preview = prepare(data, actor=SAMPLE_MANAGER, orgs=SAMPLE_ORGS, store=MemoryStore())
    assert codes == {issue.code for issue in preview.issues}
    assert not preview.ok or codes <= {
        IssueCode.EXAMPLE_ROW,
        IssueCode.UNKNOWN_COLUMNS,
        IssueCode.ENCODING_GUESSED,
    }


def test_setup_hook_registers_the_types_for_from_type() -> None:
    """After the entry point's hook, ``st.from_type`` draws valid users and trees."""
    _hypothesis_setup_hook()

    @settings(max_examples=10)
    @given(st.from_type(UserRow), st.from_type(OrgTree))
    def check(user: UserRow, tree: OrgTree) -> None:
        assert () == validate_values(cells_of(user))[1]
        assert len(tree) >= 1

    check()


def test_cp1252_uploads_reference_organizations_in_ascii() -> None:
    """A cp1252 file's encoding is guessed, and a guess of another code page would
    misread an accented organization name (a lone "Ã" as cp1250's "Ă"), which then
    names no organization: valid uploads are drawn in cp1252 only when their
    organization references are ASCII (the file below once drew such a guess)."""
    text = "first_name,last_name,email,organization\r\nAna,Ana,0@0.com,Ã\r\n"
    with pytest.raises(NoSuchExample):
        find(
            encodings(text, ",", ascii_references=False),
            lambda name: name == "cp1252",
        )
    assert "cp1252" == find(
        encodings(text, ",", ascii_references=True), lambda name: name == "cp1252"
    )
