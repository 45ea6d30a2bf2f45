"""Validation of one row's fields, and duplicates within a file.

:class:`RowValidator` turns the raw cells of one row (by canonical column) into a
:class:`ParsedUser` and reports *every* problem of the row as an
:class:`~userimport.issues.Issue`; it never raises on bad data. Organizations, roles
the importer may assign and existing users are checked later, by the review, against
the hierarchy and the store. :func:`validate_values` validates one row on its own.

The rules where the product leaves a choice (documented in ``docs/validation.md``):

* Leading and trailing whitespace, tabs and line breaks included, is trimmed; inside a
  value, a control character (a tab or a line break too), a bidirectional control or
  a zero-width character is ``invalid_characters``, and so are the Unicode line and
  paragraph separators (U+2028, U+2029). That list lives in
  :mod:`userimport._characters`, and organization names follow it too.
* Names and group names collapse internal whitespace (no-break spaces too) to one
  space; all text is NFC-normalised.
* Group names are at most :data:`MAX_GROUP_LENGTH` characters; ``;``, ``,`` and ``|``
  all separate groups, empty names are dropped, duplicates (exact, after
  normalisation) are dropped keeping the first. A fault that several names of a
  cell share is one issue, which counts them.
* Roles accept English and Spanish words (:data:`ROLE_ALIASES`), case-insensitively.
* Languages are ISO 639-1 codes, optionally with an ISO 3166-1 alpha-2 country or a
  UN M.49 area code (``es-419``), separated by ``-`` or ``_``.

Each rule has one function. Two of them start with a cheap test for the common case
and fall back to the full rule: :func:`_parse_name` (an ordinary name needs no
normalisation) and :func:`~userimport._email.normalize_email` (each distinct domain
validated once); the tests check both against their full rule. A
:class:`RowValidator` serves one upload and parses each distinct value of the
organization, role, groups and language columns once, since a file repeats them.

It is long because a third of it is data (the role aliases and the ISO language, country
and region codes); each rule is one short function.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping
from operator import itemgetter
from typing import Final, TypeVar

import attrs

from userimport._characters import hidden_character
from userimport._email import normalize_email
from userimport._messages import message
from userimport.formulas import FORMULA_TRIGGERS
from userimport.issues import Issue, IssueCode
from userimport.schema import COLUMNS, Role

_T = TypeVar("_T")

__all__ = [
    "COUNTRY_CODES",
    "LANGUAGE_CODES",
    "MAX_GROUP_LENGTH",
    "MAX_NAME_LENGTH",
    "REGION_CODES",
    "ROLE_ALIASES",
    "ParsedUser",
    "RowValidator",
    "duplicate_email_issues",
    "hidden_character_problem",
    "normalize_email",
    "validate_values",
]

#: First and last names are 1..100 characters after trimming.
MAX_NAME_LENGTH: Final = 100
#: Longest group name accepted (as for names).
MAX_GROUP_LENGTH: Final = 100

#: Accepted spellings of each role, compared after trimming and case-folding.
ROLE_ALIASES: Final[Mapping[str, Role]] = {
    **{role.value: role for role in Role},
    "student": Role.LEARNER,
    "estudiante": Role.LEARNER,
    "alumno": Role.LEARNER,
    "alumna": Role.LEARNER,
    "aprendiz": Role.LEARNER,
    "teacher": Role.INSTRUCTOR,
    "trainer": Role.INSTRUCTOR,
    "instructora": Role.INSTRUCTOR,
    "profesor": Role.INSTRUCTOR,
    "profesora": Role.INSTRUCTOR,
    "docente": Role.INSTRUCTOR,
    "formador": Role.INSTRUCTOR,
    "formadora": Role.INSTRUCTOR,
    "gerente": Role.MANAGER,
    "responsable": Role.MANAGER,
    "supervisor": Role.MANAGER,
    "supervisora": Role.MANAGER,
    "administrator": Role.ADMIN,
    "administrador": Role.ADMIN,
    "administradora": Role.ADMIN,
}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: ISO 639-1 language codes (the alpha-2 codes of Debian's iso-codes 4.15 ISO 639-2
#: table). Data, not a dependency: the list changes about once a decade.
LANGUAGE_CODES: Final = _words(
    """
    aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr
    cs cu cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu
    gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk
    kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms
    mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro
    ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl
    tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
    """
)

#: Withdrawn ISO 639-1 codes still produced by old software (Java's ``Locale``), and
#: the codes that replaced them.
_LEGACY_LANGUAGE_CODES: Final[Mapping[str, str]] = {"iw": "he", "in": "id", "ji": "yi"}

#: ISO 3166-1 alpha-2 country codes (Debian's iso-codes 4.15), plus ``XK`` (Kosovo),
#: which CLDR and therefore browsers and operating systems use.
COUNTRY_CODES: Final = _words(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM
    BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX
    CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG
    GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR
    IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV
    LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE
    NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO
    RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF
    TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF
    WS YE YT ZA ZM ZW XK
    """
)

