"""Tests for userimport.validation: one row's fields and duplicates in a file."""

from __future__ import annotations

import unicodedata

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from userimport import Issue, IssueCode, Role, Severity, validation
from userimport.schema import COLUMNS
from userimport.validation import (
    MAX_GROUP_LENGTH,
    MAX_NAME_LENGTH,
    ParsedUser,
    RowValidator,
    duplicate_email_issues,
    validate_values,
)

VALID = {
    "first_name": "Ana",
    "last_name": "García",
    "email": "ana@example.com",
}


def row_with(**changes: str) -> dict[str, str]:
    """A valid row with some cells changed."""
    return {**VALID, **changes}


def codes(values: dict[str, str]) -> list[tuple[str | None, IssueCode]]:
    """The (column, code) of each issue of *values*."""
    _, issues = validate_values(values, row=7)
    return [(issue.column, issue.code) for issue in issues]


def only_issue(values: dict[str, str]) -> Issue:
    """The single issue of *values*, which must be invalid."""
    user, issues = validate_values(values, row=7)
    assert user is None
    assert 1 == len(issues)
    return issues[0]


# -- a valid row --------------------------------------------------------------------


def test_valid_row_is_normalised() -> None:
    """Every field is trimmed, collapsed, NFC-normalised and parsed."""
    values = {
        "first_name": "  Ana   María ",
        "last_name": "Gar\u0063\u0327ia\u00a0\u00a0López",
        "email": " Ana@Example.COM ",
        "organization": "  Acme / Sales ",
        "role": " Instructor ",
        "groups": " Sales ; Support ",
        "language": "PT_br",
    }
    expected = ParsedUser(
        first_name="Ana María",
        last_name="Garçia López",
        email="Ana@example.com",
        key="ana@example.com",
        organization="Acme / Sales",
        role=Role.INSTRUCTOR,
        groups=("Sales", "Support"),
        language="pt-BR",
    )
    assert (expected, ()) == validate_values(values, row=3)


def test_empty_optional_cells_are_none() -> None:
    """Empty or blank optional cells give None (the caller applies defaults)."""
    values = row_with(organization=" ", role="", groups="  ", language="\t")
    expected = ParsedUser("Ana", "García", "ana@example.com", "ana@example.com")
    assert (expected, ()) == validate_values(values)


def test_missing_keys_are_empty_cells_and_extra_keys_are_ignored() -> None:
    """Only the canonical columns are read; absent ones count as empty."""
    user, issues = validate_values({**VALID, "notes": "=evil()"})
    assert () == issues
    assert user is not None
    assert (None, None, None, "") == (
        user.role,
        user.groups,
        user.language,
        user.organization,
    )


def test_key_folds_case_and_email_keeps_local_case() -> None:
    """Ana@Example.com and ana@example.COM share a key; the stored email keeps case."""
    first, _ = validate_values(row_with(email="Ana@Example.com"))
    second, _ = validate_values(row_with(email="ana@example.COM"))
    assert first is not None
    assert second is not None
    assert first.key == second.key == "ana@example.com"
    assert ("Ana@example.com", "ana@example.com") == (first.email, second.email)


# -- missing_value, value_too_long -------------------------------------------------


@pytest.mark.parametrize("column", ["first_name", "last_name", "email"])
@pytest.mark.parametrize("value", ["", "   ", "\t\n"])
def test_required_cell_missing(column: str, value: str) -> None:
    """An empty or blank required cell is missing_value, naming the column."""
    issue = only_issue(row_with(**{column: value}))
    assert (IssueCode.MISSING_VALUE, column, value, 7) == (
        issue.code,
        issue.column,
        issue.value,
        issue.row,
    )
    assert "required" in issue.message


def test_required_key_absent() -> None:
    """A required column absent from the mapping is missing_value."""
    assert [("email", IssueCode.MISSING_VALUE)] == codes(
        {"first_name": "Ana", "last_name": "García"}
    )


