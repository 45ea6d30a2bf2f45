"""Validation of one row's fields, and duplicates within a file (SPEC §2, §4).

:func:`validate_values` turns the raw cells of one row (by canonical column) into a
:class:`ParsedUser` and reports *every* problem of the row as an
:class:`~userimport.issues.Issue`; it never raises on bad data. Organizations, roles
the importer may assign and existing users are checked later, by the flow, against
the hierarchy and the store.

The rules where SPEC §2 leaves a choice (documented in ``docs/validation.md``):

* Leading and trailing whitespace, tabs and line breaks included, is trimmed; inside a
  value, a control character (a tab or a line break too), a bidirectional control or
  a zero-width character is ``invalid_characters``, and so are the Unicode line and
  paragraph separators (U+2028, U+2029).
* Names and group names collapse internal whitespace (no-break spaces too) to one
  space; all text is NFC-normalised.
* Group names are at most :data:`MAX_GROUP_LENGTH` characters; ``;``, ``,`` and ``|``
  all separate groups, empty names are dropped, duplicates (exact, after
  normalisation) are dropped keeping the first.
* Roles accept English and Spanish words (:data:`ROLE_ALIASES`), case-insensitively.
* Languages are ISO 639-1 codes, optionally with an ISO 3166-1 alpha-2 country or a
  UN M.49 area code (``es-419``), separated by ``-`` or ``_``.

Speed (issue 2: reading and validating 200 rows within a few times the cost of merely
parsing the CSV): a row of ordinary values takes a fast path that gives exactly the
full parse's result; email addresses validate each distinct domain once
(:mod:`userimport._email`); the verdicts on role, groups and language cells, which
repeat across a file, are cached. Everything else takes the full parse, which reports
every problem of the row. :func:`validate_fields` gives the same result as a plain
tuple, without building a :class:`ParsedUser`; the review of an upload calls
:func:`validate_rows`, which gives ``validate_fields`` of every row and runs the fast
path's checks once per column instead of once per cell (``benchmarks/run.py``
measures it all).
"""

from __future__ import annotations

import functools
import operator
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import repeat
from operator import itemgetter
from typing import Final, TypeVar

import attrs

from userimport._email import clear_cache as clear_email_cache
from userimport._email import normalize_email, normalize_emails
from userimport.issues import Issue, IssueCode
from userimport.schema import Role

_T = TypeVar("_T")

__all__ = [
    "COUNTRY_CODES",
    "LANGUAGE_CODES",
    "MAX_GROUP_LENGTH",
    "MAX_NAME_LENGTH",
    "REGION_CODES",
    "ROLE_ALIASES",
    "ParsedFields",
    "ParsedUser",
    "clear_caches",
    "duplicate_email_issue",
    "duplicate_email_issues",
    "normalize_email",
    "validate_fields",
    "validate_rows",
    "validate_values",
]

#: SPEC §2: first and last names are 1..100 characters after trimming.
MAX_NAME_LENGTH: Final = 100
#: Longest group name accepted (SPEC §2 leaves it to us; as for names).
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

# The characters that are never accepted inside a value (SPEC §2, §10): C0 and C1
# controls (Unicode category Cc), the Arabic letter mark and the bidirectional marks,
# embeddings, overrides and isolates (Unicode Bidirectional Algorithm, UAX #9),
# zero-width characters and the byte-order mark, and the line and paragraph
# separators. All of them are non-printable, so ``str.isprintable()`` is a fast
# filter before this search.
_HIDDEN: Final = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff]"
)
_ZERO_WIDTH: Final = frozenset("\u200b\u200c\u200d\u2060\ufeff")
_LINE_BREAKS: Final = frozenset("\n\r\x0b\x0c\x85\u2028\u2029")

# A cell starting with one of these is run as a formula by spreadsheets (OWASP "CSV
# Injection"); tab and carriage return, also listed there, are control characters and
# rejected anyway. Full-width forms included (SPEC §2).
_FORMULA_STARTS: Final = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")

_GROUP_SEPARATORS: Final = re.compile("[;,|]")


# Not slotted: attrs' __init__ of a frozen slotted class sets each field through
# object.__setattr__, which made building the instance a quarter of a row's validation.
@attrs.frozen(slots=False)
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
_Problem = tuple[IssueCode, str]
#: A cell's parsed value (``None`` if empty or invalid) and its problems.
_Parsed = tuple[_T | None, tuple[_Problem, ...]]