#: Regions a language tag may name (BCP 47 region subtags): a country, or one of the
#: UN M.49 areas in the IANA language subtag registry, such as ``419`` (Latin America).
REGION_CODES: Final = COUNTRY_CODES | _words(
    """
    001 002 003 005 009 011 013 014 015 017 018 019 021 029 030 034 035 039 053 054
    057 061 142 143 145 150 151 154 155 202 419
    """
)

_LANGUAGE_TAG: Final = re.compile(r"([A-Za-z]{2})(?:[-_]([A-Za-z]{2}|[0-9]{3}))?")


# The cells, as messages name them.
_FIRST_NAME: Final = message("The first name")
_LAST_NAME: Final = message("The last name")
_EMAIL: Final = message("The email address")
_ORGANIZATION: Final = message("The organization")
_ROLE: Final = message("The role")
_GROUPS: Final = message("The groups cell")
_LANGUAGE: Final = message("The language")


@attrs.frozen
class ParsedUser:
    """The validated, normalised fields of one row, before organization resolution.

    Attributes:
        first_name: Trimmed, internal whitespace collapsed, NFC.
        last_name: Likewise.
        email: email-validator's normalised address; the part before the ``@`` keeps
            the case it was typed in.
        key: The uniqueness key (:func:`userimport.schema.email_key` of ``email``),
            itself a valid address.
        organization: The trimmed, NFC organization reference as written (id, name
            or path); ``""`` means the importer's own organization.
        role: The role, or ``None`` when the cell is empty (the caller applies its
            default).
        groups: Group names in order without duplicates, or ``None`` when the cell
            is empty.
        language: ``xx``, ``xx-YY`` or ``xx-NNN``, or ``None`` when the cell is empty.
    """

    first_name: str
    last_name: str
    email: str
    key: str
    organization: str = ""
    role: Role | None = None
    groups: tuple[str, ...] | None = None
    language: str | None = None


#: A problem of one cell, before it is placed in a row: its code and message.
Problem = tuple[IssueCode, str]
#: A cell's parsed value (``None`` if empty or invalid) and its problems.
_Parsed = tuple[_T | None, tuple[Problem, ...]]


def _shown(value: str, limit: int = 40) -> str:
    """A value quoted for a message, shortened so a message stays one line."""
    if len(value) > limit:
        value = value[: limit - 1] + "\u2026"
    return repr(value)


def hidden_character_problem(label: str, raw: str) -> Problem | None:
    """``invalid_characters`` for the first hidden character of *raw*, if any.

    The hidden characters are those of :mod:`userimport._characters`, the rule
    organization names follow too. Leading and trailing whitespace, tabs and line
    breaks included, is trimmed, not reported; the position counts from 1 in the
    raw value.
    """
    found = hidden_character(raw, trimmed=True)
    if found is None:
        return None
    return IssueCode.INVALID_CHARACTERS, message(
        "{label} contains {what}.", label=label, what=found.description
    )


def _nfc(text: str) -> str:
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def _name_text(text: str) -> str:
    """Trimmed, whitespace runs (no-break spaces too) made one space, NFC."""
    if text.isascii() and "  " not in text:
        return text.strip()
    return _nfc(" ".join(text.split()))