def test_name_length_limit() -> None:
    """Names may have 100 characters after trimming; 101 is value_too_long."""
    longest = "a" * MAX_NAME_LENGTH
    user, _ = validate_values(row_with(last_name=f"  {longest}  "))
    assert user is not None
    assert longest == user.last_name

    issue = only_issue(row_with(last_name=longest + "b"))
    assert IssueCode.VALUE_TOO_LONG == issue.code
    assert "101 characters" in issue.message
    assert "100 at most" in issue.message


def test_name_length_counts_after_normalisation() -> None:
    """Collapsed whitespace and NFC composition count once."""
    decomposed = "e\u0301" * MAX_NAME_LENGTH
    user, _ = validate_values(row_with(first_name=decomposed))
    assert user is not None
    assert "\u00e9" * MAX_NAME_LENGTH == user.first_name


def test_group_length_limit() -> None:
    """A group name longer than MAX_GROUP_LENGTH is value_too_long."""
    issue = only_issue(row_with(groups="Sales;" + "g" * (MAX_GROUP_LENGTH + 1)))
    assert (IssueCode.VALUE_TOO_LONG, "groups") == (issue.code, issue.column)
    assert f"{MAX_GROUP_LENGTH + 1} characters" in issue.message


# -- invalid_characters -------------------------------------------------------------


@pytest.mark.parametrize(
    ("char", "kind"),
    [
        ("\t", "a tab"),
        ("\n", "a line break"),
        ("\r", "a line break"),
        ("\u2028", "a line break"),
        ("\x00", "a control character"),
        ("\x7f", "a control character"),
        ("\u200b", "zero-width"),
        ("\u200d", "zero-width"),
        ("\u2060", "zero-width"),
        ("\ufeff", "zero-width"),
        ("\u202e", "text-direction"),
        ("\u2066", "text-direction"),
        ("\u200f", "text-direction"),
        ("\u061c", "text-direction"),
    ],
)
def test_hidden_character_inside_a_name(char: str, kind: str) -> None:
    """Controls, line breaks, zero-width and bidi characters are invalid_characters."""
    raw = f"Ana{char}María"
    issue = only_issue(row_with(first_name=raw))
    assert (IssueCode.INVALID_CHARACTERS, "first_name", raw) == (
        issue.code,
        issue.column,
        issue.value,
    )
    assert kind in issue.message
    assert f"(U+{ord(char):04X}) at position 4" in issue.message


def test_zero_width_message_is_exact() -> None:
    """The message says which character and where."""
    issue = only_issue(row_with(last_name=" Gar\u200bcía"))
    expected = (
        "The last name contains an invisible zero-width character (U+200B) at"
        " position 5; delete it."
    )
    assert expected == issue.message


@pytest.mark.parametrize("column", COLUMNS)
def test_hidden_characters_in_any_column(column: str) -> None:
    """Every column rejects hidden characters."""
    values = {**row_with(role="learner", groups="a", language="es"), column: "x"}
    values[column] = {
        "email": "ana\ufeff@example.com",
        "role": "admin\u200b",
        "language": "es\u200e",
        "groups": "Sales\u202e",
    }.get(column, "Acme\x0bCorp")
    issue = only_issue(values)
    assert (IssueCode.INVALID_CHARACTERS, column) == (issue.code, issue.column)


def test_surrounding_whitespace_is_trimmed_not_rejected() -> None:
    """Tabs and line breaks around a value are trimmed like spaces."""
    user, issues = validate_values(row_with(first_name="\tAna\r\n", role="\nadmin "))
    assert () == issues
    assert user is not None
    assert ("Ana", Role.ADMIN) == (user.first_name, user.role)


def test_other_invisible_spaces_collapse() -> None:
    """No-break and other Unicode spaces inside a name collapse to one space."""
    user, _ = validate_values(row_with(first_name="Ana\u00a0\u2003María\u3000"))
    assert user is not None
    assert "Ana María" == user.first_name


@pytest.mark.parametrize(
    "raw",
    [
        "=1+2",
        "+34 600",
        "-Ana",
        "@SUM(A1)",
        "＝1",
        "＋1",
        "－1",
        "＠x",
        " =x",
        "\u00a0=x",
    ],
)
def test_formula_start_in_name(raw: str) -> None:
    """A name starting like a spreadsheet formula is invalid_characters."""
    issue = only_issue(row_with(first_name=raw))
    assert IssueCode.INVALID_CHARACTERS == issue.code
    assert "formula" in issue.message
    assert "CSV injection" in issue.message


