"""Email normalisation with a fast path that gives exactly email-validator's verdict.

First come the cheap rejections: an address longer than RFC 5321 allows (254 octets
in all, 64 characters before the ``@``) is refused by its length alone, before any
parser walks it (email-validator's parser costs microseconds per character, so a
7 KB cell would cost milliseconds). Every address refused this way is one that
email-validator refuses too (under the options used here: no quoted local part, no
display name, and ``strict`` for the RFC 5321 limit of the local part), and the
message is the one email-validator gives for the length.

``email_validator.validate_email`` costs tens of microseconds per address, most of it
in the checks of the part after the ``@`` (UTS #46 mapping, IDNA, special-use names),
and a company's users share one to three domains. This module validates each distinct
domain once and handles the common local part itself (an RFC 5322 dot-atom: ASCII,
or international and already NFC), and sends everything else to ``validate_email``
unchanged.

Why the shortcut is exact, reading email-validator 2.4's ``validate_email``:

1. ``split_email`` cuts at the first ``@`` or ``<`` outside quotes. A dot-atom local
   part has neither, nor quotes, so the domain part is everything after the first ``@``
   whatever the local part is; no display name is possible.
2. ``validate_email_local_part`` accepts a dot-atom (``DOT_ATOM_TEXT``) of at most 64
   characters unchanged (longer is refused in ``strict`` mode), and NFC leaves ASCII
   alone. The only later change to the local part is lower-casing the
   RFC 2142 mailbox names (``info``, ``postmaster``, ...). A non-ASCII dot-atom
   (``DOT_ATOM_TEXT_INTL``) is accepted unchanged when ``check_unsafe_chars`` finds
   no character of the categories C or Z and no combining mark first, and when it
   is NFC (else email-validator validates its NFC form again); the fast path asks
   ``str.isprintable`` for the categories, and leaves any other local part to
   ``validate_email``. The key of such an address (NFKC and case-folded) must be
   such an address too.
3. The domain checks (``validate_email_domain_name``, or the rejection of an empty part
   or of a bracketed literal) depend on the domain part alone. So a domain that passes
   with the local part ``a`` passes, with the same normalised forms, with any other.
4. What spans both parts is the length check of RFC 5321 4.5.3.1.3 (254 octets, on
   the original, normalised and IDNA-ASCII forms) and it comes after the domain
   checks; the fast path does not build email-validator's length messages: an address
   over a limit goes to ``validate_email``, as does any address whose domain failed.

``tests/test_email.py`` checks all of this differentially against ``validate_email``
with hypothesis, so an email-validator release that changes a rule fails the tests
instead of silently diverging.

email-validator (and idna, which it loads) is imported by the functions that call
it, on first use, not with this module: importing it takes longer than importing
the rest of the package, and a host that never validates an address never pays.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import TYPE_CHECKING, Final

from userimport._messages import message
from userimport.schema import email_key

if TYPE_CHECKING:
    from email_validator import ValidatedEmail

__all__ = [
    "RFC2142_MAILBOX_NAMES",
    "clear_cache",
    "explain_email_error",
    "explain_key_error",
    "normalize_email",
]


def _validate_email(address: str) -> ValidatedEmail:
    """``validate_email`` with every option spelled out.

    No module-level default of email-validator (process-wide, changeable by anyone)
    can change our verdict; in particular there is no DNS look-up.
    """
    from email_validator import validate_email

    return validate_email(
        address,
        allow_smtputf8=True,
        allow_empty_local=False,
        allow_quoted_local=False,
        allow_domain_literal=False,
        allow_display_name=False,
        # RFC 5321 4.5.3.1.1: at most 64 characters before the @ (checked only in
        # strict mode, which nothing else changes).
        strict=True,
        check_deliverability=False,
        test_environment=False,
        globally_deliverable=True,
    )


# RFC 5322 3.2.3 atext, as in email-validator's rfc_constants.ATEXT: an unquoted local
# part is one or more runs of these separated by single dots (its DOT_ATOM_TEXT).
_ATEXT: Final = r"a-zA-Z0-9_!#$%&'*+\-/=?^`{|}~"
_DOT_ATOM: Final = re.compile(f"[{_ATEXT}]+(?:\\.[{_ATEXT}]+)*")
# RFC 6531 3.3 adds every non-ASCII character to atext (email-validator's
# ATEXT_INTL and DOT_ATOM_TEXT_INTL; a test keeps both patterns equal to its own).
_ATEXT_INTL: Final = _ATEXT + "\u0080-\U0010ffff"
_DOT_ATOM_INTL: Final = re.compile(f"[{_ATEXT_INTL}]+(?:\\.[{_ATEXT_INTL}]+)*")

#: RFC 2142 mailbox names, which email-validator lower-cases in the local part
#: (its ``rfc_constants.CASE_INSENSITIVE_MAILBOX_NAMES``; a test keeps them equal).
RFC2142_MAILBOX_NAMES: Final = frozenset(
    {
        "info",
        "marketing",
        "sales",
        "support",
        "abuse",
        "noc",
        "security",
        "postmaster",
        "hostmaster",
        "usenet",
        "news",
        "webmaster",
        "www",
        "uucp",
        "ftp",
    }
)

# RFC 5321 4.5.3.1.3 (with RFC 3696 errata 1690): 254 octets for a whole address.
_EMAIL_MAX_OCTETS: Final = 254
# RFC 5321 4.5.3.1.1: 64 octets before the @; email-validator counts characters.
_LOCAL_MAX_LENGTH: Final = 64
# RFC 1035 2.3.4: longer domain parts are rejected by email-validator's first check,
# so they are never worth a cache entry (this also bounds the cache's memory).
_DOMAIN_MAX_LENGTH: Final = 253
# Distinct domains kept; a company has a handful, a platform a few hundred.
_DOMAIN_CACHE_SIZE: Final = 2048


def _octets(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


@functools.lru_cache(maxsize=_DOMAIN_CACHE_SIZE)
def _domain_forms(domain: str) -> tuple[str, str] | None:
    """email-validator's normalised and IDNA-ASCII forms of a domain part, or ``None``.

    The domain is validated by the public ``validate_email`` behind the shortest valid
    local part; ``None`` (an invalid domain, or one so long that even the probe is too
    long) sends the address to the full ``validate_email``, which then explains.
    Cached because the domain of the key is usually the normalised domain, and that
    is usually the domain as typed.
    """
    from email_validator import EmailNotValidError

    try:
        probe = _validate_email("a@" + domain)
    except EmailNotValidError:
        return None
    return probe.domain, probe.ascii_domain


@functools.lru_cache(maxsize=_DOMAIN_CACHE_SIZE)
def _domain_info(domain: str) -> tuple[str, str, int] | None:
    """What every address ``<dot-atom>@domain`` shares, or ``None`` to ask slowly.

    Returns:
        ``"@"`` and the normalised domain; ``"@"`` and the domain of the key (its
        lower-cased A-label form, as :func:`userimport.schema.email_key` gives it),
        which is checked to be a valid domain too; and the longest, in UTF-8
        octets, of the six forms of the domain whose address lengths
        email-validator checks (original, normalised and IDNA-ASCII, for the
        address and for its key).
        ``functools.lru_cache`` keeps this bounded and thread-safe.
    """
    if len(domain) > _DOMAIN_MAX_LENGTH:
        return None
    forms = _domain_forms(domain)
    if forms is None:
        return None
    unicode_domain, ascii_domain = forms
    # The key's domain part, by the one function that owns the rule.
    key_domain = email_key("a@" + unicode_domain)[2:]
    # Usually it is the ASCII form email-validator just gave for this domain, which
    # it reads back as the same domain (it decodes A-labels before checking them):
    # no second validation. Anything else is validated as a domain of its own.
    key_forms = forms if key_domain == ascii_domain else _domain_forms(key_domain)
    if key_forms is None:
        return None
    longest = max(
        _octets(domain),
        _octets(unicode_domain),
        len(ascii_domain),
        _octets(key_domain),
        _octets(key_forms[0]),
        len(key_forms[1]),
    )
    return "@" + unicode_domain, "@" + key_domain, longest


def _plain_local_octets(local: str) -> int | None:
    """The UTF-8 octets of a local part email-validator accepts as it is, or ``None``
    when not sure.

    Such a local part is at most 64 characters (strict mode) and a dot-atom: ASCII
    atext, which needs nothing else; or international atext (RFC 6531) that
    email-validator's ``check_unsafe_chars`` accepts and NFC leaves alone. That
    check refuses the categories C and Z and a combining mark (M) in first place;
    ``str.isprintable`` is false exactly for C and Z (but the ASCII space, which
    atext excludes), from the same Unicode database as ``unicodedata``.
    """
    if len(local) > _LOCAL_MAX_LENGTH:
        return None
    if local.isascii():
        return len(local) if _DOT_ATOM.fullmatch(local) is not None else None
    if (
        _DOT_ATOM_INTL.fullmatch(local) is None
        or not local.isprintable()
        or unicodedata.category(local[0]).startswith("M")
        or not unicodedata.is_normalized("NFC", local)
    ):
        return None
    return len(local.encode("utf-8"))


def _fast(address: str) -> tuple[str, str] | None:
    """``(normalised, key)`` of a valid *address*, or ``None`` when not sure.

    ``None`` never means invalid: this shortcut only decides the common case of a
    dot-atom local part (ASCII, or international and already NFC) at a valid
    domain, within the length limits, whose key is such an address too.
    """
    local, at, domain = address.partition("@")
    if not at:
        return None
    octets = _plain_local_octets(local)
    if octets is None:
        return None
    info = _domain_info(domain)
    if info is None:
        return None
    at_domain, at_key_domain, longest = info
    # RFC 5321 4.5.3.1.3: each form of the address and of its key fits in 254 octets.
    if octets + 1 + longest > _EMAIL_MAX_OCTETS:
        return None
    if local.isascii():
        lower = local.lower()
        # email_key folds the part before the last "@" and keys the domain on its
        # own; an ASCII local part folds to its lower case, so the key of
        # local@domain is lower(local)@key(domain).
        if lower in RFC2142_MAILBOX_NAMES:
            return lower + at_domain, lower + at_key_domain
        return local + at_domain, lower + at_key_domain
    # email-validator keeps an international local part as it is (it is NFC, and
    # only ASCII mailbox names are lower-cased). Its key, by the one function that
    # owns the rule, must be a plain local part at the key's domain too.
    normalized = local + at_domain
    key = email_key(normalized)
    key_local, _, key_domain = key.rpartition("@")
    key_octets = _plain_local_octets(key_local)
    if (
        key_octets is None
        or "@" + key_domain != at_key_domain
        or key_octets + 1 + longest > _EMAIL_MAX_OCTETS
    ):
        return None
    return normalized, key


def explain_email_error(explanation: str) -> str:
    """email-validator's explanation as one sentence for the administrator.

    ``"The part after the @-sign is not valid. It should have a period."`` becomes
    ``"Correct this email address: the part after the @-sign is not valid; it should
    have a period."``, a message the review says in its language
    (:mod:`userimport._email_reasons` knows email-validator's sentences).

    Args:
        explanation: ``str()`` of an ``EmailNotValidError``.
    """
    from userimport._email_reasons import email_reason

    reason = email_reason(explanation)
    return message("Correct this email address: {reason}.", reason=reason)


def explain_key_error(explanation: str) -> str:
    """The sentence for an address whose case-folded key is not valid.

    Args:
        explanation: ``str()`` of the ``EmailNotValidError`` raised for the key.
    """
    from userimport._email_reasons import email_reason

    reason = email_reason(explanation)
    return message(
        "Correct this email address: once upper and lower case are treated alike"
        " it is no longer valid ({reason}).",
        reason=reason,
    )


def clear_cache() -> None:
    """Forget the validated domains (see :func:`userimport.validation.clear_caches`)."""
    _domain_forms.cache_clear()
    _domain_info.cache_clear()


def _too_long(address: str) -> str | None:
    """email-validator's message for an address over a length limit, or ``None``.

    Only lengths are looked at, at C speed, so a huge cell costs no parsing: more
    than 64 characters before the first ``@`` (RFC 5321 4.5.3.1.1, as counted by
    email-validator's strict mode) or more than 253 after it (RFC 1035 2.3.4), or
    a long text without ``@``; then more than 254 octets in all (RFC 5321
    4.5.3.1.3), which costs one encoding of at most 318 characters. email-validator
    refuses every such address too, whatever else is wrong with it (quotes and
    display names are refused here), and gives this message when nothing else is
    wrong. What passes has at most 254 octets, so the full check that follows costs
    a bounded time.
    """
    local, at, domain = address.partition("@")
    if len(local) > _LOCAL_MAX_LENGTH:
        if not at:
            return _NO_AT_SIGN[next((c for c in "＠﹫" if c in local), "")]
        diff = len(local) - _LOCAL_MAX_LENGTH
        return f"The email address is too long before the @-sign {_too_many(diff)}."
    if len(domain) > _DOMAIN_MAX_LENGTH:
        diff = len(domain) - _DOMAIN_MAX_LENGTH
        return f"The email address is too long after the @-sign {_too_many(diff)}."
    # RFC 5321 4.5.3.1.3: 254 octets in all. email-validator checks this last, on
    # the address as typed first, with this message.
    octets = _octets(address)
    if octets <= _EMAIL_MAX_OCTETS:
        return None
    diff = octets - _EMAIL_MAX_OCTETS
    # Its count of characters: exact for ASCII, else a range from the octets over
    # the limit divided by the widest character's octets.
    widest = len(max(address).encode("utf-8", "surrogatepass"))
    return f"The email address is too long {_too_many(diff, max(1, diff // widest))}."


# email-validator's messages for an address without "@" (in its order of checks).
_NO_AT_SIGN: Final = {
    "＠": 'The email address has the "full-width" at-sign (@) character instead of'
    " a regular at-sign.",
    "﹫": 'The email address has the "small commercial at" character instead of a'
    " regular at-sign.",
    "": "An email address must have an @-sign.",
}


def _too_many(diff: int, fewest: int | None = None) -> str:
    """``(1 character too many)``, ``(3 characters too many)``, ``(1-3 ...)``."""
    count = str(diff) if fewest in (None, diff) else f"{fewest}-{diff}"
    return f"({count} character{'s' if diff > 1 else ''} too many)"


def normalize_email(text: str) -> tuple[str, str] | str:
    """Validate and normalise one email address, with no DNS look-up.

    The verdict and the normalised address are exactly those of
    ``email_validator.validate_email(text.strip(), strict=True,
    check_deliverability=False)``: an address over RFC 5321's length limits is
    refused by its length before any parsing, and common addresses take a shortcut
    that validates each distinct domain once (see the module's docstring). The
    uniqueness key (:func:`userimport.schema.email_key`) must be a valid address
    too.

    Args:
        text: The address as typed; surrounding whitespace is ignored.

    Returns:
        ``(normalised, key)``: the normalised address keeps the case of the part
        before the ``@``; or, when the address (or its key) is not valid, one
        sentence saying what to correct (a message: English, said in the review's
        language).
    """
    address = text.strip()
    too_long = _too_long(address)
    if too_long is not None:
        return explain_email_error(too_long)
    fast = _fast(address)
    if fast is not None:
        return fast
    from email_validator import EmailNotValidError

    try:
        normalized = _validate_email(address).normalized
    except EmailNotValidError as error:
        return explain_email_error(str(error))
    key = email_key(normalized)
    if _fast(key) is None:
        try:
            _validate_email(key)
        except EmailNotValidError as error:
            return explain_key_error(str(error))
    return normalized, key
