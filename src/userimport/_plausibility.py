# ruff: noqa: RUF001 (letters of many scripts, look-alikes included, are the data)
"""How plausible a reading of a user list is: the score that chooses a legacy encoding.

Several code pages decode most byte strings without error, and on the few accented
names of a user list they differ in a letter or two: ``Núñez`` (cp1252) is
``Núńez`` in cp1250, ``Čudić`` (cp1250) is ``Èudiæ`` in cp1252. A statistical
detector sees too little text to tell them apart, but a reader sees at once which
reading is a name. :func:`score` puts numbers on what the reader sees, for the text
of one reading (a few lines of the upload):

* every word is in one script (``JosĂ©``, ``Josй`` mix two);
* no symbol, control or private-use character sits inside a word (``Iaºi``,
  ``JosÃ©``), and no upper-case accented letter follows a lower-case one;
* the accented letters of the words are those of real names: the words fit one
  language's alphabet (Spanish has ``ú`` and ``ñ``, no language has ``ú`` and
  ``ń``), the languages of a file belong to one region (Western, Central European,
  Turkish, Baltic, Greek, Cyrillic), and a letter that is rare in names, or in
  that place of a word, costs a little (``ð`` and ``þ`` are Icelandic, ``ý`` inside
  a word is rarely Western, a Portuguese ``ã`` comes before a vowel or an ``s``,
  a Nordic ``ø`` after a consonant);
* East Asian characters are in the common levels of their national character sets
  (GB 2312, JIS X 0208, Big5, KS X 1001) rather than in the extensions, where the
  wrong reading of another encoding lands;
* a name folded to ASCII (``Čudić`` -> ``cudic``) appears in the email of its row.

Scores are sums of small penalties (0 is a perfectly plausible text), so two
readings can be compared, and a margin tells a clear choice from a close call. Only
the standard library is used; every table is in this module.

It is long because it holds, as data, the letters of the names of each language the code
pages serve; the scoring itself is short.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Final

__all__ = ["CLOSE", "HINTS", "Memo", "implausible_word", "score", "words"]

#: Two readings whose scores differ by less than this are a close call.
CLOSE: Final = 3.0

# Penalties, in "one implausible letter" units.
_CONTROL: Final = -12.0  # control, private use, unassigned, surrogate
_SYMBOL: Final = -8.0  # ©, º, ±, ¤ ... inside a word
_PUNCTUATION: Final = -6.0  # ¡, «, “ ... inside a word
_MIXED_SCRIPTS: Final = -10.0  # one word, two scripts
_CASE: Final = -4.0  # an upper-case accented letter after a lower-case letter
_FINAL_SIGMA: Final = -6.0  # "ς" inside a Greek word
_NO_LANGUAGE: Final = -6.0  # no language of the region has all the word's letters
_RARE: Final = -1.5  # a letter that is rare in names of the language
_WIDE: Final = -4.0  # full-width Latin, half-width katakana, lone jamo
_AGREEMENT: Final = 3.0  # the word, folded to ASCII, is in the row's email
_NO_VOWEL: Final = -4.0  # a word of three letters or more without a vowel
_SWITCH: Final = -3.0  # one row's words need two languages (but each fits one)
_SWITCH_ROWS: Final = -2.0  # the rows need two languages or more
_HANJA: Final = -1.5  # hanja in a Korean reading: names are written in hangul
_SHORT: Final = -1.5  # a word of one or two Greek or Cyrillic letters
_NAME_CHARACTER: Final = 1.0  # a character common in East Asian names
_NO_NAME: Final = -1.0  # an East Asian row without one character common in names

#: Non-ASCII letters of names in each language, lower-case: common, then rare.
_ALPHABETS: Final[Mapping[str, tuple[str, str]]] = {
    # Western European (cp1252)
    "es": ("áéíóúñ", "ü"),
    "pt": ("áâãàçéêíóôõú", "ü"),
    "fr": ("àâçéèêëîïôûù", "üÿœ"),
    "it": ("àèéìòù", "íó"),
    "ca": ("àçéèíïòóúü", ""),
    "de": ("äöüß", ""),
    "nl": ("ëïéöü", "èäáóú"),
    "da": ("æøå", "é"),
    "no": ("æøå", "éô"),
    "sv": ("åäö", "é"),
    "fi": ("äöå", "šž"),
    "is": ("áéíóúæöð", "ýþ"),
    "ga": ("áéíóú", ""),
    "en": ("", "é"),
    # Central European (cp1250)
    "sq": ("çë", ""),
    "pl": ("ąćęłńóśźż", ""),
    "cs": ("áčďéěíňóřšťúůýž", ""),
    "sk": ("áäčďéíĺľňóôŕšťúýž", ""),
    "hu": ("áéíóöőúüű", ""),
    "hr": ("čćšž", "đ"),
    "sl": ("čšž", "ćđ"),
    "ro": ("ăâîşţșț", ""),
    # Turkish (cp1254)
    "tr": ("çğıİöşü", "âîû"),
    # Baltic (cp1257)
    "lt": ("čėšūž", "ąęįų"),
    "lv": ("āčēīļņšūž", "ģķōŗ"),
    "et": ("äöõüšž", ""),
    # Greek (cp1253)
    "el": ("αβγδεζηθικλμνξοπρστυφχψωάέήίόύώς", "ϊϋΐΰ"),
    # Cyrillic (cp1251)
    "ru": ("абвгдежзийклмнопрстуфхцчшщъыьэюя", "ё"),
    "uk": ("абвгдежзийклмнопрстуфхцчшщьюяіїєґ", ""),
    "be": ("абвгдежзйклмнопрстуўфхцчшыьэюяі", "ё"),
    "bg": ("абвгдежзийклмнопрстуфхцчшщъьюя", ""),
    "mk": ("абвгдѓежзѕијклљмнњопрстќуфхцчџш", ""),
    "sr": ("абвгдђежзијклљмнњопрстћуфхцчџш", ""),
}

#: Languages whose names share a file (a company, a code page).
_REGIONS: Final[Mapping[str, tuple[str, ...]]] = {
    "western": (
        "es", "pt", "fr", "it", "ca", "de", "nl", "da", "no", "sv", "fi", "is", "ga",
        "en",
    ),
    "central": ("sq", "pl", "cs", "sk", "hu", "hr", "sl", "ro", "de"),
    "turkish": ("tr", "de", "en"),
    "baltic": ("lt", "lv", "et", "de", "fi", "sv"),
    "greek": ("el",),
    "cyrillic": ("ru", "uk", "be", "bg", "mk", "sr"),
}  # fmt: skip

_LANGUAGES: Final = tuple(_ALPHABETS)

#: ASCII letters that are rare in names of each language ("Kovaè" is not Italian).
_RARE_ASCII: Final[Mapping[str, str]] = {
    "es": "kw", "pt": "kwy", "fr": "kw", "it": "jkwxy", "ca": "kwy", "nl": "qx",
    "da": "qwx", "no": "qwx", "sv": "qwx", "fi": "bcfgqwxz", "is": "cqwz",
    "ga": "jkqvwxyz", "sq": "w", "pl": "qvx", "cs": "qwx", "sk": "qwx", "hu": "qwx",
    "hr": "qwxy", "sl": "qwxy", "ro": "kqwy", "tr": "qwx", "lt": "cqwx",
    "lv": "qwxy", "et": "cqwxyz",
}  # fmt: skip

#: Letters that rarely or never start a name (Turkish "ğ", German "ß", ...).
_RARELY_FIRST: Final = frozenset("ğðßńňľĺŕďťųįęąþ")
#: Letters a language writes at the end of a word only (Italian "Niccolò"; "Nìmec"
#: is Czech "Němec" misread).
_LAST_ONLY: Final[Mapping[str, str]] = {"it": "àèìòù"}
#: Letters with a diaeresis that a language writes after a vowel only, to keep the
#: two vowels apart (Dutch "Chloë", French "Loïs"; "Agnë" is Lithuanian "Agnė").
_AFTER_VOWEL: Final[Mapping[str, str]] = {"fr": "ëïîüÿ", "nl": "ëïü", "ca": "ïü"}
#: Letters that rarely end a name ("Marinkoviæ" is Croatian "Marinković").
_RARELY_LAST: Final = frozenset("æ")
#: Letters a language never writes at the end of a word (French "Eugène").
_NEVER_LAST: Final[Mapping[str, str]] = {"fr": "è"}
#: Vowel letters that a language writes after another vowel only where two words
#: are compounded ("Umeå"): a Nordic name has a consonant before its "æ", "ø" or
#: "å" ("Kjær", "Bjørn", "Håkon"); "Cieæko" is Polish "Ciećko" and "Dvoøák" Czech
#: "Dvořák" misread.
_NOT_AFTER_VOWEL: Final[Mapping[str, str]] = {
    "da": "æøå", "no": "æøå", "sv": "å", "fi": "å", "is": "æ",
}  # fmt: skip
#: Letters a language writes at the start or the end of a word only: Romanian
#: "î" ("Învingătorul", "coborî"), "â" inside ("Sânziana"), since 1993;
#: names kept in the older spelling ("Cîrstea") pay the small cost. "Vîtola" is
#: Latvian "Vītola" misread.
_NOT_INSIDE: Final[Mapping[str, str]] = {"ro": "î"}
#: Letters a language writes only before a vowel or an "s", or at the end of a
#: word: Portuguese marks a nasal vowel with a tilde where no "m" or "n" follows
#: ("João", "Simões", "Irmã"); "Stãnescu" is Romanian "Stănescu" misread.
_BEFORE_VOWEL_OR_S: Final[Mapping[str, str]] = {"pt": "ãõ"}

#: The region whose names each code page is used for: Excel writes the code page of
#: the Windows locale, so a reading in cp1257 whose words are Polish is not likely.
_CODEPAGE_REGIONS: Final[Mapping[str, str]] = {
    "cp1252": "western",
    "cp1250": "central",
    "cp1251": "cyrillic",
    "cp1253": "greek",
    "cp1254": "turkish",
    "cp1257": "baltic",
}

#: A language or region tag -> the encodings whose files it makes likelier (the
#: tie-break hint of :func:`score`'s callers).
HINTS: Final[Mapping[str, tuple[str, ...]]] = {
    **dict.fromkeys(
        ("es", "pt", "fr", "it", "ca", "de", "nl", "da", "no", "nb", "nn", "sv"),
        ("cp1252",),
    ),
    # Not English: its names are ASCII, so it says nothing of the code page of a
    # file's other names, and it is every review's default locale.
    **dict.fromkeys(("fi", "is", "ga", "gl", "eu"), ("cp1252",)),
    **dict.fromkeys(
        ("pl", "cs", "sk", "hu", "hr", "sl", "ro", "bs", "sq"), ("cp1250",)
    ),
    **dict.fromkeys(("ru", "uk", "be", "bg", "mk", "sr"), ("cp1251",)),
    "el": ("cp1253",),
    **dict.fromkeys(("tr", "az"), ("cp1254",)),
    **dict.fromkeys(("lt", "lv", "et"), ("cp1257",)),
    "ja": ("cp932",),
    "zh": ("gb18030", "cp936"),
    "zh-tw": ("cp950",),
    "zh-hk": ("cp950",),
    "zh-hant": ("cp950",),
    "ko": ("cp949",),
}

# A word: a run of characters other than white space, the delimiters and quotes.
_WORD = re.compile(r"[^\s,;|\"]+")
# Letters that fold to more than their base letter (NFKD does not decompose them).
_FOLD = str.maketrans(
    {"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d", "ð": "d",
     "þ": "th", "ı": "i", "ĸ": "k"}
)  # fmt: skip
# Characters allowed inside a name besides letters: apostrophes, the Catalan middle
# dot, the prolonged sound mark and middle dot of Japanese.
_NAME_MARKS: Final = frozenset("’·ー・")


#: What each line added to a score (its words' penalties and evidence, and its
#: words' fits to the languages), by line: a caller's dict for one reading in one
#: code page, so that scoring more lines of it scores only the new ones.
Memo = dict[str, tuple[float, tuple[tuple[float, ...], ...]]]


def score(text: str, codec: str | None = None, *, memo: Memo | None = None) -> float:
    """The plausibility of ``text`` as lines of a user list (0 is best).

    ``codec`` is the encoding that gave the text: a Windows code page's reading is
    judged with the languages of its region. Words of ASCII characters only score
    0 (they read alike in every encoding of the allow-list); emails are not scored
    but used for agreement. ``memo`` keeps what each line added, for the same
    reading in the same code page only.
    """
    region = _CODEPAGE_REGIONS.get(codec or "")
    names = codec if codec in _NAME_CHARACTERS else None
    total = 0.0
    rows: list[tuple[tuple[float, ...], ...]] = []
    for line in text.splitlines():
        known = None if memo is None else memo.get(line)
        if known is None:
            known = _line(line, region, names)
            if memo is not None:
                memo[line] = known
        total += known[0]
        if known[1]:
            rows.append(known[1])
    return total + _file_fit(rows)


def _line(
    line: str, region: str | None, names: str | None
) -> tuple[float, tuple[tuple[float, ...], ...]]:
    """What one line adds to a score, and its words' fits (see :func:`score`);
    ``names`` is the East Asian code page whose name characters count."""
    found = _WORD.findall(line)
    locals_ = [
        _local_parts(word.partition("@")[0])
        for word in found
        if "@" in word and word.isascii()
    ]
    total = 0.0
    fits: list[tuple[float, ...]] = []
    name_evidence = None
    for word in found:
        if word.isascii() or "@" in word:
            continue
        penalty, fit = _regional_word(word, region)
        total += penalty
        if names is not None:
            evidence = _name_characters(word, names)
            total += evidence
            name_evidence = max(evidence, name_evidence or 0.0)
        if fit is not None:
            fits.append(fit)
            if locals_ and _agrees(word, locals_):
                total += _AGREEMENT
    if name_evidence is not None and name_evidence <= 0:
        total += _NO_NAME
    return total, tuple(fits)


def _file_fit(rows: list[tuple[tuple[float, ...], ...]]) -> float:
    """How well the rows' words fit the languages of the region (each fit holds
    one number per language): best when one language fits the whole file, then
    one per row (a person's names are mostly of one language, a company's staff
    often of several), then one per word."""
    if not rows:
        return 0.0
    per_language: list[tuple[float, ...]] = [
        fits[0] if len(fits) == 1 else tuple(map(sum, zip(*fits, strict=True)))
        for fits in rows
    ]
    one: float = max(map(sum, zip(*per_language, strict=True)))
    if len(rows) == 1 and len(rows[0]) == 1:
        return one
    each = 0.0
    for fits, totals in zip(rows, per_language, strict=True):
        row: float = max(totals)
        if len(fits) > 1:
            row = max(row, sum(map(max, fits)) + _SWITCH)
        each += row
    return max(one, each + _SWITCH_ROWS if len(rows) > 1 else each)


@functools.lru_cache(maxsize=8192)
def _regional_word(
    word: str, region: str | None
) -> tuple[float, tuple[float, ...] | None]:
    """A word's penalty, and how well it fits each language of the region (all
    languages when ``None``)."""
    penalty, fit = _word(word)
    if fit is None or region is None:
        return penalty, fit
    return penalty, tuple(fit[i] for i in _REGION_INDEXES[region])


_REGION_INDEXES: Final[Mapping[str, tuple[int, ...]]] = {
    region: tuple(_LANGUAGES.index(language) for language in languages)
    for region, languages in _REGIONS.items()
}


def _name_characters(word: str, codec: str) -> float:
    """East Asian evidence: characters common in names of the code page's language,
    and hanja, rare in Korean names."""
    names = _NAME_CHARACTERS[codec]
    total = _NAME_CHARACTER * sum(char in names for char in word)
    if codec == "cp949":
        total += _HANJA * sum("\u4e00" <= char <= "\u9fff" for char in word)
    return total


#: Characters common in names: family names and frequent given-name characters of
#: Japanese (kanji; kana count as common anyway), Simplified and Traditional Chinese,
#: and Korean (hangul syllables).
_NAME_CHARACTERS: Final[Mapping[str, frozenset[str]]] = {
    "cp932": frozenset(
        "佐藤鈴木高橋田中渡辺伊山本小林加吉松井斎清水森池阿部石川前岡長谷村近坂遠青西"
        "野原後竹内金太郎子一二三大和美恵真由香奈菜花明健直達也翔拓海陽輝悠優愛結彩千"
        "代幸智裕博雄彦夫男秀正浩隆誠樹宏実久江枝里理沙紀桜菊武平宮島福上下口岩田丸"
        "今井藤野村沢澤原崎﨑髙黒黑德谷津浜濱菅熊野坂田辺飯塚桑宇佐美穂恵奈々"
    ),
    "gb18030": frozenset(
        "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
        "于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱"
        "江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安"
        "齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌"
        "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英霞平刚桂华玉萍红建国辉鹏飞斌宇浩凯健"
        "俊帆帅旭欣婷雪琳晶颖慧莉燕丹玲洁琴云凤荣新春海波东峰志亮毅成昊子轩博涵思雨"
        "怡佳嘉梓晨睿泽一诺然桂兰秀珍淑凤霞桂英玉梅秀兰春梅丽娟金凤宏家豪德"
    ),
    "cp950": frozenset(
        "王李張劉陳楊黃趙吳周徐孫馬朱胡郭何高林羅鄭梁謝宋唐許韓馮鄧曹彭曾蕭田董袁潘"
        "于蔣蔡余杜葉程蘇魏呂丁任沈姚盧姜崔鍾譚陸汪范金石廖賈夏韋傅方白鄒孟熊秦邱江"
        "尹薛閻段雷侯龍史陶黎賀顧毛郝龔邵萬錢嚴武戴莫孔向湯常溫康施文洪游賴簡翁柯詹"
        "顏莊涂邢紀歐鐘卓連巫偉芳娜敏靜麗強磊軍洋勇豔傑娟濤明超秀英霞平剛桂華玉萍紅"
        "建國輝鵬飛斌宇浩凱健俊帆帥旭寧欣婷雪琳晶穎慧莉燕丹玲潔梅琴雲蘭鳳榮新春海波"
        "東峰志亮毅成昊子軒博涵思雨怡佳嘉梓晨睿澤宏家豪冠廷柏翰承育淑惠美珍君如宜婉"
        "雅儀筱玟瑋德政信義仁智勳志銘哲凱文"
    ),
    "cp949": frozenset(
        "김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주"
        "우구민진지엄채원천방공현함변염여추도소석선설마길연위표명기반라왕금옥육인맹제"
        "모탁국어은편용예경봉사부가복태목형계피두감음빈동온호범좌팽승간상갈시단견당화"
        "창옹수영준재희혜미나다혁훈철숙자순아건율규환찬일식섭광종근중진희정숙영자순"
        "지훈민준서연지우하은도윤예린시우주원"
    ),
}


def implausible_word(text: str) -> str | None:
    """The first word of ``text`` that no name could be: one holding a symbol, a
    control character or two scripts ("W±ż"), or ``None``."""
    # Line breaks are white space: the words of the text are those of its lines.
    found: list[str] = _WORD.findall(text)
    for word in dict.fromkeys(found):
        if not word.isascii() and "@" not in word and _word(word)[0] <= _PUNCTUATION:
            return word
    return None


def words(line: str) -> list[str]:
    """The words of a line: runs of characters other than white space, the
    delimiters and quotes."""
    found: list[str] = _WORD.findall(line)
    return found


def _agrees(word: str, locals_: Iterable[tuple[str, frozenset[str]]]) -> bool:
    """Whether the word folded to ASCII is in an email's local part: as a whole
    part of it ("nunez" in "jose.nunez"), or inside it when four letters or more."""
    folded = _ascii_fold(word)
    if len(folded) < 2:
        return False
    for local, parts in locals_:
        if folded in parts or (len(folded) >= 4 and folded in local):
            return True
    return False


@functools.lru_cache(maxsize=1024)
def _local_parts(local: str) -> tuple[str, frozenset[str]]:
    """An email's local part, case-folded, and its runs of letters."""
    folded = local.casefold()
    return folded, frozenset(_LOCAL_PARTS.split(folded))


