"""The user row: canonical columns, header aliases, roles and ``UserRow``.

Header matching is forgiving: case, accents, spaces, ``_``, ``-`` and ``.`` are
ignored, and common English and Spanish aliases are accepted.
"""

from __future__ import annotations

import enum
import functools
import unicodedata
from collections.abc import Iterable, Mapping

import attrs

__all__ = [
    "COLUMNS",
    "EXAMPLE_ROWS",
    "HEADER_ALIASES",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "ColumnMatch",
    "Role",
    "UserRow",
    "column_for_header",
    "email_key",
    "header_key",
]


class Role(str, enum.Enum):
    """A user's role, ranked in declaration order (learner lowest, admin highest)."""

    LEARNER = "learner"
    INSTRUCTOR = "instructor"
    MANAGER = "manager"
    ADMIN = "admin"

    def __str__(self) -> str:
        return self.value

    @property
    def rank(self) -> int:
        """0 for learner up to 3 for admin; an actor may assign ranks up to its own."""
        return _ROLE_RANK[self]


_ROLE_RANK = {role: rank for rank, role in enumerate(Role)}

#: Canonical columns, in template order.
COLUMNS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "email",
    "organization",
    "role",
    "groups",
    "language",
)
REQUIRED_COLUMNS: tuple[str, ...] = ("first_name", "last_name", "email")
OPTIONAL_COLUMNS: tuple[str, ...] = tuple(
    c for c in COLUMNS if c not in REQUIRED_COLUMNS
)


