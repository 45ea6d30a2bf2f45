"""The ``userimport`` command line: ``template``, ``check``, ``import``, ``users``
and ``orgs``, on an SQLite file (``userimport.db`` in the current folder) or any
database ``--db`` names.

Exit status: 0 success, 1 the data has errors, 2 usage or environment error.
``python -m userimport`` is the same program.
"""

from userimport.cli._main import main

__all__ = ["main"]
