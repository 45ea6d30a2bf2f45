"""Sealed previews: a review a stateless frontend can keep in the page, unaltered.

``seal(preview, secret)`` gives a compact, URL-safe token: the preview's JSON,
compressed, with the time it was sealed and an HMAC-SHA256 of both.
``unseal(token, secret, max_age=...)`` gives the preview back only if the token is
intact, signed with one of the keys and young enough; anything else is
:class:`~userimport.SealError`. A token from a client is hostile input: it is
refused above :data:`MAX_TOKEN_LENGTH` before any work, decompressed at most to
:data:`MAX_PREVIEW_BYTES` (a compression bomb stops there), and only a structurally
valid preview comes out. ``commit`` then re-checks every row anyway.

Built on the standard library (``hmac``, ``hashlib``, ``zlib``, ``base64``): the
format is three fields, and the library has no other use for a signing dependency.
The MAC key is derived from each secret for this one purpose, so a secret shared
with other uses of the host (a session cookie's) never signs a preview directly,
and verification compares in constant time (``hmac.compare_digest``).

A token protects the review's integrity and its age, not its secrecy: anyone
holding it can read the rows (base64 of zlib). Replaying a token within
``max_age`` is not refused by the token; a second commit of the same review meets
the users the first one created and is a ``CommitConflict``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from userimport.exceptions import SealError

if TYPE_CHECKING:
    from userimport.preview import Preview

__all__ = ["MAX_PREVIEW_BYTES", "MAX_TOKEN_LENGTH", "seal", "unseal"]

#: The longest token :func:`unseal` reads (characters); longer is refused at once.
#: A sealed 200-row review is a few tens of kilobytes.
MAX_TOKEN_LENGTH: Final = 4 * 1024 * 1024
#: The most bytes a token's preview may decompress to.
MAX_PREVIEW_BYTES: Final = 32 * 1024 * 1024

_VERSION: Final = "p1"
_PURPOSE: Final = b"userimport.seal: a reviewed preview"
_TIME_BYTES: Final = 8

#: A key, or several (the first signs, any verifies: for key rotation).
Secret = str | bytes | Sequence[str | bytes]


def _keys(secret: Secret) -> list[bytes]:
    """The MAC keys derived from ``secret``, the signing one first."""
    if isinstance(secret, str | bytes):
        secrets: Sequence[str | bytes] = [secret]
    else:
        secrets = list(secret)
    keys = []
    for item in secrets:
        raw = item.encode("utf-8") if isinstance(item, str) else bytes(item)
        if not raw:
            raise ValueError("a sealing secret cannot be empty")
        keys.append(hmac.new(raw, _PURPOSE, hashlib.sha256).digest())
    if not keys:
        raise ValueError("give at least one sealing secret")
    return keys


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, signed: str) -> bytes:
    return hmac.new(key, signed.encode("ascii"), hashlib.sha256).digest()


def seal(preview: Preview, secret: Secret) -> str:
    """Sign a preview into a compact, URL-safe token with the time it was sealed.

    Args:
        preview: The review to keep in the page.
        secret: The host's secret key (kept on the server); or several, the first
            of which signs.

    Returns:
        ``p1.<payload>.<time>.<signature>``, ASCII letters, digits, ``-``, ``_``
        and ``.`` only.

    >>> import userimport
    >>> tree = userimport.OrgTree([userimport.Organization("acme", "Acme")])
    >>> admin = userimport.Actor("acme")
    >>> preview = userimport.prepare(b"first_name,last_name,email\\nAna,Gil,a@x.io\\n",
    ...     actor=admin, orgs=tree, store=userimport.MemoryStore())
    >>> token = userimport.seal(preview, "server secret")
    >>> userimport.unseal(token, "server secret", max_age=3600) == preview
    True
    """
    from userimport.serialization import converter

    key = _keys(secret)[0]
    payload = _encode(zlib.compress(converter.dumps(preview).encode("utf-8"), 9))
    sealed_at = _encode(int(time.time()).to_bytes(_TIME_BYTES, "big"))
    signed = f"{_VERSION}.{payload}.{sealed_at}"
    return f"{signed}.{_encode(_mac(key, signed))}"


def unseal(token: str, secret: Secret, *, max_age: float | None = None) -> Preview:
    """The preview a token holds, if it is intact, known and young enough.

    Args:
        token: What :func:`seal` gave, as the client sent it back.
        secret: The key, or the keys (any of them verifies).
        max_age: The oldest token accepted, in seconds (``None``: any age).

    Raises:
        SealError: The token is malformed, altered, signed with no key of
            ``secret``, older than ``max_age``, or holds no valid preview.
    """
    from userimport.preview import Preview
    from userimport.serialization import converter

    keys = _keys(secret)
    if (
        not isinstance(token, str)
        or len(token) > MAX_TOKEN_LENGTH
        or not token.isascii()
    ):
        raise SealError("The sealed review is not a token of a valid size.")
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != _VERSION:
        raise SealError("The sealed review is malformed.")
    signed, signature = token.rpartition(".")[::2]
    # The signature is compared as text: base64 lets several texts decode to the
    # same bytes, and a token must have exactly one spelling.
    if not any(
        hmac.compare_digest(_encode(_mac(key, signed)), signature) for key in keys
    ):
        raise SealError(
            "The sealed review was altered or signed with another key; upload the "
            "file again."
        )
    try:
        sealed_at = int.from_bytes(_decode(parts[2]), "big")
        compressed = _decode(parts[1])
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - signed by us
        raise SealError("The sealed review is malformed.") from exc
    if max_age is not None and time.time() - sealed_at > max_age:
        raise SealError("The sealed review has expired; upload the file again.")
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(compressed, MAX_PREVIEW_BYTES)
    except zlib.error as exc:  # pragma: no cover - signed by us
        raise SealError("The sealed review is malformed.") from exc
    if inflater.unconsumed_tail:  # pragma: no cover - signed by us
        raise SealError("The sealed review is too large.")
    try:
        return converter.loads(text, Preview)
    except Exception as exc:  # pragma: no cover - signed by us
        raise SealError("The sealed review holds no valid preview.") from exc
