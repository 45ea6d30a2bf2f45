"""Tests for userimport._email: the email fast path equals email-validator exactly."""

from __future__ import annotations

import re
import string
import sys
import unicodedata
from collections.abc import Callable, Iterator

import pytest
from email_validator import EmailNotValidError, rfc_constants, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES
from hypothesis import example, given
from hypothesis import strategies as st

from userimport import _email
from userimport._email import (
    RFC2142_MAILBOX_NAMES,
    explain_email_error,
    explain_key_error,
    normalize_email,
)
from userimport.schema import email_key


def reference(text: str) -> tuple[str, str] | str:
    """What normalize_email must return, computed with plain email-validator calls
    (strict: at most 64 characters before the @, RFC 5321 4.5.3.1.1)."""
    try:
        normalized = validate_email(
            text.strip(), strict=True, check_deliverability=False
        ).normalized
    except EmailNotValidError as error:
        return explain_email_error(str(error))
    key = email_key(normalized)
    try:
        validate_email(key, strict=True, check_deliverability=False)
    except EmailNotValidError as error:
        return explain_key_error(str(error))
    return normalized, key


def assert_same_as_reference(text: str) -> None:
    """normalize_email equals the reference, cold and warm; an address refused by
    its length alone is one the reference refuses too, perhaps for another reason
    it finds first."""
    expected = reference(text)
    for _ in range(2):
        actual = normalize_email(text)
        if _email._too_long(text.strip()) is None:
            assert expected == actual
        else:
            assert isinstance(expected, str)
            assert isinstance(actual, str)


ATEXT = string.ascii_letters + string.digits + "!#$%&'*+-/=?^_`{|}~"
atoms = st.text(alphabet=ATEXT, min_size=1, max_size=12)
dot_atom_locals = st.lists(atoms, min_size=1, max_size=4).map(".".join)
locals_ = st.one_of(
    dot_atom_locals,
    st.sampled_from(sorted(RFC2142_MAILBOX_NAMES)).map(str.upper),
    st.sampled_from(["Info", "POSTMASTER", "www", "a", "A.B", "x" * 64, "y" * 65]),
    # odd dots, quotes, spaces, unicode and anything else: the slow path.
    st.sampled_from([".a", "a.", "a..b", '"a b"', '"a@b"', "josé", "Jos\u0065\u0301"]),
    st.text(alphabet=ATEXT + '."\\ @<>()[]', max_size=12),
    st.text(max_size=8),
)
labels = st.text(
    alphabet=string.ascii_letters + string.digits + "-", min_size=1, max_size=20
)
unicode_labels = st.text(
    alphabet=st.sampled_from("abcxyzäöüßñçøéαβγσςабв例え中文אבعر0123-İﬁＡ．"),
    min_size=1,
    max_size=12,
)
domains = st.one_of(
    st.sampled_from(
        [
            "example.com",
            "Example.COM",
            "acme-corp.com",
            "mail.acme-corp.co.uk",
            "bücher.de",
            "BÜCHER.de",
            "xn--bcher-kva.de",
            "straße.de",
            "xn--strae-oqa.de",
            "ΑΒΓ.gr",
            "例え.jp",
            "1.אב.com",
            "xn--4dbc.1.com",
            "ＡＢＣ.com",
            "a．com",
            "a\u3002com",
            "localhost",
            "a.test",
            "a.local",
            "x.invalid",
            "site.onion",
            "10.in-addr.arpa",
            "[1.2.3.4]",
            "[IPv6:::1]",
            "",
            "com",
            "a..com",
            ".a.com",
            "a.com.",
            "-a.com",
            "a-.com",
            "ab--c.com",
            "xn--a.com",
            "a.123",
            "a" * 63 + ".com",
            "a" * 64 + ".com",
            ".".join(["a" * 60] * 4) + ".co",
            ".".join(["a" * 61] * 4) + ".com",
            "exa mple.com",
            "example.com\u200b",
            "@example.com",
        ]
    ),
    st.lists(labels, min_size=1, max_size=4).map(".".join),
    st.lists(unicode_labels, min_size=1, max_size=3).map(lambda ls: ".".join(ls)),
    st.builds(
        lambda ls, tld: ".".join([*ls, tld]),
        st.lists(st.one_of(labels, unicode_labels), min_size=1, max_size=3),
        st.sampled_from(["com", "es", "COM", "xn--p1ai", "рф"]),
    ),
)
addresses = st.one_of(
    st.builds(lambda local, domain: f"{local}@{domain}", locals_, domains),
    st.builds(
        lambda pad, local, domain, pad2: f"{pad}{local}@{domain}{pad2}",
        st.sampled_from(["", " ", "\t", "\u00a0"]),
        dot_atom_locals,
        domains,
        st.sampled_from(["", " ", "\n", "\u3000"]),
    ),
    st.text(max_size=40),
)