def test_formula_start_in_group() -> None:
    """Each group name is checked for a formula start."""
    issue = only_issue(row_with(groups="Sales; =HYPERLINK(x)"))
    assert (IssueCode.INVALID_CHARACTERS, "groups") == (issue.code, issue.column)
    assert "'=HYPERLINK(x)'" in issue.message


def test_formula_characters_inside_a_name_are_fine() -> None:
    """Only the first character matters: Jean-Luc and O+Brien pass."""
    user, issues = validate_values(row_with(first_name="Jean-Luc", last_name="O=B"))
    assert () == issues
    assert user is not None


def test_hidden_and_too_long_name_reports_characters() -> None:
    """A name with hidden characters is reported once, for the characters."""
    issue = only_issue(row_with(first_name="a\u200b" + "b" * 200))
    assert IssueCode.INVALID_CHARACTERS == issue.code


def test_formula_and_too_long_name_reports_both() -> None:
    """A long name starting with = has two problems, both reported."""
    assert [
        ("first_name", IssueCode.INVALID_CHARACTERS),
        ("first_name", IssueCode.VALUE_TOO_LONG),
    ] == codes(row_with(first_name="=" + "a" * 100))


# -- invalid_email ------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", ["ana", "ana@", "ana@example", "ana@@example.com", "a b@example.com"]
)
def test_invalid_email(raw: str) -> None:
    """An address email-validator rejects is invalid_email with its explanation."""
    issue = only_issue(row_with(email=raw))
    assert (IssueCode.INVALID_EMAIL, "email", raw) == (
        issue.code,
        issue.column,
        issue.value,
    )
    assert issue.message.startswith("Correct this email address: ")


def test_reserved_domain_is_invalid_email() -> None:
    """Special-use domains are rejected without DNS."""
    assert [("email", IssueCode.INVALID_EMAIL)] == codes(
        row_with(email="ana@example.local")
    )


# -- invalid_role -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "role"),
    [
        ("learner", Role.LEARNER),
        ("LEARNER", Role.LEARNER),
        ("Estudiante", Role.LEARNER),
        ("alumno", Role.LEARNER),
        ("instructor", Role.INSTRUCTOR),
        ("Profesor", Role.INSTRUCTOR),
        ("manager", Role.MANAGER),
        ("Gerente", Role.MANAGER),
        ("responsable", Role.MANAGER),
        ("Admin", Role.ADMIN),
        ("administrador", Role.ADMIN),
    ],
)
def test_roles_and_aliases(raw: str, role: Role) -> None:
    """Roles match case-insensitively, with English and Spanish aliases."""
    user, _ = validate_values(row_with(role=raw))
    assert user is not None
    assert role is user.role


def test_invalid_role_lists_accepted_values() -> None:
    """An unknown role is invalid_role and the message lists the accepted roles."""
    issue = only_issue(row_with(role="boss"))
    assert (IssueCode.INVALID_ROLE, "role", "boss") == (
        issue.code,
        issue.column,
        issue.value,
    )
    for name in ("learner", "instructor", "manager", "admin"):
        assert name in issue.message


# -- invalid_language ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "language"),
    [
        ("es", "es"),
        ("EN", "en"),
        ("pt-BR", "pt-BR"),
        ("pt_br", "pt-BR"),
        ("PT-br", "pt-BR"),
        ("es-419", "es-419"),
        ("sq-XK", "sq-XK"),
        ("iw", "he"),
        ("in-ID", "id-ID"),
    ],
)
def test_languages(raw: str, language: str) -> None:
    """ISO 639-1 codes with an optional region normalise to xx / xx-YY."""
    user, _ = validate_values(row_with(language=raw))
    assert user is not None
    assert language == user.language


@pytest.mark.parametrize(
    "raw", ["xx", "eng", "español", "es-XX", "es-ES-x", "es-999", "e", "es-", "zh-Hans"]
)
def test_invalid_language(raw: str) -> None:
    """Anything else is invalid_language."""
    issue = only_issue(row_with(language=raw))
    assert (IssueCode.INVALID_LANGUAGE, "language", raw) == (
        issue.code,
        issue.column,
        issue.value,
    )
    assert "ISO 639-1" in issue.message