_CACHE_SIZE: Final = 1024
_CACHED_CELL_LENGTH: Final = 200


def _shown(value: str, limit: int = 40) -> str:
    """A value quoted for a message, shortened so a message stays one line."""
    if len(value) > limit:
        value = value[: limit - 1] + "\u2026"
    return repr(value)


def _hidden_problem(label: str, raw: str) -> _Problem | None:
    """``invalid_characters`` for the first hidden character of *raw*, if any.

    Leading and trailing whitespace, tabs and line breaks included, is trimmed, not
    reported; the position counts from 1 in the raw value.
    """
    if raw.isprintable():
        return None
    start = len(raw) - len(raw.lstrip())
    match = _HIDDEN.search(raw, start, len(raw.rstrip()))
    if match is None:
        return None
    index = match.start()
    char = raw[index]
    if char == "\t":
        kind, fix = "a tab", "replace it with a space"
    elif char in _LINE_BREAKS:
        kind, fix = "a line break", "keep the value on one line"
    elif char in _ZERO_WIDTH:
        kind, fix = "an invisible zero-width character", "delete it"
    elif unicodedata.category(char) == "Cc":
        kind, fix = "a control character", "delete it"
    else:
        kind = "an invisible text-direction control character"
        fix = "delete it, as it can make text display differently from what it is"
    return (
        IssueCode.INVALID_CHARACTERS,
        f"{label} contains {kind} (U+{ord(char):04X}) at position {index + 1}; {fix}.",
    )


def _nfc(text: str) -> str:
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def _name_text(text: str) -> str:
    """Trimmed, whitespace runs (no-break spaces too) made one space, NFC (SPEC §2)."""
    if text.isascii() and "  " not in text:
        return text.strip()
    return _nfc(" ".join(text.split()))


def _name_problems(label: str, text: str, limit: int) -> tuple[_Problem, ...]:
    """The problems of a non-empty, normalised name or group name."""
    problems: list[_Problem] = []
    if text[0] in _FORMULA_STARTS:
        # OWASP "CSV Injection": such a value becomes a formula in the spreadsheets
        # the host application may export it to.
        problems.append(
            (
                IssueCode.INVALID_CHARACTERS,
                f"{label} starts with {text[0]!r}, which spreadsheets run as a"
                " formula (CSV injection); remove it or start with a letter.",
            )
        )
    if len(text) > limit:
        problems.append(
            (
                IssueCode.VALUE_TOO_LONG,
                f"{label} is {len(text)} characters long; shorten it to {limit}"
                " at most.",
            )
        )
    return tuple(problems)


def _quick_name(raw: str) -> str | None:
    """The name if *raw* is an ordinary one, else ``None`` for :func:`_parse_name`.

    Ordinary: printable (no hidden character, and no whitespace but ASCII spaces),
    no double space, not formula-like, within the length limit, already NFC.
    """
    text = raw.strip()
    if (
        text
        and text.isprintable()
        and "  " not in text
        and text[0] not in _FORMULA_STARTS
        and len(text) <= MAX_NAME_LENGTH
        and (text.isascii() or unicodedata.is_normalized("NFC", text))
    ):
        return text
    return None


def _parse_name(label: str, raw: str) -> _Parsed[str]:
    """A first or last name (SPEC §2: required, 1..100 characters)."""
    hidden = _hidden_problem(label, raw)
    if hidden is not None:
        return None, (hidden,)
    text = _name_text(raw)
    if not text:
        return None, ((IssueCode.MISSING_VALUE, f"{label} is required; fill it in."),)
    problems = _name_problems(label, text, MAX_NAME_LENGTH)
    return (None if problems else text), problems


def _parse_email(raw: str, result: tuple[str, str] | str) -> _Parsed[tuple[str, str]]:
    """The normalised address and its key (SPEC §2).

    Args:
        raw: The cell.
        result: ``normalize_email(raw)``.
    """
    hidden = _hidden_problem("The email address", raw)
    if hidden is not None:
        return None, (hidden,)
    if not raw or raw.isspace():
        return None, (
            (IssueCode.MISSING_VALUE, "The email address is required; fill it in."),
        )
    if isinstance(result, str):
        return None, ((IssueCode.INVALID_EMAIL, result),)
    return result, ()


