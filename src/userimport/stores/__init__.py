"""Shipped ``UserStore`` adapters that need nothing beyond the core dependencies.

:class:`MemoryStore` is the reference implementation; the SQL adapter lives in
:mod:`userimport.sql` (extra ``sql``).
"""

from __future__ import annotations

from userimport.stores.memory import MemoryStore

__all__ = ["MemoryStore"]