def header_key(text: str) -> str:
    """The comparison key of a header cell.

    Case, accents, spaces, ``_``, ``-`` and ``.`` are ignored, and a byte-order mark
    never survives, so ``"Correo electrónico"``, ``"correo_electronico"`` and
    ``"\\ufeffCORREO-ELECTRONICO"`` all give ``"correoelectronico"``.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(
        ch
        for ch in decomposed
        if not unicodedata.combining(ch)
        and not ch.isspace()
        and ch not in "_-.\ufeff\u200b"
    )


#: Accepted spellings of each canonical column (compared with :func:`header_key`).
HEADER_ALIASES: Mapping[str, tuple[str, ...]] = {
    "first_name": (
        "first_name",
        "First name",
        "Firstname",
        "Given name",
        "Forename",
        "Nombre",
        "Nombres",
        "Primer nombre",
    ),
    "last_name": (
        "last_name",
        "Last name",
        "Surname",
        "Family name",
        "Apellido",
        "Apellidos",
    ),
    "email": (
        "email",
        "E-mail",
        "Email address",
        "E-mail address",
        "Mail",
        "Correo",
        "Correo electrónico",
        "Email del usuario",
    ),
    "organization": (
        "organization",
        "Organisation",
        "Org",
        "Organization id",
        "Organización",
        "Organizacion",
        "Empresa",
    ),
    "role": ("role", "Rol", "Papel"),
    "groups": ("groups", "Group", "Grupos", "Grupo"),
    "language": ("language", "Lang", "Locale", "Idioma", "Lengua"),
}

_ALIAS_INDEX: dict[str, str] = {
    header_key(alias): column
    for column, aliases in HEADER_ALIASES.items()
    for alias in aliases
}


def column_for_header(text: str) -> str | None:
    """The canonical column a header cell names, or ``None`` if it names none."""
    return _ALIAS_INDEX.get(header_key(text))


@attrs.frozen
class ColumnMatch:
    """How one header cell was understood.

    Attributes:
        header: The header cell as written in the file.
        column: The canonical column it maps to, or ``None`` when it is ignored.
    """

    header: str
    column: str | None


def email_key(email: str) -> str:
    """The uniqueness key of an email: one key per mailbox.

    The part before the last ``@`` is NFKC-normalised, then case-folded. The part
    after it is a domain name, compared as DNS compares it: its IDNA2008 ASCII form
    (A-labels, after the UTS #46 non-transitional mapping), lower-cased. So
    ``Ana@Example.com`` and ``ana@example.COM`` share a key, and so do
    ``x@bücher.de`` and ``x@xn--bcher-kva.de``; but ``faß.de`` and ``fass.de``, or
    ``σοφος.gr`` and ``σοφοσ.gr``, are different registrable domains and keep
    different keys (a Unicode case fold of the whole address would merge them).

    >>> email_key("Ana@Example.COM")
    'ana@example.com'
    >>> email_key("STRAßE@Bücher.de")
    'strasse@xn--bcher-kva.de'
    >>> email_key("x@faß.de") == email_key("x@fass.de")
    False

    The key is defined for any text, so that a store can key whatever it is given:
    a domain that IDNA refuses (never the case for an address that passed
    validation) is NFKC-normalised and case-folded like the local part, and a text
    without ``@`` is all local part.
    """
    local, at, domain = email.rpartition("@")
    if not at:
        return _fold(email)
    if email.isascii():
        # NFKC leaves ASCII unchanged, and UTS #46 maps an ASCII label only by
        # lower-casing it (IDNA refuses some, whose key is then lower-cased too), so
        # an ASCII address needs neither unicodedata nor idna.
        return local.lower() + "@" + domain.lower()
    return _fold(local) + "@" + _domain_key(domain)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


@functools.lru_cache(maxsize=2048)
def _domain_key(domain: str) -> str:
    """The key of a domain: its UTS #46 non-transitional A-label form, lower-cased.

    Cached (bounded, thread-safe): an upload's users share a few domains.
    """
    if domain.isascii():
        return domain.lower()
    # Imported here, not at the top: `import userimport` stays cheap, and only
    # internationalised domains need it (idna comes with email-validator).
    import idna

    try:
        # idna.encode maps with UTS #46 non-transitional processing (ß and final
        # sigma are kept, as IDNA2008 requires) and checks every label.
        return idna.encode(domain, uts46=True).decode("ascii").lower()
    except UnicodeError:  # idna.IDNAError is a UnicodeError
        return _fold(domain)


def _groups(value: Iterable[str]) -> tuple[str, ...]:
    """Group names in order, without empty names or duplicates."""
    return tuple(dict.fromkeys(filter(None, value)))


def _role(value: Role | str) -> Role:
    return value if type(value) is Role else Role(value)


@attrs.frozen
class UserRow:
    """One user as parsed and normalised from the upload (or the single-user form).

    Attributes:
        first_name: Given name, trimmed, whitespace collapsed, NFC.
        last_name: Family name, likewise.
        email: The normalised email; the local part keeps the case the user typed.
        organization: The resolved organization id.
        role: The :class:`Role`.
        groups: Group names, without duplicates or empty names, in order.
        language: ``xx`` or ``xx-YY``, or ``None`` when not given.
    """

    first_name: str
    last_name: str
    email: str
    organization: str
    role: Role = attrs.field(default=Role.LEARNER, converter=_role)
    groups: tuple[str, ...] = attrs.field(default=(), converter=_groups)
    language: str | None = None

    @property
    def key(self) -> str:
        """The uniqueness key of this user (see :func:`email_key`)."""
        return email_key(self.email)


#: The template's example rows, by canonical column. Left unchanged in an upload they
#: are skipped with the warning ``example_row`` instead of creating fake
#: users; ``example.com`` is reserved for documentation (RFC 2606).
EXAMPLE_ROWS: tuple[Mapping[str, str], ...] = (
    {
        "first_name": "Ana",
        "last_name": "García",
        "email": "ana.garcia@example.com",
        "organization": "",
        "role": "learner",
        "groups": "Sales; Onboarding",
        "language": "es",
    },
    {
        "first_name": "John",
        "last_name": "Smith",
        "email": "john.smith@example.com",
        "organization": "",
        "role": "instructor",
        "groups": "",
        "language": "en-GB",
    },
)
