"""Look-alike emails: UTS #39 skeletons and the groups the review warns about."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("icu")

from userimport._confusables import confusable_groups, skeleton
from userimport.schema import email_key


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("paypal@x.com", "pаypal@x.com"),  # Cyrillic а
        ("ana@example.com", "аnа@example.com"),  # two Cyrillic а
        ("rn@x.com", "m@x.com"),  # UTS #39: "rn" looks like "m"
        ("all@x.com", "a1l@x.com"),  # one and l
        ("jose@x.com", "jοse@x.com"),  # Greek omicron
    ],
)
def test_look_alikes_share_a_skeleton(first: str, second: str) -> None:
    """Strings a reader cannot tell apart have one skeleton."""
    assert skeleton(first) == skeleton(second)


@pytest.mark.parametrize(
    ("first", "second"),
    [("ana@x.com", "ane@x.com"), ("x@faß.de", "x@fass.de"), ("a@x.com", "b@x.com")],
)
def test_different_strings_keep_different_skeletons(first: str, second: str) -> None:
    """Strings that read differently are not confusable."""
    assert skeleton(first) != skeleton(second)


def test_groups_hold_distinct_keys_of_one_skeleton() -> None:
    """A group is every distinct key of a skeleton; equal keys are one user."""
    keys = [
        email_key("paypal@x.com"),
        email_key("PAYPAL@x.com"),
        email_key("pаypal@x.com"),
        email_key("ana@x.com"),
        email_key("rn@x.com"),
        email_key("m@x.com"),
    ]

    assert [("m@x.com", "rn@x.com"), ("paypal@x.com", "pаypal@x.com")] == (
        confusable_groups(keys)
    )


@given(st.lists(st.text(max_size=8), max_size=12))
def test_groups_partition_the_confusable_keys(keys: list[str]) -> None:
    """Every key is in at most one group, every group shares one skeleton and has
    two distinct keys or more, and no key outside the groups shares a skeleton
    with another key."""
    groups = confusable_groups(keys)

    grouped = [key for group in groups for key in group]
    assert len(grouped) == len(set(grouped))
    for group in groups:
        assert len(group) >= 2
        assert len({skeleton(key) for key in group}) == 1
    alone = set(keys) - set(grouped)
    skeletons = [skeleton(key) for key in alone]
    assert len(skeletons) == len(set(skeletons))
    assert not {skeleton(key) for key in alone} & {skeleton(k) for k in grouped}