def at_length(local_length: int, domain: str) -> str:
    """An address of a dot-atom local part of *local_length* characters at *domain*."""
    return "u" * local_length + "@" + domain


#: Addresses exactly at and just past the limits (RFC 5321 4.5.3.1): 254 octets for
#: the address, 253 for the domain, 63 for a label; 64 for a local part is only
#: checked in strict mode, which userimport does not use.
LENGTH_EDGES = [
    at_length(64, "example.com"),
    at_length(65, "example.com"),
    at_length(254 - 12, "example.com"),
    at_length(255 - 12, "example.com"),
    at_length(254 - 11, "bücher.de"),
    at_length(254 - 12, "bücher.de"),
    at_length(254 - 19, "xn--bcher-kva.de"),
    at_length(255 - 19, "xn--bcher-kva.de"),
    at_length(200, "例え.jp"),
    at_length(230, "例え.jp"),
    at_length(1, ".".join(["a" * 63] * 3) + ".com"),
    at_length(2, ".".join(["a" * 63] * 3) + "." + "b" * 61),
    at_length(1, ".".join(["a" * 63] * 3) + "." + "b" * 62),
    at_length(1, "a" * 250 + ".com"),
    "ß" * 60 + "@straße.de",
]


@pytest.fixture(autouse=True)
def _cold_cache() -> Iterator[None]:
    """Each test starts with an empty domain cache, as a fresh process would."""
    _email.clear_cache()
    yield
    _email.clear_cache()


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The addresses given to email-validator from now on, in order."""
    calls: list[str] = []
    real: Callable[[str], object] = _email._validate_email

    def counting(address: str) -> object:
        calls.append(address)
        return real(address)

    monkeypatch.setattr(_email, "_validate_email", counting)
    return calls


@given(addresses)
@example("Ana@Example.com")
@example("info@Example.com")
@example("ß@straße.de")
@example("İ@x.com")
@example("ﬁ@x.com")
@example("a@ＡＢＣ.com")
@example("a@xn--strae-oqa.de")
def test_same_as_email_validator(text: str) -> None:
    """normalize_email gives email-validator's exact verdict, cold and warm."""
    assert_same_as_reference(text)


@pytest.mark.parametrize("text", LENGTH_EDGES)
def test_length_limits_same_as_email_validator(text: str) -> None:
    """At and just past every length limit the verdict is email-validator's, and
    so is the message."""
    expected = reference(text)
    assert expected == normalize_email(text)
    assert expected == normalize_email(text)


@given(st.lists(dot_atom_locals, min_size=1, max_size=5), domains)
def test_many_users_of_one_domain(local_parts: list[str], domain: str) -> None:
    """A warm cache answers for new addresses exactly as email-validator does."""
    for local in local_parts:
        assert_same_as_reference(f"{local}@{domain}")


long_texts = st.builds(
    lambda head, middle, tail: head + middle + tail,
    st.text(max_size=70),
    st.sampled_from(["", "@", "@@", '"', "<", "ñ", "例", "\U0001f600", "."]),
    st.text(alphabet=st.sampled_from('a.@"<>é例\U0001f600 '), max_size=400),
)


@given(long_texts)
@example("a" * 65 + "@example.com")
@example('"' + "a" * 300 + '"@example.com')
@example("Ana García <" + "a" * 300 + "@example.com>")
def test_long_addresses_same_verdict(text: str) -> None:
    """Around and past the length limits, with quotes, display names, many @ and
    wide characters, the verdict is email-validator's."""
    assert_same_as_reference(text)


@pytest.mark.parametrize(
    "text",
    [
        "a" * 65 + "@example.com",
        "a" * 7000 + "@example.com",
        "ñ" * 65 + "@example.com",
        "u" * 60 + "@" + "d" * 250 + ".com",
        "ñ" * 64 + "@" + "ü" * 250 + ".example.com",
        "é" * 64 + "@" + ".".join(["bücher" + "x" * 40] * 3) + ".de",
        "u" * 64 + "@" + ".".join(["d" * 60] * 4) + ".com",
        "u@" + "a." * 3000 + "com",
        "u@" + "@" * 3000,
        "x" * 7000,
        "x" * 7000 + "＠example.com",
        "x" * 7000 + "﹫example.com",
    ],
)
def test_too_long_gets_email_validators_message(text: str) -> None:
    """An address whose only fault is its length gets email-validator's message."""
    expected = reference(text)
    assert isinstance(expected, str)
    assert expected == normalize_email(text)