# -- groups -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "Sales;Support;Madrid",
        "Sales,Support,Madrid",
        "Sales|Support|Madrid",
        " Sales ; Support,Madrid | ",
        "Sales;;Support;Sales;Madrid;",
    ],
)
def test_groups_split(raw: str) -> None:
    """Groups split on ; , and |, trimmed, without empties or duplicates, in order."""
    user, _ = validate_values(row_with(groups=raw))
    assert user is not None
    assert ("Sales", "Support", "Madrid") == user.groups


def test_group_names_collapse_whitespace() -> None:
    """Whitespace inside a group name collapses like in names."""
    user, _ = validate_values(row_with(groups="Sales   Team ; Sales Team"))
    assert user is not None
    assert ("Sales Team",) == user.groups


def test_separators_only_is_no_group() -> None:
    """A cell holding only separators names no group."""
    user, _ = validate_values(row_with(groups=" ; , | "))
    assert user is not None
    assert user.groups is None


#: Characters of group cells: separators, every kind of whitespace, letters that NFC
#: composes or changes (into a separator, even), formula triggers and a wide one.
GROUP_CELL_CHARACTERS = (
    ";,|  \t\u00a0\u3000\u2000abcXY-=+@＝\u00e9e\u0301\u037e\u212b\u1100\u1161例"
)


def reference_groups(raw: str) -> tuple[tuple[str, ...], dict[IssueCode, list[str]]]:
    """The group rule read plainly: the cell cut at every ``;``, ``,`` and ``|``,
    each piece trimmed, its whitespace runs made one space and NFC-normalised, empty
    names and later duplicates dropped; then the names starting like a formula and
    those too long."""
    names: dict[str, None] = {}
    for piece in raw.replace(",", ";").replace("|", ";").split(";"):
        name = unicodedata.normalize("NFC", " ".join(piece.split()))
        if name:
            names[name] = None
    faults: dict[IssueCode, list[str]] = {}
    for name in names:
        if name[0] in "=+-@＝＋－＠":
            faults.setdefault(IssueCode.INVALID_CHARACTERS, []).append(name)
        if len(name) > MAX_GROUP_LENGTH:
            faults.setdefault(IssueCode.VALUE_TOO_LONG, []).append(name)
    return tuple(names), faults


@given(
    st.text(alphabet=st.sampled_from(GROUP_CELL_CHARACTERS), max_size=60)
    | st.lists(
        st.text(alphabet=st.sampled_from(GROUP_CELL_CHARACTERS), max_size=110),
        max_size=5,
    ).map(";".join)
)
def test_groups_are_the_rule_read_plainly(raw: str) -> None:
    """Whatever the cell, its groups and faults are the rule's, cell by cell as
    name by name: one issue per fault, which counts the names that have it."""
    user, issues = validate_values(row_with(groups=raw))
    if any(issue.code is IssueCode.INVALID_CHARACTERS for issue in issues) and (
        validation.hidden_character_problem("x", raw) is not None
    ):
        return  # a tab inside a name: the hidden character rule's business
    names, faults = reference_groups(raw)
    assert list(faults) == [issue.code for issue in issues]
    if faults:
        assert user is None
        for issue, found in zip(issues, faults.values(), strict=True):
            assert repr(found[0])[:39] in issue.message
            if len(found) > 1:
                assert issue.message.startswith(f"{len(found)} group names")
        return
    assert user is not None
    assert (names or None) == user.groups


def test_a_repeated_bad_group_name_is_one_issue() -> None:
    """A name repeated thousands of times is one name, and one issue."""
    issue = only_issue(row_with(groups=";".join(["=x"] * 5000)))
    assert (IssueCode.INVALID_CHARACTERS, "groups") == (issue.code, issue.column)
    assert "The group name '=x' starts with '='" in issue.message