def _parse_organization(raw: str) -> _Parsed[str]:
    """The reference as written, trimmed and NFC; resolved later (SPEC §5)."""
    hidden = _hidden_problem("The organization", raw)
    if hidden is not None:
        return None, (hidden,)
    return _nfc(raw.strip()), ()


def _parse_role(raw: str) -> _Parsed[Role]:
    hidden = _hidden_problem("The role", raw)
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
            f"Unknown role {_shown(text)}: use learner, instructor, manager or admin,"
            " or leave the cell empty for the default role.",
        ),
    )


def _parse_language(raw: str) -> _Parsed[str]:
    hidden = _hidden_problem("The language", raw)
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
            f"Unknown language {_shown(text)}: use an ISO 639-1 code such as en or"
            " es, optionally with a country as in pt-BR.",
        ),
    )


def _parse_groups(raw: str) -> _Parsed[tuple[str, ...]]:
    hidden = _hidden_problem("The groups cell", raw)
    if hidden is not None:
        return None, (hidden,)
    names: dict[str, None] = {}
    problems: list[_Problem] = []
    for part in _GROUP_SEPARATORS.split(raw):
        name = _name_text(part)
        if name:
            problems.extend(
                _name_problems(f"The group name {_shown(name)}", name, MAX_GROUP_LENGTH)
            )
            names[name] = None
    if problems:
        return None, tuple(problems)
    # A cell of separators only names no group: it is empty.
    return (tuple(names) or None), ()


# Cells of the optional columns repeat across a file ("learner", "Sales; Support",
# "es"), so their verdicts are cached: bounded, thread-safe, and only for short cells
# (longer ones are parsed each time), which bounds the memory.
_cached_role = functools.lru_cache(maxsize=_CACHE_SIZE)(_parse_role)
_cached_groups = functools.lru_cache(maxsize=_CACHE_SIZE)(_parse_groups)
_cached_language = functools.lru_cache(maxsize=_CACHE_SIZE)(_parse_language)


def _role_cell(raw: str) -> _Parsed[Role]:
    return _cached_role(raw) if len(raw) <= _CACHED_CELL_LENGTH else _parse_role(raw)


def _groups_cell(raw: str) -> _Parsed[tuple[str, ...]]:
    if len(raw) <= _CACHED_CELL_LENGTH:
        return _cached_groups(raw)
    return _parse_groups(raw)


def _language_cell(raw: str) -> _Parsed[str]:
    if len(raw) <= _CACHED_CELL_LENGTH:
        return _cached_language(raw)
    return _parse_language(raw)


def clear_caches() -> None:
    """Forget every cached verdict: validated email domains and parsed cells.

    The caches are bounded and only make validation faster; clearing them is for
    benchmarks measuring a fresh process, and for a host that changed
    email-validator's module-level data (such as its special-use domain list).
    """
    clear_email_cache()
    _cached_role.cache_clear()
    _cached_groups.cache_clear()
    _cached_language.cache_clear()


# The cells read by validate_values, in this order; reading them in one call is the
# fast way for a mapping that has every column (as read_upload's records do).
_CELL_COLUMNS: Final = (
    "first_name",
    "last_name",
    "email",
    "organization",
    "role",
    "groups",
    "language",
)
_get_cells: Final = operator.itemgetter(*_CELL_COLUMNS)


#: A :class:`ParsedUser`'s fields in order, as a plain tuple: what the review keeps
#: for each row (building the object costs as much as validating the row's names).
ParsedFields = tuple[
    str, str, str, str, str, Role | None, tuple[str, ...] | None, str | None
]


def validate_values(
    values: Mapping[str, str], *, row: int | None = None
) -> tuple[ParsedUser | None, tuple[Issue, ...]]:
    """Validate and normalise the cells of one row (SPEC §2).

    Args:
        values: Raw cell text by canonical column name
            (:data:`userimport.schema.COLUMNS`); a missing key is an empty cell and
            other keys are ignored.
        row: The spreadsheet row number put on every issue (``None`` for a single
            user).

    Returns:
        The :class:`ParsedUser` (``None`` if the row has an error) and every issue of
        the row, in column order, each with its ``row``, ``column`` and raw ``value``.
    """
    fields, issues = validate_fields(values, row=row)
    return (None if fields is None else ParsedUser(*fields)), issues


