"""The user row schema: columns, header aliases, roles, keys (SPEC §2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from userimport import Role, UserRow
from userimport.schema import (
    COLUMNS,
    HEADER_ALIASES,
    REQUIRED_COLUMNS,
    column_for_header,
    email_key,
    header_key,
)


def test_columns_are_in_template_order() -> None:
    """The canonical columns and the required ones are fixed by the spec."""
    assert (
        "first_name",
        "last_name",
        "email",
        "organization",
        "role",
        "groups",
        "language",
    ) == COLUMNS
    assert ("first_name", "last_name", "email") == REQUIRED_COLUMNS


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("First name", "first_name"),
        ("Given name", "first_name"),
        ("Nombre", "first_name"),
        ("Surname", "last_name"),
        ("Apellidos", "last_name"),
        ("E-mail", "email"),
        ("Email address", "email"),
        ("Correo electrónico", "email"),
        ("Organisation", "organization"),
        ("Organización", "organization"),
        ("Rol", "role"),
        ("Grupos", "groups"),
        ("Idioma", "language"),
        ("Locale", "language"),
        ("\ufeffFIRST_NAME", "first_name"),
        ("e.mail", "email"),
        ("Notes", None),
        ("", None),
    ],
)
def test_headers_map_to_canonical_columns(header: str, column: str | None) -> None:
    """English and Spanish aliases are accepted, whatever case, accents or BOM."""
    assert column == column_for_header(header)


def test_aliases_do_not_collide() -> None:
    """No alias names two columns."""
    seen: dict[str, str] = {}
    for column, aliases in HEADER_ALIASES.items():
        for alias in aliases:
            key = header_key(alias)
            assert seen.setdefault(key, column) == column


@given(
    st.sampled_from([a for aliases in HEADER_ALIASES.values() for a in aliases]),
    st.lists(st.sampled_from([" ", "_", "-", "."]), max_size=3),
    st.booleans(),
)
def test_header_spelling_is_forgiving(
    alias: str, noise: list[str], upper: bool
) -> None:
    """Case and the characters ``space _ - .`` never change the matched column."""
    written = "".join(noise) + (alias.upper() if upper else alias.lower())
    assert column_for_header(alias) == column_for_header(written)


def test_role_ranks_follow_declaration_order() -> None:
    """Roles rank learner < instructor < manager < admin, and are str enums."""
    assert [0, 1, 2, 3] == [role.rank for role in Role]
    typed: str = "admin"
    assert typed == Role.ADMIN
    assert "manager" == str(Role.MANAGER)


def test_email_key_folds_case_and_compatibility_forms() -> None:
    """The key is NFKC then case-folded whole, so case variants share it."""
    assert email_key("Ana@Example.com") == email_key("ana@example.COM")
    assert "strasse@x.example" == email_key("STRAßE@x.example")
    assert "ab@x.example" == email_key("ａb@x.example")


def test_user_row_normalises_groups_and_role() -> None:
    """Groups lose duplicates and empties (order kept); roles become enum members."""
    user = UserRow("A", "B", "A@x.example", "root", "manager", ["x", "", "y", "x"])
    assert ("x", "y") == user.groups
    assert Role.MANAGER is user.role
    assert "a@x.example" == user.key


group_names = st.lists(st.sampled_from(["", "A", "B", "Sales"]), max_size=5)


@given(group_names)
def test_groups_are_distinct_non_empty_names_in_order(names: list[str]) -> None:
    """UserRow's groups drop empty names and repeats, keeping the first, for tuples,
    lists and one-pass iterables alike."""
    expected = tuple(dict.fromkeys(name for name in names if name))
    for value in (tuple(names), names, iter(names)):
        assert expected == UserRow("A", "B", "a@x.example", "o", groups=value).groups


@pytest.mark.parametrize("value", [*Role, *(role.value for role in Role)])
def test_role_converter_gives_the_member(value: Role | str) -> None:
    """UserRow's role converter gives the very member ``Role(value)``."""
    assert Role(value) is UserRow("A", "B", "a@x.example", "o", role=value).role


def test_role_converter_refuses_unknown_roles() -> None:
    """An unknown role is refused as Role refuses it."""
    with pytest.raises(ValueError, match="boss"):
        UserRow("A", "B", "a@x.example", "o", role="boss")
