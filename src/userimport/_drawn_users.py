"""The values the strategies draw: names, email addresses, languages, users, trees.

Private building blocks of :mod:`userimport.strategies`, which holds the public
strategies built on them (``user_rows``, ``emails``, ``org_trees``). Every value is
drawn as validation leaves it, so that writing it into an upload reads it back
unchanged.
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Sequence
from typing import Final

from hypothesis import strategies as st

from userimport.hierarchy import Organization, OrgTree
from userimport.schema import Role, UserRow
from userimport.validation import (
    LANGUAGE_CODES,
    MAX_NAME_LENGTH,
    REGION_CODES,
    normalize_email,
)

__all__ = [
    "ASCII_EMAILS",
    "EMAILS",
    "NAMES",
    "ORG_IDS",
    "ORG_NAMES",
    "WESTERN_NAMES",
    "WESTERN_ORG_NAMES",
    "fits_cp1252",
    "trees",
    "users_of",
]

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


def fits_cp1252(text: str) -> bool:
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
NAMES: Final = st.one_of(
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
WESTERN_NAMES: Final = st.one_of(
    st.sampled_from([name for name in _REAL_NAMES if fits_cp1252(name)]),
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
EMAILS: Final = (
    st.builds(lambda local, domain: f"{local}@{domain}", _LOCAL_PARTS, _DOMAINS)
    .map(_normalised_email)
    .filter(bool)
)
#: ASCII addresses, for files in a legacy encoding.
ASCII_EMAILS: Final = (
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
ORG_IDS: Final = st.builds(
    lambda head, tail: f"{head}-{tail}" if tail else head,
    st.text(st.sampled_from(string.ascii_lowercase), min_size=1, max_size=6),
    st.text(_ALNUM, max_size=5),
)
_LANGUAGES: Final = _languages()


def users_of(
    organizations: st.SearchStrategy[str],
    max_role: Role,
    names: st.SearchStrategy[str],
    addresses: st.SearchStrategy[str],
) -> st.SearchStrategy[UserRow]:
    """Users whose fields are drawn from these strategies (and groups from names
    without a group separator), with a role up to ``max_role``."""
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
ORG_NAMES: Final = st.one_of(st.sampled_from(_COMMON_ORG_NAMES), NAMES)
WESTERN_ORG_NAMES: Final = st.one_of(
    st.sampled_from([name for name in _COMMON_ORG_NAMES if fits_cp1252(name)]),
    WESTERN_NAMES,
)


@st.composite
def trees(
    draw: st.DrawFn, max_size: int, names: st.SearchStrategy[str] = ORG_NAMES
) -> OrgTree:
    size = draw(st.integers(1, max_size))
    ids = draw(st.lists(ORG_IDS, min_size=size, max_size=size, unique=True))
    orgs = [Organization(ids[0], draw(names))]
    for index in range(1, size):
        # A parent drawn among the organizations before it: never a cycle; -1 is a
        # further root.
        parent = draw(st.integers(-1, index - 1))
        orgs.append(
            Organization(
                ids[index], draw(ORG_NAMES), ids[parent] if parent >= 0 else None
            )
        )
    return OrgTree(draw(st.permutations(orgs)))