@given(
    long_texts.map(lambda text: "x" * 65 + text)
    | long_texts.map(lambda text: "x@" + "d" * 254 + text)
)
def test_too_long_is_refused_without_parsing(text: str) -> None:
    """An address with more than 64 characters before its first @, or more than 253
    after it, is refused by its length: email-validator, whose parser costs
    microseconds per character, is never called."""

    def unexpected(address: str) -> object:
        raise AssertionError(f"email-validator called for {address!r}")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_email, "_validate_email", unexpected)
        result = normalize_email(text)
    assert isinstance(result, str)


def test_length_edges_cover_both_verdicts() -> None:
    """The length edge cases include valid and invalid addresses."""
    verdicts = {isinstance(reference(text), tuple) for text in LENGTH_EDGES}
    assert {True, False} == verdicts


def test_rfc2142_names_match_email_validator() -> None:
    """The mailbox names lower-cased by the fast path are email-validator's."""
    assert frozenset(CASE_INSENSITIVE_MAILBOX_NAMES) == RFC2142_MAILBOX_NAMES


def test_common_addresses_validate_each_domain_once(validations: list[str]) -> None:
    """Users of one domain cost one email-validator call, not one per address."""
    results = [normalize_email(f"user{i}@Acme.example.com") for i in range(10)]

    expected = [
        (f"user{i}@acme.example.com", f"user{i}@acme.example.com") for i in range(10)
    ]
    assert expected == results
    # One probe of the domain; the key's domain is its ASCII form, known valid.
    assert ["a@Acme.example.com"] == validations


def test_key_folds_case_and_keeps_local_case() -> None:
    """Ana@Example.com and ana@example.COM share a key; the local part keeps case."""
    assert ("Ana@example.com", "ana@example.com") == normalize_email("Ana@Example.com")
    assert ("ana@example.com", "ana@example.com") == normalize_email("ana@example.COM")


def test_key_is_nfkc_and_case_folded() -> None:
    """The key's local part is NFKC and fully case-folded (ß, ligatures); its
    domain is the A-label form, which keeps ß as IDNA2008 does."""
    assert ("ß@straße.de", "ss@xn--strae-oqa.de") == normalize_email("ß@straße.de")
    assert ("ﬁ@x.com", "fi@x.com") == normalize_email("ﬁ@x.com")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ana@Bücher.de", ("Ana@bücher.de", "ana@xn--bcher-kva.de")),
        ("Ana@XN--BCHER-KVA.de", ("Ana@bücher.de", "ana@xn--bcher-kva.de")),
        ("x@faß.de", ("x@faß.de", "x@xn--fa-hia.de")),
        ("x@fass.de", ("x@fass.de", "x@fass.de")),
        ("a@ΣΟΦΟΣ.gr", ("a@σοφοσ.gr", "a@xn--0xaakcn.gr")),
    ],
)
def test_key_domain_is_the_a_label(text: str, expected: tuple[str, str]) -> None:
    """The fast path's key is email_key's: the domain's lower-cased A-label."""
    assert expected == normalize_email(text)
    assert expected == normalize_email(text)  # warm
    assert email_key(expected[0]) == expected[1]


def test_surrounding_whitespace_is_ignored() -> None:
    """Whitespace around the address is stripped before validation."""
    assert ("ana@example.com", "ana@example.com") == normalize_email(
        "  ana@example.com\t"
    )


def test_invalid_address_gets_one_sentence() -> None:
    """email-validator's two-sentence explanation becomes one sentence."""
    expected = (
        "Correct this email address: the part after the @-sign is not valid;"
        " it should have a period."
    )
    assert expected == normalize_email("ana@example")


def test_explanation_keeps_acronyms() -> None:
    """An explanation starting with an acronym keeps its capitals."""
    assert "Correct this email address: IPv6 is odd." == explain_email_error(
        "IPv6 is odd."
    )


