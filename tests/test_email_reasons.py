"""Tests for userimport._email_reasons: email-validator's explanations as messages,
English exactly as email-validator says it, Spanish from the catalog."""

from __future__ import annotations

import ast
import csv
import io
import itertools
import re
import string
from collections.abc import Iterator
from pathlib import Path

import email_validator
import idna
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given
from hypothesis import strategies as st

from english_left import english_left
from test_email import addresses, dot_atom_locals, long_texts
from test_messages import issues_of
from userimport._email import explain_email_error, explain_key_error, normalize_email
from userimport._email_reasons import (
    _TABLES,
    _find,
    _Part,
    clause,
    email_reason,
    is_known,
)
from userimport._messages import Message, say
from userimport.schema import email_key

#: Stands for a part of a sentence computed at run time (a private-use character,
#: which neither ``re.escape`` nor ``clause`` changes).
HOLE = "\ue000"


def example_of(entry: str) -> str:
    """The text of a table entry with each placeholder's example."""
    assert isinstance(entry, Message)
    values = {
        name: part.example if isinstance(part, _Part) else part
        for name, part in entry.values.items()
    }
    return entry.template.format(**values)


def examples(table: str) -> list[str]:
    """The example of every entry of ``table``."""
    return [example_of(entry) for entry in _TABLES[table]]


def every_example(table: str) -> Iterator[str]:
    """Texts of every entry of ``table``, with each example of the other tables
    its placeholders name."""
    for entry in _TABLES[table]:
        assert isinstance(entry, Message)
        choices: dict[str, list[str]] = {}
        for name, part in entry.values.items():
            assert isinstance(part, _Part)
            if part.table is None or part.table == table:
                choices[name] = [part.example]
            else:
                choices[name] = list(every_example(part.table))
        for values in itertools.product(*choices.values()):
            yield entry.template.format(**dict(zip(choices, values, strict=True)))


def sentence(node: ast.expr) -> str:
    """The text an expression of a library's source builds, with ``HOLE`` for each
    part computed at run time (a value, a joined list, another exception)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.replace("{}", HOLE)
    if isinstance(node, ast.JoinedStr):
        return "".join(sentence(value) for value in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return sentence(node.left) + sentence(node.right)
    if (  # "...{}...".format(...)
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and isinstance(node.func.value, ast.Constant)
    ):
        return sentence(node.func.value)
    return HOLE


def raised(path: Path, calls: dict[str, int]) -> Iterator[str]:
    """The sentences given to each function of ``calls`` (by name: how many of its
    first arguments are sentences) in the source at ``path``."""
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in calls
        ):
            for argument in node.args[: calls[node.func.id]]:
                yield sentence(argument)


def as_pattern(text: str) -> str:
    """A regular expression for ``text``, any text in place of each ``HOLE``."""
    return ".*".join(map(re.escape, text.split(HOLE)))


EMAIL_VALIDATOR = Path(email_validator.__file__).parent
#: email-validator's sentences: those it raises, and the templates of the dots and
#: hyphens it passes to ``check_dot_atom``.
EMAIL_VALIDATOR_SENTENCES = sorted(
    {
        sentence
        for path in sorted(EMAIL_VALIDATOR.glob("*.py"))
        for sentence in raised(path, {"EmailSyntaxError": 1, "check_dot_atom": 3})
        if sentence != HOLE
    }
)
#: idna's sentences, but the one for bytes (email-validator passes text).
IDNA_SENTENCES = sorted(
    {
        sentence
        for sentence in raised(
            Path(idna.__file__).parent / "core.py",
            {
                "IDNAError": 1,
                "IDNABidiError": 1,
                "InvalidCodepoint": 1,
                "InvalidCodepointContext": 1,
            },
        )
        if not sentence.startswith("should pass a unicode string")
    }
)


def test_the_sources_hold_sentences() -> None:
    """The reading of the sources finds email-validator's and idna's sentences."""
    assert "An email address must have an @-sign." in EMAIL_VALIDATOR_SENTENCES
    assert len(EMAIL_VALIDATOR_SENTENCES) > 40
    assert "Label too long" in IDNA_SENTENCES


@pytest.mark.parametrize("raised_sentence", EMAIL_VALIDATOR_SENTENCES)
def test_every_sentence_email_validator_raises_is_in_the_table(
    raised_sentence: str,
) -> None:
    """Each sentence the installed email-validator raises (its computed parts
    standing for anything) fits an entry of the table, in clause form. A new
    sentence in a later release fails here: add it to the table and translate it."""
    pattern = re.compile(as_pattern(clause(raised_sentence)), re.DOTALL)
    assert any(pattern.fullmatch(text) for text in every_example("reasons"))


@pytest.mark.parametrize("raised_sentence", IDNA_SENTENCES)
def test_every_sentence_idna_raises_is_in_the_table(raised_sentence: str) -> None:
    """Each sentence of the installed idna fits an entry of its table."""
    pattern = re.compile(as_pattern(raised_sentence), re.DOTALL)
    assert any(pattern.fullmatch(text) for text in every_example("idna"))


@pytest.mark.parametrize("table", sorted(_TABLES))
def test_every_entry_is_the_first_to_fit_its_example(table: str) -> None:
    """No entry hides another: the example of each entry is found as that entry,
    and the message rebuilt from it is the example, character for character (but
    the capital after ``after Unicode normalization:``)."""
    for entry, text in zip(_TABLES[table], examples(table), strict=True):
        found = _find(text, table, strict=True)
        assert isinstance(entry, Message)
        assert isinstance(found, Message)
        expected = text.replace("normalization: The", "normalization: the")
        assert (entry.template, expected) == (found.template, str(found))


def explanations(text: str) -> Iterator[str]:
    """email-validator's explanations for an address, and for its key."""
    try:
        normalized = validate_email(
            text.strip(), strict=True, check_deliverability=False
        ).normalized
    except EmailNotValidError as error:
        yield str(error)
        return
    try:
        validate_email(email_key(normalized), strict=True, check_deliverability=False)
    except EmailNotValidError as error:
        yield str(error)