def _name_faults(names: Collection[str], limit: int) -> dict[IssueCode, list[str]]:
    """The non-empty, normalised names (or group names) with each fault, if any.

    ``invalid_characters``: those that start like a spreadsheet formula (OWASP
    "CSV Injection": such a value becomes a formula in the spreadsheets the host
    application may export it to). ``value_too_long``: those with more than
    ``limit`` characters. Thousands of names cost little: a formula trigger that
    appears in no name starts none (a few substring searches), and the longest
    name is found at C speed, before any name is looked at on its own.
    """
    faults: dict[IssueCode, list[str]] = {}
    text = "".join(names)
    if any(trigger in text for trigger in FORMULA_TRIGGERS):
        formulas = [name for name in names if name[0] in FORMULA_TRIGGERS]
        if formulas:
            faults[IssueCode.INVALID_CHARACTERS] = formulas
    if max(map(len, names), default=0) > limit:
        faults[IssueCode.VALUE_TOO_LONG] = [name for name in names if len(name) > limit]
    return faults


def _name_problem(code: IssueCode, label: str, text: str, limit: int) -> Problem:
    """The problem of one name with the fault ``code`` (see :func:`_name_faults`)."""
    if code is IssueCode.INVALID_CHARACTERS:
        return code, message(
            "{label} starts with {char}, which spreadsheets run as a formula"
            " (CSV injection); remove it or start with a letter.",
            label=label,
            char=repr(text[0]),
        )
    return code, message(
        "{label} is {length} characters long; shorten it to {limit} at most.",
        label=label,
        length=len(text),
        limit=limit,
    )


def _parse_name(label: str, raw: str) -> _Parsed[str]:
    """A first or last name: required, 1..100 characters.

    An ordinary name (printable, so no hidden character and no whitespace but ASCII
    spaces; no double space; not formula-like; within the limit; already NFC) is
    its trimmed self; any other is parsed by :func:`_parse_name_fully`.
    """
    text = raw.strip()
    if (
        text
        and text.isprintable()
        and "  " not in text
        and text[0] not in FORMULA_TRIGGERS
        and len(text) <= MAX_NAME_LENGTH
        and (text.isascii() or unicodedata.is_normalized("NFC", text))
    ):
        return text, ()
    return _parse_name_fully(label, raw)


def _parse_name_fully(label: str, raw: str) -> _Parsed[str]:
    """:func:`_parse_name` without its shortcut: every rule, every problem."""
    hidden = hidden_character_problem(label, raw)
    if hidden is not None:
        return None, (hidden,)
    text = _name_text(raw)
    if not text:
        return None, (
            (
                IssueCode.MISSING_VALUE,
                message("{label} is required; fill it in.", label=label),
            ),
        )
    problems = tuple(
        _name_problem(code, label, text, MAX_NAME_LENGTH)
        for code in _name_faults((text,), MAX_NAME_LENGTH)
    )
    return (None if problems else text), problems


def _parse_email(raw: str) -> _Parsed[tuple[str, str]]:
    """The normalised address and its uniqueness key."""
    result = normalize_email(raw)
    if isinstance(result, tuple):
        # A valid address has no hidden character: email-validator rejects every
        # character of Unicode categories C, Zl and Zp, a superset of the hidden ones.
        return result, ()
    hidden = hidden_character_problem(_EMAIL, raw)
    if hidden is not None:
        return None, (hidden,)
    if not raw or raw.isspace():
        return None, (
            (
                IssueCode.MISSING_VALUE,
                message("{label} is required; fill it in.", label=_EMAIL),
            ),
        )
    return None, ((IssueCode.INVALID_EMAIL, result),)


def _parse_organization(raw: str) -> _Parsed[str]:
    """The reference as written, trimmed and NFC; the review resolves it."""
    hidden = hidden_character_problem(_ORGANIZATION, raw)
    if hidden is not None:
        return None, (hidden,)
    return _nfc(raw.strip()), ()


def _parse_role(raw: str) -> _Parsed[Role]:
    hidden = hidden_character_problem(_ROLE, raw)
    if hidden is not None:
        return None, (hidden,)
    text = raw.strip()
    if not text:
        return None, ()
    role = ROLE_ALIASES.get(_nfc(text).casefold())
    if role is not None:
        return role, ()
    return None, (
        (
            IssueCode.INVALID_ROLE,
            message(
                "Unknown role {value}: use learner, instructor, manager or admin, or"
                " leave the cell empty for the default role.",
                value=_shown(text),
            ),
        ),
    )