def test_many_bad_group_names_are_one_issue_per_fault() -> None:
    """Thousands of bad names give one issue per fault, naming their count and the
    first three."""
    long = "g" * MAX_GROUP_LENGTH
    raw = ";".join(f"={i}" + (long if i % 2 else "") for i in range(4000))
    user, issues = validate_values(row_with(groups=raw), row=7)
    shown = [validation._shown(f"={i}{long}") for i in (1, 3, 5)]
    assert user is None
    assert [
        (
            IssueCode.INVALID_CHARACTERS,
            "4,000 group names start with a character that spreadsheets run as a"
            f" formula (CSV injection), among them '=0', {shown[0]}, '=2'; remove"
            " it or start each name with a letter.",
        ),
        (
            IssueCode.VALUE_TOO_LONG,
            "2,000 group names are longer than 100 characters, among them"
            f" {', '.join(shown)}; shorten each to 100 at most.",
        ),
    ] == [(issue.code, issue.message) for issue in issues]


def test_long_role_and_language_cells_are_parsed_too() -> None:
    """Cells too long to cache get the same verdicts."""
    padding = " " * 300
    user, _ = validate_values(row_with(role=f"admin{padding}", language=f"es{padding}"))
    assert user is not None
    assert (Role.ADMIN, "es") == (user.role, user.language)
    assert [
        ("role", IssueCode.INVALID_ROLE),
        ("language", IssueCode.INVALID_LANGUAGE),
    ] == codes(row_with(role="x" * 300, language="y" * 300))


def test_a_validator_gives_each_row_what_a_new_one_gives() -> None:
    """A validator that has seen other rows (its parsed cells kept) validates a row
    exactly as a new validator does."""
    validator = RowValidator()
    rows = [
        row_with(role="Profesora", groups="A;B", organization="Acme"),
        row_with(role="x", groups="=A", language="zz"),
        row_with(role="Profesora", groups="A;B", organization="Acme", email="b@x.io"),
    ]
    for number, values in enumerate(rows * 2, start=2):
        assert validate_values(values, row=number) == validator.validate(
            values, row=number
        )


def test_long_groups_cell_is_parsed_too() -> None:
    """A groups cell too long to cache is parsed all the same."""
    names = tuple(f"Group {i:03}" for i in range(40))
    user, _ = validate_values(row_with(groups=";".join(names)))
    assert user is not None
    assert names == user.groups


# -- every problem at once ----------------------------------------------------------


def test_all_problems_at_once() -> None:
    """A row reports every problem, in column order, each with row/column/value."""
    values = {
        "first_name": "=cmd",
        "last_name": "",
        "email": "ana@",
        "organization": "Acme\u202e",
        "role": "boss",
        "groups": "+x;" + "g" * 101,
        "language": "xx",
    }
    user, issues = validate_values(values, row=12)
    assert user is None
    expected = [
        ("first_name", IssueCode.INVALID_CHARACTERS),
        ("last_name", IssueCode.MISSING_VALUE),
        ("email", IssueCode.INVALID_EMAIL),
        ("organization", IssueCode.INVALID_CHARACTERS),
        ("role", IssueCode.INVALID_ROLE),
        ("groups", IssueCode.INVALID_CHARACTERS),
        ("groups", IssueCode.VALUE_TOO_LONG),
        ("language", IssueCode.INVALID_LANGUAGE),
    ]
    assert expected == [(issue.column, issue.code) for issue in issues]
    for issue in issues:
        assert issue.column is not None
        assert (12, values[issue.column], Severity.ERROR) == (
            issue.row,
            issue.value,
            issue.severity,
        )


def test_an_error_in_an_optional_column_invalidates_the_row() -> None:
    """One bad optional cell is enough for no ParsedUser."""
    user, issues = validate_values(row_with(language="xx"))
    assert user is None
    assert 1 == len(issues)


# -- duplicate_email ----------------------------------------------------------------