def test_key_error_message() -> None:
    """An invalid key is explained as a case problem, with the reason."""
    expected = (
        "Correct this email address: once upper and lower case are treated alike"
        " it is no longer valid (the email address is too long (1 character too"
        " many))."
    )
    assert expected == explain_key_error(
        "The email address is too long (1 character too many)."
    )


def test_invalid_key_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    """An address whose key does not validate is invalid_email, with the reason.

    No real address is known to pass while its key fails, so the key rule is shown
    with a key function that produces an invalid key.
    """
    monkeypatch.setattr(_email, "email_key", lambda email: email.upper() + ".")
    expected = explain_key_error("An email address cannot end with a period.")
    assert expected == normalize_email("josé@example.com")
    assert expected == normalize_email("ana@example.com")


def test_slow_path_key_validated_by_email_validator() -> None:
    """A key the fast path cannot decide is validated by email-validator itself."""
    assert ("José@example.com", "josé@example.com") == normalize_email(
        "Jose\u0301@example.com"
    )


#: Characters of international local parts: letters, and every kind the fast path
#: must leave to email-validator (combining marks, spaces, format, private-use,
#: unassigned and compatibility characters, and those NFC or NFKC change into a
#: separator, a dot, an @ or many letters).
INTERNATIONAL = (
    "abcXYZ09._-+ñéüßİﬁǅÅΣσς例😀אع"
    "\u0301\u0903\u0345"  # combining marks (Mn, Mc), one that case-folds
    "\u00a0\u3000\u2028\u200b\u00ad\u200d\ue000\u0378"  # Z and C categories
    "ＡＢ．＠․;\u037e\u212b\u2126ﷺ\u0958\u1100\u1161\u1e9e"  # NFC or NFKC change
)
#: A domain of 194 octets whose IDNA ASCII form has 218.
LONG_IDN = ".".join(["bücher" + "x" * 40] * 4) + ".de"
international_locals = st.text(
    alphabet=st.sampled_from(INTERNATIONAL), min_size=1, max_size=66
)


@given(international_locals, domains)
@example("ñandú", "example.com")
@example("ǅemal", "bücher.de")
@example("\u0301a", "example.com")
@example("a\u0301", "example.com")
@example("x\u0345", "example.com")
@example("ﷺ" * 4, "example.com")
@example("ñ" * 63 + "ﬁ", "example.com")
@example("a＠b", "example.com")
@example("a․․b", "example.com")
@example("a\u037eb", "example.com")
@example("㌀" * 16, "a" * 58 + ".com")  # NFKC makes the key 144 octets longer
@example("u" * 35, LONG_IDN)  # 254 octets in IDNA ASCII
@example("u" * 36, LONG_IDN)
@example("ñ" * 17, LONG_IDN)
@example("ñ" * 18, LONG_IDN)
def test_international_local_parts_same_as_email_validator(
    local: str, domain: str
) -> None:
    """Non-ASCII local parts, which the fast path decides when they are plain,
    get email-validator's exact verdict, and their keys too, cold and warm."""
    assert_same_as_reference(f"{local}@{domain}")


def test_plain_international_local_parts_validate_each_domain_once(
    validations: list[str],
) -> None:
    """A plain non-ASCII local part at a known domain costs no email-validator call."""
    local_parts = ["José", "ñandú", "Straße", "例え", "ñ" * 64]
    results = [normalize_email(f"{local}@Acme.example.com") for local in local_parts]

    assert [
        (f"{local}@acme.example.com", email_key(f"{local}@acme.example.com"))
        for local in local_parts
    ] == results
    assert ["a@Acme.example.com"] == validations


def test_isprintable_is_unicode_categories_but_c_and_z() -> None:
    """The fast path reads email-validator's character check (no category C or Z)
    as ``str.isprintable``: true exactly outside categories C and Z, and for the
    ASCII space, for every code point."""
    differ = [
        hex(code)
        for code in range(sys.maxunicode + 1)
        if chr(code).isprintable()
        != (code == 0x20 or unicodedata.category(chr(code))[0] not in "CZ")
    ]
    assert [] == differ


def test_atext_is_email_validators() -> None:
    """The fast path's atext, ASCII and international, matches the same code points
    as email-validator's."""
    every = "".join(map(chr, range(sys.maxunicode + 1)))
    for ours, theirs in [
        (_email._ATEXT, rfc_constants.ATEXT),
        (_email._ATEXT_INTL, rfc_constants.ATEXT_INTL),
    ]:
        assert re.findall(f"[{theirs}]", every) == re.findall(f"[{ours}]", every)
