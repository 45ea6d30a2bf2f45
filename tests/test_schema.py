"""The user row schema: columns, header aliases, roles, keys."""

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
    """The local part is NFKC then case-folded, so case variants share a key."""
    assert email_key("Ana@Example.com") == email_key("ana@example.COM")
    assert "strasse@x.example" == email_key("STRAßE@x.example")
    assert "ab@x.example" == email_key("ａb@x.example")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("x@bücher.de", "x@xn--bcher-kva.de"),
        ("x@BÜCHER.DE", "x@XN--BCHER-KVA.DE"),
        ("x@ＡＢＣ.com", "x@abc.com"),
        ("x@a．com", "x@a.com"),
        ("x@例え.jp", "x@xn--r8jz45g.jp"),
        ("X@Σοφος.gr", "x@xn--0xaajbq.gr"),
    ],
)
def test_email_key_one_key_per_domain_spelling(first: str, second: str) -> None:
    """A domain written in Unicode, in A-labels or in another case keys alike."""
    assert email_key(first) == email_key(second)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("x@faß.de", "x@fass.de"),
        ("x@σοφος.gr", "x@σοφοσ.gr"),
        ("x@straße.de", "x@strasse.de"),
    ],
)
def test_email_key_keeps_different_domains_apart(first: str, second: str) -> None:
    """IDNA2008 keeps ß and final sigma: different registrable domains, different
    users, although a Unicode case fold would merge them."""
    assert email_key(first) != email_key(second)


def test_email_key_domain_is_the_lower_case_a_label() -> None:
    """The key's domain is ASCII: the A-label form of each label, lower-cased."""
    assert "josé@xn--bcher-kva.de" == email_key("JOSÉ@Bücher.DE")
    assert "x@xn--fa-hia.de" == email_key("x@faß.de")


def test_email_key_is_total() -> None:
    """Any text has a key: no "@" is all local part; a domain IDNA refuses is
    folded like a local part."""
    assert "ana" == email_key("ANA")
    assert "a@b@c" == email_key("A@B@C")
    assert "x@a_b.com" == email_key("X@A_B.COM")
    assert "x@é..com" == email_key("X@É..COM")
    assert "x@" == email_key("X@")


def reference_domain_key(domain: str) -> str:
    """The domain rule stated directly: IDNA2008 A-labels after UTS #46
    (non-transitional) mapping, lower-cased; NFKC + casefold when IDNA refuses."""
    import unicodedata

    import idna

    try:
        return idna.encode(domain, uts46=True).decode("ascii").lower()
    except idna.IDNAError:
        return unicodedata.normalize("NFKC", domain).casefold()


ascii_domains = (
    st.text(alphabet=st.characters(codec="ascii", exclude_characters="@"), max_size=30)
    | st.lists(
        st.text(alphabet="abcXYZ019-_", min_size=1, max_size=8), min_size=1, max_size=4
    ).map(".".join)
    | st.sampled_from(
        ["XN--BCHER-KVA.DE", "xn--a.com", "xn--zz.com", "a--b.com", "-a.com", "a.com."]
    )
)


@given(ascii_domains)
def test_email_key_ascii_shortcut_is_the_idna_rule(domain: str) -> None:
    """An ASCII domain's key (lower-casing, with no idna call) is exactly what the
    IDNA rule gives, whether idna accepts the domain or not."""
    assert reference_domain_key(domain) == email_key("a@" + domain)[2:]


@given(
    st.text(alphabet=st.characters(exclude_characters="@"), max_size=10),
    ascii_domains
    | st.text(
        alphabet=st.sampled_from("abcABC.-ßσςΣäÄ例え．。ＡﬁİI\u00ad\u200d"), max_size=20
    ),
)
def test_email_key_is_the_rule(local: str, domain: str) -> None:
    """The key is the NFKC-normalised, case-folded local part, "@", and the
    domain's IDNA key, for any local part and any domain."""
    import unicodedata

    folded = unicodedata.normalize("NFKC", local).casefold()
    expected = f"{folded}@{reference_domain_key(domain)}"
    assert expected == email_key(f"{local}@{domain}")


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