_LOCAL_PARTS: Final = re.compile(r"[^a-z]+")


@functools.lru_cache(maxsize=4096)
def _ascii_fold(word: str) -> str:
    """A word's letters folded to ASCII: "Núñez" -> "nunez", "Łódź" -> "lodz"."""
    decomposed = unicodedata.normalize("NFKD", word.casefold().translate(_FOLD))
    return "".join(c for c in decomposed if c.isascii() and c.isalpha())


@functools.lru_cache(maxsize=8192)
def _word(word: str) -> tuple[float, tuple[float, ...] | None]:
    """A word's penalty, and how well it fits each language (``None`` when it has
    no letter of an alphabetic script beyond ASCII)."""
    penalty = 0.0
    scripts: set[str] = set()
    letters: list[str] = []
    previous = ""
    for index, char in enumerate(word):
        if char.isascii():
            if char.isalpha():
                scripts.add("LATIN")
            previous = char
            continue
        category = unicodedata.category(char)
        if category[0] == "L" or category[0] == "M":
            script = _script(char)
            if script == "ORDINAL":
                penalty += _SYMBOL
            elif script == "WIDE":
                penalty += _WIDE
            else:
                scripts.add(script)
                if script in ("LATIN", "GREEK", "CYRILLIC"):
                    letters.append(char)
                    if char.isupper() and previous.islower():
                        penalty += _CASE
                    if (
                        char == "ς"
                        and index < len(word) - 1
                        and word[index + 1].isalpha()
                    ):
                        penalty += _FINAL_SIGMA
                else:
                    penalty += _ideograph(char)
        elif char in _NAME_MARKS:
            pass
        elif category[0] == "C":
            penalty += _CONTROL
        elif category[0] == "S" or category == "No":
            penalty += _SYMBOL
        else:
            penalty += _PUNCTUATION
        previous = char
    if len(scripts) > 1 and not scripts <= {"CJK", "HIRAGANA", "KATAKANA"}:
        penalty += _MIXED_SCRIPTS  # Japanese mixes kanji and kana, nothing else mixes
    if not letters:
        return penalty, None
    alphabetic = [char for char in word if char.isalpha()]
    if len(alphabetic) >= 3 and not any(map(_is_vowel, alphabetic)):
        penalty += _NO_VOWEL
    if len(alphabetic) <= 2 and scripts & {"GREEK", "CYRILLIC"}:
        penalty += _SHORT
    return penalty, _fits(word, tuple(letters))


