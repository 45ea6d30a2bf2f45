"""Registers userimport's strategies for ``st.from_type`` (the ``hypothesis`` entry
point).

Hypothesis calls :func:`_hypothesis_setup_hook` at the end of its own import, in
every process of an environment where the package is installed, whether the
process uses userimport or not. So registering loads no more than the two classes
it registers, :class:`~userimport.schema.UserRow` and
:class:`~userimport.hierarchy.OrgTree` (their modules need attrs only): hypothesis
is given functions, and the first ``st.from_type`` of either class imports
:mod:`userimport.strategies` (and with it the validation) to build the strategy.

Hypothesis is imported inside the hook, not at the top of this module: importing
this module first then never imports hypothesis, whose import would call back into
a module not yet initialised.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from userimport.hierarchy import OrgTree
from userimport.schema import UserRow

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

__all__ = ["_hypothesis_setup_hook"]


def _user_rows(_: type[UserRow]) -> SearchStrategy[UserRow]:
    """``st.from_type(UserRow)``: :func:`userimport.strategies.user_rows`."""
    from userimport.strategies import user_rows

    return user_rows()


def _org_trees(_: type[OrgTree]) -> SearchStrategy[OrgTree]:
    """``st.from_type(OrgTree)``: :func:`userimport.strategies.org_trees`."""
    from userimport.strategies import org_trees

    return org_trees()


def _hypothesis_setup_hook() -> None:
    """Register :func:`~userimport.strategies.user_rows` and
    :func:`~userimport.strategies.org_trees` for ``st.from_type``.

    Without it, ``st.from_type(UserRow)`` would build users with ``st.builds``,
    which ignores validation (empty names, text that is no email address).
    """
    from hypothesis import strategies as st

    st.register_type_strategy(UserRow, _user_rows)
    st.register_type_strategy(OrgTree, _org_trees)