#: Addresses email-validator refuses for every kind of reason: those of the
#: differential tests, addresses in brackets, internationalised and Punycode
#: domains with any characters.
hostile = st.one_of(
    addresses,
    long_texts,
    st.builds(
        "{}@[{}]".format,
        dot_atom_locals,
        st.text(alphabet="0123456789abcdefgIPv6:.%'\" ", max_size=24),
    ),
    st.builds(
        "{}@{}.com".format,
        dot_atom_locals,
        st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=3).map(".".join),
    ),
    st.builds(
        "{}@xn--{}.com".format,
        dot_atom_locals,
        st.text(alphabet=string.ascii_lowercase + string.digits + "-", max_size=12),
    ),
)

#: One address for each kind of explanation that the strategies above find rarely.
KINDS = [
    "a@",
    "@x.com",
    "a@[1.2.3]",
    "a@[1..2.3]",
    "a@[1.2.3.0999]",
    "a@[1.2.3.01]",
    "a@[1.2.3.999]",
    "a@[IPv6:]",
    "a@[IPv6:1:2]",
    "a@[IPv6:1:2:3:4:5:6:7:8:9]",
    "a@[IPv6:1::2::3]",
    "a@[IPv6::1:2:3:4:5:6:7]",
    "a@[IPv6:1:2:3:4:5:6:7:]",
    "a@[IPv6:1::2:3:4:5:6:7:8]",
    "a@[IPv6:1:2:3:4:5:6:7:g]",
    "a@[IPv6:1:2:3:4:5:6:7:12345]",
    "a@[IPv6:::1%]",
    "a@[IPv6:::1%eth0]",
    "a@[IPv6:::1.2.3]",
    "a@[IPv6:::1.2.3.a]",
    "a@[x:y]",
    "a@[x]",
    "a@[x:y z]",
    "a@[1.2.3.4]",
    "a@xn---bbk.com",
    "a@xn--a.com",
    "a@1.\u05d0\u05d1.com",
    "a@\u05d0a.com",
    "a@a\u05d0.com",
    "a@\u0627\u0661\u06f1.com",
    "a@\u00b7a.com",
    "a@\u2488.com",
    "a@" + "a" * 64 + ".com",
    "a@" + ".".join(["ü" * 50] * 5) + ".com",
    "a\u037eb@x.com",
    '"a"b@x.com',
    "Ana <a@x.com",
    "Ana <a@x.com> x",
    "Ana. <a@x.com>",
    "<a@x.com>",
    '"a b"@x.com',
    "ab＠x.com",
    "ab﹫x.com",
    "a" * 65 + "@example.com",
    "a" * 66 + "@example.com",
    "u" * 60 + "@" + "d" * 250 + ".com",
    "ñ" * 64 + "@" + "ü" * 250 + ".example.com",
    "u" * 230 + "@" + "例え.jp",
    "é" * 64 + "@" + ".".join(["bücher" + "x" * 40] * 3) + ".de",
]


@given(hostile)
@example("a@[IPv6:::1.2.3.a]")
@example("a\u037eb@x.com")
def test_every_explanation_is_known_and_its_english_unchanged(text: str) -> None:
    """Every explanation email-validator gives for a hostile address is known to
    the tables, and its English is email-validator's clause unchanged (but the
    capital after ``after Unicode normalization:``)."""
    for explanation in explanations(text):
        assert is_known(explanation), explanation
        expected = clause(explanation).replace(
            "after Unicode normalization: T", "after Unicode normalization: t"
        )
        assert f"Correct this email address: {expected}." == explain_email_error(
            explanation
        )