def validate_fields(
    values: Mapping[str, str], *, row: int | None = None
) -> tuple[ParsedFields | None, tuple[Issue, ...]]:
    """:func:`validate_values`, giving the parsed user's fields as a plain tuple.

    For the review, which validates every row of an upload and needs a
    :class:`ParsedUser` only for the few rows that match an existing user:
    ``validate_fields(v)[0]`` is ``attrs.astuple(validate_values(v)[0])`` and the
    issues are the same.
    """
    try:
        cells: tuple[str, ...] = _get_cells(values)
    except KeyError:
        cells = tuple(values.get(column, "") for column in _CELL_COLUMNS)
    (
        raw_first,
        raw_last,
        raw_email,
        raw_organization,
        raw_role,
        raw_groups,
        raw_language,
    ) = cells

    # The fast path, for a row of ordinary values: each step gives exactly what the
    # full parse below would, or declines (None, or problems).
    first_name = _quick_name(raw_first)
    last_name = _quick_name(raw_last)
    # A valid address has no hidden character inside: email-validator rejects every
    # character of Unicode categories C, Zl and Zp, a superset of _HIDDEN.
    email = normalize_email(raw_email)
    if first_name is not None and last_name is not None and type(email) is tuple:
        organization: str | None = raw_organization.strip()
        if organization and not (
            organization.isascii() and raw_organization.isprintable()
        ):
            organization = _parse_organization(raw_organization)[0]
        if organization is not None:
            role: Role | None = None
            groups: tuple[str, ...] | None = None
            language: str | None = None
            fine = True
            if raw_role:
                role, problems = _role_cell(raw_role)
                fine = not problems
            if raw_groups and fine:
                groups, problems = _groups_cell(raw_groups)
                fine = not problems
            if raw_language and fine:
                language, problems = _language_cell(raw_language)
                fine = not problems
            if fine:
                return (
                    first_name,
                    last_name,
                    email[0],
                    email[1],
                    organization,
                    role,
                    groups,
                    language,
                ), ()

    # Something is out of the ordinary: parse every cell fully.
    parsed, issues = _validate_fully(cells, email, row)
    if parsed is None:
        return None, issues
    return (
        parsed.first_name,
        parsed.last_name,
        parsed.email,
        parsed.key,
        parsed.organization,
        parsed.role,
        parsed.groups,
        parsed.language,
    ), issues


# --- many rows at once: column by column ------------------------------------------
#
# validate_rows gives exactly [validate_fields(v) for v in values], faster: instead of
# running the fast path's checks cell by cell in Python, it runs each check once over
# a whole column, in C (str methods mapped over the column, one regular expression
# over the column joined, one look-up per distinct value of the columns whose values
# repeat). A column that passes every check gives its values; a column that does not
# falls back to the cell-by-cell fast path, and a row that any column leaves
# undecided takes validate_fields (the full parse, with every issue).
# tests/test_performance_paths.py checks the equality with hypothesis.

#: A separator for joining the cells of a column of names: it is not in an ordinary
#: name, and Unicode never combines a character with it.
_JOIN: Final = "\n"


def _name_column(cells: Sequence[str]) -> list[str | None]:
    """:func:`_quick_name` of every cell of a column of names."""
    names = list(map(str.strip, cells))
    if (
        all(names)
        and all(map(str.isprintable, names))
        and _FORMULA_STARTS.isdisjoint(map(itemgetter(0), names))
        and max(map(len, names), default=0) <= MAX_NAME_LENGTH
    ):
        joined = _JOIN.join(names)
        # A substring of an NFC text, cut before a character that never combines
        # (the separator), is NFC; and no separator touches a space.
        if "  " not in joined and (
            joined.isascii() or unicodedata.is_normalized("NFC", joined)
        ):
            return list(names)
    return list(map(_quick_name, cells))


def _organization_value(raw: str) -> str | None:
    """The fast path's organization reference: the cell trimmed, or ``None``."""
    organization = raw.strip()
    if organization and not (organization.isascii() and raw.isprintable()):
        return _parse_organization(raw)[0]
    return organization


def _by_value(parse: Callable[[str], _T], cells: Sequence[str]) -> list[_T]:
    """``parse`` of every cell of a column, called once per distinct value."""
    known = {cell: parse(cell) for cell in set(cells)}
    return list(map(known.__getitem__, cells))


