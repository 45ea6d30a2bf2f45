"""The characters never accepted in text the library keeps."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from userimport._characters import hidden_character

# The hidden characters, written out independently of the module under test: the
# C0 and C1 controls, the bidirectional marks, embeddings, overrides and isolates,
# the zero-width characters and the byte-order mark, the line and paragraph
# separators.
HIDDEN = (
    [chr(code) for code in range(0x20)]
    + [chr(code) for code in range(0x7F, 0xA0)]
    + list("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    + list("\u200b\u200c\u200d\u2060\ufeff")
    + list("\u2028\u2029")
    # Other invisible formatting characters, and unpaired surrogates.
    + list("\u00ad\u180e\u2061\u2062\u2063\u2064\ufff9\ufffa\ufffb")
    + [chr(code) for code in range(0x206A, 0x2070)]
    + [chr(code) for code in range(0xE0000, 0xE0080)]
    + [chr(code) for code in range(0xD800, 0xE000)]
)


@pytest.mark.parametrize("char", HIDDEN, ids=lambda char: f"U+{ord(char):04X}")
def test_every_hidden_character_is_found_where_it_is(char: str) -> None:
    """Each hidden character is found, with its position counted from 1."""
    found = hidden_character(f"ab{char}cd")
    assert found is not None
    assert (char, 3) == (found.char, found.position)
    assert f"(U+{ord(char):04X}) at position 3; " in found.description


@pytest.mark.parametrize(
    ("char", "kind"),
    [
        ("\t", "a tab"),
        ("\n", "a line break"),
        ("\u2028", "a line break"),
        ("\x1b", "a control character"),
        ("\u200b", "an invisible zero-width character"),
        ("\ufeff", "an invisible zero-width character"),
        ("\u202e", "an invisible text-direction control character"),
        ("\u061c", "an invisible text-direction control character"),
    ],
)
def test_the_kind_says_what_the_character_is(char: str, kind: str) -> None:
    """The description names the kind of character, so a person knows what to
    delete."""
    found = hidden_character(f"x{char}")
    assert found is not None
    assert kind == found.kind


def test_only_the_first_hidden_character_is_reported() -> None:
    """Two hidden characters: the first one is reported."""
    found = hidden_character("a\u200bb\u202ec")
    assert found is not None
    assert ("\u200b", 2) == (found.char, found.position)


def test_trimmed_leaves_out_the_whitespace_around_the_text() -> None:
    """With ``trimmed``, whitespace the caller trims away is not searched; inside
    the text a hidden character is still found, at its position in the whole text."""
    assert hidden_character("\tAna\r\n", trimmed=True) is None
    assert hidden_character("\tAna\r\n") is not None
    found = hidden_character(" \tA\u200bna\n", trimmed=True)
    assert found is not None
    assert 4 == found.position


@given(st.text())
def test_hidden_character_finds_exactly_the_hidden_characters(text: str) -> None:
    """The first character of the list, wherever it is; ``None`` when there is
    none."""
    expected = next(
        ((i + 1, c) for i, c in enumerate(text) if c in HIDDEN),
        None,
    )
    found = hidden_character(text)
    assert expected == (None if found is None else (found.position, found.char))
