"""A corpus of user lists as Excel saves them as "CSV" on Windows, made with Faker.

Each file holds names from one of Faker's locales, written in the ANSI code page
that Windows uses for that locale (Excel's "CSV" format), with the template's
columns and the list separator of the locale, at 1, 2, 5, 20 or 200 rows. Seeds are
fixed, so the corpus is the same on every run and machine (for one Faker version).

Besides the locale files there are:

* one-row Spanish files whose names hold an "ñ" (``José;Núñez``), the files that a
  wrong Central European guess turns into "Núńez";
* Japanese, Chinese and Korean files with names that only the Windows supersets
  encode (髙橋, 山﨑, 㓛 ...), which the stricter shift_jis, gbk/euc_kr and big5 lack;
* the same lists in UTF-8 (with and without a byte-order mark) and in ASCII, on which
  no warning is acceptable.

Emails are the name folded to ASCII (``jose.nunez@...``) in half the files and
Faker's own, unrelated addresses in the other half: detection may use the agreement
between names and emails, but must not depend on it.

Run ``python benchmarks/encoding_corpus.py`` for a summary; ``bench_encodings.py``
measures detection on it. Faker is a test and benchmark dependency only.
"""

from __future__ import annotations

import random
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterator

import attrs
from faker import Faker

#: Faker locale -> the ANSI code page Windows (and so Excel's "CSV") uses for it.
LOCALES: dict[str, str] = {
    # Western European
    "es_ES": "cp1252",
    "es_MX": "cp1252",
    "es_AR": "cp1252",
    "fr_FR": "cp1252",
    "fr_CA": "cp1252",
    "de_DE": "cp1252",
    "de_AT": "cp1252",
    "it_IT": "cp1252",
    "pt_PT": "cp1252",
    "pt_BR": "cp1252",
    "nl_NL": "cp1252",
    "da_DK": "cp1252",
    "no_NO": "cp1252",
    "sv_SE": "cp1252",
    "fi_FI": "cp1252",
    "is_IS": "cp1252",
    "ga_IE": "cp1252",
    "en_US": "cp1252",
    # Central European
    "pl_PL": "cp1250",
    "cs_CZ": "cp1250",
    "sk_SK": "cp1250",
    "hu_HU": "cp1250",
    "hr_HR": "cp1250",
    "sl_SI": "cp1250",
    "ro_RO": "cp1250",
    "bs_BA": "cp1250",
    "sq_AL": "cp1250",
    # Cyrillic
    "ru_RU": "cp1251",
    "uk_UA": "cp1251",
    "bg_BG": "cp1251",
    "mk_MK": "cp1251",
    # Greek, Turkish, Baltic
    "el_GR": "cp1253",
    "tr_TR": "cp1254",
    "lt_LT": "cp1257",
    "lv_LV": "cp1257",
    "et_EE": "cp1257",
    # East Asian: Excel writes the Windows supersets.
    "ja_JP": "cp932",
    "zh_CN": "cp936",
    "zh_TW": "cp950",
    "ko_KR": "cp949",
}

SIZES: tuple[int, ...] = (1, 2, 5, 20, 200)
#: Files per locale and size: 40 locales x 5 sizes x 5 = 1,000 legacy files.
FILES_PER_SIZE = 5

#: Locales whose list separator is ";" (a decimal comma); the others use ",".
_SEMICOLON = {"es", "fr", "de", "it", "pt", "nl", "da", "no", "sv", "fi", "is", "pl"}
_SEMICOLON |= {"cs", "sk", "hu", "hr", "sl", "ro", "bs", "sq", "ru", "uk", "bg", "mk"}
_SEMICOLON |= {"el", "tr", "lt", "lv", "et"}

#: Romanian text typed on Windows in cp1250 has the cedilla letters, which the code
#: page has, for the comma-below ones, which it lacks.
_ROMANIAN = str.maketrans("ȘșȚț", "ŞşŢţ")

#: Names that only the Windows supersets of the East Asian encodings hold (IBM/NEC
#: extensions of cp932, GBK/cp936 beyond GB2312, cp950 and cp949 extensions).
SUPERSET_NAMES: dict[str, list[tuple[str, str]]] = {
    # (family name, given name)
    "cp932": [("髙橋", "一郎"), ("山﨑", "花子"), ("德永", "ひろみ"), ("黑田", "昻")],
    "cp936": [("王", "喆"), ("朱", "镕基"), ("李", "珺"), ("陈", "堃")],
    "cp950": [("林", "恒"), ("陳", "碁"), ("張", "裏"), ("王", "嫺")],
    "cp949": [("김", "똠"), ("이", "햏"), ("박", "뷁"), ("최", "햏")],
}

#: Spanish names with an "ñ", for one-row files.
SPANISH_N = [
    ("José", "Núñez"),
    ("María", "Muñoz"),
    ("Ana", "Acuña"),
    ("Luis", "Ibáñez"),
    ("Iñigo", "Peña"),
    ("Begoña", "Ordóñez"),
    ("Nuño", "Yáñez"),
    ("Íñigo", "Cañizares"),
    ("Toño", "Montaña"),
    ("Patxi", "Urdangariñ"),
]


@attrs.frozen
class Sample:
    """One file of the corpus.

    Attributes:
        kind: ``"locale"``, ``"spanish-ñ"``, ``"superset"``, ``"utf-8"``,
            ``"utf-8-sig"`` or ``"ascii"``.
        locale: The Faker locale of the names.
        encoding: The Python codec the file was written with.
        rows: How many user rows it has.
        text: The file's text (what a right decoding gives back).
        data: The file's bytes.
    """

    kind: str
    locale: str
    encoding: str
    rows: int
    text: str
    data: bytes