def validate_rows(
    values: Sequence[Mapping[str, str]], rows: Sequence[int | None]
) -> list[tuple[ParsedFields | None, tuple[Issue, ...]]]:
    """:func:`validate_fields` of many rows: ``[validate_fields(v, row=r) ...]``.

    Args:
        values: Each row's raw cells by canonical column.
        rows: Each row's number, for its issues.
    """
    try:
        cells = list(map(_get_cells, values))
    except KeyError:
        cells = [tuple(v.get(column, "") for column in _CELL_COLUMNS) for v in values]
    if not cells:
        return []
    first, last, email, organization, role, groups, language = zip(*cells, strict=True)
    first_names = _name_column(first)
    last_names = _name_column(last)
    emails = normalize_emails(email)
    organizations = _by_value(_organization_value, organization)
    roles = _by_value(_role_cell, role)
    group_names = _by_value(_groups_cell, groups)
    languages = _by_value(_language_cell, language)
    # The rows some column left undecided, by index (each column tested in C first).
    undecided: set[int] = set()
    for column in (first_names, last_names, organizations):
        if None in column:
            undecided.update(i for i, value in enumerate(column) if value is None)
    if not all(map(isinstance, emails, repeat(tuple))):
        undecided.update(i for i, address in enumerate(emails) if type(address) is str)
    for parsed in (roles, group_names, languages):
        if any(map(itemgetter(1), parsed)):
            undecided.update(i for i, (_, problems) in enumerate(parsed) if problems)
    results: list[tuple[ParsedFields | None, tuple[Issue, ...]]] = list(
        zip(
            zip(
                first_names,
                last_names,
                map(itemgetter(0), emails),
                map(itemgetter(1), emails),
                organizations,
                map(itemgetter(0), roles),
                map(itemgetter(0), group_names),
                map(itemgetter(0), languages),
                strict=True,
            ),
            repeat(()),
        )
    )
    for i in undecided:
        results[i] = validate_fields(values[i], row=rows[i])
    return results


def _validate_fully(
    cells: tuple[str, ...], email: tuple[str, str] | str, row: int | None
) -> tuple[ParsedUser | None, tuple[Issue, ...]]:
    """:func:`validate_values` without the fast path: every cell, every problem.

    Args:
        cells: The raw cells, in the order of ``_CELL_COLUMNS``.
        email: ``normalize_email`` of the email cell.
        row: The row number for the issues.
    """
    (
        raw_first,
        raw_last,
        raw_email,
        raw_organization,
        raw_role,
        raw_groups,
        raw_language,
    ) = cells
    first = _parse_name("The first name", raw_first)
    last = _parse_name("The last name", raw_last)
    mail = _parse_email(raw_email, email)
    org = _parse_organization(raw_organization)
    role_cell = _role_cell(raw_role)
    groups_cell = _groups_cell(raw_groups)
    language_cell = _language_cell(raw_language)
    issues = tuple(
        Issue.error(code, message, row=row, column=column, value=raw)
        for column, raw, problems in (
            ("first_name", raw_first, first[1]),
            ("last_name", raw_last, last[1]),
            ("email", raw_email, mail[1]),
            ("organization", raw_organization, org[1]),
            ("role", raw_role, role_cell[1]),
            ("groups", raw_groups, groups_cell[1]),
            ("language", raw_language, language_cell[1]),
        )
        for code, message in problems
    )
    # Without problems every value is there (the checks on None are for the types).
    if issues or first[0] is None or last[0] is None or mail[0] is None:
        return None, issues
    if org[0] is None:
        return None, issues
    return ParsedUser(
        first[0],
        last[0],
        mail[0][0],
        mail[0][1],
        org[0],
        role_cell[0],
        groups_cell[0],
        language_cell[0],
    ), ()


def duplicate_email_issues(rows: Iterable[tuple[int, str, str]]) -> dict[int, Issue]:
    """The ``duplicate_email`` error of every row whose key appeared in an earlier row.

    Args:
        rows: ``(row number, key, raw email)`` in file order, for the rows whose email
            is valid.

    Returns:
        The issue by row number; the first row with a key gets none, and the message
        of each later one names that first row (SPEC §4).
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
        f"This email already appears in row {first}; each user must appear once.",
        row=row,
        column="email",
        value=raw,
    )
