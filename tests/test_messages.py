"""The message catalogs: every message of the code has a translation that keeps its
placeholders, the compiled catalogs say what the sources say, and the library says
its sentences in the options' language."""

from __future__ import annotations

import gettext
import io
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import userimport
from english_left import english_left
from userimport import Actor, ImportOptions, MemoryStore, Organization, OrgTree, Role
from userimport._messages import LANGUAGES, language, listing, message, say
from userimport.formulas import FORMULA_TRIGGERS

ROOT = Path(__file__).parents[1]
LOCALE = ROOT / "src" / "userimport" / "locale"
TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]


def catalog(lang: str) -> dict[str, str]:
    """The ``.po`` source of ``lang``: message → translation."""
    path = LOCALE / lang / "LC_MESSAGES" / "userimport.po"
    with path.open("rb") as file:
        return {str(m.id): str(m.string) for m in read_po(file) if m.id}


def extracted() -> set[str]:
    """Every message the code says, as Babel extracts it."""
    found = extract_from_dir(
        str(ROOT / "src"),
        method_map=[("userimport/**.py", "python")],
        keywords={"message": None},
    )
    return {str(text) for _, _, text, _, _ in found}


def placeholders(text: str) -> set[str]:
    """The names of ``{placeholders}`` of a message."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_catalog_holds_exactly_the_messages_of_the_code(lang: str) -> None:
    """A message added to the code and not to the catalog (or left there after the
    code dropped it) fails: run scripts/messages.py and translate."""
    assert extracted() == set(catalog(lang))


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_is_translated_with_its_placeholders(lang: str) -> None:
    """No translation is missing, and none lost or invented a placeholder."""
    for english, translated in catalog(lang).items():
        assert translated, f"no translation of {english!r}"
        assert placeholders(english) == placeholders(translated), english


@pytest.mark.parametrize("lang", TRANSLATED)
def test_translations_are_safe_to_put_in_a_cell(lang: str) -> None:
    """No translation starts like a formula or holds a control character."""
    for translated in catalog(lang).values():
        assert translated[0] not in FORMULA_TRIGGERS
        assert translated.isprintable()


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_compiled_catalog_says_what_the_source_says(lang: str) -> None:
    """The shipped ``.mo`` is the ``.po`` compiled: run scripts/messages.py after
    editing a translation."""
    mo = LOCALE / lang / "LC_MESSAGES" / "userimport.mo"
    compiled = gettext.GNUTranslations(io.BytesIO(mo.read_bytes()))
    for english, translated in catalog(lang).items():
        assert translated == compiled.gettext(english)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("es", "es"),
        ("es-MX", "es"),
        ("es_419", "es"),
        ("ES", "es"),
        ("en-GB", "en"),
        ("pt-BR", "en"),
        ("", "en"),
        ("x" * 1000, "en"),
    ],
)
def test_a_region_falls_back_to_its_language(locale: str, expected: str) -> None:
    """``es-MX`` is said in Spanish; a language without a catalog in English."""
    assert expected == language(locale)


def test_a_message_is_its_english_text_and_says_itself_in_spanish() -> None:
    """A message is a string equal to its English text; its values, messages too,
    are said in the language."""
    text = message("{label} is required; fill it in.", label=message("The first name"))
    assert "The first name is required; fill it in." == text
    assert "Escribe el nombre: es un dato obligatorio." == say(text, "es")
    assert "nombre, apellidos" == say(
        listing([message("first name"), message("last name")]), "es-ES"
    )
    assert "plain text" == say("plain text", "es")


TREE = OrgTree([Organization("acme", "Acme"), Organization("es", "España", "acme")])
SPAIN = Actor("es", Role.MANAGER)


def issues_of(data: bytes, locale: str) -> Iterator[tuple[str, str]]:
    """(code, message) of every issue of ``prepare`` in ``locale``."""
    preview = userimport.prepare(
        data,
        actor=SPAIN,
        orgs=TREE,
        store=MemoryStore(),
        options=ImportOptions(locale=locale),
    )
    for issue in preview.issues:
        yield issue.code.value, issue.message


def test_a_review_in_spanish_says_every_row_issue_in_spanish() -> None:
    """The same file reviewed with ``locale="es-MX"`` gives the same issues, each
    said in Spanish (no English sentence left)."""
    data = (
        "Nombre,Apellidos,Correo,Organización,Rol,Grupos,Idioma\r\n"
        ",Gil,ana@x.example,Nada,admin,,\r\n"
        "=Bo,Li,bo@x.example,,jefe,,xx\r\n"
        "Cy,Xu,cy@x.example,,,,\r\n"
        "Dee,Ng,CY@x.example,,,,\r\n"
        "Ana,García,ana.garcia@example.com,,learner,Sales; Onboarding,es\r\n"
    ).encode()
    english = list(issues_of(data, "en"))
    spanish = list(issues_of(data, "es-MX"))
    assert [code for code, _ in english] == [code for code, _ in spanish]
    for (_, said_en), (code, said_es) in zip(english, spanish, strict=True):
        assert said_en != said_es, code
        assert [] == english_left(said_es), said_es


def test_a_spanish_review_names_fields_and_roles_in_spanish() -> None:
    """Columns and roles are named in the review's words, not by their ids: a
    role above the actor's, a missing column."""
    role = dict(
        issues_of(b"first_name,last_name,email,role\r\nAna,Gil,a@x.es,admin\r\n", "es")
    )
    column = dict(issues_of(b"first_name,email\r\nAna,a@x.es\r\n", "es"))

    assert "“administrador”" in role["role_not_allowed"]
    assert "“responsable”" in role["role_not_allowed"]
    assert "columna obligatoria “apellidos”" in column["missing_columns"]