def _parse_language(raw: str) -> _Parsed[str]:
    hidden = hidden_character_problem(_LANGUAGE, raw)
    if hidden is not None:
        return None, (hidden,)
    text = raw.strip()
    if not text:
        return None, ()
    match = _LANGUAGE_TAG.fullmatch(text)
    if match is not None:
        language, region = match.groups()
        language = language.lower()
        language = _LEGACY_LANGUAGE_CODES.get(language, language)
        if language in LANGUAGE_CODES:
            if region is None:
                return language, ()
            region = region.upper()
            if region in REGION_CODES:
                return f"{language}-{region}", ()
    return None, (
        (
            IssueCode.INVALID_LANGUAGE,
            message(
                "Unknown language {value}: use an ISO 639-1 code such as en or es,"
                " optionally with a country as in pt-BR.",
                value=_shown(text),
            ),
        ),
    )


def _parse_groups(raw: str) -> _Parsed[tuple[str, ...]]:
    """The group names of a cell, in order, each once; empty names dropped.

    The cell is normalised as a whole (or each distinct piece of it once) and the
    names are checked together, at C speed where they can be, so a cell of
    thousands of names, or of one name repeated thousands of times, costs little
    more than splitting it. A fault shared by several names is one problem for the
    cell, which counts them and shows the first few.
    """
    hidden = hidden_character_problem(_GROUPS, raw)
    if hidden is not None:
        return None, (hidden,)
    # The name rule (whitespace runs made one space, then NFC) applied once to
    # the whole cell: a run of whitespace never spans a separator, and when the
    # cell is then NFC so is each piece of it (the separators are ASCII
    # characters that compose with nothing). Otherwise each distinct piece is
    # normalised on its own.
    cell = " ".join(raw.split())
    if cell.isascii() or unicodedata.is_normalized("NFC", cell):
        texts = map(str.strip, _group_pieces(cell))
    else:
        texts = map(_name_text, dict.fromkeys(_group_pieces(raw)))
    names = tuple(dict.fromkeys(filter(None, texts)))
    faulty = _name_faults(names, MAX_GROUP_LENGTH)
    if faulty:
        return None, tuple(
            _group_problem(code, found) for code, found in faulty.items()
        )
    # A cell of separators only names no group: it is empty.
    return (names or None), ()


def _group_pieces(text: str) -> list[str]:
    """``text`` cut at every group separator: ``;``, ``,`` and ``|``.

    (str methods split a long cell ten times faster than a regular expression.)
    """
    return text.replace(",", ";").replace("|", ";").split(";")


#: How many of the group names that share a fault its message shows.
_GROUPS_SHOWN: Final = 3


def _group_problem(code: IssueCode, names: list[str]) -> Problem:
    """The problem of the group names of one cell that have the fault ``code``."""
    if len(names) == 1:
        label = message("The group name {name}", name=_shown(names[0]))
        return _name_problem(code, label, names[0], MAX_GROUP_LENGTH)
    shown = ", ".join(_shown(name) for name in names[:_GROUPS_SHOWN])
    if code is IssueCode.INVALID_CHARACTERS:
        return code, message(
            "{count} group names start with a character that spreadsheets run as a"
            " formula (CSV injection), among them {names}; remove it or start each"
            " name with a letter.",
            count=len(names),
            names=shown,
        )
    return code, message(
        "{count} group names are longer than {limit} characters, among them"
        " {names}; shorten each to {limit} at most.",
        count=len(names),
        limit=MAX_GROUP_LENGTH,
        names=shown,
    )


#: The cells of a row that holds every canonical column, in order, in one call.
_cells: Final = itemgetter(*COLUMNS)


