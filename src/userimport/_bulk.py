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
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import repeat
from typing import Any, TypeVar

import attrs

__all__ = ["build", "collector_paused"]

_T = TypeVar("_T")


_Setters = tuple[Callable[[Any, Any], None], ...]
_SETTERS: dict[type[Any], _Setters] = {}


def _init_only_stores(cls: type[Any]) -> bool:
    """Whether attrs generated ``cls.__init__`` and it only stores the fields.

    No validator, no init hook, every field an argument, and no slot but the fields'
    (and ``__weakref__``) in the whole class hierarchy: a cached hash, say, is a slot
    that ``__init__`` sets too.
    """
    code = getattr(cls.__init__, "__code__", None)
    if code is None or not code.co_filename.startswith("<attrs generated "):
        return False
    fields = attrs.fields(cls)
    allowed = {field.name for field in fields} | {"__weakref__"}
    for klass in cls.__mro__[:-1]:  # the last is object
        slots = klass.__dict__.get("__slots__")
        if slots is None or not set(slots) <= allowed:
            return False
    return not (
        hasattr(cls, "__attrs_pre_init__")
        or hasattr(cls, "__attrs_post_init__")
        or any(field.validator is not None or not field.init for field in fields)
    )


def _setters(cls: type[Any]) -> _Setters:
    """The slot setter of each field of ``cls``, in order; ``TypeError`` if unfit."""
    setters = _SETTERS.get(cls)
    if setters is None:
        if not _init_only_stores(cls):
            raise TypeError(f"{cls.__qualname__}'s __init__ cannot be skipped")
        setters = tuple(getattr(cls, field.name).__set__ for field in attrs.fields(cls))
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


#: How many blocks, in any thread, are inside :func:`collector_paused` now, and
#: whether the first of them turned the collector off; guarded by the lock.
_pause_lock = threading.Lock()
_pauses = 0
_paused_by_us = False


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector during the block.

    An import builds a few objects per row, none of them in a reference cycle, and
    keeps them all: each collection their allocations trigger walks every object
    built so far, again and again, for nothing (half of the time of 100,000 rows,
    see ``docs/benchmarks.md``). Reference counting still frees every object as
    usual; only objects in cycles made meanwhile (by the block's own callbacks, such
    as a host's store, or by other threads) wait for the collector until it runs
    again.

    The collector is process-wide, so blocks in several threads share one pause: the
    first to enter turns the collector off, if it was on, and the last to leave turns
    it back on. A collector that was off before stays off. (One thing cannot be told
    apart: a host that turns the collector off while a block runs finds it on again
    after the block.)
    """
    global _pauses, _paused_by_us
    with _pause_lock:
        if _pauses == 0:
            _paused_by_us = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if _pauses == 0 and _paused_by_us:
                _paused_by_us = False
                gc.enable()
