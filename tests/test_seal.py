"""Tests for sealed previews: ``seal`` and ``unseal``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import string
import time
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from userimport import (
    Actor,
    MemoryStore,
    Organization,
    OrgTree,
    Preview,
    SealError,
    prepare,
    seal,
    unseal,
)
from userimport import _seal as sealing

TREE = OrgTree([Organization("acme", "Acme"), Organization("es", "Spain", "acme")])
ADMIN = Actor("acme")
SECRET = "the server's secret"


def a_preview(rows: int = 2) -> Preview:
    """A preview of ``rows`` users, one of them invalid."""
    lines = ["first_name,last_name,email,organization"]
    lines += [f"User,Number {n},user{n}@acme.example,Spain" for n in range(rows - 1)]
    lines.append("Bad,Row,not-an-email,")
    return prepare(
        "\r\n".join(lines).encode(), actor=ADMIN, orgs=TREE, store=MemoryStore()
    )


PREVIEW = a_preview()
TOKEN = seal(PREVIEW, SECRET)


def test_a_sealed_preview_comes_back_equal() -> None:
    """unseal(seal(p)) == p, within any max_age."""
    token = seal(PREVIEW, SECRET)
    assert PREVIEW == unseal(token, SECRET)
    assert PREVIEW == unseal(token, SECRET, max_age=60)


def test_a_token_is_url_safe() -> None:
    """A token holds only URL- and form-safe characters."""
    assert set(TOKEN) <= set(string.ascii_letters + string.digits + "-_.")


def test_every_single_character_alteration_is_refused() -> None:
    """Changing any one character of a token, to any other token character, makes
    it refused (never a different preview)."""
    alphabet = string.ascii_letters + string.digits + "-_."
    token = seal(a_preview(1), SECRET)
    for index, char in enumerate(token):
        for other in (alphabet[(alphabet.index(char) + 1) % len(alphabet)], "A"):
            if other == char:
                continue
            altered = token[:index] + other + token[index + 1 :]
            with pytest.raises(SealError):
                unseal(altered, SECRET)


def test_a_token_signed_with_another_key_is_refused() -> None:
    """A token sealed with another secret is refused, whatever its content."""
    with pytest.raises(SealError, match="altered or signed with another key"):
        unseal(seal(PREVIEW, "another secret"), SECRET)


def test_keys_rotate_the_first_signs_any_verifies() -> None:
    """With several secrets, the first signs and any verifies: tokens sealed before a
    rotation stay valid while the old key is listed, and new ones need the new
    key."""
    old_token = seal(PREVIEW, "old")
    assert PREVIEW == unseal(old_token, ["new", "old"])
    new_token = seal(PREVIEW, ["new", "old"])
    assert PREVIEW == unseal(new_token, "new")
    with pytest.raises(SealError):
        unseal(new_token, "old")


def test_an_old_token_has_expired(monkeypatch: pytest.MonkeyPatch) -> None:
    """A token older than max_age is refused; younger ones pass."""
    token = seal(PREVIEW, SECRET)
    later = time.time() + 3600
    monkeypatch.setattr(time, "time", lambda: later)
    assert PREVIEW == unseal(token, SECRET, max_age=7200)
    with pytest.raises(SealError, match="expired"):
        unseal(token, SECRET, max_age=1800)


@pytest.mark.parametrize("secret", ["", b"", []])
def test_an_empty_secret_is_a_misuse(secret: str | bytes | list[str]) -> None:
    """No secret, or an empty one, can seal or unseal."""
    with pytest.raises(ValueError, match="secret"):
        seal(PREVIEW, secret)
    with pytest.raises(ValueError, match="secret"):
        unseal(TOKEN, secret)


@given(st.text(max_size=300))
def test_any_text_is_refused_as_a_token(text: str) -> None:
    """Whatever a client sends instead of a token, unseal raises SealError and
    nothing else."""
    with pytest.raises(SealError):
        unseal(text, SECRET)


def test_a_huge_token_is_refused_before_any_work() -> None:
    """A token over the size limit is refused without being verified."""
    with pytest.raises(SealError, match="size"):
        unseal("p1." + "A" * sealing.MAX_TOKEN_LENGTH, SECRET)


def test_a_signed_compression_bomb_stops_at_the_limit() -> None:
    """Even a correctly signed token (a leaked key) cannot make unseal inflate more
    than the preview limit: a bomb of zeros is refused."""
    bomb = zlib.compress(b"0" * (sealing.MAX_PREVIEW_BYTES + 1), 9)
    key = hmac.new(SECRET.encode(), sealing._PURPOSE, hashlib.sha256).digest()
    sealed_at = sealing._encode(int(time.time()).to_bytes(8, "big"))
    signed = f"p1.{sealing._encode(bomb)}.{sealed_at}"
    signature = base64.urlsafe_b64encode(
        hmac.new(key, signed.encode(), hashlib.sha256).digest()
    )
    token = f"{signed}.{signature.rstrip(b'=').decode()}"
    with pytest.raises(SealError, match="too large"):
        unseal(token, SECRET)


def test_a_sealed_200_row_review_fits_a_form_field() -> None:
    """A full 200-row review seals into a token a hidden form field carries (well
    under the 1 MB a form commonly accepts)."""
    token = seal(a_preview(200), SECRET)
    assert len(token) < 256 * 1024
