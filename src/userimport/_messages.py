"""Messages in the administrator's language: English in the code, others from catalogs.

Every sentence the library shows a person is written in English where it arises,
through :func:`message`, which remembers the English template and its values. The
flow then says the whole review in the language of ``ImportOptions.locale`` at one
place (:func:`say`), from the gettext catalogs shipped in ``userimport/locale``
(``.po`` sources, compiled ``.mo``; managed with Babel: see ``docs/messages.md``).
A region falls back to its language (``es-MX`` to ``es``), and a language without a
catalog to English.

Placeholders are named (``{row}``, ``{value}``), so a translation can put them in
its own order; a value that is itself a message is said in the language too.
"""

from __future__ import annotations

import functools
import gettext
from collections.abc import Iterable
from importlib import resources
from typing import Final

__all__ = ["LANGUAGES", "Message", "language", "listing", "message", "say"]

#: The languages with a catalog, English (the code's own) first.
LANGUAGES: Final = ("en", "es")
_DOMAIN: Final = "userimport"


class Message(str):
    """An English message that remembers its template and values.

    It is the English text (a ``str``, equal to it, serialised as it), and
    :func:`say` can say it in another language.
    """

    template: str
    values: dict[str, object]

    def __new__(cls, template: str, /, **values: object) -> Message:
        shown = {name: _number(value, "en") for name, value in values.items()}
        text = super().__new__(cls, template.format(**shown))
        text.template = template
        text.values = values
        return text

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (self.template, self.values))


def _rebuild(template: str, values: dict[str, object]) -> Message:
    return Message(template, **values)


def message(template: str, /, **values: object) -> str:
    """The English ``template`` with ``values``, sayable in another language.

    ``template`` is a literal the catalogs know (the extraction looks for calls of
    this function); ``values`` fill its named placeholders.
    """
    return Message(template, **values)


class Listing(str):
    """Texts joined by a separator, each said in the language when the whole is."""

    items: tuple[str, ...]
    separator: str

    def __new__(cls, items: Iterable[str], separator: str = ", ") -> Listing:
        texts = tuple(items)
        listed = super().__new__(cls, separator.join(texts))
        listed.items = texts
        listed.separator = separator
        return listed

    def __reduce__(self) -> tuple[object, ...]:
        return (Listing, (self.items, self.separator))


def listing(items: Iterable[str], separator: str = ", ") -> str:
    """``items`` joined by ``separator``; :func:`say` says each of them."""
    return Listing(items, separator)


def _number(value: object, lang: str) -> object:
    """An integer as the language writes it, any other value as it is.

    English groups thousands with commas (``131,072``); Spanish, as the RAE and
    ISO 80000 write it for Spain and Latin America alike, leaves four digits
    ungrouped (``1500``) and groups longer numbers with a no-break space
    (``131 072``), since a comma or a point would read as a decimal sign in one
    country or another.
    """
    if type(value) is not int:
        return value
    if lang == "en":
        return format(value, ",")
    if -10_000 < value < 10_000:
        return str(value)
    return format(value, ",").replace(",", "\u00a0")


def language(locale: str | None) -> str:
    """The language of ``locale`` that has a catalog: ``es-MX`` → ``es``; English
    for anything else.

    >>> language("es-MX"), language("ES_es"), language("pt-BR"), language(None)
    ('es', 'es', 'en', 'en')
    """
    primary = (locale or "").replace("_", "-").split("-", 1)[0].casefold()
    return primary if primary in LANGUAGES else "en"


@functools.cache
def _catalog(lang: str) -> gettext.NullTranslations:
    """The translations of ``lang`` (loaded once; the catalogs never change)."""
    if lang == "en":
        return gettext.NullTranslations()
    path = resources.files("userimport") / "locale" / lang / "LC_MESSAGES"
    with resources.as_file(path / f"{_DOMAIN}.mo") as mo, open(mo, "rb") as file:
        return gettext.GNUTranslations(file)


def say(text: str, locale: str | None) -> str:
    """``text`` in the language of ``locale``, if it is a :func:`message`.

    Any other text (a value from the file, a host check's own sentence) is kept as
    it is.

    >>> say(message("Row {row} is empty.", row=2), "en")
    'Row 2 is empty.'
    """
    lang = language(locale)
    if lang == "en" or not isinstance(text, Message | Listing):
        return text
    if isinstance(text, Listing):
        return text.separator.join(say(item, lang) for item in text.items)
    values = {
        name: say(value, lang) if isinstance(value, str) else _number(value, lang)
        for name, value in text.values.items()
    }
    return _catalog(lang).gettext(text.template).format(**values)