def _fold(text: str) -> str:
    """The ASCII letters of a name, lower-cased: "Núñez" -> "nunez"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if c.isascii() and c.isalnum())


def _encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _names(fake: Faker, locale: str, encoding: str) -> tuple[str, str]:
    """A first and last name of the locale that the code page can write."""
    for _ in range(100):
        first, last = fake.first_name(), fake.last_name()
        if locale == "ro_RO":
            first, last = first.translate(_ROMANIAN), last.translate(_ROMANIAN)
        if _encodable(first + last, encoding):
            return first, last
    raise AssertionError(f"no name of {locale} fits {encoding}")


def _email(fake: Faker, first: str, last: str, derived: bool, number: int) -> str:
    if derived:
        local = ".".join(part for part in (_fold(first), _fold(last)) if part)
        if local:
            return f"{local}{number}@{fake.free_email_domain()}"
    return str(fake.email())


def _file(rows: list[tuple[str, str, str]], locale: str, role: bool) -> str:
    separator = ";" if locale[:2] in _SEMICOLON else ","
    header = ["first_name", "last_name", "email"] + (["role"] if role else [])
    lines = [separator.join(header)]
    for first, last, email in rows:
        cells = [first, last, email] + (["learner"] if role else [])
        lines.append(separator.join(cells))
    return "\r\n".join(lines) + "\r\n"


def locale_samples(locale: str, encoding: str) -> Iterator[Sample]:
    """The files of one locale, in its code page: every size, fixed seeds."""
    fake = Faker(locale)
    for size in SIZES:
        for index in range(FILES_PER_SIZE):
            seed = _seed(locale, size, index)
            fake.seed_instance(seed)
            chooser = random.Random(seed)
            derived = chooser.random() < 0.5
            rows = []
            for number in range(size):
                first, last = _names(fake, locale, encoding)
                rows.append((first, last, _email(fake, first, last, derived, number)))
            text = _file(rows, locale, role=chooser.random() < 0.5)
            yield Sample("locale", locale, encoding, size, text, text.encode(encoding))


def _seed(*parts: object) -> int:
    """A seed from its parts that is the same in every process (unlike hash())."""
    return int.from_bytes("/".join(map(str, parts)).encode(), "big") % (2**32)


def spanish_samples(count: int = 100) -> Iterator[Sample]:
    """One-row cp1252 Spanish files whose names hold an ñ."""
    chooser = random.Random(_seed("spanish"))
    fake = Faker("es_ES")
    fake.seed_instance(_seed("spanish-emails"))
    for index in range(count):
        first, last = SPANISH_N[index % len(SPANISH_N)]
        if chooser.random() < 0.5:
            first = fake.first_name()
            while not _encodable(first, "cp1252"):
                first = fake.first_name()
        derived = index % 2 == 0
        email = _email(fake, first, last, derived, index)
        text = _file([(first, last, email)], "es_ES", role=index % 3 == 0)
        yield Sample("spanish-ñ", "es_ES", "cp1252", 1, text, text.encode("cp1252"))


def superset_samples(per_encoding: int = 20) -> Iterator[Sample]:
    """East Asian files of 1 to 5 rows, each holding a name only a superset has."""
    locale_of = {"cp932": "ja_JP", "cp936": "zh_CN", "cp950": "zh_TW", "cp949": "ko_KR"}
    for encoding, names in SUPERSET_NAMES.items():
        locale = locale_of[encoding]
        fake = Faker(locale)
        for index in range(per_encoding):
            seed = _seed("superset", encoding, index)
            fake.seed_instance(seed)
            size = (1, 2, 5)[index % 3]
            special = names[index % len(names)]
            rows = [(special[1], special[0], f"user{index}@example.com")]
            for number in range(1, size):
                first, last = _names(fake, locale, encoding)
                rows.append((first, last, _email(fake, first, last, False, number)))
            text = _file(rows, locale, role=False)
            yield Sample(
                "superset", locale, encoding, size, text, text.encode(encoding)
            )


def unicode_samples() -> Iterator[Sample]:
    """Every locale's 1- and 20-row files in UTF-8 and UTF-8 with BOM, and ASCII
    files: none of them may warn."""
    for locale in LOCALES:
        for sample in locale_samples(locale, "utf-8"):
            if sample.rows not in (1, 20):
                continue
            yield attrs.evolve(sample, kind="utf-8")
            bom = "\ufeff" + sample.text
            yield attrs.evolve(
                sample, kind="utf-8-sig", encoding="utf-8-sig", data=bom.encode()
            )
    fake = Faker("en_US")
    for size in SIZES:
        fake.seed_instance(_seed("ascii", size))
        rows = []
        for number in range(size):
            first, last = fake.first_name(), fake.last_name()
            rows.append((first, last, _email(fake, first, last, True, number)))
        text = _file(rows, "en_US", role=True)
        if text.isascii():
            yield Sample("ascii", "en_US", "ascii", size, text, text.encode())


def legacy_samples() -> Iterator[Sample]:
    """Every file in a legacy code page: locale files, Spanish ñ files, supersets."""
    for locale, encoding in LOCALES.items():
        yield from locale_samples(locale, encoding)
    yield from spanish_samples()
    yield from superset_samples()


def main() -> int:
    """Print how many files of each kind, encoding and size the corpus holds."""
    counts: Counter[tuple[str, str, int]] = Counter()
    for sample in [*legacy_samples(), *unicode_samples()]:
        counts[sample.kind, sample.encoding, sample.rows] += 1
    for (kind, encoding, rows), count in sorted(counts.items()):
        print(f"{kind:10} {encoding:10} {rows:4} rows: {count:4} files")
    print(f"{sum(counts.values())} files, {len(LOCALES)} locales")
    return 0


if __name__ == "__main__":
    sys.exit(main())
