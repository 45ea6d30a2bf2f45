# ruff: noqa: RUF002 (look-alike characters are what this module is about)
"""Look-alike email addresses: UTS #39 skeletons, for the ``confusable_email`` warning.

Two addresses are confusable when they are different users (different
:func:`~userimport.schema.email_key`) but look the same: ``pаypal@x.com`` with a
Cyrillic ``а`` beside ``paypal@x.com``. Unicode Technical Standard #39 defines this
with the *skeleton* of a string (section 4, "Confusable Detection"): decompose,
map every character to its prototype in the confusables data, decompose again; two
strings are confusable exactly when their skeletons are equal.

The skeleton is ICU's (``SpoofChecker.getSkeleton``), the reference implementation of
UTS #39 with the Unicode data of its release, through PyICU (the ``confusables``
extra installs its prebuilt wheels, which bundle ICU: no compiler, no system
library). The library keeps no copy of the confusables table, which changes with
every Unicode version.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable

__all__ = ["confusable_groups", "skeleton"]


@functools.lru_cache(maxsize=1)
def _checker() -> object:
    try:
        import icu  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(
            "Look-alike emails are found with ICU's UTS #39 skeletons, which the "
            "'confusables' extra installs: pip install 'userimport[confusables]'",
            name=error.name,
        ) from error
    return icu.SpoofChecker()


def skeleton(text: str) -> str:
    """The UTS #39 skeleton of ``text``: equal skeletons, confusable strings.

    >>> skeleton("pаypal@x.com") == skeleton("paypal@x.com")  # Cyrillic а
    True

    Raises:
        ModuleNotFoundError: PyICU is not installed (the ``confusables`` extra).
    """
    checker = _checker()
    # The skeleton type argument is ignored since ICU 58 (one skeleton for all).
    result: str = checker.getSkeleton(0, text)  # type: ignore[attr-defined]
    return result


def confusable_groups(keys: Iterable[str]) -> list[tuple[str, ...]]:
    """The email keys that look like one another, in groups.

    Args:
        keys: :func:`~userimport.schema.email_key` values: the rows of an upload and
            the existing users the importer may see. Equal keys are one user, never
            a confusion.

    Returns:
        Each group of two or more distinct keys with one skeleton, as a sorted
        tuple; the groups sorted. Keys alike to no other key are in no group.

    >>> confusable_groups(["paypal@x.com", "pаypal@x.com", "ana@x.com", "ana@x.com"])
    [('paypal@x.com', 'pаypal@x.com')]
    """
    by_skeleton: defaultdict[str, set[str]] = defaultdict(set)
    for key in keys:
        by_skeleton[skeleton(key)].add(key)
    return sorted(
        tuple(sorted(group)) for group in by_skeleton.values() if len(group) > 1
    )
