"""``UserStore`` adapters that need only the core, and help for writing your own.

:class:`MemoryStore` is the reference implementation; :func:`conflicting_keys` states
the conflict rules of ``UserStore.apply`` once, for every adapter. The SQL adapter
lives in :mod:`userimport.sql` (extra ``sql``).
"""

from __future__ import annotations

from userimport.stores.memory import MemoryStore, conflicting_keys

__all__ = ["MemoryStore", "conflicting_keys"]