def test_duplicates_name_the_first_row() -> None:
    """Every later row with a seen key is duplicate_email naming the first row."""
    rows = [
        (2, "bob@example.com", "bob@example.com"),
        (4, "ana@example.com", "Ana@Example.com"),
        (5, "ana@example.com", "ana@example.COM"),
        (9, "ana@example.com", "ANA@example.com"),
    ]
    result = duplicate_email_issues(rows)
    assert [5, 9] == sorted(result)
    expected = Issue.error(
        IssueCode.DUPLICATE_EMAIL,
        "This email already appears in row 4; each user must appear once.",
        row=5,
        column="email",
        value="ana@example.COM",
    )
    assert expected == result[5]
    assert "row 4" in result[9].message


def test_no_duplicates() -> None:
    """Distinct keys give no issue."""
    assert {} == duplicate_email_issues(
        [(2, "a@example.com", "a@example.com"), (3, "b@example.com", "b@example.com")]
    )


def test_duplicates_found_from_validated_rows() -> None:
    """Keys from validate_values find case and NFKC variants of one address."""
    emails = ["Ana@Example.com", "ana@example.COM", "ＡＮＡ@example.com"]
    rows = []
    for number, email in enumerate(emails, start=2):
        user, _ = validate_values(row_with(email=email), row=number)
        assert user is not None
        rows.append((number, user.key, email))
    assert [3, 4] == sorted(duplicate_email_issues(rows))


# -- properties ---------------------------------------------------------------------


@given(st.dictionaries(st.sampled_from(COLUMNS), st.text(max_size=30)))
def test_never_raises(values: dict[str, str]) -> None:
    """Any text gives a ParsedUser or issues, never an exception."""
    user, issues = validate_values(values, row=2)
    assert (user is None) == any(issue.is_error for issue in issues)
    for issue in issues:
        assert issue.column in COLUMNS
        assert (2, values.get(issue.column, "")) == (issue.row, issue.value)


@given(
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=120
    )
)
def test_accepted_names_are_clean(raw: str) -> None:
    """An accepted name is trimmed, NFC, without hidden or formula characters."""
    user, _ = validate_values(row_with(first_name=raw))
    if user is not None:
        name = user.first_name
        assert name == name.strip()
        assert "  " not in name
        assert 1 <= len(name) <= MAX_NAME_LENGTH
        assert unicodedata.is_normalized("NFC", name)
        assert name[0] not in "=+-@＝＋－＠"
        assert all(unicodedata.category(c) != "Cc" for c in name)
        assert not any(c in name for c in "\u200b\u200d\ufeff\u202e\u2066")


cells = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "Ana",
            "José Núñez",
            "Jose\u0301",
            "Ana  María",
            "Ana\u00a0María",
            "=x",
            "ＡＢＣ",
            "a" * 101,
            "learner",
            "Profesora",
            "es-ES",
            "pt_br",
            "Sales;Support",
            "Acme / Sales",
            "ana@example.com",
            "Ana@Example.COM",
            "ana@example",
            "\u200bana@example.com",
            "ana@example.com\u200b",
        ]
    ),
    st.text(max_size=12),
)


@given(st.one_of(cells, st.text(max_size=30)))
def test_a_names_shortcut_gives_the_full_rules_verdict(raw: str) -> None:
    """An ordinary name takes a shortcut; every name, ordinary or not, gets exactly
    the verdict of the full rule (hidden characters, whitespace, NFC, formula
    starts, length)."""
    assert validation._parse_name_fully(
        "The first name", raw
    ) == validation._parse_name("The first name", raw)


@given(
    st.sampled_from(["ana@example.com", "José@bücher.de", "x.y+z@a-b.example.org"]),
    st.sampled_from(sorted("\t\n\x00\x85\u061c\u200b\u200e\u2028\u202e\u2066\ufeff")),
    st.integers(min_value=1),
)
def test_hidden_characters_never_make_a_valid_email(
    address: str, char: str, position: int
) -> None:
    """An address with a hidden character inside is rejected, as that character."""
    position = 1 + position % (len(address) - 1)
    raw = address[:position] + char + address[position:]
    issue = only_issue(row_with(email=raw))
    assert (IssueCode.INVALID_CHARACTERS, "email") == (issue.code, issue.column)


def test_parsed_user_is_frozen() -> None:
    """ParsedUser is immutable."""
    user, _ = validate_values(VALID)
    assert user is not None
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        user.first_name = "Eve"  # type: ignore[misc]