@pytest.mark.parametrize("text", KINDS)
def test_each_kind_of_explanation_is_known(text: str) -> None:
    """Addresses in brackets, idna's sentences and every length message are known."""
    found = list(explanations(text))
    assert found
    for explanation in found:
        assert is_known(explanation), explanation


def test_an_unknown_explanation_is_kept_as_it_is() -> None:
    """A sentence of a later email-validator keeps its English inside the Spanish
    sentence, which still says what to do; an unknown idna sentence inside a known
    one keeps the rest known."""
    assert not is_known("Something new happened.")
    text = explain_email_error("Something new happened.")
    assert "Correct this email address: something new happened." == text
    assert "Corrige el correo electrónico: something new happened." == say(text, "es")
    idna_later = "The part after the @-sign is invalid (A new rule of IDNA)."
    assert not is_known(idna_later)
    assert (
        "Corrige el correo electrónico: la parte después de la @ no es válida"
        " (A new rule of IDNA)." == say(explain_email_error(idna_later), "es")
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a" * 65 + "@example.com",
            "la parte antes de la @ es demasiado larga (sobra 1 carácter)",
        ),
        (
            "a" * 66 + "@example.com",
            "la parte antes de la @ es demasiado larga (sobran 2 caracteres)",
        ),
        (
            "ana@example",
            "la parte después de la @ no es válida; debe tener un punto",
        ),
        ("ana.example.com", "le falta la arroba (@)"),
        (
            "a\u037eb@x.com",
            "tras la normalización Unicode, tiene caracteres no válidos antes de la"
            " @: ';'",
        ),
        (
            "a@[IPv6:::1.2.3]",
            "la dirección IPv6 entre corchetes después de la @ no es válida ('1.2.3'"
            " debe tener 4 números separados por puntos, dentro de '::1.2.3')",
        ),
    ],
)
def test_the_explanation_in_spanish(text: str, expected: str) -> None:
    """The reason is said in Spanish, with the singular and plural of counts."""
    result = normalize_email(text)
    assert isinstance(result, str)
    assert f"Corrige el correo electrónico: {expected}." == say(result, "es")


def test_after_unicode_normalization_the_reason_is_a_clause() -> None:
    """The one change to email-validator's English: the sentence it repeats after
    ``After Unicode normalization:`` starts in lower case, like any reason."""
    assert (
        "Correct this email address: after Unicode normalization: the email address"
        " contains invalid characters before the @-sign: ';'."
    ) == normalize_email("a\u037eb@x.com")


def test_an_invalid_key_is_said_in_spanish() -> None:
    """The explanation of an invalid key is said in Spanish, with its reason."""
    text = explain_key_error("The email address is too long (1 character too many).")
    assert (
        "Corrige el correo electrónico: al no distinguir mayúsculas de minúsculas"
        " deja de ser válido (es demasiado largo (sobra 1 carácter))."
    ) == say(text, "es")


def test_email_reason_is_the_clause() -> None:
    """email_reason gives a message equal to email-validator's clause."""
    explanation = "The part after the @-sign is not valid. It should have a period."
    reason = email_reason(explanation)
    assert isinstance(reason, Message)
    assert clause(explanation) == reason


def upload(emails: list[str]) -> bytes:
    """A file of one row per email."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["first_name", "last_name", "email"])
    writer.writerows(["Ana", "Gil", email] for email in emails)
    return out.getvalue().encode()


# A NUL makes the whole file malformed_csv (and Python 3.10's csv.writer refuses
# to write it): no email is explained then.
@given(
    st.lists(hostile.filter(lambda email: "\x00" not in email), min_size=1, max_size=5)
)
@example(["a" * 66 + "@example.com", "a@[IPv6:::1.2.3.a]", "ana@example"])
def test_a_spanish_review_has_no_english_email_explanation(emails: list[str]) -> None:
    """Whatever the addresses, the Spanish review explains each invalid one in
    Spanish: no English word is left outside the quoted values."""
    for code, said in issues_of(upload(emails), "es"):
        if code == "invalid_email":
            assert said.startswith("Corrige el correo electrónico: "), said
            assert [] == english_left(said), said


def test_the_spanish_review_explains_invalid_emails() -> None:
    """The property above is not vacuous: the example file has invalid emails."""
    said = [
        text for code, text in issues_of(upload(KINDS), "es") if code == "invalid_email"
    ]
    assert len(said) > 40
    for text in said:
        assert [] == english_left(text), text
