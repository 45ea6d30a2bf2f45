"""Many objects at once: instances of a frozen attrs class, with the collector paused.

The review builds a :class:`~userimport.schema.UserRow` and a
:class:`~userimport.review.ReviewRow` per uploaded row. attrs' ``__init__`` of a frozen
slotted class sets each field with a call to ``object.__setattr__``, which made the two
objects cost as much as reading the row's CSV (issue 7). :func:`build` sets the fields
column by column instead: ``map`` applies each field's slot descriptor to every
instance, so no Python code runs per instance or per field.

It skips ``__init__``, so it serves only classes whose ``__init__`` does nothing else
than store its arguments: no validator, no ``__attrs_post_init__``, no cached hash;
converters are skipped too, so the caller passes values the converters would leave
unchanged (``tests/test_performance_paths.py`` checks that the instances are equal to
those of the constructor). :func:`build` refuses any other class.
"""

from __future__ import annotations

import contextlib
import gc
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import repeat
from typing import Any, TypeVar

import attrs

__all__ = ["build", "collector_paused"]

_T = TypeVar("_T")


_Setters = tuple[Callable[[Any, Any], None], ...]
_SETTERS: dict[type[Any], _Setters] = {}


def _setters(cls: type[Any]) -> _Setters:
    """The slot setter of each field of ``cls``, in order; ``TypeError`` if unfit."""
    setters = _SETTERS.get(cls)
    if setters is not None:
        return setters
    fields = attrs.fields(cls)
    names = {field.name for field in fields}
    unfit = (
        # Slots beyond the fields (a cached hash) are set by __init__ too.
        not set(cls.__dict__.get("__slots__", ("__dict__",))) <= names | {"__weakref__"}
        or hasattr(cls, "__attrs_pre_init__")
        or hasattr(cls, "__attrs_post_init__")
        or any(field.validator is not None or not field.init for field in fields)
    )
    if unfit:
        raise TypeError(f"{cls.__qualname__}'s __init__ cannot be skipped")
    setters = tuple(getattr(cls, field.name).__set__ for field in fields)
    _SETTERS[cls] = setters
    return setters


def build(cls: type[_T], rows: Iterable[Sequence[Any]]) -> list[_T]:
    """``[cls(*row) for row in rows]`` for a frozen slotted attrs class ``cls``.

    Args:
        cls: A slotted attrs class whose ``__init__`` only stores its arguments.
        rows: Each instance's field values, all of them, in field order, already as
            the converters would give them.

    Raises:
        TypeError: ``cls`` has validators or init hooks (its ``__init__`` matters).
    """
    setters = _setters(cls)
    rows = list(rows)
    instances: list[_T] = list(map(object.__new__, repeat(cls, len(rows))))
    if not rows:
        return instances
    for setter, column in zip(setters, zip(*rows, strict=True), strict=True):
        deque(map(setter, instances, column), maxlen=0)
    return instances


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the block, as it was before after.

    An import builds a few objects per row, none of them in a reference cycle, and
    keeps them all: each collection the allocations trigger walks every object built
    so far, again and again, for nothing (half of the time of 100,000 rows, see
    ``docs/benchmarks.md``). Reference counting still frees every object as usual;
    only cycles made meanwhile, by other threads, wait until the block ends. A
    collector that was already disabled stays disabled.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