@functools.lru_cache(maxsize=1024)
def _is_vowel(char: str) -> bool:
    base = unicodedata.normalize("NFD", char.lower())[:1]
    return base in _VOWELS


_VOWELS: Final = frozenset("aeiouyæøœıαεηιουωаеёиоуыэюяіїє")


@functools.lru_cache(maxsize=4096)
def _script(char: str) -> str:
    name = unicodedata.name(char, "")
    if "ORDINAL INDICATOR" in name:
        return "ORDINAL"
    if name.startswith(("FULLWIDTH", "HALFWIDTH", "HANGUL LETTER")):
        return "WIDE"
    first = name.partition(" ")[0]
    if first in ("CJK", "HIRAGANA", "KATAKANA", "LATIN", "GREEK", "CYRILLIC"):
        return first
    if name.startswith("HANGUL SYLLABLE"):
        return "HANGUL"
    return first or "UNKNOWN"


def _fits(word: str, letters: tuple[str, ...]) -> tuple[float, ...]:
    """How well the letters fit each language: 0 if all are common there, the sum
    of the rare ones' cost, or the cost of no language at all."""
    lowered = [_lower(char) for char in letters]
    ascii_letters = [char.lower() for char in word if char.isascii() and char.isalpha()]
    first = _lower(word[0])
    fits = []
    for language in _LANGUAGES:
        common, rare = _ALPHABETS[language]
        total = 0.0
        for char in lowered:
            if char in common:
                continue
            if char in rare:
                total += _RARE
            else:
                total = _NO_LANGUAGE
                break
        else:
            rare_ascii = _RARE_ASCII.get(language, "")
            total += _RARE * sum(char in rare_ascii for char in ascii_letters)
            if first in _RARELY_FIRST:
                total += _RARE
            last_only = _LAST_ONLY.get(language)
            if last_only and any(_lower(c) in last_only for c in word[:-1]):
                total += _RARE
            after_vowel = _AFTER_VOWEL.get(language)
            if after_vowel and any(
                _lower(c) in after_vowel and (i == 0 or not _is_vowel(word[i - 1]))
                for i, c in enumerate(word)
            ):
                total += _RARE
            if _lower(word[-1]) in _RARELY_LAST:
                total += _RARE
            if _lower(word[-1]) in _NEVER_LAST.get(language, ""):
                total += _RARE
            not_after_vowel = _NOT_AFTER_VOWEL.get(language)
            if not_after_vowel and any(
                _lower(c) in not_after_vowel and i > 0 and _is_vowel(word[i - 1])
                for i, c in enumerate(word)
            ):
                total += _RARE
            not_inside = _NOT_INSIDE.get(language)
            if not_inside and any(_lower(c) in not_inside for c in word[1:-1]):
                total += _RARE
            nasal = _BEFORE_VOWEL_OR_S.get(language)
            if nasal and any(
                _lower(c) in nasal
                and i + 1 < len(word)
                and not (_is_vowel(word[i + 1]) or word[i + 1] in "sS")
                for i, c in enumerate(word)
            ):
                total += _RARE
        fits.append(max(total, _NO_LANGUAGE))
    # Icelandic "þ" starts a name (Þór); inside one it is the cp1254 "ş" misread.
    if "þ" in lowered[1:]:
        index = _LANGUAGES.index("is")
        fits[index] = max(fits[index] + _RARE, _NO_LANGUAGE)
    return tuple(fits)


