"""``UserStore`` adapters that need only the core.

:class:`~userimport.MemoryStore` (in :mod:`userimport.stores.memory`) is the reference
implementation. The conflict rules every adapter follows are
:func:`userimport.persistence.conflicting_keys`; the SQL adapter lives in
:mod:`userimport.sql` (extra ``sql``).
"""