class RowValidator:
    """Validates the rows of one upload.

    A file names a handful of organizations, roles, groups and languages over and
    over, so each distinct cell of those columns is parsed once per validator (and
    kept as long as the validator, that is, for one upload). Names and emails are
    parsed every time; email domains are validated once each by
    :func:`~userimport._email.normalize_email`.
    """

    __slots__ = ("_groups", "_language", "_organization", "_role")

    def __init__(self) -> None:
        self._organization: dict[str, _Parsed[str]] = {}
        self._role: dict[str, _Parsed[Role]] = {}
        self._groups: dict[str, _Parsed[tuple[str, ...]]] = {}
        self._language: dict[str, _Parsed[str]] = {}

    def validate(
        self, values: Mapping[str, str], *, row: int | None = None
    ) -> tuple[ParsedUser | None, tuple[Issue, ...]]:
        """Validate and normalise the cells of one row.

        Args:
            values: Raw cell text by canonical column name
                (:data:`userimport.schema.COLUMNS`); a missing key is an empty cell
                and other keys are ignored.
            row: The spreadsheet row number put on every issue (``None`` for a
                single user).

        Returns:
            The :class:`ParsedUser` (``None`` if the row has an error) and every
            issue of the row, in column order, each with its ``row``, ``column`` and
            raw ``value``.
        """
        try:
            cells: tuple[str, ...] = _cells(values)  # every column, as read
        except KeyError:
            cells = tuple(values.get(column, "") for column in COLUMNS)
        (
            raw_first,
            raw_last,
            raw_email,
            raw_organization,
            raw_role,
            raw_groups,
            raw_language,
        ) = cells
        first = _parse_name(_FIRST_NAME, raw_first)
        last = _parse_name(_LAST_NAME, raw_last)
        email = _parse_email(raw_email)
        # A parsed cell is a non-empty tuple, so ``or`` parses only unseen cells.
        organization = self._organization.get(raw_organization) or _once(
            self._organization, _parse_organization, raw_organization
        )
        role = self._role.get(raw_role) or _once(self._role, _parse_role, raw_role)
        groups = self._groups.get(raw_groups) or _once(
            self._groups, _parse_groups, raw_groups
        )
        language = self._language.get(raw_language) or _once(
            self._language, _parse_language, raw_language
        )
        if (
            first[0] is None
            or last[0] is None
            or email[0] is None
            or organization[0] is None
            or role[1]
            or groups[1]
            or language[1]
        ):
            return None, tuple(
                Issue.error(code, message, row=row, column=column, value=raw)
                for column, raw, problems in (
                    ("first_name", raw_first, first[1]),
                    ("last_name", raw_last, last[1]),
                    ("email", raw_email, email[1]),
                    ("organization", raw_organization, organization[1]),
                    ("role", raw_role, role[1]),
                    ("groups", raw_groups, groups[1]),
                    ("language", raw_language, language[1]),
                )
                for code, message in problems
            )
        address, key = email[0]
        return ParsedUser(
            first[0],
            last[0],
            address,
            key,
            organization[0],
            role[0],
            groups[0],
            language[0],
        ), ()


def _once(known: dict[str, _T], parse: Callable[[str], _T], raw: str) -> _T:
    """``parse(raw)``, kept in ``known`` for the next time."""
    found = known[raw] = parse(raw)
    return found


def validate_values(
    values: Mapping[str, str], *, row: int | None = None
) -> tuple[ParsedUser | None, tuple[Issue, ...]]:
    """Validate and normalise the cells of one row: :meth:`RowValidator.validate`.

    >>> user, issues = validate_values({"first_name": "Ana", "last_name": "Gil",
    ...                                 "email": "Ana@Example.COM"})
    >>> user.email, user.key, issues
    ('Ana@example.com', 'ana@example.com', ())
    """
    return RowValidator().validate(values, row=row)


def duplicate_email_issues(rows: Iterable[tuple[int, str, str]]) -> dict[int, Issue]:
    """The ``duplicate_email`` error of every row whose key appeared in an earlier row.

    Args:
        rows: ``(row number, key, raw email)`` in file order, for the rows whose email
            is valid.

    Returns:
        The issue by row number; the first row with a key gets none, and the message
        of each later one names that first row.
    """
    first_rows: dict[str, int] = {}
    duplicates: dict[int, Issue] = {}
    for row, key, raw in rows:
        first = first_rows.setdefault(key, row)
        if first != row:
            duplicates[row] = duplicate_email_issue(row, first, raw)
    return duplicates


def duplicate_email_issue(row: int, first: int, raw: str) -> Issue:
    """The ``duplicate_email`` error of ``row``, whose key first appeared in ``first``.

    Args:
        row: The duplicate's row number.
        first: The row number of the key's first appearance.
        raw: The duplicate's email cell as written.
    """
    return Issue.error(
        IssueCode.DUPLICATE_EMAIL,
        message(
            "This email already appears in row {first}; each user must appear once.",
            first=first,
        ),
        row=row,
        column="email",
        value=raw,
    )