def _lower(char: str) -> str:
    # "İ" lower-cases to "i" and a combining dot; the alphabets list it as is.
    return char if char == "İ" else char.lower()


@functools.lru_cache(maxsize=8192)
def _ideograph(char: str) -> float:
    """East Asian characters by how common their national character sets make
    them: the first level of GB 2312, JIS X 0208 or Big5 and KS X 1001's hangul
    are common; second levels less; only the Windows extensions, least."""
    best = -2.0
    for codec, first_level_end in _LEVELS:
        try:
            encoded = char.encode(codec)
        except UnicodeEncodeError:
            continue
        if len(encoded) != 2:
            continue  # euc_kr spells the hangul it lacks with eight bytes
        code = int.from_bytes(encoded, "big")
        best = max(best, 0.0 if code <= first_level_end else -1.0)
    if best < 0 and "\u3040" <= char <= "\u30ff":
        best = 0.0  # kana
    elif best < 0 and "\uac00" <= char <= "\ud7a3":
        best = -1.5  # a hangul syllable beyond KS X 1001's 2,350 (cp949's extension)
    return best


#: Strict national character sets and the last code of their first level.
_LEVELS: Final = (
    ("gb2312", 0xD7FE),
    ("shift_jis", 0x9872),
    ("big5", 0xC67E),
    ("euc_kr", 0xC8FE),
)
