"""Finding English left in a text said in another language.

A text said in Spanish still holds what is not a sentence: values from the file
and from the command line, issue codes, file names, emails, URLs, options, quoted
values. Those are taken out first; what remains must hold none of the common
English words below (none of which is also a Spanish word: not "has", say).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: Common English words, and the words of the library's and the command line's
#: sentences, that no Spanish sentence holds.
WORDS = """
the an is are was were be been have had of to and or with without for from
this that these which not nothing there their its it each every one row rows
user users file files errors warning warnings import imported create created
updated skipped invalid shown next added changed unchanged cannot pass use name
email action issues organization organizations database help show usage options
arguments commands default stop enter yes note cancelled interrupted wrote
template folder exist read write delimiter encoding language role page
leave fix must already will would
"""

_ENGLISH = re.compile(
    r"\b(?:" + "|".join(w + "|" + w.capitalize() for w in WORDS.split()) + r")\b"
)

#: What is not a sentence: quoted values, issue codes in parentheses, and tokens
#: that hold a character no word does (options, emails, files, URLs, codes).
_NOT_SAID = re.compile(
    r"'[^'\n]*'|“[^”\n]*”|\"[^\"\n]*\"|\([a-z_]+\)|(?<!\S)-\S*|\S*[@./_{}\[\]=<>]\S*"
)


def english_left(text: str, literals: Iterable[str] = ()) -> list[str]:
    """The English words of ``text`` outside its values, codes and ``literals``
    (values shown as they are, such as an organization's name)."""
    for literal in literals:
        text = re.sub(rf"(?<!\w){re.escape(literal)}(?!\w)", " ", text)
    return _ENGLISH.findall(_NOT_SAID.sub(" ", text))
